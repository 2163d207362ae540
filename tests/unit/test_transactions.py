"""Transactions DynamoDB cancels as a whole (conflicts, throttling) are sent again with jitter,
and past the retries are a 503 with Retry-After, never a 500; a failed condition is reported."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from parley.errors import StoreUnavailable
from parley.store import dynamodb
from parley.store.dynamodb import transact


def cancelled(*reasons: str) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
            "CancellationReasons": [{"Code": reason} for reason in reasons],
        },
        "TransactWriteItems",
    )


class Cancelling:
    """A DynamoDB client whose transactions are cancelled with these outcomes, in order."""

    def __init__(self, *outcomes: ClientError | None) -> None:
        self.outcomes = list(outcomes)
        self.calls = 0

    def transact_write_items(self, **_: Any) -> dict[str, Any]:
        self.calls += 1
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if outcome is not None:
            raise outcome
        return {}


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dynamodb.time, "sleep", lambda _: None)


@pytest.mark.parametrize(
    "reason", ["TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"]
)
def test_a_cancelled_transaction_is_sent_again(reason: str) -> None:
    client = Cancelling(cancelled("None", reason), cancelled(reason, "None"), None)

    assert transact(client, [{}, {}]) == []  # type: ignore[arg-type]
    assert client.calls == 3


def test_throttling_past_the_retries_is_a_503_with_retry_after() -> None:
    client = Cancelling(*[cancelled("ThrottlingError")] * 50)

    with pytest.raises(StoreUnavailable) as unavailable:
        transact(client, [{}])  # type: ignore[arg-type]

    assert unavailable.value.status == 503 and unavailable.value.headers["Retry-After"] == "1"
    assert client.calls == dynamodb._CONFLICT_RETRIES + 1


def test_a_failed_condition_names_its_item_and_is_not_retried() -> None:
    client = Cancelling(cancelled("None", "ConditionalCheckFailed"))

    assert transact(client, [{}, {}]) == [1]  # type: ignore[arg-type]
    assert client.calls == 1
