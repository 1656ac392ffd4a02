"""Feature flags for outbound messages, and the gate every outbound message goes through.

Three channels: ``outbound_email`` (AI feedback e-mail to the student), ``notifications``
(in-app push) and ``provider_webhooks`` (course-provider webhook after quiz generation).
All are OFF by default and under test: a blocked message is only counted
(``studyhall_outbound_blocked_total{channel}``). When a flag is on and its URL is set,
the message is POSTed there in the background (perfgate points the URLs at its sink;
any hit is a data-safety violation). The AI kill switch lives here too.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict

from studyhall.metrics import Metrics

Channel = Literal["outbound_email", "notifications", "provider_webhooks"]
CHANNELS: tuple[Channel, ...] = ("outbound_email", "notifications", "provider_webhooks")

log = logging.getLogger("studyhall.flags")


class FlagConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    outbound_email: bool = False
    notifications: bool = False
    provider_webhooks: bool = False
    ai_kill_switch: bool = False


class Outbound:
    """Sends or blocks outbound messages according to the flags."""

    def __init__(self, flags: FlagConfig, urls: dict[Channel, str | None], metrics: Metrics):
        self.flags = flags.model_copy()
        self._urls = urls
        self._metrics = metrics
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.sent = 0

    def update(self, changes: dict[str, Any]) -> FlagConfig:
        self.flags = FlagConfig.model_validate(self.flags.model_dump() | changes)
        return self.flags

    def emit(self, channel: Channel, payload: dict[str, Any]) -> bool:
        """Send (in the background) or block one message; True when it is sent."""
        url = self._urls.get(channel)
        if not getattr(self.flags, channel) or not url:
            self._metrics.outbound_blocked.labels(channel=channel).inc()
            return False
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=5.0)
        task = asyncio.create_task(self._post(self._client, url, channel, payload))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def _post(
        self, client: httpx.AsyncClient, url: str, channel: str, payload: dict[str, Any]
    ) -> None:
        try:
            await client.post(url, json={"channel": channel, **payload})
            self.sent += 1
        except httpx.HTTPError as exc:
            log.warning("outbound %s to %s failed: %s", channel, url, exc)

    async def close(self) -> None:
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=2.0)
            for task in list(self._tasks):
                task.cancel()
        if self._client is not None:
            await self._client.aclose()
            self._client = None
