"""Deterministic completion text.

The answer to a request is a pure function of the simulator seed, the model, the
messages and the request's own ``seed``: the same request always gets the same
text, so runs are reproducible and caches in the system under test behave as
they would with a real model at temperature 0.

Words come from a fixed, neutral study-themed vocabulary (no names, no personal
data). Each word (with its leading space and any punctuation) is one token.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

VOCABULARY: tuple[str, ...] = (
    "the", "a", "of", "and", "to", "in", "is", "for", "with", "this", "that", "each",
    "answer", "question", "topic", "lesson", "chapter", "course", "module", "unit",
    "review", "summary", "example", "method", "concept", "idea", "result", "step",
    "practice", "exercise", "quiz", "feedback", "draft", "essay", "paragraph",
    "argument", "evidence", "source", "claim", "structure", "clarity", "detail",
    "explain", "compare", "describe", "consider", "improve", "revise", "support",
    "define", "apply", "check", "note", "focus", "expand", "connect", "organize",
    "clear", "strong", "brief", "useful", "careful", "simple", "precise", "main",
    "key", "next", "first", "second", "final", "overall", "specific", "general",
    "well", "more", "less", "also", "then", "here", "often", "again", "together",
    "reader", "writer", "learner", "study", "notes", "outline", "thesis", "point",
    "section", "figure", "table", "formula", "problem", "solution", "proof", "case",
)

_SENTENCE_MIN = 6
_SENTENCE_MAX = 14


@dataclass(frozen=True)
class Completion:
    """A generated answer, split into the pieces that are streamed one by one."""

    pieces: tuple[str, ...]
    finish_reason: str  # "stop" or "length"

    @property
    def text(self) -> str:
        return "".join(self.pieces)

    @property
    def tokens(self) -> int:
        return len(self.pieces)


def request_digest(seed: int, model: str, messages: Sequence[Any], request_seed: int | None) -> int:
    """A 64-bit seed for one request's answer (stable across processes and Python versions)."""
    canonical = json.dumps(
        [seed, model, list(messages), request_seed],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return int.from_bytes(hashlib.sha256(canonical.encode("utf-8")).digest()[:8], "big")


def generate(
    digest: int, *, min_tokens: int, max_tokens: int, cap: int | None = None
) -> Completion:
    """An answer of ``min_tokens..max_tokens`` tokens, truncated at ``cap`` (``max_tokens``
    of the request) with ``finish_reason="length"``."""
    rng = random.Random(digest)
    wanted = rng.randint(min_tokens, max_tokens)
    count = wanted if cap is None else min(wanted, cap)
    pieces: list[str] = []
    left_in_sentence = 0
    for i in range(count):
        word = rng.choice(VOCABULARY)
        if left_in_sentence == 0:
            left_in_sentence = rng.randint(_SENTENCE_MIN, _SENTENCE_MAX)
            word = word.capitalize()
        left_in_sentence -= 1
        # Close sentences, and always close the answer when the model chose to stop.
        if left_in_sentence == 0 or (i == wanted - 1):
            word += "."
        pieces.append(word if i == 0 else " " + word)
    return Completion(pieces=tuple(pieces), finish_reason="stop" if count == wanted else "length")
