"""Lambda's Invoke API, locally (`AWS_ENDPOINT_URL_LAMBDA` points the functions' boto3 here): an
asynchronous invocation (`X-Amz-Invocation-Type: Event`) is accepted with 202 and run on the
function's pool in the background, once, as the template's `MaximumRetryAttempts: 0` asks; a
synchronous one answers the function's result. An unknown function is Lambda's 404
ResourceNotFoundException."""

from __future__ import annotations

import json
import logging
import re
import threading
from typing import Any

from local.lambda_runtime import FunctionPool
from local.loopback import LOOPBACK_HOSTS

log = logging.getLogger("parley.lambda")

PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations$")
Answer = tuple[int, dict[str, str], bytes]


def invoke(pools: dict[str, FunctionPool], path: str, headers: dict[str, str], body: bytes) -> Answer | None:
    """The answer to an Invoke call, or None when `path` is not one."""
    match = PATH.match(path)
    if match is None:
        return None
    host = headers.get("host", "").lower().rsplit(":", 1)[0]
    if host not in LOOPBACK_HOSTS:  # the functions of this machine only
        return 403, {"x-amzn-ErrorType": "AccessDeniedException"}, b'{"message": "loopback only"}'
    name = match["name"].rsplit(":", 1)[-1]  # a function name or the end of its ARN
    pool = pools.get(name)
    if pool is None:
        error = {"Type": "User", "message": f"Function not found: {name}"}
        return 404, {"x-amzn-ErrorType": "ResourceNotFoundException"}, json.dumps(error).encode()
    event: Any = json.loads(body or b"{}")
    if headers.get("x-amz-invocation-type", "RequestResponse") == "Event":
        threading.Thread(target=_run, args=(pool, event), name=f"async-{name}", daemon=True).start()
        return 202, {}, b""
    result = pool.invoke(event)
    return 200, {"Content-Type": "application/json"}, json.dumps(result).encode()


def _run(pool: FunctionPool, event: Any) -> None:
    try:
        pool.invoke(event)
    except Exception:
        log.exception("an asynchronous invocation failed (no retry)")
