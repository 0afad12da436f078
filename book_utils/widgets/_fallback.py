"""Static fallbacks for the widgets: what a reader of the HTML page (no Python kernel) can still use.

``with_fallback(box, render, controls)`` precomputes ``render(**values)`` for a small grid of control
values and attaches the frames to the live widget as a ``text/html`` output. The site prefers that
HTML (a few lines of inline JavaScript switch the frames); JupyterLab with a kernel shows the live
widget; a fresh, untrusted clone shows the first frame and a hint to run the cell.
"""
from __future__ import annotations

import base64
import html
import io
import itertools
import json
import os
import struct

from book_utils.plotting import legible

MAX_FRAMES = 24
#: environment variable capping the frames per preview (the test suite's notebook kernels set it to 2:
#: nbval compares a preview only as a placeholder, so the full grid is left to the ``book`` run)
FRAMES_ENV = "BOOK_PREVIEW_FRAMES"
HINT = "静态预览：只预先算好了下面几组取值。在 Jupyter 中运行本单元，可以得到能任意调节的交互组件。"
STAR_HINT = "预览每次只改变一个控件，其余控件回到默认值。"

_ROW = "display:flex;flex-wrap:wrap;gap:0.3em 1.5em;align-items:center;margin:0.4em 0"
_SCRIPT = """<script>(function(){var r=document.currentScript.parentElement,
c=[].slice.call(r.querySelectorAll('[data-c]')),f=[].slice.call(r.querySelectorAll('[data-key]')),
star=r.dataset.mode==='star';function show(e){if(star&&e){c.forEach(function(x){if(x!==e.target)
x.value=x.dataset.d;});}var k=c.map(function(x){var o=x.parentElement.querySelector('output');
if(o)o.textContent=JSON.parse(x.dataset.labels)[x.value];return x.value;}).join(',');
f.forEach(function(x){x.hidden=x.dataset.key!==k;});}
c.forEach(function(x){x.addEventListener('input',show);});show();})();</script>"""


def fig_png(fig, dpi: int = 100) -> bytes:
    """Render a matplotlib figure to PNG bytes and close it (so the inline backend does not show it)."""
    import matplotlib.pyplot as plt

    legible(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def png_width(data: bytes) -> int:
    """Pixel width of a PNG, read from its IHDR header."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("expected PNG bytes")
    return struct.unpack(">I", data[16:20])[0]


def set_png(image, data: bytes) -> None:
    """Show PNG bytes in a ``widgets.Image`` at their natural width (never stretched to the output)."""
    image.value = data
    image.layout.width = f"{png_width(data)}px"
    image.layout.max_width = "100%"


def _small_png(data: bytes) -> bytes:
    """The same picture with a 128-colour palette: about a third of the bytes for a plot."""
    from PIL import Image

    buf = io.BytesIO()
    Image.open(io.BytesIO(data)).convert("RGB").quantize(colors=128).save(buf, format="png", optimize=True)
    return buf.getvalue()


def frame_html(result) -> str:
    """One frame: a figure or PNG bytes as a palette PNG at natural width, or an HTML string as is."""
    if hasattr(result, "savefig"):
        result = fig_png(result)
    if isinstance(result, bytes):
        result = _small_png(result)
        src = base64.b64encode(result).decode("ascii")
        return f'<img src="data:image/png;base64,{src}" width="{png_width(result)}" alt="" style="max-width:100%">'
    if isinstance(result, str):
        return result
    raise TypeError(f"a fallback frame must be a matplotlib figure, PNG bytes or an HTML string, got {type(result)}")


def _text(value) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(_text(v) for v in value) + ")"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _options(spec):
    label, options, *default = spec
    pairs = [o if isinstance(o, tuple) and len(o) == 2 and isinstance(o[0], str) else (_text(o), o) for o in options]
    if not pairs:
        raise ValueError(f"control {label!r} needs at least one option")
    values = [v for _, v in pairs]
    d = values.index(default[0]) if default else 0
    return label, pairs, d


def frame_keys(n_options: list[int], defaults: list[int], max_frames: int = MAX_FRAMES):
    """Index tuples to precompute: the full grid if small, else one control varied at a time."""
    grid = 1
    for n in n_options:
        grid *= n
    if grid <= max_frames:
        return "grid", list(itertools.product(*(range(n) for n in n_options)))
    keys = [tuple(defaults)]
    for i, n in enumerate(n_options):
        keys += [tuple(defaults[:i]) + (j,) + tuple(defaults[i + 1:]) for j in range(n) if j != defaults[i]]
    return "star", keys


def fallback_html(render, controls: dict, *, max_frames: int = MAX_FRAMES) -> str:
    """HTML with a select/range input per control and one precomputed frame per key.

    ``controls`` maps a keyword of ``render`` to ``(label, options[, default])``; an option is a value
    or a ``(text, value)`` pair. Numeric controls with more than 4 options become a range slider, others a select.
    """
    specs = {name: _options(spec) for name, spec in controls.items()}
    names = list(specs)
    mode, keys = frame_keys([len(s[1]) for s in specs.values()], [s[2] for s in specs.values()], max_frames)
    inputs = []
    for i, name in enumerate(names):
        label, pairs, d = specs[name]
        texts = json.dumps([t for t, _ in pairs], ensure_ascii=False)
        common = f'data-c="{i}" data-d="{d}" data-labels="{html.escape(texts)}"'
        if len(pairs) == 1:  # fixed in the preview: shown as text, still part of the frame key
            inputs.append(f'<span>{html.escape(label)} = {html.escape(pairs[0][0])}'
                          f'<input type="hidden" value="0" {common}></span>')
            continue
        if len(pairs) <= 4 or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for _, v in pairs):
            opts = "".join(f'<option value="{j}"{" selected" if j == d else ""}>{html.escape(t)}</option>'
                           for j, (t, _) in enumerate(pairs))
            field = f"<select {common}>{opts}</select>"
        else:
            field = (f'<input type="range" min="0" max="{len(pairs) - 1}" step="1" value="{d}" {common}>'
                     f"<output>{html.escape(pairs[d][0])}</output>")
        inputs.append(f"<label>{html.escape(label)} {field}</label>")
    default = tuple(specs[n][2] for n in names)
    if os.environ.get(FRAMES_ENV):
        keys = [default] + [k for k in keys if k != default][: max(int(os.environ[FRAMES_ENV]) - 1, 0)]
    hint = HINT + (STAR_HINT if mode == "star" else "")
    frames = []
    for key in keys:
        body = frame_html(render(**{n: specs[n][1][j][1] for n, j in zip(names, key)}))
        hidden = "" if key == default else " hidden"
        frames.append(f'<div data-key="{",".join(map(str, key))}"{hidden}>{body}</div>')
    return (f'<div class="tfbook-fallback" data-mode="{mode}"><p class="tfbook-fallback-hint">{hint}</p>'
            f'<div class="tfbook-fallback-controls" style="{_ROW}">{"".join(inputs)}</div>'
            f'{"".join(frames)}{_SCRIPT}</div><!-- /tfbook-fallback -->')


def with_fallback(box, render, controls: dict, *, max_frames: int = MAX_FRAMES):
    """Attach :func:`fallback_html` frames to the widget ``box`` as its ``text/html`` output; return ``box``."""
    page = fallback_html(render, controls, max_frames=max_frames)
    live = box._repr_mimebundle_

    def bundle(**kwargs):
        data = live(**kwargs)
        return {**data, "text/html": page} if data else data

    box._repr_mimebundle_ = bundle
    box.fallback_html = page
    return box
