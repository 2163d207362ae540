"""Every function answers its events/*.json file, as `sam local invoke -e` would feed it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from local.events import ASSISTANT_ID, CONVERSATION_ID, DOCUMENT_ID, EVENTS_DIR, USER, WORKFLOW_ID
from local.lambda_runtime import LambdaContext, load_handler
from local.settings import LOCAL_SECRET
from local.template import load
from parley.logic.ingest import ingest_documents
from parley.models.api.rag import Assistant, DocumentIn
from parley.models.api.workflows import Workflow, WorkflowStep
from parley.models.domain import Conversation, timestamp
from parley.store.catalog import CatalogStore
from parley.store.conversations import ConversationStore
from tests.conftest import clear_process_caches
from tests.unit.conftest import TABLE

EXPECTED_STATUS = {
    "conversations_create": 201,
    "conversations_list": 200,
    "conversations_get": 200,
    "conversations_delete": 204,
    "conversation_messages_list": 200,
    "conversation_messages_append": 200,
    "chats_create": 201,
    "chat_messages_create": 201,
    "chat_messages_list": 200,
    "workflows_create": 201,
    "workflows_get": 200,
    "cors_preflight": 204,
    "ai_chat": 200,
    "ai_documents_ingest": 201,
    "ai_documents_delete": 204,
    "ai_templates_create": 201,
    "ai_templates_get": 200,
    "ai_assistants_create": 201,
    "ai_assistants_get": 200,
}
FUNCTIONS = {spec.code_dir.name: spec for spec in load().functions.values()}


def test_every_function_has_an_event_file() -> None:
    assert {path.stem for path in EVENTS_DIR.glob("*.json")} == set(FUNCTIONS)


@pytest.fixture
def seeded(dynamodb: Any, environment: pytest.MonkeyPatch) -> None:
    environment.setenv("JWT_HS256_SECRET", LOCAL_SECRET)
    environment.setenv("CORS_ALLOWED_ORIGINS", "https://app.example.com")
    clear_process_caches()
    CatalogStore(TABLE, dynamodb).put_workflow(
        Workflow(
            id=WORKFLOW_ID,
            name="Events",
            steps=[WorkflowStep(prompt="{{input}}")],
            brandId=None,
            createdAt=timestamp(),
        ),
        owner=USER.user_id,
    )
    CatalogStore(TABLE, dynamodb).put_assistant(
        Assistant(assistant_id=ASSISTANT_ID, brand_id="acme", name="Events", created_at=timestamp())
    )
    ingest_documents(
        USER,
        [
            DocumentIn(
                brand_id="acme",
                rag_scope="hr",
                document_id=DOCUMENT_ID,
                content="Every employee gets 25 vacation days a year.",
            )
        ],
    )
    now = timestamp()
    ConversationStore(TABLE, dynamodb).create(
        Conversation(
            id=CONVERSATION_ID,
            user_id=USER.user_id,
            brand_id="acme",
            title="Events",
            model="parley-offline",
            system_prompt=None,
            metadata={},
            message_count=0,
            created_at=now,
            updated_at=now,
        )
    )


@pytest.mark.usefixtures("seeded")
@pytest.mark.parametrize("name", sorted(EXPECTED_STATUS))
def test_the_function_answers_its_event(name: str) -> None:
    spec = FUNCTIONS[name]
    event = json.loads((EVENTS_DIR / f"{name}.json").read_text())

    response = load_handler(spec)(event, LambdaContext(spec.logical_id, spec.timeout))

    assert response["statusCode"] == EXPECTED_STATUS[name], response["body"]
    if response["statusCode"] != 204:
        assert isinstance(json.loads(response["body"]), dict)


@pytest.mark.usefixtures("seeded")
def test_the_authorizer_allows_its_event_with_the_callers_context() -> None:
    spec = FUNCTIONS["authorizer"]
    event = json.loads((EVENTS_DIR / "authorizer.json").read_text())

    result = load_handler(spec)(event, LambdaContext(spec.logical_id, spec.timeout))

    assert result["principalId"] == USER.user_id
    assert result["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert result["context"] == USER.to_context()


@pytest.mark.usefixtures("seeded")
def test_the_authorizer_refuses_its_event_with_a_tampered_token() -> None:
    spec = FUNCTIONS["authorizer"]
    event = json.loads((EVENTS_DIR / "authorizer.json").read_text())
    event["headers"]["Authorization"] = event["headers"]["Authorization"][:-4] + "AAAA"

    with pytest.raises(Exception, match=r"^Unauthorized$"):
        load_handler(spec)(event, LambdaContext(spec.logical_id, spec.timeout))
