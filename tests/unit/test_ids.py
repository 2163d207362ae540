import uuid
from datetime import UTC, datetime, timedelta

from parley.ids import created_at, is_uuid, uuid7


def test_uuid7_ids_are_version_7_and_strictly_increasing() -> None:
    ids = [uuid7() for _ in range(20_000)]  # many share a millisecond

    assert all(i.version == 7 for i in ids)
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_uuid7_carries_its_creation_time() -> None:
    before = datetime.now(UTC)

    moment = created_at(uuid7())

    assert before - timedelta(milliseconds=2) <= moment <= datetime.now(UTC) + timedelta(milliseconds=2)


def test_is_uuid_accepts_only_the_canonical_form() -> None:
    identifier = str(uuid7())

    assert is_uuid(identifier)
    assert is_uuid(identifier.upper())
    assert not is_uuid(identifier.replace("-", ""))
    assert not is_uuid("not-a-uuid")
    assert not is_uuid("")


def test_any_uuid_has_a_creation_time_even_past_year_9999() -> None:
    far = created_at(uuid.UUID("efb2332f-591e-2b8c-980e-c2221617e224"))

    assert far.year == 9999
