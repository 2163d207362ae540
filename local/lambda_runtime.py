"""Lambda's execution model, in-process: each function has a pool of containers, each a fresh
import of its handler module serving one request at a time. A busy pool grows by a cold start,
as Lambda scales out, so module-level state is never shared between concurrent requests."""

from __future__ import annotations

import importlib.util
import itertools
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from local.template import FunctionSpec

Handler = Callable[[dict[str, Any], Any], Any]


class FunctionTimeout(Exception):
    """The handler ran past the function's configured timeout."""


@dataclass
class LambdaContext:
    function_name: str
    timeout: int
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "local"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout - (time.monotonic() - self.started)) * 1000))


_module_numbers = itertools.count()


def load_handler(spec: FunctionSpec) -> Handler:
    module_file, _, attribute = spec.handler.rpartition(".")
    path = spec.code_dir / f"{module_file.replace('.', '/')}.py"
    name = f"_parley_fn_{spec.logical_id}_{next(_module_numbers)}"
    module_spec = importlib.util.spec_from_file_location(name, path)
    if module_spec is None or module_spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module: ModuleType = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    handler: Handler = getattr(module, attribute)
    return handler


class FunctionPool:
    def __init__(self, spec: FunctionSpec) -> None:
        self.spec = spec
        self._idle: list[Handler] = []
        self._lock = threading.Lock()
        self.cold_starts = 0

    def invoke(self, event: dict[str, Any]) -> Any:
        with self._lock:
            handler = self._idle.pop() if self._idle else None
        if handler is None:
            handler = load_handler(self.spec)
            self.cold_starts += 1
        outcome: dict[str, Any] = {}

        def run() -> None:
            try:
                outcome["result"] = handler(event, LambdaContext(self.spec.logical_id, self.spec.timeout))
            except BaseException as error:
                outcome["error"] = error

        worker = threading.Thread(target=run, name=f"lambda-{self.spec.logical_id}", daemon=True)
        worker.start()
        worker.join(self.spec.timeout)
        if worker.is_alive():  # Lambda would freeze and discard this container
            raise FunctionTimeout(f"{self.spec.logical_id} timed out after {self.spec.timeout}s")
        with self._lock:
            self._idle.append(handler)
        if "error" in outcome:
            raise outcome["error"]
        return outcome["result"]
