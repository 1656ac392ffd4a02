"""Token counting: a deterministic estimate, not a real tokenizer.

Prompt tokens (what ``usage.prompt_tokens`` reports and what is billed):

* text tokens of a string ``s`` = ``ceil(len(s) / 4)`` (the "one token is about
  four characters of English" rule of thumb; the empty string is 0 tokens);
* each message costs ``3`` tokens of framing + the text tokens of its content
  (+ ``1`` + the text tokens of its ``name`` when present);
* a content given as a list of parts counts the text of its ``text`` parts; any
  other part (an image, audio) counts a flat ``85`` tokens;
* ``3`` more tokens prime the assistant's reply.

The framing constants are the ones OpenAI's cookbook gives for the gpt-4o family,
so the estimate lands in the same range as the real count.

Completion tokens: the generated text is made of vocabulary words (see
:mod:`llmsim.textgen`) and every word, with its attached space or punctuation, is
exactly one token; so ``completion_tokens`` is the word count of the answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING_TOKENS = 3
NON_TEXT_PART_TOKENS = 85


def text_tokens(text: str) -> int:
    """``ceil(len(text) / 4)``."""
    return -(-len(text) // 4)


def content_tokens(content: Any) -> int:
    """Tokens of a message ``content``: a string, a list of parts, or nothing."""
    if content is None:
        return 0
    if isinstance(content, str):
        return text_tokens(content)
    if isinstance(content, list):
        total = 0
        for part in content:
            if isinstance(part, Mapping) and part.get("type") == "text":
                text = part.get("text")
                total += text_tokens(text if isinstance(text, str) else "")
            elif isinstance(part, str):
                total += text_tokens(part)
            else:
                total += NON_TEXT_PART_TOKENS
        return total
    return text_tokens(str(content))


def prompt_tokens(messages: Iterable[Mapping[str, Any]]) -> int:
    """The prompt token estimate of a chat request's ``messages``."""
    total = REPLY_PRIMING_TOKENS
    for message in messages:
        total += TOKENS_PER_MESSAGE + content_tokens(message.get("content"))
        name = message.get("name")
        if isinstance(name, str) and name:
            total += TOKENS_PER_NAME + text_tokens(name)
    return total


def completion_tokens(text: str) -> int:
    """Tokens of a text produced by :mod:`llmsim.textgen` (one per word)."""
    return len(text.split())
