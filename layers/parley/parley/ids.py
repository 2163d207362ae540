"""Time-ordered identifiers (UUIDv7, RFC 9562) so message keys sort by creation time."""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

_RAND_BITS = 74
_RAND_MASK = (1 << _RAND_BITS) - 1
# A fresh millisecond starts in the lower half of the random space, leaving room to count up.
_FRESH_MASK = _RAND_MASK >> 1


class IdClock:
    """The last (millisecond, random) pair handed out, so the next id sorts after it. `now_ns` is
    the time source (the system's; a test passes its own)."""

    def __init__(self, now_ns: Callable[[], int] = time.time_ns) -> None:
        self.now_ns = now_ns
        self.lock = threading.Lock()
        self.last_ms = 0
        self.last_rand = 0

    def next(self) -> tuple[int, int]:
        with self.lock:
            now_ms = self.now_ns() // 1_000_000
            if now_ms > self.last_ms:
                self.last_ms, self.last_rand = now_ms, _fresh_random()
            else:
                self.last_rand += 1 + (int.from_bytes(os.urandom(4)) & 0xFFFF)
                if self.last_rand > _RAND_MASK:  # random part used up within one ms: borrow the next
                    self.last_ms, self.last_rand = self.last_ms + 1, _fresh_random()
            return self.last_ms, self.last_rand


def _fresh_random() -> int:
    return int.from_bytes(os.urandom(10)) & _FRESH_MASK


_clock = IdClock()


def uuid7(clock: IdClock = _clock) -> uuid.UUID:
    """A UUIDv7 that is strictly increasing within this process.

    Two ids made in the same millisecond (or after the clock stepped back) keep the last
    timestamp and add a small random step to the 74 random bits (RFC 9562 §6.2, method 2),
    so ids from one writer never tie or go backwards.
    """
    ms, rand = clock.next()
    rand_a, rand_b = rand >> 62, rand & ((1 << 62) - 1)
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b
    return uuid.UUID(int=value)


_LAST_MS = int(datetime(9999, 12, 31, tzinfo=UTC).timestamp() * 1000)


def created_at(identifier: uuid.UUID) -> datetime:
    """The creation time a UUIDv7 carries in its first 48 bits. Any UUID has such bits; those that
    would fall after what `datetime` can hold (year 9999) read as its last day."""
    return datetime.fromtimestamp(min(identifier.int >> 80, _LAST_MS) / 1000, tz=UTC)


def is_uuid(text: str) -> bool:
    """Whether `text` is a UUID in its canonical 36-character form."""
    try:
        return str(uuid.UUID(text)) == text.lower() and len(text) == 36
    except ValueError:
        return False


def new_identity() -> tuple[str, int]:
    """The id and creation time (Unix seconds) of one chat completion, as OpenAI names them."""
    return f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
