"""The provider seam: one ``AsyncOpenAI`` client per API key (official SDK, SDK retries
off: our failover policy decides), errors classified into the outcomes we count:
``ok``, ``rate_limited``, ``quota``, ``timeout``, ``error``."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import httpx2
import openai
from openai import AsyncOpenAI

KeyName = Literal["primary", "secondary"]
KEYS: tuple[KeyName, ...] = ("primary", "secondary")
ErrorKind = Literal["rate_limited", "quota", "auth", "timeout", "error"]


@dataclass(frozen=True)
class Completion:
    text: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    key: KeyName


class ProviderError(Exception):
    def __init__(self, kind: ErrorKind, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.retry_after = retry_after

    @property
    def outcome(self) -> str:
        """The ``outcome`` label of ``studyhall_provider_requests_total``."""
        return "error" if self.kind == "auth" else self.kind


def _retry_after(exc: openai.APIStatusError) -> float | None:
    headers = exc.response.headers
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value:
            try:
                return float(value) / scale
            except ValueError:
                continue
    return None


def classify(exc: Exception) -> ProviderError:
    if isinstance(exc, openai.RateLimitError):
        if exc.code == "insufficient_quota" or exc.type == "insufficient_quota":
            return ProviderError("quota", str(exc))
        return ProviderError("rate_limited", str(exc), _retry_after(exc))
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return ProviderError("auth", str(exc))
    if isinstance(exc, openai.APITimeoutError):
        return ProviderError("timeout", "provider timed out")
    if isinstance(exc, openai.APIConnectionError):
        return ProviderError("error", f"connection error: {exc}")
    if isinstance(exc, openai.APIStatusError):
        return ProviderError("error", f"HTTP {exc.status_code}: {exc}")
    return ProviderError("error", f"{type(exc).__name__}: {exc}")


class ProviderClient:
    def __init__(
        self,
        *,
        base_url: str,
        api_keys: dict[KeyName, str],
        timeout_s: float,
        http_client: httpx2.AsyncClient | None = None,
    ) -> None:
        """``http_client`` (tests) is shared by both keys and owned by the caller."""
        self._owns_http = http_client is None
        self._timeout_s = timeout_s
        self._clients: dict[KeyName, AsyncOpenAI] = {
            name: AsyncOpenAI(
                base_url=base_url, api_key=key, max_retries=0, timeout=timeout_s,
                http_client=http_client,
            )
            for name, key in api_keys.items()
        }

    async def complete(
        self,
        key: KeyName,
        *,
        model: str,
        messages: Sequence[dict[str, Any]],
        max_tokens: int,
    ) -> Completion:
        try:
            # the SDK timeout is per I/O phase; this bounds the whole call too
            async with asyncio.timeout(self._timeout_s):
                response = await self._clients[key].chat.completions.create(
                    model=model, messages=list(messages), max_tokens=max_tokens,  # type: ignore[arg-type]
                )
        except TimeoutError:
            raise ProviderError("timeout", "provider timed out") from None
        except openai.OpenAIError as exc:
            raise classify(exc) from exc
        usage = response.usage
        text = response.choices[0].message.content or "" if response.choices else ""
        return Completion(
            text=text,
            model=response.model or model,
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
            key=key,
        )

    async def close(self) -> None:
        if self._owns_http:
            for client in self._clients.values():
                await client.close()
