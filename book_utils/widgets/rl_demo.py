"""Chapter 14 demos: CartPole drawing and episode stepper, PPO clip explorer, maze value-iteration stepper."""
from __future__ import annotations

import numpy as np

from book_utils.widgets._fallback import with_fallback


def draw_cartpole(state, ax=None, *, x_limit: float = 2.4, pole_length: float = 1.0):
    """Draw cart and pole for a CartPole state (x, ẋ, θ, θ̇) with matplotlib patches."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    s = np.asarray(state, dtype=float).ravel()
    if s.shape != (4,):
        raise ValueError(f"state must have 4 numbers (x, x_dot, theta, theta_dot), got shape {s.shape}")
    x, _, theta, _ = s
    ax = ax or plt.gca()
    ax.axhline(0, color="0.4", lw=1)
    ax.add_patch(Rectangle((x - 0.25, 0), 0.5, 0.25, color="tab:blue"))
    top = (x + pole_length * np.sin(theta), 0.25 + pole_length * np.cos(theta))
    ax.plot([x, top[0]], [0.25, top[1]], color="tab:orange", lw=5, solid_capstyle="round")
    ax.plot([x], [0.25], "ko", ms=4)
    ax.axvline(-x_limit, color="tab:red", ls=":", lw=1)
    ax.axvline(x_limit, color="tab:red", ls=":", lw=1)
    ax.set_xlim(-x_limit - 0.4, x_limit + 0.4)
    ax.set_ylim(-0.2, 1.5)
    ax.set_aspect("equal")
    ax.set_yticks([])
    return ax


def episode_frame(episode: dict, t: int) -> dict:
    """State, action and action probabilities at step ``t`` of a recorded episode."""
    n = len(episode["states"])
    if not 0 <= t < n:
        raise ValueError(f"t must be in [0, {n - 1}], got {t}")
    return {"t": t, "state": episode["states"][t], "action": int(episode["actions"][t]),
            "probs": np.asarray(episode["probs"][t])}


def frame_figure(episode: dict, t: int):
    """Figure of step ``t``: the cart-pole and the π(a|s) bars (the chosen action in blue)."""
    import matplotlib.pyplot as plt

    f = episode_frame(episode, t)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(7.5, 2.4), gridspec_kw={"width_ratios": [3, 1]})
    draw_cartpole(f["state"], a1)
    a1.set_title(f"第 {t} 步：x={f['state'][0]:+.2f}, θ={np.degrees(f['state'][2]):+.1f}°")
    a2.bar(["向左", "向右"], f["probs"], color=["tab:blue" if f["action"] == 0 else "0.7",
                                             "tab:blue" if f["action"] == 1 else "0.7"])
    a2.set_ylim(0, 1)
    a2.set_title("动作概率")
    fig.tight_layout()
    return fig


def draw_frame(episode: dict, t: int):
    """Show :func:`frame_figure` of step ``t``; return its :func:`episode_frame`."""
    import matplotlib.pyplot as plt

    frame_figure(episode, t)
    plt.show()
    return episode_frame(episode, t)


def episode_player(episode: dict):
    """Play button + slider over the frames of a recorded episode (cart-pole drawing and π(a|s) bars)."""
    import ipywidgets as W

    n = len(episode["states"])
    slider = W.IntSlider(value=0, min=0, max=n - 1, step=1, description="步", continuous_update=False)
    play = W.Play(value=0, min=0, max=n - 1, step=5, interval=200)
    W.jslink((play, "value"), (slider, "value"))
    out = W.interactive_output(lambda t: draw_frame(episode, t), {"t": slider})
    steps = sorted({int(t) for t in np.linspace(0, n - 1, min(n, 24)).round()})  # the preview: ≤ 24 steps
    return with_fallback(W.VBox([W.HBox([play, slider]), out]), lambda t: frame_figure(episode, t),
                         {"t": ("步", steps, 0)})


# --------------------------------------------------------------------------- PPO clip

def ppo_clip_objective(ratio, advantage: float, eps: float = 0.2):
    """Unclipped r·A, clipped min(r·A, clip(r, 1−ε, 1+ε)·A), and where the clipped gradient is zero."""
    if not 0 < eps < 1:
        raise ValueError(f"eps must be in (0, 1), got {eps}")
    r = np.asarray(ratio, dtype=float)
    unclipped = r * advantage
    clipped = np.minimum(unclipped, np.clip(r, 1 - eps, 1 + eps) * advantage)
    flat = (r > 1 + eps) if advantage > 0 else (r < 1 - eps)
    return {"unclipped": unclipped, "clipped": clipped, "flat": flat}


def draw_ppo_clip(eps: float, advantage: float, ax=None, r_max: float = 2.0):
    import matplotlib.pyplot as plt

    r = np.linspace(0, r_max, 401)
    res = ppo_clip_objective(r, advantage, eps)
    ax = ax or plt.gca()
    ax.plot(r, res["unclipped"], "--", color="0.5", label="r·A（未裁剪）")
    ax.plot(r, res["clipped"], color="tab:red", lw=2, label="PPO 裁剪目标")
    ax.fill_between(r, *ax.get_ylim(), where=res["flat"], color="tab:orange", alpha=0.15, label="梯度为 0 的区域")
    ax.axvline(1, color="k", lw=0.5)
    ax.set_xlabel("概率比 r = π_θ/π_old")
    ax.set_title("优势为正" if advantage > 0 else "优势为负")
    ax.legend(fontsize=8)
    return res


def ppo_clip_explorer():
    import ipywidgets as W
    import matplotlib.pyplot as plt

    eps = W.FloatSlider(value=0.2, min=0.05, max=0.5, step=0.05, description="ε", continuous_update=False)
    sign = W.ToggleButtons(options=[("A>0", 1.0), ("A<0", -1.0)], description="优势")

    def draw(eps, sign):
        fig, ax = plt.subplots(figsize=(5, 3))
        ax.set_ylim(-2.2, 2.2)
        draw_ppo_clip(eps, sign, ax)
        return fig

    out = W.interactive_output(lambda **v: (draw(**v), plt.show()), {"eps": eps, "sign": sign})
    return with_fallback(W.VBox([W.HBox([eps, sign]), out]), draw,
                         {"eps": ("ε", [0.05, 0.1, 0.2, 0.3, 0.4, 0.5], 0.2), "sign": ("优势", sign.options)})


# --------------------------------------------------------------------------- maze

def _terminal_label(ch, rewards):
    return {"G": f"终点 {rewards['goal']:+g}", "T": f"陷阱 {rewards['trap']:+g}"}.get(ch)


def _text_color(value, scale):
    return "white" if abs(value) > 0.6 * scale else "black"      # readable on the dark ends of RdYlGn


def _reward_scale(rewards):
    return max(abs(rewards["goal"]), abs(rewards["trap"]), 1e-9)


def _terminal_value(ch, rewards):
    return rewards["goal" if ch == "G" else "trap"]


def _maze_cells(ax, layout, rows, cols):
    """Grey the walls ('#') on ``ax``; yield (row, col, character) for every other cell."""
    from matplotlib.patches import Rectangle

    for r in range(rows):
        for c in range(cols):
            if layout[r][c] == "#":
                ax.add_patch(Rectangle((c - .5, r - .5), 1, 1, color="0.3"))
            else:
                yield r, c, layout[r][c]


def _maze_axes(ax, rows, cols, title):
    ax.set_xticks(range(cols))
    ax.set_yticks(range(rows))
    ax.set_xlim(-0.5, cols - 0.5)
    ax.set_ylim(rows - 0.5, -0.5)
    if title:
        ax.set_title(title)


def draw_maze(result: dict, layout=None, ax=None, *, title: str | None = None, fmt: str = ".2f"):
    """Draw the V values and greedy-policy arrows of ``value_iteration`` on the grid (Fig. 14.12)."""
    import matplotlib.pyplot as plt
    from ..models.rl import MAZE, MAZE_ACTIONS, MAZE_REWARDS

    layout = layout or MAZE
    rewards = result.get("rewards", MAZE_REWARDS)
    V, pol = result["V"], result["policy"]
    rows, cols = V.shape
    ax = ax or plt.gca()
    scale = _reward_scale(rewards)
    shown = np.where(np.isnan(V), 0, V)
    for r in range(rows):
        for c in range(cols):
            if layout[r][c] in "GT":
                shown[r, c] = _terminal_value(layout[r][c], rewards)
    ax.imshow(shown, cmap="RdYlGn", vmin=-scale, vmax=scale)
    for r, c, ch in _maze_cells(ax, layout, rows, cols):
        label = _terminal_label(ch, rewards)
        color = _text_color(shown[r, c], scale)
        if label:
            ax.text(c, r, label, ha="center", va="center", fontsize=9, color=color)
        else:
            ax.text(c, r - 0.15, format(V[r, c], fmt), ha="center", va="center", fontsize=9, color=color)
            ax.text(c, r + 0.22, MAZE_ACTIONS[pol[r, c]], ha="center", va="center", fontsize=12, color=color)
        if ch == "S":
            ax.text(c - 0.42, r - 0.42, "S", ha="left", va="top", fontsize=8, color="0.2")
    _maze_axes(ax, rows, cols, title)
    return ax


def draw_maze_q(result: dict, layout=None, ax=None, *, title: str | None = None, fmt: str = ".2f"):
    """Draw the four Q(s, a) values of every free cell in triangles towards each move (Fig. 14.16);
    the largest value of a cell (the greedy action) is printed in bold."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Polygon
    from ..models.rl import MAZE, MAZE_REWARDS

    layout = layout or MAZE
    rewards = result.get("rewards", MAZE_REWARDS)
    Q = result["Q"]
    rows, cols = Q.shape[:2]
    ax = ax or plt.gca()
    scale = _reward_scale(rewards)
    cmap = plt.get_cmap("RdYlGn")
    # triangle corners and text offsets for ↑ → ↓ ← (image coordinates: y grows downwards)
    tri = (((-.5, -.5), (.5, -.5)), ((.5, -.5), (.5, .5)), ((.5, .5), (-.5, .5)), ((-.5, .5), (-.5, -.5)))
    offset = ((0, -.3), (.28, 0), (0, .3), (-.28, 0))
    for r, c, ch in _maze_cells(ax, layout, rows, cols):
        label = _terminal_label(ch, rewards)
        if label:
            value = _terminal_value(ch, rewards)
            ax.add_patch(plt.Rectangle((c - .5, r - .5), 1, 1, color=cmap(0.5 + 0.5 * value / scale)))
            ax.text(c, r, label, ha="center", va="center", fontsize=9, color=_text_color(value, scale))
            continue
        best = int(np.argmax(Q[r, c]))
        for a in range(4):
            (x1, y1), (x2, y2) = tri[a]
            ax.add_patch(Polygon([(c, r), (c + x1, r + y1), (c + x2, r + y2)], closed=True,
                                 facecolor=cmap(0.5 + 0.5 * np.clip(Q[r, c, a] / scale, -1, 1)),
                                 edgecolor="white", lw=1))
            ax.text(c + offset[a][0], r + offset[a][1], format(Q[r, c, a], fmt), ha="center", va="center",
                    fontsize=7, fontweight="bold" if a == best else "normal",
                    color=_text_color(Q[r, c, a], scale))
        if ch == "S":
            ax.text(c - 0.46, r - 0.46, "S", ha="left", va="top", fontsize=7, color="0.2")
    ax.set_aspect("equal")
    _maze_axes(ax, rows, cols, title)
    return ax


def maze_explorer():
    """Sliders γ, number of sweeps and slip noise → V values and greedy arrows of value iteration
    under the textbook's rewards (step −1, goal +10, trap −10)."""
    import ipywidgets as W
    import matplotlib.pyplot as plt
    from ..models.rl import value_iteration

    g = W.FloatSlider(value=0.9, min=0.5, max=0.99, step=0.01, description="γ", continuous_update=False)
    it = W.IntSlider(value=10, min=0, max=30, description="迭代次数", continuous_update=False)
    nz = W.FloatSlider(value=0.0, min=0.0, max=0.4, step=0.05, description="滑动噪声", continuous_update=False)

    def draw(gamma, iterations, noise):
        fig, ax = plt.subplots(figsize=(5, 3.6))
        draw_maze(value_iteration(gamma, noise=noise, iterations=iterations), ax=ax,
                  title=f"γ={gamma:.2f}，{iterations} 次迭代")
        return fig

    out = W.interactive_output(lambda **v: (draw(**v), plt.show()), {"gamma": g, "iterations": it, "noise": nz})
    return with_fallback(W.VBox([W.HBox([g, it, nz]), out]), draw, {
        "gamma": ("γ", [0.5, 0.7, 0.9, 0.99], 0.9), "iterations": ("迭代次数", [0, 1, 2, 3, 4, 5, 6, 10, 30], 10),
        "noise": ("滑动噪声", [0.0, 0.1, 0.2, 0.4], 0.0)})
