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

The server is bounded (:class:`ModelServer` arguments, defaults in brackets): a request body over
``max_body_bytes`` [16 MiB] gets 413; encoded images whose header declares more than ``max_pixels``
pixels in one request [2**24, e.g. 4096 × 4096] get 413 before anything is decoded (a 400 KB PNG can
declare 12,000 × 12,000 pixels: a decompression bomb); at most ``max_concurrent`` [4] predictions run
at once, up to ``max_queue`` [128] more wait at most ``queue_timeout`` [30 s], and anything beyond
gets 503 at once. A model that returns NaN/inf, or class names that do not match its outputs, get a
500 with a JSON message saying so. It binds to 127.0.0.1: nothing outside this machine can reach it.
"""
from __future__ import annotations

import asyncio
import base64
import contextvars
import io
import json
import socket
import threading
import time
import urllib.request
import warnings

import numpy as np
import tensorflow as tf

from .checks import check_int, check_number, check_shape
from .tensors import softmax as _softmax

#: default limits of :class:`ModelServer` (see the module docstring)
MAX_BODY_BYTES = 16 * 1024 * 1024
MAX_PIXELS = 2 ** 24
MAX_CONCURRENT = 4
MAX_QUEUE = 128
QUEUE_TIMEOUT = 30.0


class ImageTooLarge(Exception):
    """Encoded images declare more pixels than the server accepts (HTTP 413); checked before decoding."""

    status_code = 413


class ModelOutputError(RuntimeError):
    """The model returned something the server cannot send: non-finite logits (HTTP 500)."""

    status_code = 500


class ServerConfigError(RuntimeError):
    """The server was configured inconsistently with its model, e.g. class names (HTTP 500)."""

    status_code = 500


class _PixelBudget:
    def __init__(self, limit: int):
        self.limit, self.used = int(limit), 0


# pixels an HTTP request may still decode; ModelServer sets it per request, None = MAX_PIXELS per call
_PIXELS: contextvars.ContextVar[_PixelBudget | None] = contextvars.ContextVar("book_serving_pixels", default=None)


def predict_json(predict_fn, instances, *, input_shape, class_names=None, decimals: int = 6) -> dict:
    """The server's core, without HTTP: validate ``instances``, run ``predict_fn``, build the reply dict.

    ``predict_fn`` maps a float32 array ``[n, *input_shape]`` to logits ``[n, classes]``.
    Raises ``ValueError`` with a readable message for malformed input, :class:`ModelOutputError` when
    the model returns NaN/inf and :class:`ServerConfigError` when ``class_names`` does not have one
    name per model output.
    """
    if not callable(predict_fn):
        raise TypeError(f"predict_fn must be callable, got {type(predict_fn).__name__}")
    if class_names is not None and (isinstance(class_names, (str, bytes)) or not hasattr(class_names, "__len__")):
        raise TypeError(f"class_names must be a list of names (one per class) or None, got {class_names!r}")
    try:
        x = np.asarray(instances, dtype=np.float32)
    except (TypeError, ValueError):
        raise ValueError("instances must be a list of numeric arrays (nested lists of numbers)") from None
    if isinstance(input_shape, (str, bytes)) or not hasattr(input_shape, "__iter__"):
        raise TypeError(f"input_shape must be a tuple of ints such as (64, 64, 3), got {input_shape!r}")
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
    if class_names is not None and len(class_names) != logits.shape[1]:
        raise ServerConfigError(f"the server has {len(class_names)} class names but the model returns "
                                f"{logits.shape[1]} logits per instance; give create_app one name per class")
    bad = np.flatnonzero(~np.all(np.isfinite(logits), axis=1))
    if len(bad):
        raise ModelOutputError(f"the model returned NaN or infinite logits for instance(s) {bad[:10].tolist()}; "
                               "the input was valid, the model (weights, preprocessing) is at fault")
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
    shape = check_shape("input_shape", input_shape, accepted="a tuple of positive ints, e.g. (64, 64, 3)")
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
    img = np.asarray(image)
    if img.dtype != np.uint8 or img.ndim != 3 or 0 in img.shape:
        raise ValueError(f"image must be a non-empty uint8 array [h, w, c], got {img.dtype} {list(img.shape)}")
    return base64.b64encode(tf.io.encode_png(img).numpy()).decode("ascii")


def image_size(raw: bytes) -> tuple[int, int]:
    """``(width, height)`` declared in the header of an encoded image, without decoding its pixels."""
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(raw)) as im:  # reads the header only
                return int(im.size[0]), int(im.size[1])
        except Image.DecompressionBombError as err:  # over Pillow's own limit (~179 Mpx): refuse outright
            import re

            found = re.search(r"\((\d+) pixels\)", str(err))
            declared = f"{int(found[1]):,} pixels" if found else "more pixels than Pillow accepts"
            raise ImageTooLarge(f"image declaring {declared} exceeds the server's limit of "
                                f"{MAX_PIXELS:,} decoded pixels per request; send smaller images") from None
        except Exception as err:
            raise ValueError(f"could not decode image: {type(err).__name__}") from None


def decode_image_b64(text: str) -> np.ndarray:
    """base64 text of a JPEG/PNG file → uint8 RGB array ``[h, w, 3]``.

    The size declared in the file's header is checked before decoding: more than ``MAX_PIXELS``
    pixels (or, inside :class:`ModelServer`, more than what is left of the request's pixel budget)
    raises :class:`ImageTooLarge` without allocating the image.
    """
    if not isinstance(text, str):
        raise ValueError("images_b64 entries must be base64 strings")
    try:
        raw = base64.b64decode(text, validate=True)
    except Exception as err:  # binascii.Error
        raise ValueError(f"could not decode image: {type(err).__name__}") from None
    width, height = image_size(raw)
    budget = _PIXELS.get()
    limit, used = (MAX_PIXELS, 0) if budget is None else (budget.limit, budget.used)
    if width * height > limit - used:
        raise ImageTooLarge(f"image of {width} × {height} pixels exceeds the server's limit of {limit:,} decoded "
                            f"pixels per request ({used:,} already used); send smaller images")
    if budget is not None:
        budget.used += width * height
    try:
        return tf.io.decode_image(raw, channels=3, expand_animations=False).numpy()
    except Exception as err:  # tf InvalidArgumentError
        raise ValueError(f"could not decode image: {type(err).__name__}") from None


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free right now on ``host`` (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class BoundedApp:
    """ASGI wrapper that bounds an app: request body size, decoded pixels, concurrent predictions.

    Limit violations and the serving errors above get JSON replies ``{"detail": "..."}`` with
    413 (body or pixels too large), 503 (server busy) or 500 (model output / configuration).
    Only POST requests count against the concurrency limit; GET (status) is always answered.
    """

    def __init__(self, app, *, max_body_bytes: int = MAX_BODY_BYTES, max_pixels: int = MAX_PIXELS,
                 max_concurrent: int = MAX_CONCURRENT, max_queue: int = MAX_QUEUE,
                 queue_timeout: float = QUEUE_TIMEOUT):
        for key, value, low in (("max_body_bytes", max_body_bytes, 1), ("max_pixels", max_pixels, 1),
                                ("max_concurrent", max_concurrent, 1), ("max_queue", max_queue, 0)):
            check_int(key, value, low)
        check_number("queue_timeout", queue_timeout, 0, accepted="a number of seconds >= 0")
        self.app = app
        self.max_body_bytes, self.max_pixels = int(max_body_bytes), int(max_pixels)
        self.max_concurrent, self.max_queue = int(max_concurrent), int(max_queue)
        self.queue_timeout = float(queue_timeout)
        self._slots: asyncio.Semaphore | None = None
        self._admitted = 0  # running + waiting
        self.rejected = {413: 0, 503: 0}

    @staticmethod
    async def _reply(send, status: int, detail: str) -> None:
        body = json.dumps({"detail": detail}, ensure_ascii=False).encode("utf-8")
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    async def _read_body(self, receive):
        """The whole body, or ``None`` when it exceeds ``max_body_bytes``.

        An oversized body is read to its end and discarded (up to 16 × the limit), so the client
        receives the 413 reply instead of a broken connection; nothing beyond the limit is kept.
        """
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return b"".join(chunks) if size <= self.max_body_bytes else None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                chunks.clear()
            else:
                chunks.append(chunk)
            if not message.get("more_body", False) or size > 16 * self.max_body_bytes:
                return b"".join(chunks) if size <= self.max_body_bytes else None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        too_big = (f"request body exceeds the server's limit of {self.max_body_bytes:,} bytes; "
                   "send fewer or smaller instances per request")
        try:
            int(declared or 0)
        except ValueError:
            return await self._reply(send, 400, "invalid Content-Length header")
        body = await self._read_body(receive)
        if body is None:
            self.rejected[413] += 1
            return await self._reply(send, 413, too_big)
        if scope.get("method") != "POST":
            return await self._forward(scope, body, send)
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.max_concurrent)
        if self._admitted >= self.max_concurrent + self.max_queue:
            self.rejected[503] += 1
            return await self._reply(send, 503, f"server busy: {self.max_concurrent} predictions running and "
                                                f"{self.max_queue} waiting; retry later")
        self._admitted += 1
        try:
            try:
                await asyncio.wait_for(self._slots.acquire(), self.queue_timeout)
            except asyncio.TimeoutError:
                self.rejected[503] += 1
                return await self._reply(send, 503, f"server busy: no prediction slot within "
                                                    f"{self.queue_timeout:g} s; retry later")
            try:
                return await self._forward(scope, body, send)
            finally:
                self._slots.release()
        finally:
            self._admitted -= 1

    async def _forward(self, scope, body: bytes, send):
        """Run the app on the buffered body; known serving errors become JSON replies."""
        sent = False

        async def receive():
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        held = []  # the app's reply is held back until it returns, so an error can replace it

        async def hold(message):
            held.append(message)

        token = _PIXELS.set(_PixelBudget(self.max_pixels))
        try:
            await self.app(scope, receive, hold)
        except (ImageTooLarge, ModelOutputError, ServerConfigError) as err:
            if err.status_code == 413:
                self.rejected[413] += 1
            return await self._reply(send, err.status_code, str(err))
        except Exception:  # any other failure: pass on the app's own error reply, let uvicorn log it
            for message in held:
                await send(message)
            raise
        finally:
            _PIXELS.reset(token)
        for message in held:
            await send(message)


class ModelServer:
    """Run an ASGI ``app`` with uvicorn in a daemon thread on ``host:port``; ``stop()`` shuts it down.

    Usable as a context manager. ``port=None`` picks a free port. Only binds to localhost by default.
    The app is wrapped in :class:`BoundedApp` with the given limits (see the module docstring);
    ``server.limits`` is that wrapper (its ``rejected`` counts the 413 and 503 replies).
    """

    def __init__(self, app, *, host: str = "127.0.0.1", port: int | None = None, timeout: float = 30.0,
                 max_body_bytes: int = MAX_BODY_BYTES, max_pixels: int = MAX_PIXELS,
                 max_concurrent: int = MAX_CONCURRENT, max_queue: int = MAX_QUEUE,
                 queue_timeout: float = QUEUE_TIMEOUT):
        import uvicorn

        if port is not None:
            check_int("port", port, 1, 65535, accepted="None or an integer in 1..65535")
        self.limits = BoundedApp(app, max_body_bytes=max_body_bytes, max_pixels=max_pixels,
                                 max_concurrent=max_concurrent, max_queue=max_queue, queue_timeout=queue_timeout)
        self.host, self.port = host, int(port) if port is not None else free_port(host)
        self.timeout = float(timeout)
        config = uvicorn.Config(self.limits, host=self.host, port=self.port, log_level="warning",
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
