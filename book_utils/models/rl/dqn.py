"""Deep Q-learning: a uniform replay buffer and DQN / Double DQN with a frozen target network."""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from book_utils.checks import check_int as _check_int
from book_utils.config import resolve_seed

from .common import Agent, _check_prob, mlp


class ReplayBuffer:
    """Fixed-size ring buffer of (s, a, r, s', done) with uniform sampling."""

    def __init__(self, capacity, obs_dim=4, seed=None):
        self.capacity = _check_int("capacity", capacity)
        self.s = np.zeros((capacity, obs_dim), np.float32)
        self.a = np.zeros(capacity, np.int32)
        self.r = np.zeros(capacity, np.float32)
        self.s2 = np.zeros((capacity, obs_dim), np.float32)
        self.done = np.zeros(capacity, np.float32)
        self.size, self.pos = 0, 0
        self.rng = np.random.default_rng(resolve_seed(seed))

    def __len__(self):
        return self.size

    def put(self, s, a, r, s2, done):
        i = self.pos
        self.s[i], self.a[i], self.r[i], self.s2[i], self.done[i] = s, a, r, s2, float(done)
        self.pos = (self.pos + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, n):
        if n > self.size:
            raise ValueError(f"cannot sample {n} transitions from a buffer holding {self.size}")
        idx = self.rng.integers(0, self.size, n)
        return self.s[idx], self.a[idx], self.r[idx], self.s2[idx], self.done[idx]

    def sample_batches(self, n_batches, batch_size):
        """``n_batches`` independent uniform minibatches, stacked: arrays of shape (n_batches, batch_size, ...)."""
        n_batches, batch_size = _check_int("n_batches", n_batches), _check_int("batch_size", batch_size)
        if batch_size > self.size:
            raise ValueError(f"cannot sample {batch_size} transitions from a buffer holding {self.size}")
        idx = self.rng.integers(0, self.size, (n_batches, batch_size))
        return self.s[idx], self.a[idx], self.r[idx], self.s2[idx], self.done[idx]


class DQN(Agent):
    """DQN: replay buffer, frozen target network, Huber loss, ε-greedy; optional Double DQN.

    Every ``train_every`` environment steps the agent makes ``gradient_steps`` minibatch updates
    (default: one update per ``train_every`` steps). All of them run inside one compiled call, so
    a burst of updates costs a single Python → TensorFlow round trip; the acting weights are then
    copied to NumPy once. The target network is refreshed every ``target_every`` environment steps.
    ``clipnorm`` clips each gradient's norm (None: no clipping).
    """

    def __init__(self, obs_dim=4, n_actions=2, *, hidden=256, lr=5e-4, gamma=0.99, buffer_size=50_000,
                 batch_size=64, warmup=1000, train_every=1, gradient_steps=None, target_every=500,
                 eps_start=1.0, eps_end=0.01, eps_decay_steps=10_000, double=True, clipnorm=None, seed=None):
        seed = resolve_seed(seed)
        self.gamma = _check_prob("gamma", gamma)
        self.batch_size = _check_int("batch_size", batch_size)
        self.warmup = max(_check_int("warmup", warmup), self.batch_size)
        self.train_every = _check_int("train_every", train_every)
        self.gradient_steps = _check_int("gradient_steps", 1 if gradient_steps is None else gradient_steps)
        self.target_every = _check_int("target_every", target_every)
        self.eps_start, self.eps_end = _check_prob("eps_start", eps_start), _check_prob("eps_end", eps_end)
        self.eps_decay_steps = _check_int("eps_decay_steps", eps_decay_steps)
        self.n_actions, self.double = n_actions, bool(double)
        self.model = mlp([obs_dim, hidden, hidden, n_actions], name="q", seed=seed)
        self.target = mlp([obs_dim, hidden, hidden, n_actions], name="q_target", seed=seed)
        self.target.set_weights(self.model.get_weights())
        self.opt = keras.optimizers.Adam(learning_rate=lr, clipnorm=clipnorm)
        self.huber = keras.losses.Huber()
        self.memory = ReplayBuffer(buffer_size, obs_dim, seed=seed)
        self.rng = np.random.default_rng(seed)
        self.steps, self.updates = 0, 0
        self.update = self._compile_update(obs_dim)
        self.sync()

    def _compile_update(self, obs_dim):
        """One compiled call for a burst of minibatches, each argument shaped (gradient_steps, batch, ...)."""
        spec = [tf.TensorSpec([None, None, obs_dim], tf.float32), tf.TensorSpec([None, None], tf.int32),
                tf.TensorSpec([None, None], tf.float32), tf.TensorSpec([None, None, obs_dim], tf.float32),
                tf.TensorSpec([None, None], tf.float32)]

        @tf.function(input_signature=spec)
        def update(s, a, r, s2, done):
            loss = tf.constant(0.0)
            for i in tf.range(tf.shape(s)[0]):              # compiled loop over the burst
                loss = self._td_step(s[i], a[i], r[i], s2[i], done[i])
            return loss

        return update

    def _td_step(self, s, a, r, s2, done):
        """One minibatch update towards the TD target y = r + γ·Q_target(s', a') (traced into ``update``)."""
        q, q_next = self.model, self.target(s2)
        if self.double:   # Double DQN: the online net picks a', the target net evaluates it
            a2 = tf.argmax(q(s2), axis=1, output_type=tf.int32)
            best = tf.gather(q_next, a2, batch_dims=1)
        else:
            best = tf.reduce_max(q_next, axis=1)
        y = r + self.gamma * best * (1.0 - done)          # no bootstrap past a terminal state
        with tf.GradientTape() as tape:
            q_sa = tf.gather(q(s), a, batch_dims=1)
            loss = self.huber(tf.stop_gradient(y), q_sa)
        self.opt.apply_gradients(zip(tape.gradient(loss, q.trainable_variables), q.trainable_variables))
        return loss

    @property
    def epsilon(self):
        frac = min(1.0, self.steps / self.eps_decay_steps)
        return self.eps_start + frac * (self.eps_end - self.eps_start)

    def learn(self):
        """``gradient_steps`` Double-DQN updates on fresh uniform samples of the replay buffer."""
        self.update(*self.memory.sample_batches(self.gradient_steps, self.batch_size))
        self.updates += self.gradient_steps
        self.sync()

    def run_episode(self, env, seed=None):
        obs, _ = env.reset(seed=seed)
        done, total = False, 0.0
        while not done:
            if self.rng.random() < self.epsilon:
                a = int(self.rng.integers(self.n_actions))
            else:
                a = self.greedy_action(obs)
            nxt, r, terminated, truncated, _ = env.step(a)
            self.memory.put(obs, a, r, nxt, terminated)   # truncation is not a terminal state
            obs, done, total = nxt, terminated or truncated, total + r
            self.steps += 1
            if len(self.memory) >= self.warmup and self.steps % self.train_every == 0:
                self.learn()
            if self.steps % self.target_every == 0:
                self.target.set_weights(self.model.get_weights())
        return total
