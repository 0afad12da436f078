"""A3C: worker threads, each with a local actor-critic, push n-step gradients to one global model."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

import keras
import numpy as np
import tensorflow as tf

from book_utils.checks import check_int as _check_int
from book_utils.config import resolve_seed

from .common import Agent, _check_prob, discounted_returns, make_env, mlp, numpy_forward, softmax


class ActorCritic:
    """Two-headed network: shared-input actor (logits) and critic (value), as in the chapter."""

    def __init__(self, obs_dim=4, n_actions=2, hidden=128, seed=None):
        seed = resolve_seed(seed)
        self.actor = mlp([obs_dim, hidden, n_actions], name="actor", seed=seed)
        self.critic = mlp([obs_dim, hidden, 1], name="critic", seed=seed + 1)

    @property
    def trainable_variables(self):
        return self.actor.trainable_variables + self.critic.trainable_variables

    def get_weights(self):
        return self.actor.get_weights() + self.critic.get_weights()

    def set_weights(self, w):
        k = len(self.actor.get_weights())
        self.actor.set_weights(w[:k])
        self.critic.set_weights(w[k:])


@dataclass
class _Progress:
    """What the workers of one ``A3C.train`` call share (read and written under ``A3C.lock``)."""

    episodes: int
    solved: float | None
    window: int
    started: int = 0
    stop: bool = False
    returns: list = field(default_factory=list)


class A3C(Agent):
    """Asynchronous advantage actor-critic: worker threads share one global model and optimiser.

    Each worker keeps a local copy, computes gradients of its n-step rollout, applies them to
    the global model under a lock and copies the global weights back. With Python threads this
    is a didactic implementation (the GIL serialises most of the work).
    """

    def __init__(self, obs_dim=4, n_actions=2, *, hidden=128, lr=1e-3, gamma=0.99, n_steps=20,
                 entropy=0.01, workers=2, seed=None):
        seed = resolve_seed(seed)
        self.gamma = _check_prob("gamma", gamma)
        self.n_steps = _check_int("n_steps", n_steps)
        self.workers = _check_int("workers", workers)
        self.entropy = float(entropy)
        self.obs_dim, self.n_actions, self.hidden, self.seed = obs_dim, n_actions, hidden, seed
        self.server = ActorCritic(obs_dim, n_actions, hidden, seed)
        self.model = self.server.actor
        self.opt = keras.optimizers.Adam(learning_rate=lr)
        self.opt.build(self.server.trainable_variables)
        self.lock = threading.Lock()
        self.sync()

    def _grad_fn(self, client):
        ent_coef = self.entropy
        spec = [tf.TensorSpec([None, self.obs_dim], tf.float32), tf.TensorSpec([None], tf.int32),
                tf.TensorSpec([None], tf.float32)]

        @tf.function(input_signature=spec)
        def grads(states, actions, returns):
            with tf.GradientTape() as tape:
                logits = client.actor(states)
                v = tf.squeeze(client.critic(states), -1)
                adv = returns - v
                value_loss = tf.square(adv)
                ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=actions, logits=logits)
                probs = tf.nn.softmax(logits)
                ent = -tf.reduce_sum(probs * tf.nn.log_softmax(logits), axis=1)
                policy_loss = ce * tf.stop_gradient(adv) - ent_coef * ent
                loss = tf.reduce_mean(0.5 * value_loss + policy_loss)
            return tape.gradient(loss, client.trainable_variables)

        return grads

    def train(self, episodes, *, solved=None, window=20, monitor=None, monitor_every=None):
        """Run workers until ``episodes`` global episodes finished (or the moving average ≥ ``solved``).

        ``monitor()`` (if given) is called from the main thread every ``monitor_every`` finished
        episodes on the current global weights; returning True stops the workers.
        """
        progress = _Progress(_check_int("episodes", episodes), solved, window)
        threads = [threading.Thread(target=self._worker, args=(i, progress)) for i in range(self.workers)]
        for t in threads:
            t.start()
        if monitor is not None:
            self._watch(threads, progress, monitor, monitor_every)
        for t in threads:
            t.join()
        self.sync()
        return np.array(progress.returns)

    def _watch(self, threads, progress, monitor, monitor_every):
        """Main thread: call ``monitor()`` on the global weights every ``monitor_every`` finished episodes."""
        next_check = monitor_every or 0
        while any(t.is_alive() for t in threads):
            threads[0].join(timeout=0.2)
            if len(progress.returns) >= next_check:
                next_check += monitor_every
                with self.lock:
                    self._w = self.server.actor.get_weights()
                if monitor():
                    with self.lock:
                        progress.stop = True

    def _worker(self, idx, progress):
        """One worker thread: a local copy of the model plays episodes until ``progress`` says stop."""
        client = ActorCritic(self.obs_dim, self.n_actions, self.hidden, self.seed + 10 * (idx + 1))
        client.set_weights(self.server.get_weights())
        grads_fn = self._grad_fn(client)
        rng = np.random.default_rng(self.seed + idx)
        env = make_env()
        while (ep_seed := self._claim_episode(progress)) is not None:
            total = self._play_episode(env, ep_seed, client, grads_fn, rng)
            self._finish_episode(progress, total)
        env.close()

    def _claim_episode(self, progress):
        """The seed of the next global episode, or None once training is over."""
        with self.lock:
            if progress.stop or progress.started >= progress.episodes:
                return None
            ep_seed = self.seed * 100_000 + progress.started
            progress.started += 1
        return ep_seed

    def _play_episode(self, env, ep_seed, client, grads_fn, rng):
        """One episode in n-step segments; the global model learns from each segment. Returns the score."""
        obs, _ = env.reset(seed=ep_seed)
        done, total = False, 0.0
        w = client.actor.get_weights()
        while not done:
            states, actions, rewards = [], [], []
            terminated = False
            for _ in range(self.n_steps):
                p = softmax(numpy_forward(w, obs[None]))[0]
                a = int(rng.choice(self.n_actions, p=p))
                nxt, r, terminated, truncated, _ = env.step(a)
                total += r
                states.append(obs)
                actions.append(a)
                rewards.append(-1.0 if terminated else r / 10.0)   # reward −1 on failure
                obs, done = nxt, terminated or truncated
                if done:
                    break
            boot = 0.0 if terminated else float(client.critic(obs[None].astype(np.float32))[0, 0])
            R = discounted_returns(rewards, self.gamma, bootstrap=boot)
            self._push_gradients(client, grads_fn, states, actions, R)
            w = client.actor.get_weights()
        return total

    def _push_gradients(self, client, grads_fn, states, actions, returns):
        """Apply the client's gradients to the global model, then copy the global weights back."""
        g = grads_fn(np.array(states, np.float32), np.array(actions, np.int32), returns)
        with self.lock:
            self.opt.apply_gradients(zip(g, self.server.trainable_variables))
            client.set_weights(self.server.get_weights())

    def _finish_episode(self, progress, total):
        """Log an episode's score; stop all workers once the moving average reaches ``solved``."""
        with self.lock:
            progress.returns.append(total)
            recent = progress.returns[-progress.window:]
            if progress.solved is not None and len(recent) >= progress.window and np.mean(recent) >= progress.solved:
                progress.stop = True
