"""What the local gateway needs from template.yaml: routes, authorizer, gateway responses and the
table definition. CloudFormation tags (!Ref, !GetAtt, !Sub) are read as plain values."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from parley.edge.web_adapter import resource_pattern

ROOT = Path(__file__).resolve().parent.parent
OPENAPI_DOCUMENT = ROOT / "openapi.json"  # written by local.openapi, served by local.docs
TEMPLATE = ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that turns `!Tag value` into `{"Tag": value}` instead of failing."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {suffix: value}


_CfnLoader.add_multi_constructor("!", _tag)


@dataclass(frozen=True)
class Route:
    method: str
    resource: str  # API Gateway resource path, e.g. /v1/conversations/{conversation_id}
    function: str  # logical id
    authorized: bool
    pattern: re.Pattern[str]
    api_key_required: bool = False  # the caller must be metered on a usage plan's API key

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if self.method not in (method, "ANY"):
            return None
        found = self.pattern.fullmatch(path)
        return found.groupdict() if found else None


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_dir: Path
    handler: str
    timeout: int
    # Its route streams (ResponseTransferMode STREAM): in AWS it runs behind the Lambda Web
    # Adapter (Handler run.sh); here the gateway calls the module's `stream_handler`, and
    # `handler` names its ordinary Lambda handler.
    streaming: bool = False

    @property
    def stream_handler(self) -> str:
        return self.handler.rpartition(".")[0] + ".stream_handler"


@dataclass(frozen=True)
class GatewayResponse:
    status: int | None
    headers: dict[str, str]
    template: str | None


@dataclass(frozen=True)
class Template:
    routes: list[Route]
    functions: dict[str, FunctionSpec]
    authorizer: str | None
    gateway_responses: dict[str, GatewayResponse]
    table: dict[str, Any]


@functools.cache
def load(path: Path = TEMPLATE) -> Template:
    document = yaml.load(path.read_text(), Loader=_CfnLoader)
    # Fn::ForEach entries (usage plans per brand) are not resources the gateway needs.
    resources: dict[str, Any] = {
        name: r for name, r in document["Resources"].items() if isinstance(r, dict) and "Type" in r
    }
    defaults = document.get("Globals", {}).get("Function", {})
    api = next(r["Properties"] for r in resources.values() if r["Type"] == "AWS::Serverless::Api")
    auth = api.get("Auth", {})
    default_authorizer = auth.get("DefaultAuthorizer")
    authorizer_fn = None
    if default_authorizer:
        arn = auth["Authorizers"][default_authorizer]["FunctionArn"]
        authorizer_fn = arn["GetAtt"].split(".")[0]

    functions: dict[str, FunctionSpec] = {}
    routes: list[Route] = []
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        streaming = any(
            e["Type"] == "Api" and e["Properties"].get("ResponseTransferMode") == "STREAM"
            for e in (props.get("Events") or {}).values()
        )
        functions[logical_id] = FunctionSpec(
            logical_id=logical_id,
            code_dir=ROOT / props["CodeUri"],
            handler="app.lambda_handler"
            if streaming
            else props.get("Handler", defaults.get("Handler", "app.lambda_handler")),
            timeout=int(props.get("Timeout", defaults.get("Timeout", 3))),
            streaming=streaming,
        )
        for event in (props.get("Events") or {}).values():
            if event["Type"] != "Api":
                continue
            ev = event["Properties"]
            authorizer = (ev.get("Auth") or {}).get("Authorizer", default_authorizer)
            key_required = (ev.get("Auth") or {}).get("ApiKeyRequired", auth.get("ApiKeyRequired", False))
            routes.append(
                Route(
                    ev["Method"].upper(),
                    ev["Path"],
                    logical_id,
                    authorized=authorizer not in (None, "NONE"),
                    pattern=resource_pattern(ev["Path"]),
                    api_key_required=bool(key_required),
                )
            )

    responses = {
        name: GatewayResponse(
            status=int(spec["StatusCode"]) if "StatusCode" in spec else None,
            headers={
                k: v.strip("'") for k, v in (spec.get("ResponseParameters", {}).get("Headers") or {}).items()
            },
            template=(spec.get("ResponseTemplates") or {}).get("application/json"),
        )
        for name, spec in (api.get("GatewayResponses") or {}).items()
    }
    table = next(r["Properties"] for r in resources.values() if r["Type"] == "AWS::DynamoDB::Table")
    # Static paths win over parameterised ones, as in API Gateway.
    routes.sort(key=lambda r: (r.resource.count("{"), -len(r.resource)))
    return Template(routes, functions, authorizer_fn, responses, table)
