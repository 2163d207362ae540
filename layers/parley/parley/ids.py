"""Time-ordered identifiers (UUIDv7, RFC 9562) so message keys sort by creation time."""

from __future__ import annotations

import os
import threading
import time
import uuid
from datetime import UTC, datetime

_RAND_BITS = 74
_RAND_MASK = (1 << _RAND_BITS) - 1
# A fresh millisecond starts in the lower half of the random space, leaving room to count up.
_FRESH_MASK = _RAND_MASK >> 1
_lock = threading.Lock()
_last_ms = 0
_last_rand = 0


def uuid7() -> uuid.UUID:
    """A UUIDv7 that is strictly increasing within this process.

    Two ids made in the same millisecond (or after the clock stepped back) keep the last
    timestamp and add a small random step to the 74 random bits (RFC 9562 §6.2, method 2),
    so ids from one writer never tie or go backwards.
    """
    global _last_ms, _last_rand
    with _lock:
        now_ms = time.time_ns() // 1_000_000
        if now_ms > _last_ms:
            _last_ms, _last_rand = now_ms, int.from_bytes(os.urandom(10)) & _FRESH_MASK
        else:
            _last_rand += 1 + (int.from_bytes(os.urandom(4)) & 0xFFFF)
            if _last_rand > _RAND_MASK:  # random part exhausted within one ms: borrow the next ms
                _last_ms, _last_rand = _last_ms + 1, int.from_bytes(os.urandom(10)) & _FRESH_MASK
        ms, rand = _last_ms, _last_rand
    rand_a, rand_b = rand >> 62, rand & ((1 << 62) - 1)
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b
    return uuid.UUID(int=value)


def created_at(identifier: uuid.UUID) -> datetime:
    """The creation time a UUIDv7 carries in its first 48 bits."""
    return datetime.fromtimestamp((identifier.int >> 80) / 1000, tz=UTC)


def is_uuid(text: str) -> bool:
    """Whether `text` is a UUID in its canonical 36-character form."""
    try:
        return str(uuid.UUID(text)) == text.lower() and len(text) == 36
    except ValueError:
        return False
