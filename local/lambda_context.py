"""The context object Lambda passes a handler: Powertools' `LambdaContext`, filled in as Lambda
fills it for one invocation, with the remaining time counted from its start."""

from __future__ import annotations

import time
import uuid

from aws_lambda_powertools.utilities.typing import LambdaContext as PowertoolsContext

ACCOUNT_ARN = "arn:aws:lambda:us-east-1:123456789012:function"


class LambdaContext(PowertoolsContext):
    def __init__(
        self,
        function_name: str,
        timeout: int,
        memory_limit_in_mb: int = 512,
        started: float | None = None,
    ) -> None:
        self._function_name = function_name
        self._function_version = "$LATEST"
        self._invoked_function_arn = f"{ACCOUNT_ARN}:{function_name}"
        self._memory_limit_in_mb = memory_limit_in_mb
        self._aws_request_id = str(uuid.uuid4())
        self._log_group_name = f"/aws/lambda/{function_name}"
        self._log_stream_name = "local"
        self._tenant_id = None
        self.timeout = timeout
        self.started = time.monotonic() if started is None else started

    def get_remaining_time_in_millis(self) -> int:  # type: ignore[override]
        return max(0, int((self.timeout - (time.monotonic() - self.started)) * 1000))
