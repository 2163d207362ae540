"""Amazon Bedrock through boto3's `bedrock-runtime` Converse and ConverseStream: one adapter for
every Bedrock model. Parley's model id `bedrock/<id>` names the Bedrock model id or inference
profile id. The endpoint comes from boto3's configuration (AWS_ENDPOINT_URL_BEDROCK_RUNTIME
points it elsewhere), the region from BEDROCK_REGION (else the function's), the credentials from
the execution role. The system prompt goes apart, turns alternate starting with the user's, tool
calls and results become toolUse / toolResult blocks with their ids kept. Imported only when a
Bedrock model is used."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from parley.models.domain import TokenUsage
from parley.providers.base import ChatRequest, Completion, Delta, FinishReason, PromptMessage
from parley.providers.faults import malformed_response, stream_cut
from parley.providers.registry import BEDROCK_PREFIX
from parley.providers.turns import alternating_turns, tool_calls_of

_FINISH: dict[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "guardrail_intervened": "content_filter",
    "content_filtered": "content_filter",
}


_CACHING_FAMILIES = ("anthropic.claude", "amazon.nova")


class BedrockProvider:
    name = "bedrock"

    def __init__(self, client: Any, guardrail: dict[str, str] | None = None) -> None:
        self.client = client
        self.guardrail = guardrail

    @classmethod
    def create(
        cls, region: str | None, timeout: float, max_retries: int, guardrail: dict[str, str] | None
    ) -> BedrockProvider:
        import boto3
        from botocore.config import Config

        config = Config(
            connect_timeout=2,
            read_timeout=timeout,
            retries={"mode": "standard", "total_max_attempts": max_retries + 1},
        )
        return cls(boto3.client("bedrock-runtime", region_name=region, config=config), guardrail)

    def complete(self, request: ChatRequest) -> Completion:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self.client.converse(**self._arguments(request))
        except (ClientError, BotoCoreError) as error:
            raise translate_bedrock(error) from error
        try:
            return self._completion(response, request)
        except (AttributeError, IndexError, KeyError, TypeError, ValueError) as error:
            raise malformed_response("Bedrock", error) from error

    def stream(self, request: ChatRequest) -> Iterator[Delta | Completion]:
        """ConverseStream: text and tool-input deltas per content block, the stop reason in
        `messageStop`, the usage in the closing `metadata` event."""
        from botocore.exceptions import BotoCoreError, ClientError

        text: list[str] = []
        calls: list[dict[str, Any]] = []
        block_call: dict[int, int] = {}
        stop, trace = None, None
        usage: dict[str, Any] = {}
        try:
            response = self.client.converse_stream(**self._arguments(request))
            for event in response["stream"]:
                if "contentBlockStart" in event:
                    start = event["contentBlockStart"]
                    if tool := start.get("start", {}).get("toolUse"):
                        block_call[start["contentBlockIndex"]] = len(calls)
                        calls.append(_call(tool["toolUseId"], tool["name"], ""))
                        yield Delta(tool_calls=[{"index": len(calls) - 1, **calls[-1]}])
                elif "contentBlockDelta" in event:
                    block = event["contentBlockDelta"]
                    delta = block["delta"]
                    if "text" in delta:
                        text.append(delta["text"])
                        yield Delta(content=delta["text"])
                    elif "toolUse" in delta:
                        number = block_call[block["contentBlockIndex"]]
                        calls[number]["function"]["arguments"] += delta["toolUse"]["input"]
                        fragment = {"index": number, "function": {"arguments": delta["toolUse"]["input"]}}
                        yield Delta(tool_calls=[fragment])
                elif "messageStop" in event:
                    stop = event["messageStop"].get("stopReason")
                elif "metadata" in event:
                    usage = event["metadata"].get("usage") or {}
                    trace = event["metadata"].get("trace")
        except (ClientError, BotoCoreError) as error:
            raise translate_bedrock(error) from error
        except (AttributeError, IndexError, KeyError, TypeError, ValueError) as error:
            raise malformed_response("Bedrock", error) from error
        if stop is None:  # a whole stream has its messageStop
            raise stream_cut("Bedrock")
        for call in calls:
            call["function"]["arguments"] = call["function"]["arguments"] or "{}"
        yield Completion(
            content="".join(text),
            finish_reason=_FINISH.get(stop or "end_turn", "stop"),
            usage=_usage(usage),
            model=request.model,
            tool_calls=calls or None,
            metadata=self._metadata(stop, usage, trace),
        )

    def _arguments(self, request: ChatRequest) -> dict[str, Any]:
        system, messages = to_converse_messages(request)
        model_id = request.model.removeprefix(BEDROCK_PREFIX)
        arguments: dict[str, Any] = {"modelId": model_id, "messages": messages}
        # Prompt caching where the model supports it (Claude, Nova): cache points after the
        # system prompt, the tools and the conversation so far.
        cache = [{"cachePoint": {"type": "default"}}] if any(f in model_id for f in _CACHING_FAMILIES) else []
        if messages and cache:
            messages[-1]["content"].append(cache[0])
        if system:
            arguments["system"] = [{"text": system}, *cache]
        inference: dict[str, Any] = {}
        if request.max_tokens is not None:
            inference["maxTokens"] = request.max_tokens
        if request.temperature is not None:
            inference["temperature"] = min(request.temperature, 1.0)
        if request.top_p is not None:
            inference["topP"] = request.top_p
        if request.stop:
            inference["stopSequences"] = request.stop
        if inference:
            arguments["inferenceConfig"] = inference
        if request.tools:
            arguments["toolConfig"] = _tool_config(request.tools, request.tool_choice)
            arguments["toolConfig"]["tools"] += cache
        if self.guardrail:
            arguments["guardrailConfig"] = {**self.guardrail, "trace": "enabled"}
        return arguments

    def _completion(self, response: dict[str, Any], request: ChatRequest) -> Completion:
        blocks = response["output"]["message"]["content"]
        text = "".join(block["text"] for block in blocks if "text" in block)
        calls = [
            _call(
                block["toolUse"]["toolUseId"], block["toolUse"]["name"], json.dumps(block["toolUse"]["input"])
            )
            for block in blocks
            if "toolUse" in block
        ]
        stop = response.get("stopReason")
        usage = response.get("usage") or {}
        return Completion(
            content=text,
            finish_reason=_FINISH.get(stop or "end_turn", "stop"),
            usage=_usage(usage),
            model=request.model,
            tool_calls=calls or None,
            metadata=self._metadata(stop, usage, response.get("trace")),
        )

    def _metadata(self, stop: str | None, usage: dict[str, Any], trace: Any) -> dict[str, Any]:
        metadata: dict[str, Any] = {"provider": self.name, "stop_reason": stop}
        if stop == "guardrail_intervened":
            metadata["guardrail_intervened"] = True
            if trace and trace.get("guardrail"):
                metadata["guardrail_trace"] = trace["guardrail"]
        for field, key in (
            ("cacheReadInputTokens", "cached_tokens"),
            ("cacheWriteInputTokens", "cache_write_tokens"),
        ):
            if usage.get(field):
                metadata[key] = int(usage[field])
        return metadata


def _usage(usage: dict[str, Any]) -> TokenUsage:
    """Cached prompt tokens are prompt tokens too (read by the model, billed at their own rates)."""
    prompt = (
        int(usage.get("inputTokens", 0))
        + int(usage.get("cacheReadInputTokens", 0))
        + int(usage.get("cacheWriteInputTokens", 0))
    )
    completion = int(usage.get("outputTokens", 0))
    return TokenUsage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion)


def _call(call_id: str, name: str, arguments: str) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def _tool_config(tools: list[dict[str, Any]], choice: str | dict[str, Any] | None) -> dict[str, Any]:
    config: dict[str, Any] = {
        "tools": [
            {
                "toolSpec": {
                    "name": tool["function"]["name"],
                    **({"description": d} if (d := tool["function"].get("description")) else {}),
                    "inputSchema": {
                        "json": tool["function"].get("parameters") or {"type": "object", "properties": {}}
                    },
                }
            }
            for tool in tools
        ]
    }
    # Converse has no "none": without toolChoice the model decides (auto).
    if isinstance(choice, dict):
        config["toolChoice"] = {"tool": {"name": choice["function"]["name"]}}
    elif choice == "required":
        config["toolChoice"] = {"any": {}}
    elif choice == "auto":
        config["toolChoice"] = {"auto": {}}
    return config


def to_converse_messages(request: ChatRequest) -> tuple[str, list[dict[str, Any]]]:
    """(system, messages) as Converse requires them."""
    return alternating_turns(request, _blocks)


def _blocks(message: PromptMessage) -> list[dict[str, Any]]:
    if message.role == "tool":
        return [
            {"toolResult": {"toolUseId": message.tool_call_id or "", "content": [{"text": message.content}]}}
        ]
    blocks: list[dict[str, Any]] = [{"text": message.content}] if message.content else []
    blocks += [
        {"toolUse": {"toolUseId": call_id, "name": name, "input": arguments}}
        for call_id, name, arguments in tool_calls_of(message)
    ]
    return blocks


def translate_bedrock(error: Exception) -> Exception:
    """botocore's errors as the layer's: throttling (after the SDK's own retries) and service
    faults are a 502, a timeout a 504, a refused request or model a 400 or 502 naming it."""
    from botocore.exceptions import ClientError, ConnectTimeoutError, ReadTimeoutError

    from parley.errors import InvalidRequest, ProviderError, ProviderTimeout
    from parley.observability import logger

    code = (
        error.response.get("Error", {}).get("Code", "")
        if isinstance(error, ClientError)
        else type(error).__name__
    )
    logger.warning("provider call failed", extra={"provider": "Bedrock", "error_type": code})
    if isinstance(error, ReadTimeoutError | ConnectTimeoutError):
        return ProviderTimeout(
            "Bedrock did not answer in time; nothing was stored, so the request can be retried."
        )
    if code in ("ValidationException",):
        return InvalidRequest(
            "Bedrock refused the request as invalid; the detail is in Parley's log under this request's id.",
            code="provider_rejected_request",
        )
    if code in ("AccessDeniedException", "UnrecognizedClientException", "ResourceNotFoundException"):
        return ProviderError(
            f"Bedrock refused the call ({code}): check that the model is enabled in the region and "
            "that the function's role may invoke it."
        )
    return ProviderError(
        f"Bedrock answered {code or 'an error'} after retries; nothing was stored, so the request "
        "can be retried."
    )
