import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from book_utils.widgets import rl_demo  # noqa: E402


def test_ppo_clip_objective():
    res = rl_demo.ppo_clip_objective([0.5, 1.0, 1.5], 1.0, 0.2)
    np.testing.assert_allclose(res["clipped"], [0.5, 1.0, 1.2])
    assert list(res["flat"]) == [False, False, True]
    neg = rl_demo.ppo_clip_objective([0.5, 1.5], -1.0, 0.2)
    np.testing.assert_allclose(neg["clipped"], [-0.8, -1.5])
    with pytest.raises(ValueError, match="eps"):
        rl_demo.ppo_clip_objective(1.0, 1.0, 1.5)


def test_episode_frame_and_draw():
    ep = {"states": np.zeros((3, 4)), "actions": np.array([0, 1, 0]), "probs": np.full((3, 2), 0.5)}
    assert rl_demo.episode_frame(ep, 1)["action"] == 1
    with pytest.raises(ValueError):
        rl_demo.episode_frame(ep, 3)
    with pytest.raises(ValueError, match="4 numbers"):
        rl_demo.draw_cartpole([0, 0])
    rl_demo.draw_cartpole([0.1, 0, 0.05, 0])


def test_draw_maze():
    from book_utils.models import rl

    res = rl.value_iteration(0.9)
    rl_demo.draw_maze(res)
    rl_demo.draw_maze_q(res)
    rl_demo.draw_maze(rl.value_iteration(0.9, rewards={"step": 0, "goal": 1, "trap": -1}))


def test_episode_player_fallback():
    n = 100
    ep = {"states": np.zeros((n, 4)), "actions": np.arange(n) % 2, "probs": np.full((n, 2), 0.5)}
    page = rl_demo.episode_player(ep).fallback_html
    assert page.count("data-key=") == 24 and 'type="range"' in page  # ≤ 24 subsampled steps
    assert "&quot;0&quot;" in page and "&quot;99&quot;" in page and len(page) < 400_000
    short = rl_demo.episode_player({k: v[:3] for k, v in ep.items()}).fallback_html
    assert short.count("data-key=") == 3


def test_ppo_clip_explorer_fallback():
    page = rl_demo.ppo_clip_explorer().fallback_html
    assert page.count("data-key=") == 6 * 2 and 'data-mode="grid"' in page  # ε × sign of the advantage
    assert "<label>ε" in page and "A&gt;0" in page and "A&lt;0" in page and len(page) < 400_000


def test_maze_explorer_fallback():
    page = rl_demo.maze_explorer().fallback_html
    assert page.count("data-key=") == 1 + 3 + 8 + 3 and 'data-mode="star"' in page  # one slider at a time
    assert "γ" in page and "迭代次数" in page and "滑动噪声" in page and len(page) < 400_000
