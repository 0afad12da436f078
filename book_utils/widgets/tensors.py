"""Tensor widgets for chapter 4: precision lab, slicing explorer, reshape visualiser, broadcasting explorer.

Each demo is a pure function returning HTML (testable without a browser) plus a thin ipywidgets
wrapper. The HTML is placed in an ``HTML`` widget; the static preview of the book shows the same
HTML for a few preset inputs (the free-text boxes become dropdowns of presets).
"""
from __future__ import annotations

import html
import math

import numpy as np

from .. import tensors as T
from ._fallback import with_fallback

_COLORS = {"equal": "#cfe8cf", "stretch": "#ffd9a8", "insert": "#c9ddf2", "conflict": "#f4b6b6", "none": "#ffffff"}


# static-preview presets of the free-text boxes (the chapter's initial values come first)
BROADCAST_PRESETS = (("2,32,32,3", "32,2", "4,1", "3"), ("32,1", "3", "1,3", "2,32,32,4"))
SLICING_PRESETS = (("1:3, ::2", "0", "0:1", ":, -1", "::-2", "..., 0"), ("4,6", "4,32,32,3"))
PRECISION_PRESETS = ("123456789", "3.141592653589793", "0.1", "300", "16777217")
PERM_PRESETS = (("不转置", ""), ("交换最后两维", "swap"), ("倒转全部维度", "reverse"))


def _td(text, color, bold=False):
    """A table cell on a light ``color``; the text colour is explicit so it stays dark in a dark theme."""
    weight = "bold" if bold else "normal"
    return (f'<td style="border:1px solid #888;padding:2px 8px;text-align:center;background:{color};'
            f'color:#111;font-weight:{weight}">{html.escape(str(text))}</td>')


def _with_initial(initial: str, presets) -> list[str]:
    """Preset texts of a free-text box, with the widget's initial text first when it is not a preset."""
    return list(presets) if initial in presets else [initial, *presets]


def broadcast_update(a_text: str, b_text: str) -> dict:
    """Pure update of the broadcasting explorer.

    Returns ``{"shape": tuple | None, "error": str | None, "html": str}``; bad shape text gives an
    ``error`` (never raises).
    """
    try:
        rows = T.align_shapes(a_text, b_text)
    except (ValueError, TypeError) as err:
        msg = str(err)
        return {"shape": None, "error": msg,
                "html": f'<div style="color:#b00000">输入有误：{html.escape(msg)}</div>'}
    try:
        shape, error = T.broadcast_shape(a_text, b_text), None
    except ValueError as err:
        shape, error = None, str(err)
    lines = []
    for label, k in (("a", 0), ("b", 1), ("结果", 2)):
        cells = [f'<td style="padding:2px 8px">{label}</td>']
        for x, y, z, rule in rows:
            v = (x, y, z)[k]
            if k == 2:
                color = _COLORS["conflict"] if rule == "conflict" else "#eeeeee"
                cells.append(_td("✗" if rule == "conflict" else v, color, bold=True))
                continue
            mine = "a" if k == 0 else "b"
            if rule == "conflict" or rule == "equal":
                color = _COLORS[rule]
            elif rule == f"stretch-{mine}":
                color = _COLORS["stretch"]
            elif rule == f"insert-{mine}":
                color = _COLORS["insert"]
            else:
                color = _COLORS["none"]
            cells.append(_td("(1)" if v is None else v, color))
        lines.append("<tr>" + "".join(cells) + "</tr>")
    table = '<table style="border-collapse:collapse">' + "".join(lines) + "</table>"
    if error is None:
        verdict = f'<div style="color:#1a6e1a">可以广播，结果 shape = {list(shape)}</div>'
    else:
        verdict = f'<div style="color:#b00000">无法广播：{html.escape(error)}</div>'
    legend = ('<div style="font-size:85%;color:#555">绿色：相等；橙色：长度 1 被拉伸；蓝色：缺失维度在左侧补 1；'
              '红色：冲突</div>')
    return {"shape": shape, "error": error, "html": table + verdict + legend}


def _two_text_boxes(update, first, second, presets):
    """Two ``(value, description)`` text boxes whose values feed ``update(a, b)["html"]`` into an HTML pane.

    The static preview shows every combination of the two boxes' ``presets``.
    """
    import ipywidgets as W

    boxes = [W.Text(value=value, description=desc) for value, desc in (first, second)]
    out = W.HTML(value=update(first[0], second[0])["html"])

    def refresh(_=None):
        out.value = update(boxes[0].value, boxes[1].value)["html"]

    for box in boxes:
        box.observe(refresh, names="value")
    options = [_with_initial(value, p) for (value, _), p in zip((first, second), presets)]
    return with_fallback(W.VBox([W.HBox(boxes), out]), lambda a, b: update(a, b)["html"],
                         {"a": (first[1], options[0], first[0]), "b": (second[1], options[1], second[0])},
                         max_frames=len(options[0]) * len(options[1]))


def broadcast_explorer(a: str = "2,32,32,3", b: str = "32,1"):
    """Two shape text boxes → aligned shapes and the broadcast result (or the conflicting axis)."""
    return _two_text_boxes(broadcast_update, (a, "shape a"), (b, "shape b"), BROADCAST_PRESETS)


def slicing_update(expr: str, shape_text: str = "4,6") -> dict:
    """Pure update of the slicing explorer.

    Applies ``x[expr]`` to ``x = range(n).reshape(shape)``. Returns ``{"shape", "values", "error", "html"}``;
    the HTML shows the result shape and, for 1-D/2-D tensors, the grid with selected cells highlighted.
    """
    try:
        shape = T._parse_shape(shape_text, "tensor shape")
        if math.prod(int(d) for d in shape) > 100_000:  # Python ints: no int64 overflow
            raise ValueError(f"shape {list(shape)} is too large for the explorer (max 100000 elements)")
        key = T.parse_index(expr)
        mask = T.selection_mask(shape, key)
        x = np.arange(int(np.prod(shape))).reshape(shape)
        values = x[key]
    except (ValueError, TypeError) as err:
        msg = str(err)
        return {"shape": None, "values": None, "error": msg,
                "html": f'<div style="color:#b00000">错误：{html.escape(msg)}</div>'}
    res_shape = tuple(np.shape(values))
    head = (f"<div>x.shape = {list(shape)}，x[{html.escape(T.format_index(key))}] 的 shape = "
            f"<b>{list(res_shape)}</b>，共选中 {int(mask.sum())} 个元素</div>")
    body = ""
    if len(shape) in (1, 2):
        grid = mask.reshape(1, -1) if len(shape) == 1 else mask
        ids = x.reshape(grid.shape)
        rows = []
        for i in range(grid.shape[0]):
            rows.append("<tr>" + "".join(
                _td(ids[i, j], "#4a7fbf" if grid[i, j] else "#f4f4f4", bold=bool(grid[i, j]))
                for j in range(grid.shape[1])) + "</tr>")
        body = '<table style="border-collapse:collapse">' + "".join(rows) + "</table>"
    elif np.ndim(values) <= 2 and np.size(values) <= 200:
        body = "<pre>" + html.escape(np.array2string(np.asarray(values), separator=", ")) + "</pre>"
    return {"shape": res_shape, "values": np.asarray(values), "error": None, "html": head + body}


def slicing_explorer(expr: str = "1:3, ::2", shape: str = "4,6"):
    """A text box for the index expression and one for the tensor shape; highlights the selection."""
    return _two_text_boxes(slicing_update, (expr, "x[ … ]"), (shape, "x.shape"), SLICING_PRESETS)


_DTYPES = ("int8", "int16", "int32", "float16", "float32", "float64")


def precision_update(value_text: str, dtype: str) -> dict:
    """Pure update of the precision lab: store a number in ``dtype`` and report the relative error.

    Integers are cast from int64 (so too-large values wrap around as with ``tf.cast``); decimals are
    cast from float64 (float → int truncates toward zero). Uses NumPy so the widget stays light.
    Returns ``{"stored", "rel_error", "error", "html"}``.
    """
    if dtype not in _DTYPES:
        msg = f"dtype must be one of {', '.join(_DTYPES)}, got {dtype!r}"
        return {"stored": None, "rel_error": None, "error": msg,
                "html": f'<div style="color:#b00000">{html.escape(msg)}</div>'}
    text = str(value_text).strip()
    try:
        is_int = text.lstrip("+-").isdigit()
        value = int(text) if is_int else float(text)
        if is_int and abs(value) >= 2 ** 63:
            raise ValueError("integer too large for int64")
    except ValueError as err:
        msg = f"{text!r} is not a number ({err})"
        return {"stored": None, "rel_error": None, "error": msg,
                "html": f'<div style="color:#b00000">{html.escape(msg)}</div>'}
    # NumPy casts exactly like tf.cast here: ints wrap around, floats round, float → int truncates
    src = np.array(value, dtype=np.int64 if is_int else np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        stored = src.astype(dtype).item()
    rel = abs(float(stored) - float(value)) / abs(float(value)) if value != 0 else abs(float(stored))
    color = "#1a6e1a" if rel == 0 else ("#b36b00" if rel < 1e-3 else "#b00000")
    page = (f"<div>输入 {html.escape(text)} → 以 <b>{dtype}</b> 保存为 <b>{stored!r}</b></div>"
            f'<div style="color:{color}">相对误差 {rel:.3e}</div>')
    return {"stored": stored, "rel_error": rel, "error": None, "html": page}


def precision_lab(value: str = "123456789", dtype: str = "int16"):
    """A number box and a dtype dropdown → the stored value and its relative error."""
    import ipywidgets as W

    tv = W.Text(value=value, description="数值")
    dd = W.Dropdown(options=list(_DTYPES), value=dtype, description="dtype")
    out = W.HTML(value=precision_update(value, dtype)["html"])

    def refresh(_=None):
        out.value = precision_update(tv.value, dd.value)["html"]

    tv.observe(refresh, names="value")
    dd.observe(refresh, names="value")
    values = _with_initial(value, PRECISION_PRESETS)
    return with_fallback(W.VBox([W.HBox([tv, dd]), out]), lambda v, d: precision_update(v, d)["html"],
                         {"v": ("数值", values, value), "d": ("dtype", _DTYPES, dtype)},
                         max_frames=len(values) * len(_DTYPES))


def reshape_update(shape_text: str = "2,3,4", perm_text: str = "") -> dict:
    """Pure update of the reshape/transpose visualiser on ``range(24)``.

    Reshape keeps the memory order 0..23; an optional transpose ``perm`` changes the logical layout
    *and* (when materialised) the memory order. Returns ``{"shape", "memory", "error", "html"}``.
    """
    try:
        shape = T._parse_shape(shape_text, "target shape")
        if int(np.prod(shape)) != 24:
            raise ValueError(f"shape {list(shape)} has {int(np.prod(shape))} elements; range(24) needs a product of 24")
        x = np.arange(24).reshape(shape)
        if str(perm_text).strip():
            perm = T._parse_shape(perm_text, "perm")
            if sorted(perm) != list(range(len(shape))):
                raise ValueError(f"perm {list(perm)} must be a permutation of {list(range(len(shape)))}")
            x = np.transpose(x, perm)
    except (ValueError, TypeError) as err:
        msg = str(err)
        return {"shape": None, "memory": None, "error": msg,
                "html": f'<div style="color:#b00000">错误：{html.escape(msg)}</div>'}
    memory = np.ascontiguousarray(x).ravel().tolist()
    op = f"x = tf.reshape(tf.range(24), {list(shape)})"
    if str(perm_text).strip():
        op += f"，再 tf.transpose(x, perm={list(perm)})"
    page = (f"<div>{op}：逻辑形状 <b>{list(x.shape)}</b></div>"
            f"<pre>{html.escape(np.array2string(x, separator=', '))}</pre>"
            f"<div>reshape 后的存储顺序：{list(range(24))}</div>"
            f"<div>按新逻辑布局重新存储（transpose 会这样做）：<b>{memory}</b></div>")
    return {"shape": tuple(x.shape), "memory": memory, "error": None, "html": page}


def preset_perm(kind: str, ndim: int) -> str:
    """The perm text of a named transpose (``"swap"`` the last two axes, ``"reverse"`` all) for a rank-``ndim``
    tensor; any other text (``""`` = no transpose, or a literal perm) is returned unchanged."""
    axes = list(range(ndim))
    if kind == "swap":
        axes[-2:] = axes[-2:][::-1]
    elif kind == "reverse":
        axes.reverse()
    else:
        return kind
    return ",".join(map(str, axes))


def _rank(shape_text: str) -> int:
    try:
        return len(T._parse_shape(shape_text))
    except (ValueError, TypeError):
        return 0


def _perm_kind(perm_text: str, ndim: int) -> str:
    """The preset name of ``perm_text`` for a rank-``ndim`` tensor, or the text itself if it is no preset."""
    try:
        perm = T._parse_shape(perm_text, "perm")
    except (ValueError, TypeError):
        return perm_text
    for _, kind in PERM_PRESETS:
        if perm == T._parse_shape(preset_perm(kind, ndim)):
            return kind
    return perm_text


def reshape_visualiser(shape: str = "2,3,4", perm: str = "0,2,1"):
    """A target-shape dropdown and a perm box applied to ``range(24)``."""
    import ipywidgets as W

    options = ["24", "4,6", "6,4", "2,3,4", "2,12", "3,8", "2,2,6"]
    dd = W.Dropdown(options=options if shape in options else options + [shape], value=shape, description="shape")
    tp = W.Text(value=perm, description="perm")
    out = W.HTML(value=reshape_update(shape, perm)["html"])

    def refresh(_=None):
        out.value = reshape_update(dd.value, tp.value)["html"]

    dd.observe(refresh, names="value")
    tp.observe(refresh, names="value")
    kind = _perm_kind(perm, _rank(shape))
    perms = list(PERM_PRESETS) + ([] if kind in dict(PERM_PRESETS).values() else [(perm, perm)])
    return with_fallback(W.VBox([W.HBox([dd, tp]), out]),
                         lambda shape, perm: reshape_update(shape, preset_perm(perm, _rank(shape)))["html"],
                         {"shape": ("shape", dd.options, shape), "perm": ("perm", perms, kind)})
