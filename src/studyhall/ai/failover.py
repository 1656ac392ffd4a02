"""Key failover: primary first; a *persisting* ``rate_limit_exceeded`` (still limited
after ``rate_limit_retries`` short retries) or any ``insufficient_quota`` (or an auth
error) moves the request to the secondary key (another project) and sidelines the
primary for a while (the provider's ``retry-after`` for rate limits, capped by
``rate_limit_sideline_s``; ``quota_sideline_s`` for quota). Timeouts and 5xx are not
key-specific: they are not failed over, they raise ``ProviderDown`` (the breaker counts
them). ``studyhall_failovers_total`` counts requests sent to the secondary key because
the primary was unavailable (failed or sidelined)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any

from studyhall.ai.provider import KEYS, Completion, KeyName, ProviderClient, ProviderError
from studyhall.metrics import Metrics


class ProviderDown(Exception):
    """The provider failed in a way no other key would fix (timeout, 5xx, network)."""


class KeysExhausted(Exception):
    """Every key is rate limited, out of quota or sidelined."""

    def __init__(self, attempted: bool) -> None:
        super().__init__("every provider key is unavailable")
        self.attempted = attempted


class Failover:
    def __init__(
        self,
        provider: ProviderClient,
        metrics: Metrics,
        *,
        rate_limit_retries: int = 1,
        rate_limit_backoff_s: float = 0.2,
        rate_limit_sideline_s: float = 5.0,
        quota_sideline_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._provider = provider
        self._metrics = metrics
        self.rate_limit_retries = rate_limit_retries
        self.rate_limit_backoff_s = rate_limit_backoff_s
        self.rate_limit_sideline_s = rate_limit_sideline_s
        self.quota_sideline_s = quota_sideline_s
        self._clock = clock
        self._sidelined_until: dict[KeyName, float] = {}

    def sidelined(self) -> dict[str, float]:
        """Seconds left per sidelined key."""
        now = self._clock()
        return {k: round(t - now, 3) for k, t in self._sidelined_until.items() if t > now}

    def _available(self, key: KeyName) -> bool:
        return self._sidelined_until.get(key, 0.0) <= self._clock()

    def _sideline(self, key: KeyName, seconds: float) -> None:
        if seconds > 0:
            self._sidelined_until[key] = self._clock() + seconds

    async def complete(
        self, *, model: str, messages: Sequence[dict[str, Any]], max_tokens: int
    ) -> Completion:
        attempted = False
        for key in KEYS:
            if not self._available(key):
                continue
            if key != "primary":
                self._metrics.failovers.inc()
            retries = 0
            while True:
                attempted = True
                try:
                    result = await self._provider.complete(
                        key, model=model, messages=messages, max_tokens=max_tokens
                    )
                except ProviderError as exc:
                    self._metrics.provider_requests.labels(key=key, outcome=exc.outcome).inc()
                    if exc.kind == "rate_limited":
                        if retries < self.rate_limit_retries:
                            retries += 1
                            wait = self.rate_limit_backoff_s
                            if exc.retry_after is not None:
                                wait = min(wait, exc.retry_after)
                            await asyncio.sleep(wait)
                            continue
                        sideline = self.rate_limit_sideline_s
                        if exc.retry_after is not None:
                            sideline = min(sideline, exc.retry_after)
                        self._sideline(key, sideline)
                        break
                    if exc.kind in ("quota", "auth"):
                        self._sideline(key, self.quota_sideline_s)
                        break
                    raise ProviderDown(str(exc)) from exc
                self._metrics.provider_requests.labels(key=key, outcome="ok").inc()
                return result
        raise KeysExhausted(attempted)
