import re

import numpy as np

from book_utils.widgets import tensors as WT


def _check_fallback(box, frames, labels, default_html):
    page = box.fallback_html
    assert page.count("data-key=") == frames and 'data-mode="grid"' in page
    assert re.findall(r"<label>(.*?) <(?:input|select)", page) == labels
    visible = r'<div data-key="[\d,]+">' + re.escape(default_html) + "</div>"
    assert re.search(visible, page), "the visible frame must be the live widget's first view"
    assert len(page) < 400_000
    return page


def test_broadcast_update_ok_and_conflict():
    ok = WT.broadcast_update("2,32,32,3", "32,1")
    assert ok["shape"] == (2, 32, 32, 3) and ok["error"] is None and "可以广播" in ok["html"]
    bad = WT.broadcast_update("32,2", "2,32,32,4")
    assert bad["shape"] is None and "axis -1" in bad["error"] and "无法广播" in bad["html"]
    junk = WT.broadcast_update("2,a", "3")
    assert junk["shape"] is None and "输入有误" in junk["html"]


def test_slicing_update():
    r = WT.slicing_update("1:3, ::2", "4,6")
    assert r["shape"] == (2, 3) and r["error"] is None
    np.testing.assert_array_equal(r["values"], np.arange(24).reshape(4, 6)[1:3, ::2])
    r4 = WT.slicing_update("x[1:3, ::2, ..., 0]", "4,32,32,3")
    assert r4["shape"] == (2, 16, 32)
    err = WT.slicing_update("9", "4,6")
    assert err["shape"] is None and "does not fit" in err["error"]
    assert WT.slicing_update("0", "1000,1000")["error"]


def test_widget_wrappers_build():
    box = WT.broadcast_explorer()
    assert "可以广播" in box.children[1].value
    s = WT.slicing_explorer()
    s.children[0].children[0].value = "::-1"
    assert "[4, 6]" in s.children[1].value


def test_table_cells_set_a_dark_text_colour():
    """Light cell backgrounds need an explicit text colour, or a dark theme's light text is invisible."""
    for page in (WT.broadcast_update("2,32,32,3", "32,1")["html"], WT.slicing_update("1:3, ::2")["html"]):
        cells = re.findall(r'<td style="[^"]*background:[^"]*"', page)
        assert cells and all("color:#111" in c for c in cells)


def test_broadcast_explorer_fallback():
    page = _check_fallback(
        WT.broadcast_explorer("2,32,32,3", "32,1"),
        4 * 4,
        ["shape a", "shape b"],
        WT.broadcast_update("2,32,32,3", "32,1")["html"],
    )
    assert page.count("可以广播") == 9 and page.count("无法广播") == 7
    assert WT.broadcast_explorer("5,1", "32,1").fallback_html.count("data-key=") == 5 * 4  # initial text added


def test_slicing_explorer_fallback():
    page = _check_fallback(
        WT.slicing_explorer("1:3, ::2", "4,6"),
        6 * 2,
        ["x[ … ]", "x.shape"],
        WT.slicing_update("1:3, ::2", "4,6")["html"],
    )
    assert "错误" not in page and "x[..., 0] 的 shape = <b>[4, 32, 32]</b>" in page


def test_precision_update():
    r = WT.precision_update("123456789", "int16")
    assert r["stored"] == -13035 and r["rel_error"] > 1
    assert WT.precision_update("123456789", "int32")["rel_error"] == 0
    f16 = WT.precision_update("3.141592653589793", "float16")
    assert f16["stored"] == 3.140625 and 0 < f16["rel_error"] < 1e-3
    assert WT.precision_update("abc", "int8")["error"]
    assert WT.precision_update("1", "int4")["error"]
    assert "相对误差" in WT.precision_lab().children[1].value


def test_precision_lab_fallback():
    page = _check_fallback(
        WT.precision_lab("123456789", "int16"),
        5 * 6,
        ["数值", "dtype"],
        WT.precision_update("123456789", "int16")["html"],
    )
    assert "以 <b>float32</b> 保存为 <b>16777216.0</b>" in page


def test_reshape_update():
    r = WT.reshape_update("2,3,4", "0,2,1")
    assert r["shape"] == (2, 4, 3) and r["memory"][:4] == [0, 4, 8, 1]
    assert WT.reshape_update("4,6", "")["memory"] == list(range(24))
    assert "24" in WT.reshape_update("5,5", "")["error"]
    assert "permutation" in WT.reshape_update("2,3,4", "0,0,1")["error"]
    assert "[2, 4, 3]" in WT.reshape_visualiser().children[1].value


def test_preset_perm():
    assert [WT.preset_perm(k, 3) for k in ("", "swap", "reverse", "1,0,2")] == ["", "0,2,1", "2,1,0", "1,0,2"]
    assert WT.preset_perm("swap", 2) == WT.preset_perm("reverse", 2) == "1,0"


def test_reshape_visualiser_fallback():
    page = _check_fallback(
        WT.reshape_visualiser("2,3,4", "0,2,1"), 7 * 3, ["shape", "perm"], WT.reshape_update("2,3,4", "0,2,1")["html"]
    )
    assert "错误" not in page and '<option value="1" selected>交换最后两维</option>' in page
    other = WT.reshape_visualiser("2,3,4", "1,0,2").fallback_html  # a perm that is no preset is added as one
    assert '<option value="3" selected>1,0,2</option>' in other
