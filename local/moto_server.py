"""moto in server mode (the local S3 and SQS endpoint), with one fix: S3 makes a conditional write
(`If-Match`, `If-None-Match`) atomic, and moto checks the condition and then writes, in two steps
another request can fall between. Here conditional PUTs are served one at a time, so of two
writers holding the same ETag exactly one succeeds and the other gets 412, as in S3.

`python -m local.moto_server -p PORT` (as `python -m moto.server`)."""

from __future__ import annotations

import argparse
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple


class AtomicConditionalWrites:
    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        conditional = "HTTP_IF_MATCH" in environ or "HTTP_IF_NONE_MATCH" in environ
        if environ.get("REQUEST_METHOD") != "PUT" or not conditional:
            return self.app(environ, start_response)
        with self._lock:
            return list(self.app(environ, start_response))  # the whole answer, inside the lock


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args()
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(
        args.host, args.port, AtomicConditionalWrites(app), threaded=True, request_handler=MotoRequestHandler
    )


if __name__ == "__main__":
    main()
