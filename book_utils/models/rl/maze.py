"""The textbook's 3×4 grid maze: its rules (``maze_step``) and value iteration on it."""
from __future__ import annotations

import numpy as np

from book_utils.checks import check_int as _check_int
from book_utils.checks import check_number

from .common import _check_prob

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
        out[key] = check_number(f"rewards[{key!r}]", value)
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
    iterations = None if iterations is None else _check_int("iterations", iterations, 0)
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
        if (iterations is None and delta < tol) or sweeps > 10_000:
            break
    return _maze_result(V, Q, layout, sweeps, rewards)


def _maze_result(V, Q, layout, sweeps, rewards):
    """``value_iteration``'s reply: V with NaN on walls, the greedy policy with −1 on walls and terminals."""
    policy = Q.argmax(axis=2)
    V_out = V.copy()
    for r, row in enumerate(layout):
        for c, cell in enumerate(row):
            if cell == "#":
                V_out[r, c] = np.nan
            if cell in "#GT":
                policy[r, c] = -1
    return {"V": V_out, "Q": Q, "policy": policy, "sweeps": sweeps, "rewards": rewards}
