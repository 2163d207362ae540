"""One Lambda execution environment: a process that imports one function's handler and serves
one invocation at a time, as Lambda does. The local gateway starts it (`python -m
local.lambda_container <code dir> <handler> <function>`) and talks to it over its standard
input and output, one JSON document a line:

    gateway → container  {"event": {...}}
    container → gateway  {"log": "<a line the function printed>"}   (any number)
    container → gateway  {"result": {...}} or {"error": "<type>: <message>"}

A streaming function (its handler takes a response writer as well) answers with
    container → gateway  {"start": {"status": 200, "headers": {...}}}
    container → gateway  {"chunk": "<body text>"}                   (any number, as written)
    container → gateway  {"result": null}

What the function prints (Powertools' JSON logs and EMF metrics) is relayed before the result,
so the gateway can show it where a developer or a test looks, in order.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import sys
import threading
import time
import traceback
import warnings
from pathlib import Path
from typing import Any, TextIO

from local.lambda_context import LambdaContext

# What a handler raises to answer, as API Gateway's authorizer contract asks (`raise
# Exception("Unauthorized")` is the 401): one log line each, not a traceback.
EXPECTED_REFUSALS = {"Unauthorized"}
_END_OF_LOGS = "\x00end-of-invocation-logs\x00"


class _LogRelay:
    """Everything written to fd 1 and fd 2 goes through a pipe; a thread turns each line into a
    `log` message on the protocol channel."""

    def __init__(self, channel: TextIO, lock: threading.Lock) -> None:
        self.channel, self.lock = channel, lock
        self.drained = threading.Event()
        read_end, write_end = os.pipe()
        os.dup2(write_end, 1)
        os.dup2(write_end, 2)
        os.close(write_end)
        self.reader = os.fdopen(read_end, "r", encoding="utf-8", errors="replace")
        threading.Thread(target=self._relay, name="log-relay", daemon=True).start()

    def _relay(self) -> None:
        for line in self.reader:
            if line.rstrip("\n") == _END_OF_LOGS:
                self.drained.set()
                continue
            if not line.strip():
                continue
            try:
                with self.lock:
                    self.channel.write(json.dumps({"log": line.rstrip("\n")}) + "\n")
                    self.channel.flush()
            except (OSError, ValueError):
                os._exit(0)  # the gateway is gone (its end of the channel closed): so is this container

    def drain(self) -> None:
        """Return once every line written so far has been relayed."""
        sys.stdout.flush()
        sys.stderr.flush()
        self.drained.clear()
        os.write(1, f"\n{_END_OF_LOGS}\n".encode())
        self.drained.wait()


class _ChannelWriter:
    """A streaming function's response, passed to the gateway piece by piece as it is written."""

    def __init__(self, send: Any) -> None:
        self.send = send

    def start(self, status: int, headers: dict[str, str]) -> None:
        self.send({"start": {"status": status, "headers": headers}})

    def write(self, data: bytes) -> None:
        self.send({"chunk": data.decode("utf-8")})


def _load(code_dir: str, handler: str, function: str) -> Any:
    module_file, _, attribute = handler.rpartition(".")
    path = Path(code_dir) / f"{module_file.replace('.', '/')}.py"
    sys.path.insert(0, code_dir)
    spec = importlib.util.spec_from_file_location(f"_parley_fn_{function}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, attribute)


def main() -> None:
    # Ctrl-C in make dev's terminal reaches the whole process group: the gateway stops its
    # containers itself (and a container ends when its input closes).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Powertools warns once per container when a request emitted no metric: not worth a line.
    warnings.filterwarnings("ignore", "No application metrics to publish")
    code_dir, handler_name, function, timeout = sys.argv[1:5]
    streaming = sys.argv[5:6] == ["stream"]
    channel = os.fdopen(os.dup(1), "w", encoding="utf-8")
    requests = sys.stdin
    lock = threading.Lock()
    relay = _LogRelay(channel, lock)

    def send(message: dict[str, Any]) -> None:
        relay.drain()
        try:
            with lock:
                channel.write(json.dumps(message) + "\n")
                channel.flush()
        except (OSError, ValueError):
            os._exit(0)  # the gateway is gone: nobody is left to answer

    try:
        handler = _load(code_dir, handler_name, function)
    except BaseException:
        traceback.print_exc()
        send({"error": "init failed: " + traceback.format_exc(limit=3)})
        return
    send({"ready": True})
    for line in requests:
        request = json.loads(line)
        context = LambdaContext(function, int(timeout), started=time.monotonic())
        try:
            if streaming:
                handler(request["event"], context, _ChannelWriter(send))
                result = None
            else:
                result = handler(request["event"], context)
        except Exception as error:
            if str(error) in EXPECTED_REFUSALS:
                print(f"[{function}] {type(error).__name__}: {error}")  # an answer, not a fault
            else:
                traceback.print_exc()
            send({"error": str(error), "error_type": type(error).__name__})
            continue
        send({"result": result})


if __name__ == "__main__":
    main()
