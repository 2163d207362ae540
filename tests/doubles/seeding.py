"""Data put straight into the stores for tests and `make bench`: messages in bulk, and what the
events/ files address. Setup, not the paths under test, so it writes items directly."""

from __future__ import annotations

from typing import Any

from local.events import (
    ANSWER_ID,
    ASSISTANT_ID,
    CONVERSATION_ID,
    DOCUMENT_ID,
    QUEUED_RESPONSE_HEX,
    RATED_ANSWER_ID,
    RESPONSE_HEX,
    STREAM_ID,
    USER,
    WORKFLOW_ID,
)
from parley.logic.ingest import ingest_documents
from parley.models.api.rag import Assistant, DocumentIn
from parley.models.api.responses import Response
from parley.models.api.workflows import Workflow, WorkflowStep
from parley.models.domain import Conversation, Feedback, Message, timestamp
from parley.store import items, keys
from parley.store.catalog import CatalogStore
from parley.store.feedback import FeedbackStore
from parley.store.responses import ResponseStore, StoredResponse
from parley.store.stream_logs import StreamLogs, StreamOrigin
from parley.wiring import Wiring

HANDBOOK = "Every employee gets 25 vacation days a year.\n\nUnused vacation days carry over until March."


def seed_messages(client: Any, table: str, conversation_id: str, count: int) -> None:
    """`count` short messages and a counter to match, 25 to a BatchWriteItem."""
    for start in range(0, count, 25):
        batch = [
            {
                "PutRequest": {
                    "Item": items.message_item(Message.new(conversation_id, "user", f"seed message {n}"))
                }
            }
            for n in range(start, min(start + 25, count))
        ]
        client.batch_write_item(RequestItems={table: batch})
    client.update_item(
        TableName=table,
        Key={"PK": {"S": keys.conversation_pk(conversation_id)}, "SK": {"S": keys.META}},
        UpdateExpression="SET message_count = :n",
        ExpressionAttributeValues={":n": {"N": str(count)}},
    )


def clear_conversation(client: Any, table: str, conversation_id: str) -> None:
    """Every item of the conversation: its messages on and off the active branch, summaries,
    ratings, title and counter."""
    request: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "PK = :pk",
        "ExpressionAttributeValues": {":pk": {"S": keys.conversation_pk(conversation_id)}},
        "ProjectionExpression": "PK, SK",
    }
    while True:
        page = client.query(**request)
        for start in range(0, len(page["Items"]), 25):
            batch = [{"DeleteRequest": {"Key": key}} for key in page["Items"][start : start + 25]]
            client.batch_write_item(RequestItems={table: batch})
        if "LastEvaluatedKey" not in page:
            return
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def seed_events_data(client: Any, table: str) -> None:
    """Into the table, and into the vector store the environment configures (as a function's
    container would find it)."""
    wiring = Wiring(dynamodb=client)
    """(Re)create, unconditionally, the conversation, workflow, assistant and document the events/
    files address, so every one of them finds what it asks for."""
    now = timestamp()
    conversation = Conversation(
        id=CONVERSATION_ID,
        user_id=USER.user_id,
        brand_id="acme",
        title="Events",
        title_generated=True,  # as Parley titles it: POST .../title may title it again
        model="parley-offline",
        system_prompt=None,
        metadata={},
        message_count=2,
        created_at=now,
        updated_at=now,
    )
    clear_conversation(client, table, CONVERSATION_ID)  # what earlier requests added or moved
    for item in (items.meta_item(conversation), items.profile_item(conversation)):
        client.put_item(TableName=table, Item=item)
    # Two answers of the conversation: one to rate, one rated already (for the feedback events).
    for answer_id in (ANSWER_ID, RATED_ANSWER_ID):
        answer = Message(
            id=answer_id,
            conversation_id=CONVERSATION_ID,
            role="assistant",
            content="Lisbon in May: mild, before the crowds.",
            tool_calls=None,
            token_usage=None,
            metadata={"model": "parley-offline", "requested_model": "parley-offline"},
            created_at=now,
        )
        client.put_item(TableName=table, Item=items.message_item(answer))
        client.delete_item(
            TableName=table,
            Key={
                "PK": {"S": keys.conversation_pk(CONVERSATION_ID)},
                "SK": {"S": keys.feedback_sk(answer_id)},
            },
        )
    FeedbackStore(table, client).put(
        CONVERSATION_ID,
        RATED_ANSWER_ID,
        Feedback(rating="up", updated_at=now),
        model="parley-offline",
        brand_id="acme",
        previous=None,
        mark_conversation=True,
    )
    # Back to the default budgets (the quotas_put event sets overrides for the brand).
    client.delete_item(TableName=table, Key={"PK": {"S": keys.usage_pk("acme")}, "SK": {"S": keys.QUOTA}})
    catalog = CatalogStore(table, client)
    client.delete_item(
        TableName=table, Key={"PK": {"S": keys.workflow_pk(WORKFLOW_ID)}, "SK": {"S": keys.META}}
    )
    catalog.put_workflow(
        Workflow(
            id=WORKFLOW_ID,
            name="Events",
            steps=[WorkflowStep(prompt="{{input}}")],
            brandId=None,
            createdAt=now,
        ),
        owner=USER.user_id,
    )
    client.delete_item(
        TableName=table, Key={"PK": {"S": keys.assistant_pk(ASSISTANT_ID)}, "SK": {"S": keys.META}}
    )
    catalog.put_assistant(
        Assistant(assistant_id=ASSISTANT_ID, brand_id="acme", name="Events", created_at=now)
    )
    said = {"type": "message", "id": f"msg_{RESPONSE_HEX}", "status": "completed", "role": "assistant"}
    response = Response(
        id=f"resp_{RESPONSE_HEX}",
        created_at=1_796_000_000,
        status="completed",
        model="parley-offline",
        output=[{**said, "content": [{"type": "output_text", "text": "Porto.", "annotations": []}]}],
        store=True,
    )
    asked = [{"id": "msg_0192f5c97d4e7a3b9c1d2e3f4a5b6c7f", "role": "user", "content": "Where in May?"}]
    ResponseStore(table, client).put(
        StoredResponse(response, USER.user_id, "acme", CONVERSATION_ID, ANSWER_ID, asked)
    )
    queued = response.model_copy(
        update={"id": f"resp_{QUEUED_RESPONSE_HEX}", "status": "queued", "output": [], "background": True}
    )
    ResponseStore(table, client).put(StoredResponse(queued, USER.user_id, "acme", "", ANSWER_ID, []))
    running = StreamOrigin(USER.user_id, "grants", "POST /v1/chat/completions", ends_by=2_000_000_000)
    StreamLogs(table, client, ttl_seconds=3600).open(STREAM_ID, running, now=1_796_000_000)
    ingest_documents(
        USER,
        [
            DocumentIn(
                brand_id="acme", rag_scope="hr", document_id=DOCUMENT_ID, title="Handbook", content=HANDBOOK
            )
        ],
        store=wiring.vectors,
        embed=wiring.embedder,
        registry=wiring.documents,
        config=wiring.settings,
        clock=wiring.clock,
    )
