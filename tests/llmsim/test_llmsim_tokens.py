from __future__ import annotations

from typing import Any

from llmsim import textgen, tokens


def test_text_tokens_is_ceil_of_quarter_length() -> None:
    assert tokens.text_tokens("") == 0
    assert tokens.text_tokens("a") == 1
    assert tokens.text_tokens("abcd") == 1
    assert tokens.text_tokens("abcde") == 2
    assert tokens.text_tokens("x" * 400) == 100


def test_prompt_tokens_counts_framing_per_message_and_reply_priming() -> None:
    messages = [
        {"role": "system", "content": "You are a tutor."},  # 16 chars -> 4
        {"role": "user", "content": "Explain photosynthesis"},  # 22 chars -> 6
    ]
    assert tokens.prompt_tokens(messages) == 3 + (3 + 4) + (3 + 6)


def test_prompt_tokens_name_parts_and_empty_content() -> None:
    messages: list[dict[str, Any]] = [
        {"role": "user", "name": "ab", "content": None},  # 3 + 1 + 1
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "12345678"},  # 2
                {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},  # 85
            ],
        },
    ]
    assert tokens.prompt_tokens(messages) == 3 + (3 + 1 + 1) + (3 + 2 + 85)


def test_prompt_tokens_is_deterministic() -> None:
    messages = [{"role": "user", "content": "same text every time"}]
    assert tokens.prompt_tokens(messages) == tokens.prompt_tokens(list(messages))


def test_completion_tokens_is_one_per_generated_word() -> None:
    completion = textgen.generate(12345, min_tokens=10, max_tokens=50)
    assert tokens.completion_tokens(completion.text) == completion.tokens
    assert completion.tokens == len(completion.pieces)
