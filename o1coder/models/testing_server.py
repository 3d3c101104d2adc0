"""A small OpenAI-compatible HTTP server over any ``Generator``: for tests and offline demos, not for production.

It answers ``/v1/completions``, ``/v1/chat/completions`` and ``/v1/models`` on 127.0.0.1 (an ephemeral port by
default) with the fields our OpenAI client reads: n, stop, max_tokens, temperature, top_p, top_k, seed, logprobs
and usage. Test hooks: ``fail_next`` answers the next requests with an error status, ``delay_s`` holds each
request before generating, ``api_key`` makes the server require a bearer token; ``requests`` keeps every request
body, ``peak_concurrency`` the most requests handled at once.

    python -m o1coder.models.testing_server --port 8000     # serves the tiny model at http://127.0.0.1:8000/v1
"""

from __future__ import annotations

import argparse
import json
import logging
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from o1coder.models.base import Completion, Generator, SamplingParams

logger = logging.getLogger(__name__)


class OpenAICompatibleServer:
    """Serve ``generator`` under the model name ``model_name``; use as a context manager or start()/stop()."""

    def __init__(
        self,
        generator: Generator,
        *,
        model_name: str = "tiny",
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        delay_s: float = 0.0,
        completions: bool = True,
    ) -> None:
        self.generator = generator
        self.completions = completions  # False: a chat-only server (no /v1/completions), as many hosted APIs
        self.model_name = model_name
        self.api_key = api_key
        self.delay_s = delay_s
        self.requests: list[dict[str, Any]] = []
        self.peak_concurrency = 0
        self._active = 0
        self._failures: list[tuple[int, float]] = []
        self._state = threading.Lock()
        self._generate_lock = threading.Lock()  # one generate call at a time: models are not thread-safe
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer((host, port), _make_handler(self))
        # stop() waits for the request threads, so no generation outlives the server (or the interpreter)
        self._httpd.daemon_threads = False
        self._httpd.block_on_close = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL for clients, version prefix included."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> OpenAICompatibleServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="openai-test-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> OpenAICompatibleServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def fail_next(self, count: int, status: int = 503, retry_after: float = 0.0) -> None:
        """Answer the next ``count`` requests with HTTP ``status`` (and a Retry-After header)."""
        with self._state:
            self._failures.extend([(status, retry_after)] * count)

    # -- request handling (called from the handler threads) --

    def handle(self, path: str, body: dict[str, Any], authorization: str | None) -> tuple[int, dict, dict]:
        """(status, JSON payload, extra headers) for one POST."""
        with self._state:
            self.requests.append(body)
            self._active += 1
            self.peak_concurrency = max(self.peak_concurrency, self._active)
            failure = self._failures.pop(0) if self._failures else None
        try:
            if failure is not None:
                status, retry_after = failure
                return status, _error(f"injected failure {status}"), {"Retry-After": str(retry_after)}
            if self.api_key is not None and authorization != f"Bearer {self.api_key}":
                return 401, _error("invalid or missing API key"), {}
            if path not in ("/v1/completions", "/v1/chat/completions") or (
                    path == "/v1/completions" and not self.completions):
                return 404, _error(f"unknown path {path}"), {}
            chat = path == "/v1/chat/completions"
            try:
                prompts, params, n = _parse_request(body, chat)
            except (KeyError, TypeError, ValueError) as error:
                return 400, _error(str(error)), {}
            if self.delay_s:
                self._stopping.wait(self.delay_s)
            if self._stopping.is_set():
                return 503, _error("server is stopping"), {}
            with self._generate_lock:
                results = self.generator.generate(prompts, params, n)
            return 200, self._payload(results, chat, params.logprobs), {}
        finally:
            with self._state:
                self._active -= 1

    def _payload(self, results: list[list[Completion]], chat: bool, logprobs: bool) -> dict[str, Any]:
        choices = []
        for samples in results:
            for completion in samples:
                choice: dict[str, Any] = {"index": len(choices), "finish_reason": completion.finish_reason}
                if chat:
                    choice["message"] = {"role": "assistant", "content": completion.text}
                else:
                    choice["text"] = completion.text
                choice["logprobs"] = self._logprobs(completion, chat) if logprobs else None
                choices.append(choice)
        prompt_tokens = sum(samples[0].prompt_tokens for samples in results)
        completion_tokens = sum(c.completion_tokens for samples in results for c in samples)
        return {
            "id": f"cmpl-{uuid.uuid4().hex[:12]}",
            "object": "chat.completion" if chat else "text_completion",
            "created": int(time.time()),
            "model": self.model_name,
            "choices": choices,
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }

    def _logprobs(self, completion: Completion, chat: bool) -> dict[str, Any]:
        values = list(completion.token_logprobs or ())
        tokenizer = getattr(self.generator, "tokenizer", None)
        ids = list(completion.token_ids or ())
        tokens = tokenizer.convert_ids_to_tokens(ids) if tokenizer is not None and ids else [""] * len(values)
        if chat:
            return {"content": [{"token": t, "logprob": v} for t, v in zip(tokens, values)]}
        return {"tokens": tokens, "token_logprobs": values}


def _parse_request(body: dict[str, Any], chat: bool) -> tuple[list[Any], SamplingParams, int]:
    if chat:
        prompts: list[Any] = [body["messages"]]
    else:
        prompt = body["prompt"]
        prompts = prompt if isinstance(prompt, list) else [prompt]
    stop = body.get("stop") or ()
    top_k = int(body.get("top_k") or 0)
    params = SamplingParams(
        temperature=float(body.get("temperature", 1.0)),
        top_p=float(body.get("top_p", 1.0)),
        top_k=max(top_k, 0),  # -1 and 0 both mean "disabled" in the servers we imitate
        max_new_tokens=int(body.get("max_tokens") or 16),
        stop=(stop,) if isinstance(stop, str) else tuple(stop),
        seed=body.get("seed"),
        logprobs=bool(body.get("logprobs")),
    )
    return prompts, params, int(body.get("n", 1))


def _error(message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error"}}


def _make_handler(server: OpenAICompatibleServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            if self.path.rstrip("/") == "/v1/models":
                self._send(200, {"object": "list", "data": [{"id": server.model_name, "object": "model"}]})
            else:
                self._send(404, _error(f"unknown path {self.path}"))

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                self._send(400, _error("request body is not JSON"))
                return
            status, payload, headers = server.handle(self.path, body, self.headers.get("Authorization"))
            self._send(status, payload, headers)

        def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            try:
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (e.g. its timeout)
                pass

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's signature)
            logger.debug("%s " + format, self.address_string(), *args)

    return Handler


def main(argv: list[str] | None = None) -> None:
    from o1coder.models.factory import build_generator

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="tiny", help="local path or hub id (transformers backend); 'tiny'")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    generator = build_generator({"backend": "transformers", "name_or_path": args.model})
    with OpenAICompatibleServer(generator, model_name=args.model, port=args.port) as server:
        logger.info("serving %s at %s (Ctrl-C to stop)", args.model, server.url)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
