"""The layer's own exceptions. Each carries its HTTP status and error code; `parley.edge.http` maps
them to `{error, message}` responses in one place."""

from __future__ import annotations


class ParleyError(Exception):
    """Base of every error a client may see. `code` is the snake_case `error` field."""

    status = 500
    code = "internal_error"
    param: str | None = None  # the request parameter at fault, shown on the OpenAI-compatible routes

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.headers: dict[str, str] = {}  # sent with the error response


class InvalidRequest(ParleyError):
    status = 400
    code = "invalid_request"

    def __init__(self, message: str, code: str = "invalid_request", param: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.param = param


class Unauthorized(ParleyError):
    status = 401
    code = "unauthorized"


class TokenExpired(Unauthorized):
    """A token that was valid, and whose time is over: the client needs a new one."""


class Forbidden(ParleyError):
    status = 403
    code = "forbidden"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class InsufficientScope(Forbidden):
    code = "insufficient_scope"

    def __init__(self, scope: str) -> None:
        super().__init__(f"This operation needs the '{scope}' scope, which the token does not grant.")
        self.scope = scope


class NotFound(ParleyError):
    status = 404
    code = "not_found"


class Conflict(ParleyError):
    status = 409
    code = "conflict"

    def __init__(self, message: str, code: str = "conflict") -> None:
        super().__init__(message)
        self.code = code


class ConversationNotFound(NotFound):
    code = "conversation_not_found"

    def __init__(self, conversation_id: str) -> None:
        super().__init__(f"Conversation '{conversation_id}' was not found.")


class StreamNotFound(NotFound):
    code = "stream_not_found"

    def __init__(self) -> None:
        super().__init__(
            "No such stream: its id is unknown, its log expired, or it is another caller's. "
            "Read the stored answer instead."
        )


class GenerationCancelled(Conflict):
    def __init__(self) -> None:
        super().__init__("The generation was cancelled; nothing was stored.", code="generation_cancelled")


class ContentTooLarge(ParleyError):
    status = 413
    code = "content_too_large"


class UnknownModel(InvalidRequest):
    def __init__(self, model: str, valid: list[str], among: str = "") -> None:
        served = f"Models of {among}" if among else "Valid models"
        super().__init__(f"Unknown model '{model}'. {served}: {', '.join(valid)}.", code="unknown_model")
        # An endpoint's own list, when the id names an endpoint that does not serve it.
        self.endpoint_models = valid if among else None


class ProviderNotConfigured(ParleyError):
    status = 503
    code = "provider_not_configured"


class GuardrailBlocked(InvalidRequest):
    """The guardrail blocked the user's input: nothing was sent to the model."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="guardrail_blocked")


class GuardrailUnavailable(ParleyError):
    status = 503
    code = "guardrail_unavailable"


class ProviderError(ParleyError):
    status = 502
    code = "provider_error"


class ProviderTimeout(ParleyError):
    status = 504
    code = "provider_timeout"


class QuotaExceeded(ParleyError):
    status = 429
    code = "quota_exceeded"

    def __init__(self, message: str, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.headers["Retry-After"] = str(max(1, retry_after_seconds))


class StoreUnavailable(ParleyError):
    """DynamoDB failed or throttled after the SDK's retries: the client may retry."""

    status = 503
    code = "service_unavailable"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.headers["Retry-After"] = "1"


class MessageNotFound(NotFound):
    code = "message_not_found"

    def __init__(self, message_id: str) -> None:
        super().__init__(f"Message '{message_id}' is not in that conversation.")


class FeedbackNotFound(NotFound):
    code = "feedback_not_found"

    def __init__(self, message_id: str) -> None:
        super().__init__(f"Message '{message_id}' has no feedback.")


class ChatNotFound(NotFound):
    code = "chat_not_found"

    def __init__(self, chat_id: str) -> None:
        super().__init__(f"Chat '{chat_id}' does not exist.")


class WorkflowNotFound(NotFound):
    code = "workflow_not_found"

    def __init__(self, workflow_id: str) -> None:
        super().__init__(
            f"Workflow '{workflow_id}' does not exist (the chat does; it is the workflow that is missing)."
        )


class WorkflowStepFailed(ProviderError):
    code = "workflow_step_failed"


class DocumentNotFound(NotFound):
    code = "document_not_found"

    def __init__(self, document_id: str) -> None:
        super().__init__(f"Document '{document_id}' was not found in that brand and scope.")


class TemplateNotFound(NotFound):
    code = "template_not_found"

    def __init__(self, template_id: str, version: str | None = None) -> None:
        which = f"version {version} of template '{template_id}'" if version else f"template '{template_id}'"
        super().__init__(f"There is no {which} for this brand.")


class AssistantNotFound(NotFound):
    code = "assistant_not_found"

    def __init__(self, assistant_id: str) -> None:
        super().__init__(f"Assistant '{assistant_id}' was not found for this brand.")


class ModelNotFound(NotFound):
    """A model id that GET /v1/models does not list (the OpenAI-compatible routes)."""

    code = "model_not_found"
    param = "model"

    def __init__(self, model: str, endpoint_models: list[str] | None = None) -> None:
        served = f" Its endpoint serves: {', '.join(endpoint_models)}." if endpoint_models else ""
        super().__init__(f"The model '{model}' does not exist or you do not have access to it.{served}")


class BatchTooLarge(ContentTooLarge):
    """More to embed than one synchronous request can finish before its deadline."""

    code = "batch_too_large"

    def __init__(self, chunks: int, fits: int, seconds: float) -> None:
        self.fits = fits
        super().__init__(
            f"This batch has {chunks} chunks to embed; about {fits} fit in one request's {seconds:g} s. "
            f"Send smaller batches (at most {fits} chunks each), or upload the documents as files with "
            "POST /v1/ai/files, which are ingested in the background (GET /v1/ai/documents/{id} shows "
            "when each is ready). Nothing of this batch was stored."
        )


class InputsTooLarge(ContentTooLarge):
    """More inputs to embed than one request can finish before its deadline."""

    code = "batch_too_large"

    def __init__(self, inputs: int, fits: int, seconds: float) -> None:
        super().__init__(
            f"This request has {inputs} inputs to embed; about {fits} fit in one request's {seconds:g} s. "
            f"Send at most {fits} inputs per request. Nothing was embedded or metered."
        )
