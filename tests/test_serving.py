"""Tests for book_utils.serving (FastAPI + uvicorn model server)."""

import numpy as np
import pytest

from book_utils import serving

SHAPE = (4, 4, 3)


def predict(x):
    x = np.asarray(x, np.float32)
    s = x.reshape(len(x), -1).mean(axis=1)
    return np.stack([s, -s, np.zeros_like(s)], axis=1)


def test_predict_json_core():
    x = np.ones((2, *SHAPE), np.float32)
    out = serving.predict_json(predict, x.tolist(), input_shape=SHAPE, class_names=["a", "b", "c"])
    assert [p["class_name"] for p in out["predictions"]] == ["a", "a"]
    assert abs(sum(out["predictions"][0]["probabilities"]) - 1) < 1e-5


@pytest.mark.parametrize("bad", [[[1.0, 2.0]], [], "text", np.full((1, *SHAPE), np.nan).tolist()])
def test_predict_json_rejects_bad_input(bad):
    with pytest.raises(ValueError):
        serving.predict_json(predict, bad, input_shape=SHAPE)


def test_create_app_validates():
    with pytest.raises(TypeError):
        serving.create_app("nope", input_shape=SHAPE)
    with pytest.raises(ValueError):
        serving.create_app(predict, name="bad name", input_shape=SHAPE)
    with pytest.raises(ValueError):
        serving.create_app(predict, input_shape=(0, 3))
    with pytest.raises(ValueError):
        serving.ModelServer(serving.create_app(predict, input_shape=SHAPE), port=70000)


def test_image_roundtrip():
    img = (np.arange(4 * 4 * 3) % 255).astype(np.uint8).reshape(4, 4, 3)
    np.testing.assert_array_equal(serving.decode_image_b64(serving.encode_image_b64(img)), img)
    with pytest.raises(ValueError):
        serving.decode_image_b64("!!not base64!!")


def _toy_app():
    return serving.create_app(
        predict,
        name="toy",
        input_shape=SHAPE,
        class_names=["a", "b", "c"],
        preprocess=lambda im: np.asarray(im, np.float32)[:4, :4] / 255.0,
    )


def test_http_roundtrip():
    app = _toy_app()
    with serving.ModelServer(app) as server:
        assert server.running
        status = serving.get_json(server.url + "/v1/models/toy")
        assert status["model_version_status"][0]["state"] == "AVAILABLE"
        reply = serving.post_json(
            server.url + "/v1/models/toy:predict", {"instances": (-np.ones((1, *SHAPE))).tolist()}
        )
        assert reply["predictions"][0]["class_name"] == "b"
        img = np.full((8, 8, 3), 200, np.uint8)
        reply = serving.post_json(
            server.url + "/v1/models/toy:predict", {"images_b64": [serving.encode_image_b64(img)]}
        )
        assert reply["predictions"][0]["class_name"] == "a"
        with pytest.raises(ValueError, match="HTTP 400"):
            serving.post_json(server.url + "/v1/models/toy:predict", {"wrong": 1})
    assert not server.running


# --------------------------------------------------------------------------- limits of the server
import base64  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import struct  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import urllib.error  # noqa: E402
import urllib.request  # noqa: E402
import zlib  # noqa: E402


def _post_raw(url, data: bytes, timeout=60):
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def _png_bomb(width=12000, height=12000) -> bytes:
    """A valid RGB PNG of ``width`` × ``height`` black pixels: a few hundred KB that decode to ~400 MB."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    comp, row, parts = zlib.compressobj(9), b"\0" * (1 + 3 * width), []
    for _ in range(height):
        parts.append(comp.compress(row))
    parts.append(comp.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def toy_server():
    app = _toy_app()
    with serving.ModelServer(app) as server:
        yield server, server.url + "/v1/models/toy:predict"


def test_body_over_the_limit_gets_413(toy_server):
    server, url = toy_server
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    status, reply = _post_raw(url, b'{"instances": [' + b"0.0, " * (10 * 1024 * 1024) + b"0.0]}")  # 50 MB
    assert status == 413 and "limit of 16,777,216 bytes" in reply["detail"]
    assert serving.post_json(url, {"instances": np.ones((1, *SHAPE)).tolist()})["predictions"]  # still serving
    # the server stopped reading at the limit; the growth is the client's 50 MB body
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200 * 1024


def test_decompression_bomb_is_refused_before_decoding(toy_server):
    server, url = toy_server
    bomb = _png_bomb()
    assert len(bomb) < 1_000_000
    payload = json.dumps({"images_b64": [base64.b64encode(bomb).decode()]}).encode()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    status, reply = _post_raw(url, payload)
    seconds = time.perf_counter() - t0
    growth_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert status == 413 and "12000 × 12000" in reply["detail"], reply
    assert growth_mb < 50, f"peak memory grew by {growth_mb:.0f} MB"  # decoding would need ~410 MB
    assert seconds < 5
    with pytest.raises(serving.ImageTooLarge):  # outside the server: the module default applies
        serving.decode_image_b64(base64.b64encode(bomb).decode())
    # many small images add up within one request
    small = serving.encode_image_b64(np.zeros((8, 8, 3), np.uint8))
    app = serving.create_app(
        predict, name="toy", input_shape=SHAPE, preprocess=lambda im: np.asarray(im, np.float32)[:4, :4] / 255.0
    )
    with serving.ModelServer(app, max_pixels=150) as tight:
        status, reply = _post_raw(
            tight.url + "/v1/models/toy:predict", json.dumps({"images_b64": [small] * 3}).encode()
        )
        assert status == 413 and "128 already used" in reply["detail"]
        assert (
            _post_raw(tight.url + "/v1/models/toy:predict", json.dumps({"images_b64": [small] * 3}).encode())[0] == 413
        )  # budget is per request
        assert _post_raw(tight.url + "/v1/models/toy:predict", json.dumps({"images_b64": [small]}).encode())[0] == 200


def _hammer(url, payload, clients, per_client):
    latencies, statuses, lock = [], [], threading.Lock()

    def client():
        for _ in range(per_client):
            t0 = time.perf_counter()
            status, _ = _post_raw(url, payload)
            with lock:
                latencies.append(time.perf_counter() - t0)
                statuses.append(status)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return np.array(latencies), statuses


def test_64_concurrent_clients_are_all_served(toy_server):
    server, url = toy_server
    payload = json.dumps({"instances": np.ones((8, *SHAPE)).tolist()}).encode()
    latencies, statuses = _hammer(url, payload, clients=64, per_client=5)
    assert statuses.count(200) == 320, {s: statuses.count(s) for s in set(statuses)}
    assert np.percentile(latencies, 99) < 10.0  # generous: the CI machine is shared


def test_full_queue_gets_503():
    def slow(x):
        time.sleep(0.3)
        return predict(x)

    app = serving.create_app(slow, name="toy", input_shape=SHAPE)
    with serving.ModelServer(app, max_concurrent=1, max_queue=1) as server:
        payload = json.dumps({"instances": np.ones((1, *SHAPE)).tolist()}).encode()
        _, statuses = _hammer(server.url + "/v1/models/toy:predict", payload, clients=6, per_client=1)
        assert statuses.count(503) >= 1 and statuses.count(200) >= 2 and set(statuses) <= {200, 503}
        assert server.limits.rejected[503] == statuses.count(503)
        assert serving.get_json(server.url + "/v1/models/toy")["input_shape"] == list(SHAPE)
    with serving.ModelServer(app, max_concurrent=1, queue_timeout=0.05) as server:
        _, statuses = _hammer(server.url + "/v1/models/toy:predict", payload, clients=3, per_client=1)
        assert 503 in statuses and 200 in statuses


def test_nonfinite_model_output_and_wrong_class_names_get_clear_json_errors():
    x = np.ones((2, *SHAPE)).tolist()
    nan_model = lambda x: np.full((len(x), 3), np.nan)  # noqa: E731
    with pytest.raises(serving.ModelOutputError, match=r"NaN or infinite logits for instance\(s\) \[0, 1\]"):
        serving.predict_json(nan_model, x, input_shape=SHAPE)
    with pytest.raises(serving.ServerConfigError, match="2 class names but the model returns 3 logits"):
        serving.predict_json(predict, x, input_shape=SHAPE, class_names=["a", "b"])
    with pytest.raises(TypeError, match="class_names must be a list"):
        serving.predict_json(predict, x, input_shape=SHAPE, class_names="abc")
    for app, match in (
        (serving.create_app(nan_model, name="toy", input_shape=SHAPE), "NaN or infinite"),
        (
            serving.create_app(predict, name="toy", input_shape=SHAPE, class_names=["a"]),
            "1 class names but the model returns 3",
        ),
    ):
        with serving.ModelServer(app) as server:
            status, reply = _post_raw(server.url + "/v1/models/toy:predict", json.dumps({"instances": x}).encode())
            assert status == 500 and match in reply["detail"]


def test_limits_are_validated():
    app = serving.create_app(predict, input_shape=SHAPE)
    with pytest.raises(ValueError, match="max_body_bytes"):
        serving.ModelServer(app, max_body_bytes=0)
    with pytest.raises(ValueError, match="max_queue"):
        serving.ModelServer(app, max_queue=-1)
    with pytest.raises(ValueError, match="queue_timeout"):
        serving.ModelServer(app, queue_timeout=-1)
    assert serving.ModelServer(app, max_concurrent=np.int64(2)).limits.max_concurrent == 2
