"""Waiting on a subscription's events under one deadline for the whole wait, not one per event."""

import time
from typing import Any, Optional, Tuple

from ._wire import Subscription
from .errors import TitanTimeoutError


class Deadline(object):
    """A wait of at most ``timeout`` seconds (None: unbounded), counted from its creation."""

    def __init__(self, timeout: Optional[float]) -> None:
        self.timeout = timeout
        self._at = None if timeout is None else time.monotonic() + timeout

    def next_event(self, sub: Subscription, what: str) -> Tuple[str, Any]:
        """The subscription's next ``(event, data)``; TitanTimeoutError ("``what`` did not finish
        within ...") once the deadline has passed, whether before or while waiting."""
        left = None if self._at is None else self._at - time.monotonic()
        if left is not None and left <= 0:
            raise self._late(what)
        try:
            return sub.next(left)
        except TitanTimeoutError:
            raise self._late(what)

    def _late(self, what: str) -> TitanTimeoutError:
        return TitanTimeoutError("{} did not finish within {:g} s".format(what, self.timeout))
