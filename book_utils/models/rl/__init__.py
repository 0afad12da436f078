"""Reinforcement learning for chapter 14: CartPole agents (REINFORCE, PPO, DQN, A3C) and the grid maze.

All agents act with a fast NumPy forward pass of their small Keras MLPs and learn with
compiled (``tf.function``) update steps. ``evaluate_policy`` is the shared, seeded, greedy
evaluation used to compare them. One module per concern:

* ``common``: environment, MLPs, returns, evaluation, episode recording, the ``Agent`` interface;
* ``policy_gradient``: ``Reinforce``, ``PPO``;   ``dqn``: ``ReplayBuffer``, ``DQN``;
* ``a3c``: ``ActorCritic``, ``A3C``;   ``training``: ``train_agent``;
* ``maze``: the 3×4 maze, ``maze_step``, ``value_iteration``.
"""
from __future__ import annotations

from .a3c import A3C, ActorCritic
from .common import (
    ENV_ID,
    Agent,
    discounted_returns,
    evaluate_policy,
    make_env,
    mlp,
    moving_average,
    numpy_forward,
    record_episode,
    softmax,
)
from .dqn import DQN, ReplayBuffer
from .maze import MAZE, MAZE_ACTIONS, MAZE_REWARDS, maze_step, value_iteration
from .policy_gradient import PPO, Reinforce
from .training import AGENTS, train_agent

__all__ = ["A3C", "AGENTS", "ActorCritic", "Agent", "DQN", "ENV_ID", "MAZE", "MAZE_ACTIONS", "MAZE_REWARDS", "PPO",
           "Reinforce", "ReplayBuffer", "discounted_returns", "evaluate_policy", "make_env", "maze_step", "mlp",
           "moving_average", "numpy_forward", "record_episode", "softmax", "train_agent", "value_iteration"]
