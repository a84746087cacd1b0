"""A small HTTP server on 127.0.0.1 in a background thread, for the stand-ins: a subclass of
``LoopbackServer`` says how to answer one request; this module listens, threads and speaks HTTP.
"""

from __future__ import annotations

import json
import sys
import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar, Self

HOST = "127.0.0.1"  # loopback only: a stand-in is never reachable from elsewhere
JSON = "application/json"


@dataclass(frozen=True, slots=True)
class Answer:
    """What a stand-in sends back for one request."""

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str | None = JSON  # None sends no Content-Type (GitHub's empty bodies)


class LoopbackServer(ABC):
    """Serves ``answer`` on 127.0.0.1; a context manager that starts and stops it in a
    background thread."""

    noun: ClassVar[str] = "the stand-in server"  # names it in errors and its thread
    methods: ClassVar[frozenset[str]] = frozenset({"POST"})  # others get http.server's 501
    keep_alive: ClassVar[bool] = False  # True answers in HTTP/1.1 and keeps connections open

    def __init__(self, *, port: int = 0) -> None:
        self._port = port
        self._httpd: _Httpd | None = None
        self._thread: threading.Thread | None = None

    @abstractmethod
    def answer(self, method: str, target: str, headers: Mapping[str, str], raw: bytes) -> Answer:
        """The answer to one request; ``headers`` have lower-case names, ``raw`` is the body."""

    @property
    def port(self) -> int:
        """The port it listens on (chosen by the system when 0 was asked for)."""
        if self._httpd is None:
            raise RuntimeError(f"{self.noun} is not started")
        return int(self._httpd.server_address[1])

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:PORT``, with no path."""
        return f"http://{HOST}:{self.port}"

    def start(self) -> Self:
        """Listen and serve in a background thread."""
        if self._httpd is not None:
            raise RuntimeError(f"{self.noun} is already started")
        self._httpd = _Httpd((HOST, self._port), _KeepAliveHandler if self.keep_alive else _Handler)
        self._httpd.owner = self
        self._thread = threading.Thread(
            # A short poll keeps close() quick: shutdown waits for the loop to look up.
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.01},
            name=self.noun,
            daemon=True,
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and free the port."""
        if self._httpd is not None and self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._httpd.server_close()
        self._httpd = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def decode_json(raw: bytes) -> Any:
    """The JSON in a request body; None when it is empty or not JSON (a stand-in says why)."""
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


class _Httpd(ThreadingHTTPServer):
    daemon_threads = True  # a client that hangs never holds up shutdown
    owner: LoopbackServer

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that gave up (a time-out test) leaves a broken pipe behind: not news.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class _Handler(BaseHTTPRequestHandler):
    server: _Httpd

    def _serve(self) -> None:
        owner = self.server.owner
        if self.command not in owner.methods:
            # As http.server answers a method its handler lacks, so clients see no difference.
            self.send_error(HTTPStatus.NOT_IMPLEMENTED, f"Unsupported method ({self.command!r})")
            return
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        headers = {name.lower(): value for name, value in self.headers.items()}
        answer = owner.answer(self.command, self.path, headers, raw)
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        if answer.content_type is not None:
            self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    # http.server dispatches on these names; ``LoopbackServer.methods`` picks the ones served.
    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve  # noqa: N815

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - base's name
        """Quiet: tests and demos print what they need themselves."""


class _KeepAliveHandler(_Handler):
    protocol_version = "HTTP/1.1"
