"""One generation unit of work, shared by every generating route (a chat-completion append, a
chat message, each step of a workflow, the RAG chat): the budgets checked before anything is
spent, each provider call made within its deadline, whole or streamed to a listener, metered
and recorded, and the request's result written with the charge it ran up, so a failed or cut
generation leaves nothing half-written."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from parley.auth.principal import Principal
from parley.errors import GenerationCancelled, GuardrailBlocked, InvalidRequest
from parley.logic.guarding import OutputBlocked, Screen, WindowedListener, refusal
from parley.logic.prompt import message_tokens
from parley.logic.quotas import BudgetBook, Meter
from parley.models.domain import Charge, TokenUsage
from parley.observability import logger, record_generation
from parley.providers.base import ChatProvider, ChatRequest, Completion, Delta
from parley.providers.deadline import deadline
from parley.providers.faults import malformed_response
from parley.providers.provider_for import ProviderPool
from parley.providers.registry import ModelSpec
from parley.store.dynamodb import ItemsRefused
from parley.store.usage import UsageStore
from parley.tokens import estimate_tokens

if TYPE_CHECKING:
    from parley.providers.guardrail import Guardrail
    from parley.rag.rerank import Reranked
    from parley.remote_tools.mcp import McpClient

T = TypeVar("T")


class Listener(Protocol):
    """Who watches a generation as it happens (a streamed response): the retrieved context, then
    each piece of the answer."""

    def context(self, chunks: list[Any]) -> None: ...

    def delta(self, delta: Delta) -> None: ...


@dataclass(frozen=True)
class Generator:
    """What generating needs, made once per container by its composition root: the providers,
    the budgets and where usage is written, and the deadlines of a provider call."""

    providers: ProviderPool
    budgets: BudgetBook
    usage: UsageStore
    provider_timeout_seconds: float
    stream_timeout_seconds: float
    remote_tools: McpClient | None = None  # MCP servers' tools, run for the model
    guardrail: Guardrail | None = None  # GUARDRAIL_ID: every provider's input and output checked
    guardrail_window: int = 400  # characters of a streamed answer checked at a time
    guardrail_for: Callable[[str, str], Guardrail] | None = None  # an assistant's own, by id and version

    def open(
        self,
        brand_id: str | None,
        principal: Principal,
        listener: Listener | None = None,
        *,
        user_id: str | None = None,
    ) -> Generation:
        """A generation for one request, charged to `user_id` (the caller by default; the user an
        ai:act-as token speaks for) in `brand_id`; QuotaExceeded now if a budget is known spent.
        Unbranded usage is held to the strictest user budget of the token's brands, so no
        brand's budget is sidestepped by leaving the brand out."""
        meter = self.budgets.open(brand_id, user_id or principal.user_id, principal.brands)
        return Generation(self, meter, listener)


class Generation:
    def __init__(self, generator: Generator, meter: Meter, listener: Listener | None = None) -> None:
        self.generator = generator
        self.meter = meter
        self.listener = listener
        guardrail = generator.guardrail
        self.screen = Screen(guardrail, generator.guardrail_window) if guardrail is not None else None

    def guard_with(self, identifier: str, version: str) -> None:
        """Check this request's turns with an assistant's own guardrail instead of the deployment's."""
        make = self.generator.guardrail_for
        if make is not None:
            self.screen = Screen(make(identifier, version), self.generator.guardrail_window)

    def charge_rerank(self, reranked: Reranked) -> None:
        """A reranked search's queries, on the meter as a model of their own (`bedrock/<model>`)."""
        if reranked.queries:
            nothing = TokenUsage(prompt_tokens=0, completion_tokens=0, total_tokens=0)
            details = {"rerank_queries": reranked.queries}
            self.meter.add(f"bedrock/{reranked.model}", nothing, reranked.cost_usd, details)

    def stored(self, content: str) -> str:
        """A user message as it is kept: masked where the guardrail masked what the model read."""
        return self.screen.stored(content) if self.screen is not None else content

    def context(self, chunks: list[Any]) -> None:
        if self.listener is not None:
            self.listener.context(chunks)

    def call(
        self,
        spec: ModelSpec,
        request: ChatRequest,
        deadline_seconds: float | None = None,
        *,
        streamed: bool = True,
    ) -> tuple[Completion, int]:
        """One completion from the model's provider within the deadline, and its latency in ms;
        tokens and cost go on the meter, and with latency into the metrics per model and brand.
        With a listener (and `streamed`) each piece goes to it as the provider sends it, under the
        longer streaming deadline, and the time to the first piece is a metric too."""
        listener = self.listener if streamed else None
        if request.tools and not spec.tools:
            raise InvalidRequest(
                f"The model '{spec.id}' does not run tools (its endpoint says so in "
                "OPENAI_COMPATIBLE_ENDPOINTS): ask without tools, or choose a model that runs them.",
                code="unsupported_parameter",
                param="tools",
            )
        provider = self.generator.providers.provider_for(spec)
        screen = self.screen if request.task == "reply" else None  # titles and summaries are Parley's
        units_before, cost_before = (screen.text_units, screen.cost_usd) if screen else (0, 0.0)
        if screen is not None:
            try:
                request = screen.screened_input(request)
            except GuardrailBlocked:
                self._charge_guardrail(spec, screen, units_before, cost_before)
                raise
        started = time.perf_counter()
        first_token_ms: int | None = None
        if deadline_seconds is None:
            generator = self.generator
            deadline_seconds = (
                generator.stream_timeout_seconds if listener else generator.provider_timeout_seconds
            )
        with deadline(deadline_seconds):
            if listener is None:
                completion = provider.complete(request)
                if screen is not None:
                    completion = screen.screened_output(completion)
            else:
                completion = self._streamed(spec, provider, request, listener, screen, started)
                first_token_ms = completion.metadata.pop("_first_token_ms", None)
        latency_ms = round((time.perf_counter() - started) * 1000)
        cost = spec.cost_usd(completion.usage, completion.metadata)
        if screen is not None and screen.text_units > units_before:
            cost = round(cost + screen.cost_usd - cost_before, 8)
            completion.metadata["guardrail_text_units"] = screen.text_units - units_before
        self.meter.add(spec.id, completion.usage, cost, completion.metadata)
        record_generation(
            completion.model,
            self.meter.brand_id,
            completion.usage,
            cost,
            latency_ms,
            first_token_ms=first_token_ms,
        )
        return completion, latency_ms

    def _streamed(  # noqa: PLR0917 (the call's own parts, passed on)
        self,
        spec: ModelSpec,
        provider: ChatProvider,
        request: ChatRequest,
        listener: Listener,
        screen: Screen | None,
        started: float,
    ) -> Completion:
        """A streamed call, each piece to the listener (through the guardrail's windows, with one);
        the time to the first piece goes in the metadata as `_first_token_ms`."""
        watcher = WindowedListener(listener, screen) if screen is not None else None
        first_token_ms: int | None = None
        written: list[str] = []
        try:
            for event in provider.stream(request):
                if isinstance(event, Completion):
                    completion = event
                    break
                if first_token_ms is None:
                    first_token_ms = round((time.perf_counter() - started) * 1000)
                written.append(event.content or "")
                (watcher or listener).delta(event)
            else:
                raise malformed_response(provider.name, ValueError("the stream ended without a completion"))
            if watcher is not None:
                watcher.finish()
                if watcher.masked:
                    completion = replace(completion, content="".join(watcher.sent))
        except GenerationCancelled:
            self._charge_cancelled(spec, request, "".join(written))
            raise
        except OutputBlocked as blocked:
            listener.delta(Delta(content=blocked.message))  # after what was sent: the refusal
            completion = refusal(_estimated(request, "".join(written), spec.id), blocked.message)
        completion.metadata["_first_token_ms"] = first_token_ms
        return completion

    def _charge_guardrail(
        self, spec: ModelSpec, screen: Screen, units_before: int, cost_before: float
    ) -> None:
        """A turn the guardrail refused before the model: its checks are charged all the same."""
        units = screen.text_units - units_before
        if units:
            cost = round(screen.cost_usd - cost_before, 8)
            self.meter.add(
                spec.id,
                TokenUsage(prompt_tokens=0, completion_tokens=0, total_tokens=0),
                cost,
                {"guardrail_text_units": units},
            )
            self.settle_alone()

    def _charge_cancelled(self, spec: ModelSpec, request: ChatRequest, written: str) -> None:
        """A generation its client cancelled: what it had spent, the tokens of this call estimated
        (the provider reports usage only at the end), charged now, as the answer is never stored."""
        usage = _estimated(request, written, spec.id).usage
        self.meter.add(spec.id, usage, spec.cost_usd(usage), {"estimated": True})
        self.settle_alone()

    def settle(self, write: Callable[[Charge | None], T]) -> T:
        """Write the request's result with its charge (`write` puts both in one transaction); a
        budget found spent there is a QuotaExceeded, after the tokens paid for are recorded.
        A charge DynamoDB refuses as invalid (a counter item grown past its size limit) never
        costs the answer the provider gave: the result is written without it, and the failure
        to count is logged as an error."""
        with self.meter.settling() as charge:
            try:
                return write(charge)
            except ItemsRefused as refusal:
                logger.error(
                    "the charge could not be written with the result; the result is written alone",
                    extra={"refused_items": refusal.positions, "brand_id": charge.brand_id},
                )
        return write(None)

    def settle_alone(self) -> None:
        """Write the charge by itself: a request whose result is not stored (the RAG chat)."""
        usage = self.generator.usage
        self.settle(lambda charge: usage.charge(charge) if charge is not None else None)


def _estimated(request: ChatRequest, written: str, model: str) -> Completion:
    """A call cut short, before the provider reported its usage: the tokens estimated."""
    prompt = estimate_tokens(request.system_prompt or "") + sum(message_tokens(m) for m in request.messages)
    completion = estimate_tokens(written)
    usage = TokenUsage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion)
    return Completion(
        content=written, finish_reason="stop", usage=usage, model=model, metadata={"estimated": True}
    )
