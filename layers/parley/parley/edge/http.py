"""The shared resolver factory: request validation, the principal, and the one place where the
layer's errors become `{error, message}` responses."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, Literal

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.auth.principal import Principal
from parley.edge.anthropic_errors import anthropic_error_json, in_anthropic_shape
from parley.edge.cors import with_cors as add_cors
from parley.edge.cross_site import CrossSiteRefusal, check_cookie_write
from parley.edge.idempotency import idempotent
from parley.edge.openai_errors import in_openai_shape, openai_error_json
from parley.edge.request_guard import REFUSAL_CODE, HostileInput, check_request
from parley.edge.responses import error_result
from parley.errors import ParleyError
from parley.models.api.errors import ErrorBody
from parley.models.api.tools import TOOL_NAME
from parley.observability import logger, metrics, record_error

if TYPE_CHECKING:
    from parley.wiring import Wiring

Handler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]

# A path id documented as a UUID. The use case checks it, so a malformed one is a 400 that names it.
UuidPath = Annotated[str, Path(json_schema_extra={"format": "uuid"})]
# An MCP server's label in a path: what a tool name may be.
LabelPath = Annotated[str, Path(pattern=TOOL_NAME)]
# The brand an OpenAI-compatible request is metered in, when the token grants several.
MeteredBrand = Annotated[
    str | None,
    Header(
        alias="X-Parley-Brand",
        min_length=1,
        max_length=100,
        description="The brand to meter the request in, when the token grants several.",
    ),
]
# A cursor: the id of the last item of the previous page (UUIDv7, so it also says when it was made).
UuidCursor = Annotated[str | None, Query(json_schema_extra={"format": "uuid"})]


ErrorStyle = Literal["parley", "openai", "anthropic"]


def error_response(
    status: int,
    code: str,
    message: str,
    headers: dict[str, str] | None = None,
    *,
    style: ErrorStyle = "parley",
    param: str | None = None,
) -> Response[str]:
    """`{error, message}`, or on the OpenAI-compatible routes OpenAI's `{error: {message, type,
    param, code}}`, on the Anthropic-compatible ones Anthropic's `{type, error: {type, message}}`."""
    if style == "openai":
        body = openai_error_json(status, code, message, param)
    elif style == "anthropic":
        body = anthropic_error_json(status, code, message)
    else:
        body = ErrorBody(error=code, message=message).model_dump_json()
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body=body, headers=headers
    )


def describe_validation_errors(errors: list[dict[str, Any]]) -> str:
    """One sentence naming each bad field: `body.content: String should have at least 1 character`."""
    parts = []
    for error in errors[:5]:
        if error.get("type") == "json_invalid":
            return f"The request body is not valid JSON ({error.get('ctx', {}).get('error', 'parse error')})."
        location = ".".join(
            str(part)
            for part in error.get("loc", ())
            if (part != "body" or len(error["loc"]) == 1) and not _union_member(part)
        )
        parts.append(f"{location or 'body'}: {error.get('msg', 'is invalid')}")
    return "Invalid request: " + "; ".join(parts) + "."


def _union_member(part: Any) -> bool:
    """Pydantic's name for one member of a union body (`function-after[_one_content(), DocumentIn]`,
    `DocumentBatch`): its internals, not a field a client sent."""
    text = str(part)
    return "[" in text or (text[:1].isupper() and text.isidentifier())


def create_app(style: ErrorStyle = "parley") -> APIGatewayRestResolver:
    """A REST resolver with validation on and every error mapped to `{error, message}` (or, with
    style "openai" or "anthropic", to that API's error shape)."""
    app = APIGatewayRestResolver(enable_validation=True)

    @app.exception_handler(RequestValidationError)
    def _invalid(error: RequestValidationError) -> Response[str]:
        record_error("invalid_request")
        errors = list(error.errors())
        if style == "openai":
            message, param = describe_for_openai(errors)
            return error_response(400, "invalid_request", message, style=style, param=param)
        return error_response(400, "invalid_request", describe_validation_errors(errors), style=style)

    @app.exception_handler(ParleyError)
    def _domain(error: ParleyError) -> Response[str]:
        record_error(error.code)
        if error.status >= 500:
            logger.warning("request failed", extra={"error": error.code, "detail": error.message})
        return error_response(
            error.status, error.code, error.message, error.headers, style=style, param=error.param
        )

    @app.not_found
    def _no_route(_: Exception) -> Response[str]:
        return error_response(404, "route_not_found", "No such route.", style=style)

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response[str]:
        logger.exception("unhandled error")
        record_error("internal_error")
        message = "Something went wrong on our side; it has been logged."
        return error_response(500, "internal_error", message, style=style)

    return app


def describe_for_openai(errors: list[dict[str, Any]]) -> tuple[str, str | None]:
    """OpenAI's wording for the first problem and the parameter it is in (`messages[0].role`)."""
    first = errors[0] if errors else {}
    location = [part for part in first.get("loc", ()) if part != "body"]
    param = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in location).lstrip(".")
    if first.get("type") == "json_invalid":
        return "We could not parse the JSON body of your request.", None
    if first.get("type") == "extra_forbidden":
        return f"Unrecognized request argument supplied: {param}", param or None
    if first.get("type") == "missing":
        return f"Missing required parameter: '{param}'.", param or None
    return f"Invalid value for '{param}': {first.get('msg', 'is invalid')}.", param or None


def principal(app: APIGatewayRestResolver) -> Principal:
    """The authenticated caller of the current request, from the authorizer's context."""
    return Principal.from_context(app.current_event.raw_event.get("requestContext", {}).get("authorizer"))


def http_handler(app: APIGatewayRestResolver, wiring: Wiring, style: ErrorStyle = "parley") -> Handler:
    """The Lambda entry point of a function: logging with the API Gateway request id as
    correlation id, and metrics, around `app.resolve`. With style "openai" or "anthropic" the
    answers given before the route runs (the request guard, idempotency) are in that shape too."""
    shapes: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
        "openai": in_openai_shape,
        "anthropic": in_anthropic_shape,
    }
    shaped = shapes.get(style, _as_it_is)

    def with_cors(event: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
        return add_cors(event, result, wiring.settings.allowed_origins)

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        try:
            check_request(event)
            check_cookie_write(event, wiring.settings.allowed_origins)
        except HostileInput as problem:
            record_error(REFUSAL_CODE)
            return with_cors(event, shaped(error_result(400, REFUSAL_CODE, str(problem))))
        except CrossSiteRefusal as refusal:
            record_error(refusal.code)
            return with_cors(event, shaped(error_result(refusal.status, refusal.code, refusal.message)))
        return with_cors(event, shaped(resolve_once(event, context)))

    def resolve(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return app.resolve(_as_json_request(event), context)

    resolve_once = idempotent(resolve, wiring)  # a POST with an Idempotency-Key runs once
    return lambda_handler


def _as_it_is(result: dict[str, Any]) -> dict[str, Any]:
    return result


def _as_json_request(event: dict[str, Any]) -> dict[str, Any]:
    """Parley speaks only JSON: a body is read as JSON whatever its Content-Type says (curl's
    `-d` sends a form type), and a body that is not JSON is a 400 that says so."""
    if not event.get("body"):
        return event
    for field in ("headers", "multiValueHeaders"):
        headers = event.get(field) or {}
        for name in [n for n in headers if n.lower() == "content-type"]:
            del headers[name]
    event.setdefault("headers", {})
    event["headers"] = {**(event["headers"] or {}), "Content-Type": "application/json"}
    if event.get("multiValueHeaders") is not None:
        event["multiValueHeaders"]["Content-Type"] = ["application/json"]
    return event
