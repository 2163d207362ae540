"""The module-level logger, tracer and metrics every function shares, configured by the
POWERTOOLS_* variables in the template's Globals."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()
