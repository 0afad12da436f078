"""Policy-gradient agents: REINFORCE (with an optional learned baseline) and PPO (clipped surrogate)."""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from book_utils.checks import check_int as _check_int
from book_utils.config import resolve_seed

from .common import Agent, _check_prob, discounted_returns, mlp


class Reinforce(Agent):
    """REINFORCE with an optional learned baseline V(s) (Algorithm 1/2 of the chapter)."""

    def __init__(self, obs_dim=4, n_actions=2, *, hidden=128, lr=1e-3, value_lr=3e-3, gamma=0.99,
                 baseline=True, seed=None):
        seed = resolve_seed(seed)
        self.gamma = _check_prob("gamma", gamma)
        self.baseline = bool(baseline)
        self.model = mlp([obs_dim, hidden, n_actions], name="policy", seed=seed)
        self.value = mlp([obs_dim, hidden, 1], name="value", seed=seed + 1)
        self.opt = keras.optimizers.Adam(learning_rate=lr)
        self.vopt = keras.optimizers.Adam(learning_rate=value_lr)
        self.rng = np.random.default_rng(seed)
        policy, value, opt, vopt, use_baseline = self.model, self.value, self.opt, self.vopt, self.baseline
        spec = [tf.TensorSpec([None, obs_dim], tf.float32), tf.TensorSpec([None], tf.int32),
                tf.TensorSpec([None], tf.float32)]

        @tf.function(input_signature=spec)
        def update(states, actions, returns):
            with tf.GradientTape() as vtape:
                v = tf.squeeze(value(states), -1)
                value_loss = tf.reduce_mean(tf.square(returns - v))
            if use_baseline:
                vopt.apply_gradients(zip(vtape.gradient(value_loss, value.trainable_variables),
                                         value.trainable_variables))
                adv = returns - tf.stop_gradient(v)
            else:
                adv = returns
            adv = (adv - tf.reduce_mean(adv)) / (tf.math.reduce_std(adv) + 1e-8)
            with tf.GradientTape() as tape:
                logp_all = tf.nn.log_softmax(policy(states))
                logp = tf.gather(logp_all, actions, batch_dims=1)
                loss = -tf.reduce_mean(logp * adv)          # −log π(a|s)·(R − b)
            opt.apply_gradients(zip(tape.gradient(loss, policy.trainable_variables), policy.trainable_variables))
            return loss

        self.update = update
        self.sync()

    def run_episode(self, env, seed=None):
        obs, _ = env.reset(seed=seed)
        states, actions, rewards, done = [], [], [], False
        while not done:
            a = int(self.rng.choice(2, p=self.action_probs(obs)))
            states.append(obs)
            actions.append(a)
            obs, r, terminated, truncated, _ = env.step(a)
            rewards.append(r)
            done = terminated or truncated
        R = discounted_returns(rewards, self.gamma)
        self.update(np.array(states, np.float32), np.array(actions, np.int32), R)
        self.sync()
        return float(sum(rewards))


class PPO(Agent):
    """PPO with the clipped surrogate objective, Monte-Carlo returns and a separate critic."""

    def __init__(self, obs_dim=4, n_actions=2, *, hidden=100, lr=1e-3, value_lr=3e-3, gamma=0.98,
                 clip=0.2, epochs=10, batch_size=32, seed=None):
        seed = resolve_seed(seed)
        self.gamma = _check_prob("gamma", gamma)
        self.clip = _check_prob("clip", clip, 0.0, 1.0)
        self.epochs = _check_int("epochs", epochs)
        self.batch_size = _check_int("batch_size", batch_size)
        self.model = mlp([obs_dim, hidden, n_actions], name="actor", seed=seed)
        self.critic = mlp([obs_dim, hidden, 1], name="critic", seed=seed + 1)
        self.opt = keras.optimizers.Adam(learning_rate=lr)
        self.vopt = keras.optimizers.Adam(learning_rate=value_lr)
        self.rng = np.random.default_rng(seed)
        self.buffer = []   # Transition tuples (state, action, old log-prob, reward)
        actor, critic, opt, vopt, eps = self.model, self.critic, self.opt, self.vopt, self.clip
        spec = [tf.TensorSpec([None, obs_dim], tf.float32), tf.TensorSpec([None], tf.int32),
                tf.TensorSpec([None], tf.float32), tf.TensorSpec([None], tf.float32)]

        @tf.function(input_signature=spec)
        def update(states, actions, old_logp, returns):
            with tf.GradientTape() as vtape:
                v = tf.squeeze(critic(states), -1)
                value_loss = tf.reduce_mean(tf.square(returns - v))
            vopt.apply_gradients(zip(vtape.gradient(value_loss, critic.trainable_variables),
                                     critic.trainable_variables))
            adv = tf.stop_gradient(returns - v)
            adv = (adv - tf.reduce_mean(adv)) / (tf.math.reduce_std(adv) + 1e-8)
            with tf.GradientTape() as tape:
                logp = tf.gather(tf.nn.log_softmax(actor(states)), actions, batch_dims=1)
                ratio = tf.exp(logp - old_logp)              # π_new / π_old, from log-probs
                surrogate = tf.minimum(ratio * adv, tf.clip_by_value(ratio, 1 - eps, 1 + eps) * adv)
                policy_loss = -tf.reduce_mean(surrogate)
            opt.apply_gradients(zip(tape.gradient(policy_loss, actor.trainable_variables),
                                    actor.trainable_variables))
            return policy_loss, value_loss

        self.update = update
        self.sync()

    def run_episode(self, env, seed=None):
        obs, _ = env.reset(seed=seed)
        done, rewards = False, []
        while not done:
            p = self.action_probs(obs)
            a = int(self.rng.choice(2, p=p))
            nxt, r, terminated, truncated, _ = env.step(a)
            self.buffer.append((obs, a, float(np.log(p[a] + 1e-12)), r))
            rewards.append(r)
            obs, done = nxt, terminated or truncated
        # Monte-Carlo returns of this episode, stored next to its transitions
        self._returns = getattr(self, "_returns", []) + list(discounted_returns(rewards, self.gamma))
        if len(self.buffer) >= self.batch_size:
            self.learn()
        return float(sum(rewards))

    def learn(self):
        states = np.array([t[0] for t in self.buffer], np.float32)
        actions = np.array([t[1] for t in self.buffer], np.int32)
        old_logp = np.array([t[2] for t in self.buffer], np.float32)
        returns = np.array(self._returns, np.float32)
        n = len(states)
        for _ in range(self.epochs * max(1, n // self.batch_size)):
            idx = self.rng.choice(n, self.batch_size, replace=False)
            self.update(states[idx], actions[idx], old_logp[idx], returns[idx])
        self.buffer, self._returns = [], []
        self.sync()
