"""Lambda's execution model, locally: each function has a pool of execution environments, each
its own process (`local.lambda_container`) that imports the handler once and serves one request
at a time. A busy pool grows by a cold start, as Lambda scales out, so module state, caches and
singletons are per container exactly as in AWS and never shared between concurrent requests.

A container keeps the environment it started with, as a Lambda environment keeps its function's
configuration: a request made after the gateway's environment changed (a test setting a
variable) is served by a container started with the new one. A container that runs past its
function's timeout or crashes is discarded, as Lambda discards it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any, Protocol

from local.lambda_context import LambdaContext
from local.template import ROOT, FunctionSpec

__all__ = [
    "ContainerFailed",
    "FunctionPool",
    "FunctionTimeout",
    "HandlerError",
    "LambdaContext",
    "load_handler",
]

Handler = Callable[[dict[str, Any], Any], Any]
# Containers of one function at once; further requests wait for one to be free (2 cores here).
MAX_CONTAINERS = int(os.environ.get("LOCAL_MAX_CONTAINERS", "8"))
INIT_TIMEOUT_SECONDS = 60  # Lambda's init phase may take up to 10 s; a loaded laptop needs more


class FunctionTimeout(Exception):
    """The handler ran past the function's configured timeout."""


class ContainerFailed(Exception):
    """The container could not start, or died while serving a request."""


class HandlerError(Exception):
    """The handler raised; its message is the exception's (the gateway reads an authorizer's
    "Unauthorized" from it, as API Gateway does). The container stays usable."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


# Variables of the process that say nothing about the function's configuration (pytest names the
# running test in one): a change in them starts no new containers.
_NOT_CONFIGURATION = ("PYTEST_CURRENT_TEST",)


def function_environment() -> dict[str, str]:
    """The environment a container starts with: the gateway's, as a function's configuration."""
    return {name: value for name, value in os.environ.items() if name not in _NOT_CONFIGURATION}


def environment_key(environment: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(sorted(environment.items())).encode()).hexdigest()


class Container:
    """One execution environment: a process serving one invocation at a time."""

    def __init__(self, spec: FunctionSpec, environment: dict[str, str]) -> None:
        self.spec = spec
        self.key = environment_key(environment)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "local.lambda_container",
                str(spec.code_dir),
                spec.stream_handler if spec.streaming else spec.handler,
                spec.logical_id,
                str(spec.timeout),
                *(["stream"] if spec.streaming else []),
            ],
            cwd=ROOT,
            env=environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        self.messages: queue.Queue[dict[str, Any] | None] = queue.Queue()
        threading.Thread(target=self._read, name=f"container-{spec.logical_id}", daemon=True).start()
        ready = self._next_outcome(INIT_TIMEOUT_SECONDS)
        if "ready" not in ready:
            self.stop()
            raise ContainerFailed(f"{spec.logical_id} failed to start: {ready.get('error')}")

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            try:
                self.messages.put(json.loads(line))
            except ValueError:
                sys.stdout.write(line)  # printed before the container took over its output
        self.messages.put(None)  # the process ended

    def _next_outcome(self, seconds: float) -> dict[str, Any]:
        """Relay the function's log lines (in order, before its result) and return the outcome."""
        ends = time.monotonic() + seconds
        while True:
            try:
                message = self.messages.get(timeout=max(0.0, ends - time.monotonic()))
            except queue.Empty:
                raise FunctionTimeout(f"{self.spec.logical_id} timed out after {seconds:g}s") from None
            if message is None:
                raise ContainerFailed(f"{self.spec.logical_id}'s process exited ({self.process.wait()})")
            if "log" in message:
                sys.stdout.write(message["log"] + "\n")
                sys.stdout.flush()
                continue
            return message

    def invoke(self, event: dict[str, Any], writer: ResponseWriter | None = None) -> Any:
        """The function's result; a streaming function's response goes to `writer` as it comes."""
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps({"event": event}) + "\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError) as error:
            raise ContainerFailed(f"{self.spec.logical_id}'s process is gone") from error
        ends = time.monotonic() + self.spec.timeout
        outcome = self._next_outcome(self.spec.timeout)
        while writer is not None and ("start" in outcome or "chunk" in outcome):
            _relay(writer, outcome)
            outcome = self._next_outcome(max(0.0, ends - time.monotonic()))
        if "error" in outcome:
            raise HandlerError(outcome.get("error_type", "Exception"), outcome["error"])
        return outcome["result"]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()


class ResponseWriter(Protocol):
    def start(self, status: int, headers: dict[str, str]) -> None: ...

    def write(self, data: bytes) -> None: ...


def _relay(writer: ResponseWriter, message: dict[str, Any]) -> None:
    """A piece of a streamed response to the client; one who has gone away misses the rest, while
    the function goes on (Lambda does not stop a function whose caller disconnects)."""
    try:
        if "start" in message:
            writer.start(message["start"]["status"], message["start"]["headers"])
        else:
            writer.write(message["chunk"].encode("utf-8"))
    except OSError:
        pass


class FunctionPool:
    def __init__(self, spec: FunctionSpec) -> None:
        self.spec = spec
        self._idle: list[Container] = []
        self._busy = 0
        self._free = threading.Condition()
        self.cold_starts = 0

    def invoke(self, event: dict[str, Any], writer: ResponseWriter | None = None) -> Any:
        environment = function_environment()
        key = environment_key(environment)
        container = self._take(key)
        if container is None:
            try:
                container = Container(self.spec, environment)
            except BaseException:
                self._release(None)
                raise
            with self._free:
                self.cold_starts += 1
        try:
            result = container.invoke(event, writer)
        except HandlerError:
            self._release(container)  # the handler raised; the environment stays usable
            raise
        except BaseException:
            container.stop()  # timed out or died: Lambda discards this environment
            self._release(None)
            raise
        self._release(container)
        return result

    def _take(self, key: str) -> Container | None:
        """An idle container of this configuration, or None with a slot reserved for a new one."""
        with self._free:
            while True:
                # The most recently used first, as Lambda tends to route to its warmest environment:
                # sequential requests meet the same container and its caches.
                for position in range(len(self._idle) - 1, -1, -1):
                    if self._idle[position].key == key:
                        self._busy += 1
                        return self._idle.pop(position)
                if self._busy + len(self._idle) < MAX_CONTAINERS:
                    self._busy += 1
                    return None
                if self._idle:  # make room: retire the oldest idle container of another configuration
                    self._idle.pop(0).stop()
                    continue
                self._free.wait()

    def _release(self, container: Container | None) -> None:
        with self._free:
            self._busy -= 1
            if container is not None:
                self._idle.append(container)
            self._free.notify()

    def close(self) -> None:
        with self._free:
            idle, self._idle = self._idle, []
        for container in idle:
            container.stop()


_module_numbers = itertools.count()


def load_handler(spec: FunctionSpec, *, streaming: bool = False) -> Any:
    """The handler imported into this process (unit tests and `make bench`'s warm figures); with
    `streaming`, a streaming function's stream handler."""
    module_file, _, attribute = (spec.stream_handler if streaming else spec.handler).rpartition(".")
    path = spec.code_dir / f"{module_file.replace('.', '/')}.py"
    name = f"_parley_fn_{spec.logical_id}_{next(_module_numbers)}"
    module_spec = importlib.util.spec_from_file_location(name, path)
    if module_spec is None or module_spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module: ModuleType = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return getattr(module, attribute)
