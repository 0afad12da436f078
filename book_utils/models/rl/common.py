"""Reinforcement-learning agents for CartPole (chapter 14): REINFORCE, PPO, DQN and A3C.

All agents act with a fast NumPy forward pass of their small Keras MLPs and learn with
compiled (``tf.function``) update steps. ``evaluate_policy`` is the shared, seeded, greedy
evaluation used to compare them.
"""
from __future__ import annotations

import numbers
import queue
import threading

import numpy as np
from book_utils.config import check_int as _check_int

ENV_ID = "CartPole-v1"


# --------------------------------------------------------------------------- helpers


def _check_prob(name, value, low=0.0, high=1.0):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not low <= value <= high:
        raise ValueError(f"{name} must be a number in [{low}, {high}], got {value!r}")
    return float(value)


def make_env(name: str = ENV_ID, *, render_mode: str | None = None):
    """Create a Gymnasium environment (the one place that knows the env id and API version)."""
    import gymnasium as gym

    if not isinstance(name, str):
        raise TypeError(f"environment name must be a string such as 'CartPole-v1', got {type(name).__name__}")
    return gym.make(name, render_mode=render_mode)


def mlp(sizes, *, output_activation=None, name=None, seed: int = 0):
    """A Dense stack: ``sizes = [in, hidden..., out]``, ReLU hidden layers, he_normal init."""
    import keras

    if len(sizes) < 2 or any(_check_int("layer size", s) != s for s in sizes):
        raise ValueError(f"sizes must list at least input and output sizes, got {sizes!r}")
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


def softmax(logits):
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


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


def record_episode(act_probs, *, seed: int = 0, env_id: str = ENV_ID, greedy: bool = True, max_steps: int = 500):
    """Play one episode; return dict of states (T,4), actions (T,), probs (T,2), total return."""
    env = make_env(env_id)
    obs, _ = env.reset(seed=seed)
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


def _moving_average(x, n=20):
    x = np.asarray(x, dtype=float)
    return np.array([x[max(0, i - n + 1): i + 1].mean() for i in range(len(x))])


# --------------------------------------------------------------------------- REINFORCE

class Reinforce(Agent):
    """REINFORCE with an optional learned baseline V(s) (Algorithm 1/2 of the chapter)."""

    def __init__(self, obs_dim=4, n_actions=2, *, hidden=128, lr=1e-3, value_lr=3e-3, gamma=0.99,
                 baseline=True, seed=0):
        import keras
        import tensorflow as tf

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


# --------------------------------------------------------------------------- PPO

class PPO(Agent):
    """PPO with the clipped surrogate objective, Monte-Carlo returns and a separate critic."""

    def __init__(self, obs_dim=4, n_actions=2, *, hidden=100, lr=1e-3, value_lr=3e-3, gamma=0.98,
                 clip=0.2, epochs=10, batch_size=32, seed=0):
        import keras
        import tensorflow as tf

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
        done, rewards, start = False, [], len(self.buffer)
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


# --------------------------------------------------------------------------- DQN

class ReplayBuffer:
    """Fixed-size ring buffer of (s, a, r, s', done) with uniform sampling."""

    def __init__(self, capacity, obs_dim=4, seed=0):
        self.capacity = _check_int("capacity", capacity)
        self.s = np.zeros((capacity, obs_dim), np.float32)
        self.a = np.zeros(capacity, np.int32)
        self.r = np.zeros(capacity, np.float32)
        self.s2 = np.zeros((capacity, obs_dim), np.float32)
        self.done = np.zeros(capacity, np.float32)
        self.size, self.pos = 0, 0
        self.rng = np.random.default_rng(seed)

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
                 eps_start=1.0, eps_end=0.01, eps_decay_steps=10_000, double=True, clipnorm=None, seed=0):
        import keras
        import tensorflow as tf

        self.gamma = _check_prob("gamma", gamma)
        self.batch_size = _check_int("batch_size", batch_size)
        self.warmup = max(_check_int("warmup", warmup), self.batch_size)
        self.train_every = _check_int("train_every", train_every)
        self.gradient_steps = _check_int("gradient_steps", 1 if gradient_steps is None else gradient_steps)
        self.target_every = _check_int("target_every", target_every)
        self.eps_start, self.eps_end = _check_prob("eps_start", eps_start), _check_prob("eps_end", eps_end)
        self.eps_decay_steps = _check_int("eps_decay_steps", eps_decay_steps)
        self.n_actions = n_actions
        self.model = mlp([obs_dim, hidden, hidden, n_actions], name="q", seed=seed)
        self.target = mlp([obs_dim, hidden, hidden, n_actions], name="q_target", seed=seed)
        self.target.set_weights(self.model.get_weights())
        self.opt = keras.optimizers.Adam(learning_rate=lr, clipnorm=clipnorm)
        self.memory = ReplayBuffer(buffer_size, obs_dim, seed=seed)
        self.rng = np.random.default_rng(seed)
        self.steps, self.updates = 0, 0
        q, target, opt, g = self.model, self.target, self.opt, self.gamma
        huber = keras.losses.Huber()
        # a burst of minibatches: shape (gradient_steps, batch, ...)
        spec = [tf.TensorSpec([None, None, obs_dim], tf.float32), tf.TensorSpec([None, None], tf.int32),
                tf.TensorSpec([None, None], tf.float32), tf.TensorSpec([None, None, obs_dim], tf.float32),
                tf.TensorSpec([None, None], tf.float32)]

        def step(s, a, r, s2, done):
            q_next = target(s2)
            if double:   # Double DQN: the online net picks a', the target net evaluates it
                a2 = tf.argmax(q(s2), axis=1, output_type=tf.int32)
                best = tf.gather(q_next, a2, batch_dims=1)
            else:
                best = tf.reduce_max(q_next, axis=1)
            y = r + g * best * (1.0 - done)                  # no bootstrap past a terminal state
            with tf.GradientTape() as tape:
                q_sa = tf.gather(q(s), a, batch_dims=1)
                loss = huber(tf.stop_gradient(y), q_sa)
            opt.apply_gradients(zip(tape.gradient(loss, q.trainable_variables), q.trainable_variables))
            return loss

        @tf.function(input_signature=spec)
        def update(s, a, r, s2, done):
            loss = tf.constant(0.0)
            for i in tf.range(tf.shape(s)[0]):              # compiled loop over the burst
                loss = step(s[i], a[i], r[i], s2[i], done[i])
            return loss

        self.update = update
        self.sync()

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


# --------------------------------------------------------------------------- A3C

class ActorCritic:
    """Two-headed network: shared-input actor (logits) and critic (value), as in the chapter."""

    def __init__(self, obs_dim=4, n_actions=2, hidden=128, seed=0):
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


class A3C(Agent):
    """Asynchronous advantage actor-critic: worker threads share one global model and optimiser.

    Each worker keeps a local copy, computes gradients of its n-step rollout, applies them to
    the global model under a lock and copies the global weights back. With Python threads this
    is a didactic implementation (the GIL serialises most of the work).
    """

    def __init__(self, obs_dim=4, n_actions=2, *, hidden=128, lr=1e-3, gamma=0.99, n_steps=20,
                 entropy=0.01, workers=2, seed=0):
        import keras

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
        import tensorflow as tf

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
        episodes = _check_int("episodes", episodes)
        results: queue.Queue = queue.Queue()
        counter = {"n": 0, "started": 0, "stop": False}
        server, opt, lock, gamma, n_steps = self.server, self.opt, self.lock, self.gamma, self.n_steps
        returns_log = []

        def worker(idx):
            client = ActorCritic(self.obs_dim, self.n_actions, self.hidden, self.seed + 10 * (idx + 1))
            client.set_weights(server.get_weights())
            grads_fn = self._grad_fn(client)
            rng = np.random.default_rng(self.seed + idx)
            env = make_env()
            while True:
                with lock:
                    if counter["stop"] or counter["started"] >= episodes:
                        break
                    ep_seed = self.seed * 100_000 + counter["started"]
                    counter["started"] += 1
                obs, _ = env.reset(seed=ep_seed)
                done, total = False, 0.0
                w = client.actor.get_weights()
                while not done:
                    states, actions, rewards = [], [], []
                    terminated = False
                    for _ in range(n_steps):
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
                    R = discounted_returns(rewards, gamma, bootstrap=boot)
                    g = grads_fn(np.array(states, np.float32), np.array(actions, np.int32), R)
                    with lock:
                        opt.apply_gradients(zip(g, server.trainable_variables))
                        client.set_weights(server.get_weights())
                    w = client.actor.get_weights()
                with lock:
                    counter["n"] += 1
                    returns_log.append(total)
                    results.put(total)
                    if solved is not None and len(returns_log) >= window and \
                            np.mean(returns_log[-window:]) >= solved:
                        counter["stop"] = True
            env.close()

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(self.workers)]
        for t in threads:
            t.start()
        next_check = monitor_every or 0
        while monitor is not None and any(t.is_alive() for t in threads):
            threads[0].join(timeout=0.2)
            if counter["n"] >= next_check:
                next_check += monitor_every
                with lock:
                    self._w = server.actor.get_weights()
                if monitor():
                    with lock:
                        counter["stop"] = True
        for t in threads:
            t.join()
        out = []
        while not results.empty():
            out.append(results.get())
        self.sync()
        return np.array(out)


# --------------------------------------------------------------------------- training driver

AGENTS = {"reinforce": Reinforce, "ppo": PPO, "dqn": DQN, "a3c": A3C}


def train_agent(kind: str, episodes: int, *, seed: int = 0, solved: float | None = None, window: int = 20,
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
    episodes = _check_int("episodes", episodes)
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
        env = make_env()
        returns = []
        for ep in range(episodes):
            returns.append(agent.run_episode(env, seed=seed * 100_000 + ep))
            if solved is not None and len(returns) >= window and np.mean(returns[-window:]) >= solved:
                break
            if select_every and (ep + 1) % select_every == 0 and validate():
                break
        env.close()
        returns = np.array(returns)
    if select_every:
        validate()
        agent.model.set_weights(best["weights"])
        agent.sync()
        agent.validation_score = best["score"]
    return agent, returns


def moving_average(x, n: int = 20):
    """Trailing mean over at most ``n`` values (same length as ``x``)."""
    _check_int("n", n)
    return _moving_average(x, n)


# --------------------------------------------------------------------------- 3×4 maze, value iteration

MAZE = ("...G",
        ".#.T",
        "S...")
"""The textbook's 3×4 grid maze: S start, G goal (terminal), T trap (terminal), # wall."""
MAZE_REWARDS = {"step": -1.0, "goal": 10.0, "trap": -10.0}
"""The textbook's rules: a move earns −1; a move into T earns −10 and a move into G +10 instead."""
MAZE_ACTIONS = ("↑", "→", "↓", "←")
_MOVES = ((-1, 0), (0, 1), (1, 0), (0, -1))


def _maze_rewards(rewards):
    if rewards is None:
        return dict(MAZE_REWARDS)
    if not isinstance(rewards, dict):
        raise TypeError(f"rewards must be a dict with keys step/goal/trap, got {type(rewards).__name__}")
    unknown = set(rewards) - set(MAZE_REWARDS)
    if unknown:
        raise ValueError(f"rewards accepts the keys step, goal, trap; got unknown key(s) {sorted(unknown)}")
    out = dict(MAZE_REWARDS)
    for key, value in rewards.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"rewards[{key!r}] must be a number, got {type(value).__name__}")
        if not np.isfinite(value):
            raise ValueError(f"rewards[{key!r}] must be a finite number, got {value!r}")
        out[key] = float(value)
    return out


def _check_layout(layout):
    if isinstance(layout, str) or not layout or any(not isinstance(row, str) for row in layout):
        raise TypeError("layout must be a sequence of strings such as rl.MAZE")
    cols = len(layout[0])
    if any(len(row) != cols for row in layout):
        raise ValueError("every maze row must have the same length")
    bad = set("".join(layout)) - set(".#GTS")
    if bad:
        raise ValueError(f"maze cells must be one of . # G T S, got {sorted(bad)}")
    return len(layout), cols


def maze_step(r: int, c: int, a: int, *, layout=MAZE, rewards=None):
    """One deterministic move in the maze: ``(next_row, next_col, reward, done)``.

    Moving off the grid or into a wall leaves the agent where it is (and still costs the step
    reward); entering G or T ends the episode with the goal or trap reward instead of the step one.
    """
    rewards = _maze_rewards(rewards)
    rows, cols = _check_layout(layout)
    _check_int("r", r, 0, rows - 1)
    _check_int("c", c, 0, cols - 1)
    _check_int("action", a, 0, 3)                    # 0..3 = ↑ → ↓ ←
    dr, dc = _MOVES[a]
    nr, nc = r + dr, c + dc
    if not (0 <= nr < rows and 0 <= nc < cols) or layout[nr][nc] == "#":
        nr, nc = r, c                                   # bumping into a wall: stay
    cell = layout[nr][nc]
    if cell == "G":
        return nr, nc, rewards["goal"], True
    if cell == "T":
        return nr, nc, rewards["trap"], True
    return nr, nc, rewards["step"], False


def value_iteration(gamma: float = 0.9, *, rewards=None, noise: float = 0.0, iterations: int | None = None,
                    layout=MAZE, tol: float = 1e-10):
    """Bellman-optimality iteration on the grid maze; returns dict V (rows×cols, NaN on walls,
    0 on the terminal cells), Q (rows×cols×4, actions ↑ → ↓ ←), greedy policy (rows×cols, −1 where
    undefined), the number of sweeps and the rewards used.

    ``rewards`` overrides the textbook's rules ``MAZE_REWARDS`` (step −1, goal +10, trap −10), see
    ``maze_step``. With probability ``noise`` the move slips to one of the two perpendicular
    directions (half each).
    """
    gamma = _check_prob("gamma", gamma)
    noise = _check_prob("noise", noise)
    rewards = _maze_rewards(rewards)
    if iterations is not None:
        _check_int("iterations", iterations, 0)
    rows, cols = _check_layout(layout)
    V = np.zeros((rows, cols))
    Q = np.zeros((rows, cols, 4))
    sweeps = 0
    while iterations is None or sweeps < iterations:
        Q_new = np.zeros_like(Q)
        for r in range(rows):
            for c in range(cols):
                if layout[r][c] in "#GT":
                    continue
                for a in range(4):
                    outcomes = [(1 - noise, a), (noise / 2, (a + 1) % 4), (noise / 2, (a + 3) % 4)]
                    for p, a_real in outcomes:
                        if p == 0:
                            continue
                        nr, nc, rew, _ = maze_step(r, c, a_real, layout=layout, rewards=rewards)
                        Q_new[r, c, a] += p * (rew + gamma * V[nr, nc])
        V_new = Q_new.max(axis=2)
        sweeps += 1
        delta = np.abs(V_new - V).max()
        V, Q = V_new, Q_new
        if iterations is None and delta < tol:
            break
        if sweeps > 10_000:
            break
    policy = Q.argmax(axis=2)
    V_out = V.copy()
    for r in range(rows):
        for c in range(cols):
            if layout[r][c] == "#":
                V_out[r, c] = np.nan
            if layout[r][c] in "#GT":
                policy[r, c] = -1
    return {"V": V_out, "Q": Q, "policy": policy, "sweeps": sweeps, "rewards": rewards}
