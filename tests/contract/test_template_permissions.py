"""Every function that reaches the vector store may do so in AWS: its role is a principal of the
OpenSearch Serverless data-access policy and its IAM policies allow the API. A function is found
by what its code uses (the wiring's vector store or retriever), not by a list kept by hand."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml

from local.template import TEMPLATE, _CfnLoader

ROOT = TEMPLATE.parent
USES_VECTORS = re.compile(r"wiring\.(vectors|retriever)\b")
WRITES_VECTORS = re.compile(r"wiring\.vectors\b")


def resources() -> dict[str, Any]:
    return dict(yaml.load(TEMPLATE.read_text(), Loader=_CfnLoader)["Resources"])


def functions_using_vectors() -> dict[str, bool]:
    """Logical id → whether it writes (True) or only searches (False)."""
    found: dict[str, bool] = {}
    for logical_id, resource in resources().items():
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::Serverless::Function":
            continue
        code = (ROOT / resource["Properties"]["CodeUri"] / "app.py").read_text()
        if USES_VECTORS.search(code):
            found[logical_id] = bool(WRITES_VECTORS.search(code))
    return found


def data_access_rules() -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The data-access policy's rules and its principals' substitutions (name → role)."""
    policy = resources()["VectorAccessPolicy"]["Properties"]["Policy"]["Sub"]
    text, names = policy
    return json.loads(text), {name: value["GetAtt"] for name, value in names.items()}


def test_the_scan_finds_the_writers_and_the_searchers() -> None:
    found = functions_using_vectors()

    assert found["AiFilesWorkerFunction"] is True and found["AiDocumentsIngestFunction"] is True
    assert found["AiChatFunction"] is False


@pytest.mark.parametrize("logical_id", sorted(functions_using_vectors()))
def test_a_function_that_uses_the_vector_store_may_reach_it(logical_id: str) -> None:
    writes = functions_using_vectors()[logical_id]
    rules, names = data_access_rules()
    role = f"{logical_id}Role.Arn"
    placeholders = {f"${{{name}}}" for name, target in names.items() if target == role}
    granted = {
        permission
        for entry in rules
        if placeholders & set(entry["Principal"])
        for rule in entry["Rules"]
        for permission in rule["Permission"]
    }
    statements = json.dumps(resources()[logical_id]["Properties"].get("Policies"))

    assert placeholders, f"{logical_id}'s role is not a principal of the collection's data-access policy"
    assert {"aoss:ReadDocument", "aoss:DescribeIndex"} <= granted
    if writes:
        assert {"aoss:WriteDocument", "aoss:CreateIndex"} <= granted
    else:  # a function that only searches may only read
        assert not {"aoss:WriteDocument", "aoss:CreateIndex", "aoss:UpdateIndex"} & granted
    assert "aoss:APIAccessAll" in statements


def _statements(node: Any) -> list[dict[str, Any]]:
    """Every IAM statement (a dict with Effect and Action) anywhere under `node`."""
    if isinstance(node, list):
        return [found for item in node for found in _statements(item)]
    if not isinstance(node, dict):
        return []
    here = [node] if "Effect" in node and "Action" in node else []
    return here + [found for value in node.values() for found in _statements(value)]


def test_no_function_may_reach_a_search_cluster_it_was_not_given() -> None:
    """For an external domain or collection, only its ARN (OpenSearchResourceArn), never `*`;
    and no wildcard action."""
    for logical_id, resource in resources().items():
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::Serverless::Function":
            continue
        for statement in _statements(resource["Properties"].get("Policies")):
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            search = [a for a in actions if a.startswith(("es:", "aoss:"))]
            assert "es:*" not in actions and "aoss:*" not in actions, logical_id
            if search:
                assert statement["Resource"] != "*", (logical_id, search)


@pytest.mark.parametrize("logical_id", sorted(functions_using_vectors()))
def test_on_s3vectors_a_function_may_do_what_it_does_and_no_more(logical_id: str) -> None:
    """VectorStore=s3vectors: a searcher may query the stack's indexes and read the lexicons; a
    writer may put and delete vectors and write the lexicons; nothing beyond the bucket's indexes
    and the lexicons' prefix."""
    writes = functions_using_vectors()[logical_id]
    policies = resources()[logical_id]["Properties"]["Policies"]
    on_s3vectors = [
        statement
        for policy in policies
        if isinstance(policy.get("Statement"), dict)
        and "If" in policy["Statement"]
        and policy["Statement"]["If"][0] == "UseS3Vectors"
        for statement in policy["Statement"]["If"][1]
    ]
    actions = {
        action
        for statement in on_s3vectors
        for action in (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
    }
    resources_named = json.dumps([statement["Resource"] for statement in on_s3vectors])

    if writes:
        assert {"s3vectors:PutVectors", "s3vectors:DeleteVectors", "s3:PutObject", "s3:GetObject"} <= actions
    else:
        assert {"s3vectors:QueryVectors", "s3vectors:GetVectors", "s3:GetObject"} <= actions
        assert not {"s3vectors:PutVectors", "s3vectors:DeleteVectors", "s3:PutObject"} & actions
    assert "s3:ListBucket" in actions  # a brand without documents is a 404, not a 403
    assert "/index/*" in resources_named and "/lexicons/*" in resources_named
    assert not any(a.endswith("*") for a in actions)


def test_the_stage_logs_access_and_the_authorizer_can_be_kept_capacity() -> None:
    template = resources()
    api = template["ParleyApi"]["Properties"]
    authorizer = template["AuthorizerFunction"]["Properties"]
    streaming = [
        resource["Properties"]
        for resource in template.values()
        if isinstance(resource, dict)
        and resource.get("Type") == "AWS::Serverless::Function"
        and "STREAM" in json.dumps(resource["Properties"].get("Events"))
    ]

    assert api["AccessLogSetting"]["If"][0] == "HasAccessLogs"
    assert "requestId" in api["AccessLogSetting"]["If"][1]["Format"]
    assert authorizer["ReservedConcurrentExecutions"]["If"][0] == "HasAuthorizerReserve"
    assert streaming and all(
        f["ReservedConcurrentExecutions"]["If"][0] == "HasStreamingLimit" for f in streaming
    )
    assert template["ApiWebAclAssociation"]["Condition"] == "HasWebAcl"


USES_SEALER = re.compile(r"wiring\.sealer\b")
SEALS = re.compile(r"\b(create_assistant|update_assistant|put_connection)\b")


def functions_using_the_sealer() -> dict[str, bool]:
    """Logical id → whether it seals (True: creates assistants) or only opens (False)."""
    found: dict[str, bool] = {}
    for logical_id, resource in resources().items():
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::Serverless::Function":
            continue
        code = (ROOT / resource["Properties"]["CodeUri"] / "app.py").read_text()
        if USES_SEALER.search(code):
            found[logical_id] = bool(SEALS.search(code))
    return found


def test_the_scan_finds_who_seals_and_who_opens_credentials() -> None:
    found = functions_using_the_sealer()

    assert found["AiAssistantsCreateFunction"] is True and found["MeConnectionsPutFunction"] is True
    assert found["AiAssistantsUpdateFunction"] is True
    assert found["AiChatFunction"] is False and found["OpenAIChatCompletionsFunction"] is False


@pytest.mark.parametrize("logical_id", sorted(functions_using_the_sealer()))
def test_a_function_that_seals_or_opens_credentials_may_use_the_key_for_that_alone(logical_id: str) -> None:
    seals = functions_using_the_sealer()[logical_id]
    policies = json.dumps(resources()[logical_id]["Properties"]["Policies"])

    if seals:
        assert '"kms:GenerateDataKey"' in policies and "KMSDecryptPolicy" not in policies
    else:
        assert '"KMSDecryptPolicy": {"KeyId": {"Ref": "CredentialsKey"}}' in policies
        assert "kms:GenerateDataKey" not in policies
    assert '"kms:*"' not in policies


def test_no_other_function_may_use_the_key() -> None:
    users = set(functions_using_the_sealer())
    others = [
        (logical_id, resource)
        for logical_id, resource in resources().items()
        if isinstance(resource, dict)
        and resource.get("Type") == "AWS::Serverless::Function"
        and logical_id not in users
    ]

    assert len(others) > 10
    for logical_id, resource in others:
        assert "CredentialsKey" not in json.dumps(resource["Properties"].get("Policies", [])), logical_id
