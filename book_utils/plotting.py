"""Plot style with a CJK font from PyPI, image grids and training curves."""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from .checks import check_int

CJK_FONT_FILE = "NotoSansCJKsc-Regular.otf"
#: the site's text column at a 1280 px desktop, in CSS px: a wider figure is scaled down to it
COLUMN_PX = 688
#: the smallest figure text a reader should meet there, in CSS px
MIN_TEXT_PX = 9.0


@functools.lru_cache(maxsize=1)
def cjk_font_name() -> str:
    """Register the pip-installed Noto Sans CJK SC font with matplotlib; return its family name."""
    import mplfonts
    from matplotlib import font_manager

    path = Path(mplfonts.__file__).parent / "fonts" / CJK_FONT_FILE
    if not path.exists():
        raise FileNotFoundError(
            f"CJK font {path} is missing; reinstall it with `pip install --force-reinstall mplfonts`"
        )
    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path)).get_name()


def use_book_style() -> None:
    """Apply the book's matplotlib style: CJK font, readable sizes, crisp inline PNGs."""
    import matplotlib as mpl

    font = cjk_font_name()
    mpl.rcParams.update(
        {
            "font.family": "sans-serif",
            "font.sans-serif": [font, "DejaVu Sans"],
            "axes.unicode_minus": False,  # the CJK font has no U+2212 minus glyph
            "figure.figsize": (6.4, 4.0),
            "figure.dpi": 100,
            "savefig.dpi": 100,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "legend.frameon": False,
            "image.cmap": "viridis",
        }
    )
    try:
        from IPython import get_ipython
        from matplotlib.figure import Figure
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:  # pragma: no cover
        return
    set_matplotlib_formats("retina")  # 2x pixels, displayed at the figure's size (HiDPI screens)
    shell = get_ipython()
    if shell is not None:
        png = shell.display_formatter.formatters["image/png"]
        retina = png.lookup_by_type(Figure)
        png.for_type(Figure, functools.partial(_legible_png, retina=retina))


def legible(fig, column_px: float = COLUMN_PX, min_px: float = MIN_TEXT_PX) -> int:
    """Enlarge every text of ``fig`` that would show below ``min_px`` CSS px once the figure is scaled
    down to a ``column_px`` column (figures display at 100 CSS px per inch); return how many changed.
    The layout is redone when text grew, so labels keep clear of each other."""
    scale = min(1.0, column_px / (fig.get_figwidth() * 100))
    floor_pt = min_px / scale * 72 / 100
    fig.canvas.draw()  # ticks and their labels exist only once drawn
    small = [t for t in _texts(fig) if t.get_fontsize() < floor_pt]
    for t in small:
        t.set_fontsize(floor_pt)
    for ax in fig.axes:  # ticks made at the next draw take the new size too
        for axis in (ax.xaxis, ax.yaxis):
            labels = axis.get_ticklabels()
            if labels and labels[0].get_fontsize() <= floor_pt:
                axis.set_tick_params(labelsize=floor_pt)
    if small and fig.get_layout_engine() is None:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fig.tight_layout()
    return len(small)


def smallest_text_px(fig, width_px: float, column_px: float = COLUMN_PX) -> float | None:
    """CSS px of the smallest visible text of ``fig`` shown ``width_px`` wide in a ``column_px`` column."""
    sizes = [t.get_fontsize() for t in _texts(fig)]
    if not sizes:
        return None
    return round(min(sizes) * 100 / 72 * min(1.0, column_px / width_px), 1)


def _texts(fig):
    from matplotlib.text import Text

    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def _legible_png(fig, *, retina):
    """The inline PNG of ``fig`` with legible text; its metadata records the smallest text size."""
    legible(fig)
    data, meta = retina(fig)
    width = meta.get("width") or fig.get_figwidth() * 100
    if (smallest_text_px(fig, width) or MIN_TEXT_PX) < MIN_TEXT_PX:  # the tight bounding box came out wider
        legible(fig, column_px=COLUMN_PX * fig.get_figwidth() * 100 / width)
        data, meta = retina(fig)
        width = meta.get("width") or width
    return data, {**meta, "min_text_px": smallest_text_px(fig, width)}


def show_images(images, labels=None, *, ncols: int = 8, cmap: str = "gray", size: float = 1.2,
                title: str | None = None):
    """Draw a grid of images (N,H,W) or (N,H,W,C) with optional per-image labels; return the figure."""
    import matplotlib.pyplot as plt

    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim not in (3, 4) or len(images) == 0:
        raise ValueError(
            f"show_images expects a non-empty batch shaped (N, H, W) or (N, H, W, C), got shape {images.shape}"
        )
    if labels is not None and len(labels) != len(images):
        raise ValueError(f"got {len(images)} images but {len(labels)} labels; pass one label per image")
    ncols = check_int("ncols", ncols, accepted="a positive integer")
    n = len(images)
    ncols = min(ncols, n)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + (0.4 if title else 0)),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        img = images[i]
        if img.dtype.kind == "f" and img.ndim == 3:
            img = np.clip(img, 0, 1)
        ax.imshow(img, cmap=cmap if img.ndim == 2 else None)
        if labels is not None:
            ax.set_title(str(labels[i]), fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_history(history, keys=None, *, title: str | None = None, xlabel: str = "Epoch", logy: bool = False):
    """Plot training curves from a ``{name: [values]}`` dict or a Keras ``History``; return the figure.

    Keys that share a suffix (``loss`` and ``val_loss``) go on the same axes.
    """
    import matplotlib.pyplot as plt

    hist = getattr(history, "history", history)
    if not isinstance(hist, dict) or not hist:
        raise TypeError("plot_history expects a non-empty dict of metric lists or a keras History object")
    keys = list(hist) if keys is None else list(keys)
    missing = [k for k in keys if k not in hist]
    if missing:
        raise KeyError(f"history has no {missing}; available: {sorted(hist)}")
    empty = [k for k in keys if len(hist[k]) == 0]
    if not keys or empty:
        raise ValueError(f"history has no values to plot for {empty or 'any key'} (empty lists); "
                         "train for at least one epoch first")
    groups: dict[str, list[str]] = {}
    for k in keys:
        base = k[4:] if k.startswith("val_") else k[5:] if k.startswith("test_") else k
        groups.setdefault(base, []).append(k)
    fig, axes = plt.subplots(1, len(groups), figsize=(4.6 * len(groups), 3.4), squeeze=False)
    for ax, (base, names) in zip(axes.flat, groups.items()):
        for k in names:
            values = np.asarray(hist[k], dtype=float)
            ax.plot(np.arange(1, len(values) + 1), values, marker="o" if len(values) <= 30 else None,
                    markersize=3, label=k)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(base)
        if logy:
            ax.set_yscale("log")
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_decision_boundary(predict, X, y, *, ax=None, title: str | None = None, resolution: int = 200,
                           padding: float = 0.5):
    """Shade the 2-D plane by ``predict(points) -> class scores or labels`` and scatter (X, y).

    ``predict`` receives an (M, 2) float32 array; it may return labels (M,), probabilities of the
    positive class (M,) or (M, 1), or per-class scores (M, K). Returns the axes.
    """
    import matplotlib.pyplot as plt

    X = np.asarray(X, dtype=np.float32)
    y = np.asarray(y).reshape(-1)
    if X.ndim != 2 or X.shape[1] != 2 or len(X) == 0:
        raise ValueError(f"plot_decision_boundary needs a non-empty set of 2-D points shaped (N, 2), got {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError("plot_decision_boundary: X contains NaN or infinite coordinates")
    if len(y) != len(X):
        raise ValueError(f"X has {len(X)} points but y has {len(y)} labels")
    if not callable(predict):
        raise TypeError("predict must be callable: points (M, 2) -> labels or scores")
    x_min, y_min = X.min(0) - padding
    x_max, y_max = X.max(0) + padding
    xx, yy = np.meshgrid(np.linspace(x_min, x_max, resolution), np.linspace(y_min, y_max, resolution))
    grid = np.c_[xx.ravel(), yy.ravel()].astype(np.float32)
    out = np.asarray(predict(grid))
    if out.ndim == 2 and out.shape[1] > 1:
        z = out.argmax(1)
    else:
        out = out.reshape(-1)
        z = (out > 0.5).astype(int) if out.dtype.kind == "f" else out
    ax = ax or plt.gca()
    ax.contourf(xx, yy, z.reshape(xx.shape), alpha=0.25, cmap="coolwarm", levels=np.arange(z.max() + 2) - 0.5)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", s=12, edgecolors="k", linewidths=0.3)
    ax.set_xlim(x_min, x_max)
    ax.set_ylim(y_min, y_max)
    if title:
        ax.set_title(title)
    return ax


def plot_surface(f, x_range=(-5, 5), y_range=(-5, 5), *, resolution: int = 100, title: str | None = None,
                 contour: bool = True, zlabel: str = "f(x, y)", levels: int = 30):
    """3-D surface of ``f(X, Y)`` (vectorised NumPy) with an optional contour panel; return the figure."""
    import matplotlib.pyplot as plt

    if not callable(f):
        raise TypeError("f must be a vectorised function f(X, Y) -> Z")
    for name, r in (("x_range", x_range), ("y_range", y_range)):
        if len(r) != 2 or not r[0] < r[1]:
            raise ValueError(f"{name} must be (low, high) with low < high, got {r!r}")
    xs = np.linspace(*x_range, resolution)
    ys = np.linspace(*y_range, resolution)
    X, Y = np.meshgrid(xs, ys)
    Z = np.asarray(f(X, Y))
    fig = plt.figure(figsize=(11, 4.4) if contour else (6, 4.6))
    ax = fig.add_subplot(1, 2 if contour else 1, 1, projection="3d")
    ax.plot_surface(X, Y, Z, cmap="viridis", linewidth=0, antialiased=True, alpha=0.9)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_zlabel(zlabel)
    if contour:
        ax2 = fig.add_subplot(1, 2, 2)
        cs = ax2.contour(X, Y, Z, levels=levels, cmap="viridis")
        fig.colorbar(cs, ax=ax2)
        ax2.set_xlabel("x")
        ax2.set_ylabel("y")
        ax2.set_aspect("equal")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
