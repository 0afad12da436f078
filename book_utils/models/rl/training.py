"""``train_agent``: one driver for every CartPole agent, with early stopping and best-weights selection."""
from __future__ import annotations

import numpy as np

from book_utils.checks import check_int as _check_int
from book_utils.config import resolve_seed
from book_utils.progress import Progress

from .a3c import A3C
from .common import evaluate_policy, make_env
from .dqn import DQN
from .policy_gradient import PPO, Reinforce

AGENTS = {"reinforce": Reinforce, "ppo": PPO, "dqn": DQN, "a3c": A3C}


def train_agent(kind: str, episodes: int, *, seed: int | None = None, solved: float | None = None, window: int = 20,
                select_every: int | None = None, select_episodes: int = 5, **kwargs):
    """Train one agent on CartPole-v1; return ``(agent, returns_per_episode)``.

    * Training stops early once the ``window``-episode moving average of training returns reaches
      ``solved``.
    * With ``select_every=N``, every N episodes the greedy policy is scored on ``select_episodes``
      validation episodes (seeds 50 000+, disjoint from ``evaluate_policy``'s 10 000+); the best
      weights are kept and restored at the end, and training stops when validation hits 500
      (a standard guard against the late collapses that DQN and A3C are prone to).
    """
    if kind not in AGENTS:
        raise ValueError(f"kind must be one of {sorted(AGENTS)}, got {kind!r}")
    episodes, seed = _check_int("episodes", episodes), resolve_seed(seed)
    if select_every is not None:
        _check_int("select_every", select_every)
    agent = AGENTS[kind](seed=seed, **kwargs)
    best = {"score": -1.0, "weights": None}

    def validate():
        agent.sync()
        score = float(evaluate_policy(agent.greedy_action, episodes=select_episodes, seed=50_000).mean())
        if score >= best["score"]:
            best["score"], best["weights"] = score, agent.model.get_weights()
        return score >= 500

    if kind == "a3c":
        returns = agent.train(episodes, solved=solved, window=window,
                              monitor=validate if select_every else None, monitor_every=select_every)
    else:
        returns = _run_episodes(agent, episodes, seed, solved, window, select_every, validate)
    if select_every:
        validate()
        agent.model.set_weights(best["weights"])
        agent.sync()
        agent.validation_score = best["score"]
    return agent, returns


def _run_episodes(agent, episodes, seed, solved, window, select_every, validate):
    """Episode i of a single-threaded agent starts from ``env.reset(seed=seed * 100_000 + i)``."""
    env = make_env()
    returns = []
    progress = Progress(episodes, type(agent).__name__)
    for ep in range(episodes):
        returns.append(agent.run_episode(env, seed=seed * 100_000 + ep))
        progress.update(ep + 1, 回报=returns[-1])
        if solved is not None and len(returns) >= window and np.mean(returns[-window:]) >= solved:
            break
        if select_every and (ep + 1) % select_every == 0 and validate():
            break
    env.close()
    return np.array(returns)
