"""Processes the local tooling starts die with the process that started them, however it ends
(an interrupted or killed test run, a `make dev` killed with SIGKILL): on Linux the kernel sends
the child SIGTERM when its parent goes (prctl PR_SET_PDEATHSIG). The signal follows the thread
that started the child, so only services started from a process's main thread use it; the Lambda
containers, started from request threads, stop when their standard input closes instead, and so
does the OpenSearch node."""

from __future__ import annotations

import ctypes
import signal
import sys
import threading
from collections.abc import Callable

_PR_SET_PDEATHSIG = 1
# Loaded here, in the parent: between fork and exec the child only makes the one call, taking
# no lock (no import, no logging), which is what makes a preexec_fn safe with threads about.
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None


def _die_with_parent() -> None:
    assert _LIBC is not None
    _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def tied_to_this_process() -> Callable[[], None] | None:
    """A `preexec_fn` for subprocess.Popen: the child gets SIGTERM when this process ends. None
    where that is not available (not Linux) or not safe (not the main thread, whose end is not
    the process's)."""
    if sys.platform != "linux" or threading.current_thread() is not threading.main_thread():
        return None
    return _die_with_parent
