"""DESIGN §4's cost budget, measured with ReturnConsumedCapacity from DynamoDB Local on the
requests the functions' containers make (recorded by the proxy in front of it), while requests go
through the gateway. Units are reported as AWS bills them (transactions twice)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from parley.store.dynamodb import dynamodb_client
from tests.conftest import LocalStack, TokenFactory
from tests.doubles.capacity import CapacityRecorder
from tests.doubles.seeding import seed_messages

pytestmark = pytest.mark.integration

NEAR_1_KB = "x" * 700  # with its keys and attributes the stored item stays within 1 KB


@pytest.fixture
def conversation_with(api: httpx.Client, auth: TokenFactory, local_stack: LocalStack) -> Any:
    alice = auth("alice")

    def make(existing_messages: int) -> str:
        body = {
            "system_prompt": "You are helpful. " * 500,
            "metadata": {"notes": "n" * 4000},
        }  # a large profile
        conversation_id: str = api.post("/v1/conversations", json=body, headers=alice).json()["conversation"][
            "id"
        ]
        seed_messages(dynamodb_client(), local_stack.table_name, conversation_id, existing_messages)
        return conversation_id

    return make


def append_cost(
    api: httpx.Client, stack: LocalStack, headers: dict[str, str], conversation_id: str, **body: Any
) -> CapacityRecorder:
    with stack.dynamodb.recording() as recorder:
        response = api.post(
            f"/v1/conversations/{conversation_id}/messages",
            json={"role": "user", "content": NEAR_1_KB, **body},
            headers=headers,
        )
    assert response.status_code == 200, response.text
    return recorder


def test_an_append_is_one_round_trip_of_at_most_5_wcu_at_message_10_and_5000(
    api: httpx.Client, auth: TokenFactory, local_stack: LocalStack, conversation_with: Any
) -> None:
    alice = auth("alice")
    short, long = conversation_with(9), conversation_with(4_999)

    at_10 = append_cost(api, local_stack, alice, short)
    at_5000 = append_cost(api, local_stack, alice, long)

    assert at_10.operations == ["TransactWriteItems"]
    assert at_5000.operations == ["TransactWriteItems"]
    assert 0 < at_10.write_units <= 5
    assert at_5000.write_units == at_10.write_units
    assert at_10.index_units == at_5000.index_units == 0  # the user index is never written by an append


def test_a_history_page_is_one_query_whose_cost_does_not_grow_with_the_history(
    api: httpx.Client, auth: TokenFactory, local_stack: LocalStack, conversation_with: Any
) -> None:
    alice = auth("alice")
    short, long = conversation_with(60), conversation_with(5_000)

    costs = []
    for conversation_id in (short, long):
        with local_stack.dynamodb.recording() as recorder:
            page = api.get(
                f"/v1/conversations/{conversation_id}/messages", params={"limit": 50}, headers=alice
            )
        assert page.status_code == 200 and len(page.json()["messages"]) == 50
        assert recorder.operations == ["Query"]
        costs.append(recorder.read_units)

    assert costs[0] == costs[1]
    assert page.json()["total"] == 5_000


def test_a_chat_completion_is_two_round_trips(
    api: httpx.Client, auth: TokenFactory, local_stack: LocalStack, conversation_with: Any
) -> None:
    alice = auth("alice")
    conversation_id = conversation_with(30)

    recorder = append_cost(api, local_stack, alice, conversation_id, mode="chat-completion")

    assert recorder.operations == ["Query", "TransactWriteItems"]


def branded_conversation(api: httpx.Client, headers: dict[str, str], brand: str) -> str:
    response = api.post("/v1/conversations", json={"brand_id": brand}, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["conversation"]["id"])


def test_a_chat_completion_in_a_brand_reads_its_budgets_once_then_is_two_round_trips(
    api: httpx.Client, auth: TokenFactory, local_stack: LocalStack
) -> None:
    brand = f"cost-{uuid.uuid4().hex[:10]}"
    alice = auth("alice", brands=[brand])
    conversation_id = branded_conversation(api, alice, brand)

    first = append_cost(api, local_stack, alice, conversation_id, mode="chat-completion")
    second = append_cost(api, local_stack, alice, conversation_id, mode="chat-completion")

    # The brand's overrides are read once per container and QUOTA_CACHE_SECONDS; the counters
    # ride in the transaction that stores the exchange.
    assert first.operations == ["Query", "GetItem", "TransactWriteItems"]
    assert second.operations == ["Query", "TransactWriteItems"]


def test_a_generation_refused_by_a_known_spent_budget_reads_once_and_writes_nothing(
    api: httpx.Client, auth: TokenFactory, local_stack: LocalStack
) -> None:
    brand = f"cost-{uuid.uuid4().hex[:10]}"
    alice = auth("alice", brands=[brand])
    admin = auth("ops", brands=[brand], scopes=["admin"])
    assert api.put(f"/v1/quotas/{brand}", json={"user_daily_tokens": 1}, headers=admin).status_code == 200
    conversation_id = branded_conversation(api, alice, brand)
    body = {"role": "user", "content": "Hi", "mode": "chat-completion"}
    url = f"/v1/conversations/{conversation_id}/messages"
    statuses = [api.post(url, json=body, headers=alice).status_code for _ in range(2)]  # served, refused

    with local_stack.dynamodb.recording() as recorder:
        refused = api.post(url, json=body, headers=alice)

    assert statuses == [200, 429] and refused.status_code == 429
    assert recorder.operations == ["Query"]


def branched(api: httpx.Client, headers: dict[str, str], conversation_id: str, forks: list[int]) -> list[str]:
    """Branches off the conversation's messages at the `forks` positions (an edit of the message
    after each), then the long branch made active again: one branch more per fork. The active
    branch's ids, oldest first."""
    url = f"/v1/conversations/{conversation_id}/messages"
    history = api.get(url, params={"limit": 200}, headers=headers).json()
    total = history["total"]
    pages = [history["messages"]]
    while sum(len(page) for page in pages) < total:
        older = api.get(url, params={"limit": 200, "before": pages[0][0]["id"]}, headers=headers).json()
        pages.insert(0, older["messages"])
    ids = [message["id"] for page in pages for message in page]
    for position in forks:
        edit = {
            "role": "user",
            "content": f"an edit after message {position}",
            "parent_id": ids[position - 1],
        }
        assert api.post(url, json=edit, headers=headers).status_code == 200
        back = api.patch(
            f"/v1/conversations/{conversation_id}", json={"active_message_id": ids[-1]}, headers=headers
        )
        assert back.status_code == 200, back.text
    return ids


def test_with_5_branches_and_1000_messages_an_append_and_a_page_cost_what_they_cost_in_a_line(
    api: httpx.Client, auth: TokenFactory, local_stack: LocalStack, conversation_with: Any
) -> None:
    alice = auth("alice")
    line, tree = conversation_with(999), conversation_with(999)
    ids = branched(api, alice, tree, forks=[100, 400, 700, 950])  # the long branch and 4 others

    page_costs = []
    for conversation_id in (line, tree):
        with local_stack.dynamodb.recording() as page:
            found = api.get(
                f"/v1/conversations/{conversation_id}/messages", params={"limit": 50}, headers=alice
            )
        assert found.status_code == 200 and found.json()["total"] == 999
        assert page.operations == ["Query"]
        page_costs.append(page.read_units)
    in_line = append_cost(api, local_stack, alice, line)
    in_tree = append_cost(api, local_stack, alice, tree)

    assert page_costs[0] == page_costs[1]
    assert found.json()["messages"][-1]["id"] == ids[-1]
    assert in_tree.operations == in_line.operations == ["TransactWriteItems"]
    assert 0 < in_tree.write_units == in_line.write_units <= 5
    history = api.get(f"/v1/conversations/{tree}/messages", params={"limit": 2}, headers=alice).json()
    assert history["total"] == 1_000 and history["messages"][0]["id"] == ids[-1]
    forked = api.get(
        f"/v1/conversations/{tree}/messages", params={"limit": 1, "before": ids[101]}, headers=alice
    )
    assert forked.json()["messages"][0]["branch"]["count"] == 2  # message 101 has its edit beside it
