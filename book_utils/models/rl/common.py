"""What every CartPole agent shares: the environment, small MLPs with a NumPy forward pass,
discounted returns, the seeded greedy evaluation, episode recording and the acting interface."""
from __future__ import annotations

import gymnasium as gym
import keras
import numpy as np

from book_utils.checks import check_int as _check_int
from book_utils.checks import check_number
from book_utils.config import resolve_seed
from book_utils.tensors import softmax

ENV_ID = "CartPole-v1"


def _check_prob(name, value, low=0.0, high=1.0):
    return check_number(name, value, low, high)


def make_env(name: str = ENV_ID, *, render_mode: str | None = None):
    """Create a Gymnasium environment (the one place that knows the env id and API version)."""
    if not isinstance(name, str):
        raise TypeError(f"environment name must be a string such as 'CartPole-v1', got {type(name).__name__}")
    return gym.make(name, render_mode=render_mode)


def mlp(sizes, *, output_activation=None, name=None, seed: int | None = None):
    """A Dense stack: ``sizes = [in, hidden..., out]``, ReLU hidden layers, he_normal init."""
    if len(sizes) < 2 or any(_check_int("layer size", s) != s for s in sizes):
        raise ValueError(f"sizes must list at least input and output sizes, got {sizes!r}")
    seed = resolve_seed(seed)
    layers = [keras.Input((sizes[0],))]
    for i, s in enumerate(sizes[1:-1]):
        layers.append(keras.layers.Dense(s, activation="relu",
                                         kernel_initializer=keras.initializers.HeNormal(seed + i)))
    layers.append(keras.layers.Dense(sizes[-1], activation=output_activation,
                                     kernel_initializer=keras.initializers.HeNormal(seed + 99)))
    return keras.Sequential(layers, name=name)


def numpy_forward(weights, x):
    """Forward pass of an ``mlp`` (ReLU hidden, linear output) from ``model.get_weights()``."""
    h = np.asarray(x, dtype=np.float32)
    n = len(weights) // 2
    for i in range(n):
        h = h @ weights[2 * i] + weights[2 * i + 1]
        if i < n - 1:
            h = np.maximum(h, 0.0)
    return h


def discounted_returns(rewards, gamma: float, bootstrap: float = 0.0):
    """R_t = r_t + γ·R_{t+1}, computed backwards (R_T = ``bootstrap``)."""
    gamma = _check_prob("gamma", gamma)
    out = np.zeros(len(rewards), dtype=np.float32)
    running = float(bootstrap)
    for t in range(len(rewards) - 1, -1, -1):
        running = rewards[t] + gamma * running
        out[t] = running
    return out


def evaluate_policy(act, *, episodes: int = 20, seed: int = 10_000, env_id: str = ENV_ID):
    """Returns of ``episodes`` greedy episodes; episode i starts from ``env.reset(seed=seed + i)``.

    ``act(obs) -> int`` must be deterministic (e.g. argmax of the policy or of Q).
    """
    episodes = _check_int("episodes", episodes)
    if not callable(act):
        raise TypeError("act must be a callable obs -> action, e.g. agent.greedy_action")
    env = make_env(env_id)
    returns = []
    for i in range(episodes):
        obs, _ = env.reset(seed=seed + i)
        total, done = 0.0, False
        while not done:
            obs, r, terminated, truncated, _ = env.step(int(act(obs)))
            total += r
            done = terminated or truncated
        returns.append(total)
    env.close()
    return np.array(returns)


def record_episode(act_probs, *, seed: int | None = None, env_id: str = ENV_ID, greedy: bool = True,
                   max_steps: int = 500):
    """Play one episode; return dict of states (T,4), actions (T,), probs (T,2), total return."""
    env = make_env(env_id)
    obs, _ = env.reset(seed=resolve_seed(seed))
    states, actions, probs = [], [], []
    done, total = False, 0.0
    while not done and len(states) < max_steps:
        p = np.asarray(act_probs(obs), dtype=np.float64)
        a = int(np.argmax(p))
        states.append(np.array(obs))
        actions.append(a)
        probs.append(p)
        obs, r, terminated, truncated, _ = env.step(a)
        total += r
        done = terminated or truncated
    env.close()
    return {"states": np.array(states), "actions": np.array(actions), "probs": np.array(probs), "return": total}


def moving_average(x, n: int = 20):
    """Trailing mean over at most ``n`` values (same length as ``x``)."""
    n = _check_int("n", n)
    x = np.asarray(x, dtype=float)
    return np.array([x[max(0, i - n + 1): i + 1].mean() for i in range(len(x))])


class Agent:
    """Common acting interface: a Keras model whose output row gives logits (policy) or Q-values."""

    model = None

    def sync(self):
        self._w = self.model.get_weights()

    def scores(self, obs):
        return numpy_forward(self._w, np.asarray(obs, np.float32)[None])[0]

    def greedy_action(self, obs):
        return int(np.argmax(self.scores(obs)))

    def action_probs(self, obs):
        return softmax(self.scores(obs)[None])[0]
