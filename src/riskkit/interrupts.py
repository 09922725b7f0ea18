"""Signals as exceptions: SIGTERM raises :class:`~riskkit.exceptions.Interrupted` as SIGINT raises KeyboardInterrupt,
so whatever is running (a cycle run, an import) can stop its children and remove what it half-wrote."""

from __future__ import annotations

import contextlib
import functools
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from riskkit.exceptions import Interrupted

T = TypeVar("T")


@contextlib.contextmanager
def sigterm_raises() -> Iterator[None]:
    """While the block runs, SIGTERM raises :class:`Interrupted` in the main thread (as SIGINT raises
    KeyboardInterrupt), so the run can stop its kernels and clean up. Elsewhere (threads) a no-op."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def raise_interrupted(signum: int, frame: object) -> None:
        raise Interrupted(signum)

    before = signal.signal(signal.SIGTERM, raise_interrupted)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


def stoppable(fn: Callable[..., T]) -> Callable[..., T]:
    """Run ``fn`` with SIGTERM raising :class:`Interrupted` (see :func:`sigterm_raises`)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        with sigterm_raises():
            return fn(*args, **kwargs)

    return wrapper
