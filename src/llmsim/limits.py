"""Per-project rate limits: a sliding window log.

Semantics (``W`` is ``window_s``, 60 s by default; RPM and TPM mean "per ``W``"):

* Every *admitted* completion call is logged at its arrival time ``t`` with its
  token count (prompt + completion; the simulator knows the completion length
  before it answers, so it counts the actual total, not ``max_tokens`` as the
  real provider does). An entry counts while ``now < t + W``.
* A call is admitted iff ``requests_in_window + 1 <= rpm`` and
  ``tokens_in_window + its_tokens <= tpm``. The request limit is checked first,
  so a call over both limits is a ``requests`` denial. Denied calls are not
  logged (they do not consume the window).
* A call whose own tokens exceed ``tpm`` can never fit: it is denied as
  ``tokens`` and told to wait a whole window.
* ``retry_after``: the time until enough logged entries expire for the denied
  call to fit.
* ``x-ratelimit-remaining-*`` = limit - usage in the window, after the current
  call is counted (never below 0).
* ``x-ratelimit-reset-*`` = the time until the window is back to its initial
  (empty) state, i.e. until the newest counted entry expires; ``0s`` when empty.

The functions take ``now`` (monotonic seconds) explicitly, so they are tested on
a fake clock. Calls happen on one event loop without awaiting in between, so no
lock is needed.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Literal

LimitKind = Literal["requests", "tokens"]


class SlidingWindow:
    """A log of (time, amount) entries over the last ``window_s`` seconds."""

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._entries: deque[tuple[float, int]] = deque()
        self._used = 0

    def _expire(self, now: float) -> None:
        entries = self._entries
        while entries and entries[0][0] + self.window_s <= now:
            _, amount = entries.popleft()
            self._used -= amount

    def used(self, now: float) -> int:
        self._expire(now)
        return self._used

    def add(self, now: float, amount: int) -> None:
        self._expire(now)
        self._entries.append((now, amount))
        self._used += amount

    def wait_to_fit(self, now: float, amount: int, limit: int) -> float | None:
        """Seconds until ``amount`` more fits under ``limit``: 0 if it fits now, ``None``
        if it never can (``amount > limit``)."""
        if amount > limit:
            return None
        self._expire(now)
        excess = self._used + amount - limit
        if excess <= 0:
            return 0.0
        freed = 0
        for t, entry_amount in self._entries:
            freed += entry_amount
            if freed >= excess:
                return t + self.window_s - now
        raise AssertionError("unreachable: the window holds more than the excess")

    def wait_to_empty(self, now: float) -> float:
        self._expire(now)
        if not self._entries:
            return 0.0
        return self._entries[-1][0] + self.window_s - now

    def clear(self) -> None:
        self._entries.clear()
        self._used = 0


@dataclass(frozen=True)
class RateLimitSnapshot:
    """The values of the six ``x-ratelimit-*`` headers."""

    limit_requests: int
    limit_tokens: int
    remaining_requests: int
    remaining_tokens: int
    reset_requests_s: float
    reset_tokens_s: float


@dataclass(frozen=True)
class Denied:
    kind: LimitKind
    limit: int
    used: int
    requested: int
    retry_after_s: float
    too_large: bool = False


class ProjectLimiter:
    """The RPM and TPM windows of one project."""

    def __init__(self, *, rpm: int, tpm: int, window_s: float) -> None:
        self.rpm = rpm
        self.tpm = tpm
        self.window_s = window_s
        self._requests = SlidingWindow(window_s)
        self._tokens = SlidingWindow(window_s)

    def try_acquire(self, now: float, tokens: int) -> Denied | None:
        """Admit (and log) one call of ``tokens`` tokens, or say why not."""
        wait = self._requests.wait_to_fit(now, 1, self.rpm)
        if wait is None or wait > 0:
            return Denied(
                kind="requests",
                limit=self.rpm,
                used=self._requests.used(now),
                requested=1,
                retry_after_s=self.window_s if wait is None else wait,
                too_large=wait is None,
            )
        wait = self._tokens.wait_to_fit(now, tokens, self.tpm)
        if wait is None or wait > 0:
            return Denied(
                kind="tokens",
                limit=self.tpm,
                used=self._tokens.used(now),
                requested=tokens,
                retry_after_s=self.window_s if wait is None else wait,
                too_large=wait is None,
            )
        self._requests.add(now, 1)
        self._tokens.add(now, tokens)
        return None

    def snapshot(self, now: float) -> RateLimitSnapshot:
        return RateLimitSnapshot(
            limit_requests=self.rpm,
            limit_tokens=self.tpm,
            remaining_requests=max(self.rpm - self._requests.used(now), 0),
            remaining_tokens=max(self.tpm - self._tokens.used(now), 0),
            reset_requests_s=self._requests.wait_to_empty(now),
            reset_tokens_s=self._tokens.wait_to_empty(now),
        )

    def clear(self) -> None:
        self._requests.clear()
        self._tokens.clear()
