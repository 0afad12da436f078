"""Serve a model over HTTP with FastAPI + uvicorn (chapter 15.6), on localhost, inside a notebook.

The JSON interface follows TensorFlow Serving's REST API: ``POST /v1/models/<name>:predict`` with
``{"instances": [...]}`` returns ``{"predictions": [...]}``; ``GET /v1/models/<name>`` reports the
model's status. Each prediction holds the logits, the softmax probabilities, the arg-max class index
and (if given) its class name. Optionally ``{"images_b64": [...]}`` sends encoded JPEG/PNG files
that the server decodes and preprocesses itself.

:class:`ModelServer` runs uvicorn in a background thread so the notebook can query it and stop it::

    app = create_app(predict_fn, name="pokemon", class_names=names, input_shape=(64, 64, 3))
    with ModelServer(app) as server:
        reply = post_json(server.url + "/v1/models/pokemon:predict", {"instances": batch.tolist()})
"""
from __future__ import annotations

import base64
import json
import numbers
import socket
import threading
import time
import urllib.request

import numpy as np


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def predict_json(predict_fn, instances, *, input_shape, class_names=None, decimals: int = 6) -> dict:
    """The server's core, without HTTP: validate ``instances``, run ``predict_fn``, build the reply dict.

    ``predict_fn`` maps a float32 array ``[n, *input_shape]`` to logits ``[n, classes]``.
    Raises ``ValueError`` with a readable message for malformed input.
    """
    if not callable(predict_fn):
        raise TypeError(f"predict_fn must be callable, got {type(predict_fn).__name__}")
    try:
        x = np.asarray(instances, dtype=np.float32)
    except (TypeError, ValueError):
        raise ValueError("instances must be a list of numeric arrays (nested lists of numbers)") from None
    shape = tuple(int(d) for d in input_shape)
    if x.ndim != len(shape) + 1 or tuple(x.shape[1:]) != shape:
        raise ValueError(f"instances must have shape [n, {', '.join(map(str, shape))}], got {list(x.shape)}")
    if len(x) == 0:
        raise ValueError("instances is empty; send at least one instance")
    if not np.all(np.isfinite(x)):
        raise ValueError("instances contain NaN or infinite values")
    logits = np.asarray(predict_fn(x), dtype=np.float64)
    if logits.ndim != 2 or len(logits) != len(x):
        raise ValueError(f"predict_fn must return logits of shape [n, classes], got {list(logits.shape)}")
    probs = _softmax(logits)
    out = []
    for row_logits, row_probs in zip(logits, probs):
        k = int(np.argmax(row_logits))
        item = {"class_index": k, "probabilities": [round(float(p), decimals) for p in row_probs],
                "logits": [round(float(v), decimals) for v in row_logits]}
        if class_names is not None:
            item["class_name"] = str(class_names[k])
        out.append(item)
    return {"predictions": out}


def create_app(predict_fn, *, name: str = "model", input_shape, class_names=None, preprocess=None):
    """A FastAPI app with TF-Serving-style routes for ``predict_fn`` (see the module docstring).

    ``preprocess`` (optional) maps one decoded uint8 image ``[h, w, 3]`` to a model input of
    ``input_shape``; it enables ``{"images_b64": [...]}`` requests.
    """
    from fastapi import FastAPI, HTTPException
    from fastapi.responses import JSONResponse

    if not callable(predict_fn):
        raise TypeError(f"predict_fn must be callable, got {type(predict_fn).__name__}")
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"name must be a simple identifier such as 'pokemon', got {name!r}")
    shape = tuple(input_shape)
    if not shape or any(isinstance(d, bool) or not isinstance(d, numbers.Integral) or d < 1 for d in shape):
        raise ValueError(f"input_shape must be a tuple of positive ints, e.g. (64, 64, 3), got {input_shape!r}")
    if preprocess is not None and not callable(preprocess):
        raise TypeError("preprocess must be None or a callable image -> model input")
    names = None if class_names is None else [str(c) for c in class_names]
    app = FastAPI(title=f"{name} model server", docs_url=None, redoc_url=None)

    @app.get(f"/v1/models/{name}")
    def status():
        return {"model_version_status": [{"version": "1", "state": "AVAILABLE"}],
                "input_shape": list(shape), "class_names": names}

    @app.post(f"/v1/models/{name}:predict")
    def predict(body: dict):
        try:
            if "instances" in body:
                instances = body["instances"]
            elif "images_b64" in body:
                if preprocess is None:
                    raise ValueError("this server was created without preprocess=; send 'instances' instead")
                instances = np.stack([np.asarray(preprocess(decode_image_b64(s)), np.float32)
                                      for s in body["images_b64"]])
            else:
                raise ValueError("request JSON needs an 'instances' (or 'images_b64') field")
            return JSONResponse(predict_json(predict_fn, instances, input_shape=shape, class_names=names))
        except ValueError as err:
            raise HTTPException(status_code=400, detail=str(err)) from None

    return app


def encode_image_b64(image) -> str:
    """uint8 image ``[h, w, 3]`` → base64 text of a PNG file (what a client would send)."""
    import tensorflow as tf

    img = np.asarray(image)
    if img.dtype != np.uint8 or img.ndim != 3:
        raise ValueError(f"image must be a uint8 array [h, w, c], got {img.dtype} {list(img.shape)}")
    return base64.b64encode(tf.io.encode_png(img).numpy()).decode("ascii")


def decode_image_b64(text: str) -> np.ndarray:
    """base64 text of a JPEG/PNG file → uint8 RGB array ``[h, w, 3]``."""
    import tensorflow as tf

    if not isinstance(text, str):
        raise ValueError("images_b64 entries must be base64 strings")
    try:
        raw = base64.b64decode(text, validate=True)
        return tf.io.decode_image(raw, channels=3, expand_animations=False).numpy()
    except Exception as err:  # binascii.Error, tf InvalidArgumentError
        raise ValueError(f"could not decode image: {type(err).__name__}") from None


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free right now on ``host`` (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class ModelServer:
    """Run an ASGI ``app`` with uvicorn in a daemon thread on ``host:port``; ``stop()`` shuts it down.

    Usable as a context manager. ``port=None`` picks a free port. Only binds to localhost by default.
    """

    def __init__(self, app, *, host: str = "127.0.0.1", port: int | None = None, timeout: float = 30.0):
        import uvicorn

        if port is not None and (isinstance(port, bool) or not isinstance(port, numbers.Integral)
                                 or not 0 < port < 65536):
            raise ValueError(f"port must be None or an integer in 1..65535, got {port!r}")
        self.host, self.port = host, int(port) if port is not None else free_port(host)
        self.timeout = float(timeout)
        config = uvicorn.Config(app, host=self.host, port=self.port, log_level="warning",
                                access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and self._server.started

    def start(self) -> "ModelServer":
        if self._thread is not None:
            raise RuntimeError("server already started; create a new ModelServer to restart")
        self._thread = threading.Thread(target=self._server.run, name=f"uvicorn-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + self.timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"uvicorn failed to start on {self.url} (port in use?)")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"uvicorn did not start within {self.timeout} s")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout=self.timeout)
        if self._thread.is_alive():  # pragma: no cover - only if a request hangs
            self._server.force_exit = True
            self._thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False


def post_json(url: str, payload: dict, *, timeout: float = 30.0) -> dict:
    """POST ``payload`` as JSON with the standard library; return the decoded JSON reply.

    HTTP errors are re-raised as ``ValueError`` carrying the server's status code and message.
    """
    import urllib.error

    data = json.dumps(payload).encode("utf-8")
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as err:
        detail = err.read().decode("utf-8", "replace")
        raise ValueError(f"HTTP {err.code}: {detail}") from None


def get_json(url: str, *, timeout: float = 30.0) -> dict:
    """GET ``url`` and decode its JSON reply."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read().decode("utf-8"))
