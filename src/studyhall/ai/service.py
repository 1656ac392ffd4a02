"""The AI use cases (analyze, generate): kill switch -> breaker -> failover -> provider,
else fallback (cache, then extractive); billing and the target-contract headers.

Headers on every AI answer: ``X-AI-Path`` (provider|cache|extractive), ``X-AI-Model``,
``X-AI-Prompt-Tokens``, ``X-AI-Completion-Tokens``, ``X-AI-Provider-Cost-USD``,
``X-AI-Billed-USD`` (markup x provider cost, exact Decimal), ``X-AI-Provider-Key``
(primary|secondary; ``none`` on fallbacks) and, on fallbacks, ``X-AI-Fallback-Reason``
(kill_switch|breaker_open|provider_error|keys_exhausted). Fallbacks report 0 tokens,
0 provider cost and bill 0, except under the deliberate ``fallback_bills`` fault.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from studyhall.ai.breaker import CircuitBreaker
from studyhall.ai.failover import Failover, KeysExhausted, ProviderDown
from studyhall.ai.fallback import (
    AnswerCache,
    CachedAnswer,
    extractive_feedback,
    extractive_questions,
)
from studyhall.ai.pricing import ZERO, estimate_tokens, provider_cost, usd
from studyhall.billing import BillingLedger
from studyhall.faults import Faults
from studyhall.metrics import Metrics
from studyhall.settings import Settings

MAX_INPUT_CHARS = 8000
_NUMBERING = re.compile(r"^\s*(?:[-*•]|\d+[.)]|Q\d+[:.)])\s*")


class KillSwitchActive(Exception):
    """The AI kill switch is on and ``kill_switch_mode`` is ``503``."""


@dataclass(frozen=True)
class AIResult:
    payload: dict[str, Any]
    path: str
    model: str
    key: str | None
    prompt_tokens: int
    completion_tokens: int
    provider_cost: Decimal
    billed: Decimal
    fallback_reason: str | None = None

    def headers(self) -> dict[str, str]:
        headers = {
            "X-AI-Path": self.path,
            "X-AI-Model": self.model,
            "X-AI-Prompt-Tokens": str(self.prompt_tokens),
            "X-AI-Completion-Tokens": str(self.completion_tokens),
            "X-AI-Provider-Cost-USD": usd(self.provider_cost),
            "X-AI-Billed-USD": usd(self.billed),
            "X-AI-Provider-Key": self.key or "none",
        }
        if self.fallback_reason:
            headers["X-AI-Fallback-Reason"] = self.fallback_reason
        return headers


def parse_questions(text: str, count: int) -> list[str]:
    lines = (_NUMBERING.sub("", ln).strip() for ln in text.splitlines())
    return [ln for ln in lines if ln][:count]


class AIService:
    def __init__(
        self,
        *,
        settings: Settings,
        failover: Failover,
        breaker: CircuitBreaker,
        cache: AnswerCache,
        ledger: BillingLedger,
        metrics: Metrics,
        faults: Faults,
        kill_switch: Callable[[], bool],
    ) -> None:
        self._settings = settings
        self._failover = failover
        self.breaker = breaker
        self.cache = cache
        self._ledger = ledger
        self._metrics = metrics
        self._faults = faults
        self._kill_switch = kill_switch

    async def analyze(self, request_id: str, student: dict[str, Any], text: str) -> AIResult:
        text = text[:MAX_INPUT_CHARS]
        messages = [
            {"role": "system", "content": "You are a supportive writing tutor. Give concise "
             "feedback on the student's text: two strengths and one concrete improvement."},
            {"role": "user", "content": f"Student: {student['name']} (grade "
             f"{student['grade_level']}).\nText:\n{text}"},
        ]
        return await self._run(
            request_id, "analyze", AnswerCache.key("analyze", text), messages,
            self._settings.analyze_max_tokens,
            lambda out: {"student_id": student["id"], "feedback": out},
            lambda: {"student_id": student["id"], "feedback": extractive_feedback(text)},
            text,
        )

    async def generate(self, request_id: str, course: dict[str, Any], count: int) -> AIResult:
        messages = [
            {"role": "system", "content": "You write quiz questions for a course. Answer with "
             "one question per line and nothing else."},
            {"role": "user", "content": f"Course: {course['title']} ({course['topic']}, "
             f"{course['level']}).\n{course['description']}\nWrite {count} questions."},
        ]
        max_tokens = min(self._settings.generate_max_tokens, 80 * count)

        def from_provider(out: str) -> dict[str, Any]:
            questions = parse_questions(out, count)
            if len(questions) < count:
                questions += extractive_questions(course, count)[len(questions):]
            return {"course_id": course["id"], "questions": questions}

        return await self._run(
            request_id, "generate", AnswerCache.key("generate", course["id"], count), messages,
            max_tokens, from_provider,
            lambda: {"course_id": course["id"], "questions": extractive_questions(course, count)},
            messages[1]["content"],
        )

    async def _run(
        self,
        request_id: str,
        endpoint: str,
        cache_key: str,
        messages: list[dict[str, Any]],
        max_tokens: int,
        build: Callable[[str], dict[str, Any]],
        build_extractive: Callable[[], dict[str, Any]],
        prompt_text: str,
    ) -> AIResult:
        if self._kill_switch():
            if self._settings.kill_switch_mode == "503":
                raise KillSwitchActive()
            return self._fallback(request_id, endpoint, cache_key, build_extractive,
                                  prompt_text, "kill_switch")
        if not self.breaker.allow():
            return self._fallback(request_id, endpoint, cache_key, build_extractive,
                                  prompt_text, "breaker_open")
        try:
            completion = await self._failover.complete(
                model=self._settings.model, messages=messages, max_tokens=max_tokens
            )
        except KeysExhausted as exc:
            if exc.attempted:
                self.breaker.record_failure()
            else:
                self.breaker.release()
            return self._fallback(request_id, endpoint, cache_key, build_extractive,
                                  prompt_text, "keys_exhausted")
        except ProviderDown:
            self.breaker.record_failure()
            return self._fallback(request_id, endpoint, cache_key, build_extractive,
                                  prompt_text, "provider_error")
        except (asyncio.CancelledError, Exception):
            self.breaker.release()
            raise
        self.breaker.record_success()
        payload = build(completion.text)
        self.cache.put(cache_key, CachedAnswer(payload=payload, model=completion.model))
        price = self._settings.prices.get(completion.model, self._settings.price)
        cost = provider_cost(price, completion.prompt_tokens, completion.completion_tokens)
        result = AIResult(
            payload=payload, path="provider", model=completion.model, key=completion.key,
            prompt_tokens=completion.prompt_tokens,
            completion_tokens=completion.completion_tokens,
            provider_cost=cost, billed=cost * self._settings.markup,
        )
        self._record(request_id, endpoint, result)
        return result

    def _fallback(
        self,
        request_id: str,
        endpoint: str,
        cache_key: str,
        build_extractive: Callable[[], dict[str, Any]],
        prompt_text: str,
        reason: str,
    ) -> AIResult:
        cached = self.cache.get(cache_key)
        if cached is not None:
            path, model, payload = "cache", cached.model, cached.payload
        else:
            path, model, payload = "extractive", "extractive", build_extractive()
        billed = ZERO
        if self._faults.config.fallback_bills:  # the deliberate bug perfgate must catch
            answer_text = str(payload)
            billed = self._settings.markup * provider_cost(
                self._settings.price, estimate_tokens(prompt_text), estimate_tokens(answer_text)
            )
        self._metrics.fallbacks.labels(path=path).inc()
        result = AIResult(
            payload=payload, path=path, model=model, key=None, prompt_tokens=0,
            completion_tokens=0, provider_cost=ZERO, billed=billed, fallback_reason=reason,
        )
        self._record(request_id, endpoint, result)
        return result

    def _record(self, request_id: str, endpoint: str, result: AIResult) -> None:
        self._ledger.record(
            request_id=request_id, endpoint=endpoint, path=result.path, key=result.key,
            model=result.model, prompt_tokens=result.prompt_tokens,
            completion_tokens=result.completion_tokens,
            provider_cost=result.provider_cost, billed=result.billed,
        )
