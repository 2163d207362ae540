"""The local model (SmolLM2-135M-Instruct on llama.cpp, one thread) through Parley: its time to
first token and tokens per second on a streamed answer, and the same straight from the llama.cpp
server, both with the OpenAI SDK, so what Parley adds is read beside it. Warm: after one request
that starts the function's container and loads the model's caches."""

from __future__ import annotations

import os
import statistics
import time

import openai

from bench.report import Report
from local.dynamodb import free_port
from local.gateway import LocalServer
from local.local_model import MODEL, MODEL_ID, LocalModel, with_local_endpoint
from local.token import mint

REQUESTS = 8
MAX_TOKENS = 64
QUESTION = "In three sentences, why do leaves change color in autumn?"


def _timed(sdk: openai.OpenAI, model: str) -> tuple[float, float, int]:
    """(ms to the first piece, tokens per second after it, its status) of one streamed answer."""
    started = time.perf_counter()
    first = None
    tokens = 0
    try:
        stream = sdk.chat.completions.create(
            model=model,
            messages=[{"role": "user", "content": QUESTION}],
            max_completion_tokens=MAX_TOKENS,
            stream=True,
            stream_options={"include_usage": True},
        )
        for chunk in stream:
            if first is None and chunk.choices and chunk.choices[0].delta.content:
                first = time.perf_counter()
            if chunk.usage is not None:
                tokens = chunk.usage.completion_tokens
    except openai.APIStatusError as error:
        return 0.0, 0.0, error.status_code
    ended = time.perf_counter()
    if first is None or tokens < 2:
        return 0.0, 0.0, 599  # no answer streamed: no figure
    return (first - started) * 1000, (tokens - 1) / (ended - first), 200


def run(report: Report) -> None:
    model = LocalModel().start()
    os.environ["OPENAI_COMPATIBLE_ENDPOINTS"] = with_local_endpoint("", model.url)
    server = LocalServer(free_port()).start()
    try:
        direct_sdk = openai.OpenAI(api_key="none", base_url=f"{model.url}/v1", max_retries=0, timeout=60)
        token = mint("bench-local", brands=["acme"])
        parley_sdk = openai.OpenAI(api_key=token, base_url=f"{server.url}/v1", max_retries=0, timeout=60)
        _timed(parley_sdk, MODEL)  # starts the container
        _timed(direct_sdk, MODEL_ID)
        direct, parley = [], []
        for number in range(REQUESTS):  # in turns, each first half the time: neither gains by order
            if number % 2:
                parley.append(_timed(parley_sdk, MODEL))
            direct.append(_timed(direct_sdk, MODEL_ID))
            if not number % 2:
                parley.append(_timed(parley_sdk, MODEL))
        direct_sdk.close()
        parley_sdk.close()
    finally:
        server.stop()
        model.stop()
        os.environ.pop("OPENAI_COMPATIBLE_ENDPOINTS", None)
    statuses = [p[2] for p in parley]
    extra = {"requests": REQUESTS, "model": MODEL, "max_tokens": MAX_TOKENS, "threads": 1}
    direct_statuses = [d[2] for d in direct]
    for measure, index, unit in (("first_token", 0, "ms"), ("tokens_per_second", 1, "tokens/s")):
        value = statistics.median(d[index] for d in direct)
        report.figure(f"local_model.{measure}.direct", value, unit, statuses=direct_statuses, **extra)
    report.figure(
        "local_model.first_token.parley",
        statistics.median(p[0] for p in parley),
        "ms",
        statuses=statuses,
        note="POST /v1/chat/completions streamed through the local gateway, to its first piece",
        **extra,
    )
    report.figure(
        "local_model.tokens_per_second.parley",
        statistics.median(p[1] for p in parley),
        "tokens/s",
        statuses=statuses,
        **extra,
    )
