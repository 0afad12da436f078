"""Fast tests of book_utils.models.rl (no long training)."""

import numpy as np
import pytest

from book_utils.models import rl


def test_discounted_returns():
    np.testing.assert_allclose(rl.discounted_returns([1, 1, 1], 0.5), [1.75, 1.5, 1.0])
    np.testing.assert_allclose(rl.discounted_returns([0, 1], 0.9, bootstrap=10), [0.9 * (1 + 9), 1 + 9])
    with pytest.raises(ValueError, match="gamma"):
        rl.discounted_returns([1], 1.5)


def test_numpy_forward_matches_keras():
    m = rl.mlp([4, 8, 2])
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    np.testing.assert_allclose(rl.numpy_forward(m.get_weights(), x), m(x).numpy(), atol=1e-5)
    with pytest.raises(ValueError):
        rl.mlp([4])


def test_value_iteration_maze():
    # the textbook's rules: step -1, goal +10, trap -10, gamma 0.9
    res = rl.value_iteration(0.9)
    assert res["V"][0, 2] == pytest.approx(10.0)  # next to the goal
    assert res["V"][0, 1] == pytest.approx(-1 + 0.9 * 10)
    assert res["V"][2, 0] == pytest.approx(3.122)  # the start, five moves from the goal
    np.testing.assert_allclose(res["Q"][2, 0], [3.122, 3.122, 1.8098, 1.8098])
    assert res["Q"][1, 2, 1] == pytest.approx(-10.0)  # stepping into the trap
    assert res["V"][0, 3] == 0.0 and res["policy"][0, 3] == -1
    assert np.isnan(res["V"][1, 1])
    assert res["Q"].shape == (3, 4, 4)
    assert res["rewards"] == rl.MAZE_REWARDS
    partial = rl.value_iteration(0.9, iterations=1)
    assert partial["V"][2, 0] == pytest.approx(-1.0)
    goal_only = rl.value_iteration(0.9, rewards={"step": 0, "goal": 1, "trap": -1})
    assert goal_only["V"][2, 0] == pytest.approx(0.9**4)
    with pytest.raises(ValueError, match="gamma"):
        rl.value_iteration(2.0)
    with pytest.raises(ValueError, match="noise"):
        rl.value_iteration(0.9, noise=-0.1)
    with pytest.raises(ValueError, match="unknown key"):
        rl.value_iteration(0.9, rewards={"wall": -5})
    with pytest.raises(ValueError, match="finite"):
        rl.value_iteration(0.9, rewards={"goal": float("nan")})
    with pytest.raises(TypeError, match="dict"):
        rl.value_iteration(0.9, rewards=[1, 2])
    with pytest.raises(TypeError, match="number"):
        rl.value_iteration(0.9, rewards={"step": "-1"})
    with pytest.raises(ValueError, match="same length"):
        rl.value_iteration(0.9, layout=("..G", "S."))


def test_maze_step():
    assert rl.maze_step(2, 0, 3) == (2, 0, -1.0, False)  # off the grid: stay, still pay the step
    assert rl.maze_step(1, 0, 1) == (1, 0, -1.0, False)  # into the wall
    assert rl.maze_step(0, 2, 1) == (0, 3, 10.0, True)
    assert rl.maze_step(2, 3, 0) == (1, 3, -10.0, True)
    with pytest.raises(ValueError, match="action"):
        rl.maze_step(0, 0, 4)
    with pytest.raises(ValueError, match="r"):
        rl.maze_step(3, 0, 1)
    assert rl.maze_step(np.int64(2), np.int64(0), np.int64(0))[:2] == (1, 0)
    with pytest.raises(TypeError, match="layout"):
        rl.maze_step(0, 0, 1, layout="S.G")


def test_replay_buffer():
    buf = rl.ReplayBuffer(3, obs_dim=2)
    for i in range(5):
        buf.put([i, i], i % 2, 1.0, [i + 1, i + 1], False)
    assert len(buf) == 3
    s, a, r, s2, d = buf.sample(2)
    assert s.shape == (2, 2) and a.shape == (2,)
    with pytest.raises(ValueError, match="cannot sample"):
        buf.sample(10)


def test_agents_run_and_evaluate():
    for kind in ("reinforce", "ppo", "dqn"):
        kw = dict(warmup=32, batch_size=32) if kind == "dqn" else {}
        agent, returns = rl.train_agent(kind, 2, seed=0, **kw)
        assert len(returns) == 2 and np.all(returns >= 8)
    agent, returns = rl.train_agent("a3c", 2, seed=0, workers=2)
    assert len(returns) == 2
    ev = rl.evaluate_policy(agent.greedy_action, episodes=2)
    assert ev.shape == (2,)
    ep = rl.record_episode(agent.action_probs, seed=1, max_steps=20)
    assert ep["probs"].shape[1] == 2


def test_bad_inputs():
    with pytest.raises(ValueError, match="kind"):
        rl.train_agent("sarsa", 3)
    with pytest.raises(ValueError, match="episodes"):
        rl.train_agent("ppo", 0)
    with pytest.raises(TypeError, match="callable"):
        rl.evaluate_policy(3)
    with pytest.raises(TypeError):
        rl.make_env(42)


def test_replay_buffer_sample_batches():
    buf = rl.ReplayBuffer(10, obs_dim=2)
    for i in range(4):
        buf.put([i, i], i % 2, 1.0, [i + 1, i + 1], i == 3)
    s, a, r, s2, d = buf.sample_batches(3, 4)
    assert s.shape == (3, 4, 2) and a.shape == (3, 4) and d.shape == (3, 4)
    with pytest.raises(ValueError, match="cannot sample"):
        buf.sample_batches(2, 5)
    with pytest.raises(ValueError, match="n_batches"):
        buf.sample_batches(0, 2)


def test_dqn_burst_updates_compiled_once():
    agent = rl.DQN(seed=0, hidden=16, warmup=16, batch_size=16, train_every=8, gradient_steps=4, target_every=8)
    env = rl.make_env()
    for ep in range(2):
        agent.run_episode(env, seed=ep)
    env.close()
    expected = sum(1 for t in range(1, agent.steps + 1) if t % 8 == 0 and t >= 16) * 4
    assert agent.updates == expected > 0
    traces = agent.update.experimental_get_tracing_count()
    before = [w.copy() for w in agent.model.get_weights()]
    agent.learn()
    assert agent.update.experimental_get_tracing_count() == traces  # no retracing
    assert agent.updates == expected + 4
    assert any(not np.allclose(b, w) for b, w in zip(before, agent.model.get_weights()))
    with pytest.raises(ValueError, match="gradient_steps"):
        rl.DQN(gradient_steps=0)
