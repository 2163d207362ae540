import uuid
from datetime import UTC, datetime

from parley.ids import IdClock, created_at, is_uuid, uuid7


def test_uuid7_ids_are_version_7_and_strictly_increasing() -> None:
    ids = [uuid7() for _ in range(20_000)]  # many share a millisecond

    assert all(i.version == 7 for i in ids)
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_uuid7_carries_its_creation_time_to_the_millisecond() -> None:
    moment = datetime(2031, 3, 14, 12, 0, 1, 234_567, tzinfo=UTC)
    clock = IdClock(lambda: int(moment.timestamp() * 1_000_000) * 1_000)

    assert created_at(uuid7(clock)) == moment.replace(microsecond=234_000)


def test_ids_made_in_one_millisecond_or_after_the_clock_stepped_back_still_increase() -> None:
    readings = iter([5_000_000_000, 5_000_000_000, 4_000_000_000, 6_000_000_000])
    clock = IdClock(lambda: next(readings))

    ids = [uuid7(clock) for _ in range(4)]

    assert ids == sorted(ids) and len(set(ids)) == 4
    assert [created_at(i) for i in ids[:3]] == [datetime.fromtimestamp(5, UTC)] * 3
    assert created_at(ids[3]) == datetime.fromtimestamp(6, UTC)


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
