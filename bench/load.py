"""A load run and a fault run against the local gateway, as `make dev` runs Parley: simulated users
over real HTTP, each write with an Idempotency-Key and retried as the OpenAI SDK retries (429, 5xx
and lost connections, with backoff, the same key each time). Then every conversation is exported
whole and checked: every acknowledged message is there once (lost: 0, duplicated: 0).

The fault run injects what AWS and providers do: DynamoDB throttling, internal errors, cancelled
transactions and writes applied whose answers are lost (the DynamoDB proxy of the tests); provider
429s, 500s and streams reset mid-answer (the provider server). Figures per route are p50 and p95
of the requests that succeeded; a route with no success gets none (Report refuses it)."""

from __future__ import annotations

import json
import os
import random
import statistics
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.report import Report
from local.dynamodb import DynamoDBLocal, client, create_table, free_port
from local.gateway import LocalServer
from local.settings import local_environment
from local.token import mint
from tests.doubles.dynamodb_proxy import (
    DynamoDBProxy,
    Fault,
    applied_then_reset,
    cancelled,
    internal_error,
    throttled,
)
from tests.doubles.fake_providers import ANTHROPIC_KEY, OPENAI_KEY, OPENAI_PATH, ProviderServer, Scripted

USERS, EACH = 20, 21  # 420 operations
FAULT_USERS, FAULT_EACH = 8, 25
ATTEMPTS = 6  # the first try and five retries, as an SDK configured for a flaky network
RETRIED = {408, 409, 429, 500, 502, 503, 504}
BRAND = "acme"


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    errors: Counter[str] = field(default_factory=Counter)
    retries: int = 0
    operations: int = 0
    acknowledged: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # conversation → ids
    sent: dict[str, Counter[str]] = field(
        default_factory=lambda: defaultdict(Counter)
    )  # conversation → contents
    lock: threading.Lock = field(default_factory=threading.Lock)

    def timed(self, route: str, status: int, seconds: float) -> None:
        with self.lock:
            self.statuses[route][status] += 1
            if 200 <= status < 300:
                self.latencies[route].append(seconds * 1000)


class User:
    def __init__(self, url: str, number: int, tally: Tally, model: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=60)
        self.headers = {"Authorization": f"Bearer {mint(f'load-{number}-{uuid.uuid4().hex[:6]}', [BRAND])}"}
        self.rng = random.Random(number)
        self.tally, self.model = tally, model
        self.conversation = ""
        self.answers: list[str] = []

    def request(self, route: str, method: str, path: str, body: Any = None, stream: bool = False) -> Any:
        """The request until it succeeds or the attempts run out; its body (None when it failed)."""
        key = {"Idempotency-Key": uuid.uuid4().hex} if method == "POST" else {}
        for attempt in range(ATTEMPTS):
            started = time.perf_counter()
            try:
                status, parsed = self._send(method, path, body, {**self.headers, **key}, stream)
            except httpx.HTTPError:
                status, parsed = 0, None
            self.tally.timed(route, status, time.perf_counter() - started)
            if 200 <= status < 300:
                return parsed
            if status not in RETRIED and status != 0:
                break
            with self.tally.lock:
                self.tally.retries += 1
            time.sleep(min(2.0, 0.1 * 2**attempt) * (0.5 + self.rng.random()))
        with self.tally.lock:
            self.tally.errors[f"{route} {status}"] += 1
        return None

    def _send(
        self, method: str, path: str, body: Any, headers: dict[str, str], stream: bool
    ) -> tuple[int, Any]:
        if not stream:
            response = self.http.request(method, path, json=body, headers=headers)
            return response.status_code, response.json() if response.content else None
        with self.http.stream(method, path, json=body, headers=headers) as response:
            if response.status_code != 200 or not response.headers["content-type"].startswith(
                "text/event-stream"
            ):
                response.read()
                return response.status_code, response.json() if response.content else None
            name, done = "", None
            for line in response.iter_lines():
                if line.startswith("event: "):
                    name = line.removeprefix("event: ")
                elif line.startswith("data: ") and name in ("done", "error"):
                    done = (200 if name == "done" else 503, json.loads(line.removeprefix("data: ")))
            return done if done is not None else (0, None)

    def run(self, operations: int) -> None:
        made = self.request("create", "POST", "/v1/conversations", {"brand_id": BRAND, "model": self.model})
        if made is None:
            return
        self.conversation = made["conversation"]["id"]
        for number in range(operations):
            kind = self.rng.choices(
                ["append", "chat", "stream", "history", "regenerate", "export"], [2, 4, 3, 2, 2, 1]
            )[0]
            with self.tally.lock:
                self.tally.operations += 1
            getattr(self, kind)(f"{self.conversation[-6:]}-{number}")
        self.http.close()

    def _acknowledge(self, *messages: dict[str, Any] | None) -> None:
        with self.tally.lock:
            self.tally.acknowledged[self.conversation] |= {m["id"] for m in messages if m}

    def append(self, text: str) -> None:
        self._sent(text)
        done = self.request(
            "append",
            "POST",
            f"/v1/conversations/{self.conversation}/messages",
            {"role": "user", "content": text},
        )
        if done:
            self._acknowledge(done["message"])

    def chat(self, text: str, stream: bool = False) -> None:
        self._sent(text)
        body = {"role": "user", "content": text, "mode": "chat-completion", "stream": stream}
        route = "chat-stream" if stream else "chat"
        done = self.request(
            route, "POST", f"/v1/conversations/{self.conversation}/messages", body, stream=stream
        )
        if done:
            self._acknowledge(done["message"], done["assistant_message"])
            self.answers.append(done["assistant_message"]["id"])

    def stream(self, text: str) -> None:
        self.chat(text, stream=True)

    def history(self, _: str) -> None:
        self.request("history", "GET", f"/v1/conversations/{self.conversation}/messages?limit=50")

    def regenerate(self, text: str) -> None:
        if not self.answers:
            return self.chat(text)
        path = f"/v1/conversations/{self.conversation}/messages/{self.answers[-1]}/regenerate"
        done = self.request("regenerate", "POST", path, {})
        if done:
            self._acknowledge(done["assistant_message"])
            self.answers.append(done["assistant_message"]["id"])
        return None

    def export(self, _: str) -> None:
        self.request("export", "GET", f"/v1/conversations/{self.conversation}/export?format=json")

    def _sent(self, text: str) -> None:
        with self.tally.lock:
            self.tally.sent[self.conversation][text] += 1

    def audit(self) -> tuple[int, int]:
        """(lost, duplicated): acknowledged messages missing from the whole tree, and user texts
        stored more than once (each text is sent once, however often it is retried)."""
        if not self.conversation:
            return 0, 0
        document = None
        for _ in range(ATTEMPTS):  # read after the faults: the store answers again
            response = httpx.get(
                f"{self.http.base_url}/v1/conversations/{self.conversation}/export",
                params={"format": "json"},
                headers=self.headers,
                timeout=60,
            )
            if response.status_code == 200:
                document = response.json()
                break
            time.sleep(0.5)
        if document is None:
            return len(self.tally.acknowledged[self.conversation]), 0
        stored = [*document["messages"], *document["archived"]]
        ids = {m["id"] for m in stored}
        texts = Counter(m["content"] for m in stored if m["role"] == "user")
        lost = len(self.tally.acknowledged[self.conversation] - ids)
        duplicated = sum(count - 1 for count in texts.values() if count > 1) + len(stored) - len(ids)
        return lost, duplicated


@dataclass
class Run:
    users: int
    tally: Tally
    lost: int
    duplicated: int
    seconds: float


def simulate(url: str, users: list[User], each: int, calm: Callable[[], None] | None = None) -> Run:
    """The users at once, `each` operations each; then (after `calm`, which ends the faults) the
    audit of every conversation."""
    started = time.perf_counter()
    threads = [threading.Thread(target=person.run, args=(each,)) for person in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    if calm is not None:
        calm()
    audits = [person.audit() for person in users]
    tally = users[0].tally
    return Run(len(users), tally, sum(a for a, _ in audits), sum(d for _, d in audits), seconds)


def record(report: Report, name: str, run: Run, injected: Counter[str] | None = None) -> None:
    tally = run.tally
    report.figure(
        f"{name}.summary",
        tally.operations,
        "operations",
        users=run.users,
        **({"faults_injected": dict(sorted(injected.items()))} if injected is not None else {}),
        seconds=round(run.seconds, 1),
        retries=tally.retries,
        errors=dict(tally.errors),
        lost=run.lost,
        duplicated=run.duplicated,
    )
    for route in sorted(tally.statuses):
        times = sorted(tally.latencies[route])
        statuses = dict(tally.statuses[route])
        if not times:
            report.figure(f"{name}.{route}", 0.0, "ms", statuses=sorted(statuses))
            continue
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        report.figure(
            f"{name}.{route}",
            statistics.median(times),
            "ms p50",
            p95_ms=round(p95, 1),
            requests=len(times),
            attempts={str(k): v for k, v in sorted(statuses.items())},
        )


def fault_plan(
    proxy: DynamoDBProxy, providers: ProviderServer, stop: threading.Event, injected: Counter[str]
) -> None:
    """Faults sprinkled through the fault run, four a second of each kind, until `stop`;
    `injected` counts them."""
    rng = random.Random(7)
    kinds: list[Fault] = [
        throttled("Query"),
        throttled("TransactWriteItems"),
        internal_error("GetItem"),
        internal_error("PutItem"),
        cancelled(["TransactionConflict", "None"]),
        applied_then_reset("TransactWriteItems"),
        applied_then_reset("PutItem"),
    ]
    provider_faults = [
        Scripted(
            status=429,
            body={"error": {"message": "Rate limit", "type": "rate_limit_error"}},
            headers={"retry-after": "0"},
        ),
        Scripted(status=500, body={"error": {"message": "boom", "type": "server_error"}}),
        Scripted(cut_after=3, reset=True),
        Scripted(cut_after=4),
    ]
    while not stop.wait(0.25):
        fault = rng.choice(kinds)
        proxy.inject(fault)
        injected[f"dynamodb {fault.operation}"] += 1
        scripted = rng.choice(provider_faults)
        providers.script(OPENAI_PATH, scripted)
        injected[f"provider {scripted.status if scripted.cut_after is None else 'cut stream'}"] += 1


@contextmanager
def local_stack() -> Iterator[tuple[str, DynamoDBProxy, ProviderServer]]:
    database = DynamoDBLocal(free_port()).start()
    proxy = DynamoDBProxy(database.endpoint)
    providers = ProviderServer()
    scratch = tempfile.TemporaryDirectory()
    environment = local_environment(proxy.endpoint) | {
        "TABLE_NAME": "parley-load",
        "RAG_LOCAL_PATH": str(Path(scratch.name) / "vectors.sqlite3"),
        "OPENAI_API_KEY": OPENAI_KEY,
        "OPENAI_BASE_URL": providers.openai_url,
        "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
        "ANTHROPIC_BASE_URL": providers.anthropic_url,
        "QUOTA_USER_DAILY_TOKENS": "0",
        "QUOTA_BRAND_DAILY_TOKENS": "0",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }
    saved = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)
    create_table(client(database.endpoint), environment["TABLE_NAME"])
    server = LocalServer(free_port()).start()
    try:
        yield server.url, proxy, providers
    finally:
        server.stop()
        providers.stop()
        proxy.stop()
        database.stop()
        scratch.cleanup()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run(report: Report) -> None:
    with local_stack() as (url, proxy, providers):
        steady = Tally()
        record(
            report,
            "load",
            simulate(url, [User(url, n, steady, "parley-offline") for n in range(USERS)], EACH),
        )
        stop = threading.Event()
        injected: Counter[str] = Counter()
        faults = threading.Thread(target=fault_plan, args=(proxy, providers, stop, injected))
        faulted = Tally()
        users = [User(url, 100 + n, faulted, "gpt-4o-mini") for n in range(FAULT_USERS)]

        def calm() -> None:
            stop.set()
            faults.join()
            proxy.clear()
            providers.reset()

        faults.start()
        try:
            outcome = simulate(url, users, FAULT_EACH, calm)
        finally:
            calm()
        record(report, "load.faults", outcome, injected)


if __name__ == "__main__":
    run(Report())
