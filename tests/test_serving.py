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


def test_http_roundtrip():
    app = serving.create_app(predict, name="toy", input_shape=SHAPE, class_names=["a", "b", "c"],
                             preprocess=lambda im: np.asarray(im, np.float32)[:4, :4] / 255.0)
    with serving.ModelServer(app) as server:
        assert server.running
        status = serving.get_json(server.url + "/v1/models/toy")
        assert status["model_version_status"][0]["state"] == "AVAILABLE"
        reply = serving.post_json(server.url + "/v1/models/toy:predict",
                                  {"instances": (-np.ones((1, *SHAPE))).tolist()})
        assert reply["predictions"][0]["class_name"] == "b"
        img = np.full((8, 8, 3), 200, np.uint8)
        reply = serving.post_json(server.url + "/v1/models/toy:predict",
                                  {"images_b64": [serving.encode_image_b64(img)]})
        assert reply["predictions"][0]["class_name"] == "a"
        with pytest.raises(ValueError, match="HTTP 400"):
            serving.post_json(server.url + "/v1/models/toy:predict", {"wrong": 1})
    assert not server.running
