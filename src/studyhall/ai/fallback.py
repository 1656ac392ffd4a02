"""Fallbacks when the provider path is unavailable: a cached answer (same input seen
before and answered by the provider), else an extractive answer built from the input
itself. Neither makes a provider call; both bill 0 (unless the ``fallback_bills`` fault)."""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]+")
_STOP = frozenset((
    "the", "a", "an", "and", "or", "of", "to", "in", "on", "for", "with", "is", "are", "was",
    "were", "be", "been", "this", "that", "it", "as", "at", "by", "from", "into", "their",
    "they", "we", "you", "my", "our", "your", "his", "her", "its", "not", "but", "so", "if",
    "then", "than", "there", "which", "what", "when", "also", "have", "has", "more", "very",
))


@dataclass(frozen=True)
class CachedAnswer:
    payload: dict[str, Any]
    model: str


class AnswerCache:
    """A small LRU of provider answers keyed by a digest of the normalized input."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[str, CachedAnswer] = OrderedDict()

    @staticmethod
    def key(*parts: object) -> str:
        raw = "\x1f".join(" ".join(str(p).lower().split()) for p in parts)
        return hashlib.sha256(raw.encode()).hexdigest()

    def get(self, key: str) -> CachedAnswer | None:
        item = self._items.get(key)
        if item is not None:
            self._items.move_to_end(key)
        return item

    def put(self, key: str, answer: CachedAnswer) -> None:
        if self.size <= 0:
            return
        self._items[key] = answer
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text.strip()) if s.strip()]


def keywords(text: str, n: int = 5) -> list[str]:
    counts: dict[str, int] = {}
    for word in _WORD.findall(text.lower()):
        if word not in _STOP and len(word) > 3:
            counts[word] = counts.get(word, 0) + 1
    return [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]


def extractive_feedback(text: str) -> str:
    sentences = _sentences(text)
    words = len(text.split())
    if not sentences:
        return "No text was submitted, so there is nothing to give feedback on yet."
    longest = max(sentences, key=len)
    parts = [
        f"Your text has {words} words in {len(sentences)} sentences.",
        f"Main ideas: {', '.join(keywords(text)) or 'none found'}.",
        f'It opens with: "{sentences[0][:160]}"',
    ]
    if longest is not sentences[0]:
        parts.append(f'Consider splitting your longest sentence: "{longest[:160]}"')
    return " ".join(parts)


def extractive_questions(course: dict[str, Any], count: int) -> list[str]:
    title = str(course.get("title", "this course"))
    sentences = _sentences(str(course.get("description", ""))) or [title]
    terms = keywords(f"{title} {course.get('description', '')}", n=max(count, 3)) or ["it"]
    questions = []
    for i in range(count):
        sentence = sentences[i % len(sentences)].rstrip(".")
        term = terms[i % len(terms)]
        questions.append(f"In {title}, what role does '{term}' play? ({sentence}.)")
    return questions
