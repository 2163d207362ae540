"""Run in a fresh Python process by bench.cold_start: import one handler module, serve one event,
print the import and first-invoke times in milliseconds as JSON."""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import importlib.util  # noqa: E402 - measured from the first line
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402


def main() -> None:
    module_path, event_path = Path(sys.argv[1]), Path(sys.argv[2])
    before_import = time.perf_counter()
    spec = importlib.util.spec_from_file_location("handler_under_test", module_path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    imported = time.perf_counter()
    event = json.loads(event_path.read_text())
    context = type(
        "Context",
        (),
        {
            "function_name": "bench",
            "memory_limit_in_mb": 512,
            "aws_request_id": "b",
            "invoked_function_arn": "arn:aws:lambda:us-east-1:0:function:bench",
            "get_remaining_time_in_millis": lambda self: 10_000,
        },
    )()
    response = module.lambda_handler(event, context)
    invoked = time.perf_counter()
    print(
        json.dumps(
            {
                "import_ms": (imported - before_import) * 1000,
                "first_invoke_ms": (invoked - imported) * 1000,
                "total_ms": (invoked - STARTED) * 1000,
                "status": response.get("statusCode") if isinstance(response, dict) else None,
                "sdks": sorted(m for m in ("openai", "anthropic") if m in sys.modules),
            }
        )
    )


main()
