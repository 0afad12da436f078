import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from book_utils.widgets import rl as wrl  # noqa: E402


def test_ppo_clip_objective():
    res = wrl.ppo_clip_objective([0.5, 1.0, 1.5], 1.0, 0.2)
    np.testing.assert_allclose(res["clipped"], [0.5, 1.0, 1.2])
    assert list(res["flat"]) == [False, False, True]
    neg = wrl.ppo_clip_objective([0.5, 1.5], -1.0, 0.2)
    np.testing.assert_allclose(neg["clipped"], [-0.8, -1.5])
    with pytest.raises(ValueError, match="eps"):
        wrl.ppo_clip_objective(1.0, 1.0, 1.5)


def test_episode_frame_and_draw():
    ep = {"states": np.zeros((3, 4)), "actions": np.array([0, 1, 0]), "probs": np.full((3, 2), 0.5)}
    assert wrl.episode_frame(ep, 1)["action"] == 1
    with pytest.raises(ValueError):
        wrl.episode_frame(ep, 3)
    with pytest.raises(ValueError, match="4 numbers"):
        wrl.draw_cartpole([0, 0])
    wrl.draw_cartpole([0.1, 0, 0.05, 0])


def test_widgets_build():
    from book_utils.models import rl
    res = rl.value_iteration(0.9)
    wrl.draw_maze(res)
    wrl.draw_maze_q(res)
    wrl.draw_maze(rl.value_iteration(0.9, rewards={"step": 0, "goal": 1, "trap": -1}))
    assert wrl.maze_explorer() is not None
    assert wrl.ppo_clip_explorer() is not None
