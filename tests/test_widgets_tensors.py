import numpy as np

from book_utils.widgets import tensors as WT


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


def test_precision_update():
    r = WT.precision_update("123456789", "int16")
    assert r["stored"] == -13035 and r["rel_error"] > 1
    assert WT.precision_update("123456789", "int32")["rel_error"] == 0
    f16 = WT.precision_update("3.141592653589793", "float16")
    assert f16["stored"] == 3.140625 and 0 < f16["rel_error"] < 1e-3
    assert WT.precision_update("abc", "int8")["error"]
    assert WT.precision_update("1", "int4")["error"]
    assert "相对误差" in WT.precision_lab().children[1].value


def test_reshape_update():
    r = WT.reshape_update("2,3,4", "0,2,1")
    assert r["shape"] == (2, 4, 3) and r["memory"][:4] == [0, 4, 8, 1]
    assert WT.reshape_update("4,6", "")["memory"] == list(range(24))
    assert "24" in WT.reshape_update("5,5", "")["error"]
    assert "permutation" in WT.reshape_update("2,3,4", "0,0,1")["error"]
    assert "[2, 4, 3]" in WT.reshape_visualiser().children[1].value
