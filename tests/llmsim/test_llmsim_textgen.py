from __future__ import annotations

from llmsim import textgen


def _digest(content: str, seed: int = 0, request_seed: int | None = None) -> int:
    return textgen.request_digest(
        seed, "gpt-4o-mini", [{"role": "user", "content": content}], request_seed
    )


def test_same_request_same_answer() -> None:
    a = textgen.generate(_digest("hello"), min_tokens=20, max_tokens=120)
    b = textgen.generate(_digest("hello"), min_tokens=20, max_tokens=120)
    assert a == b
    assert 20 <= a.tokens <= 120
    assert a.finish_reason == "stop"
    assert a.text.endswith(".")


def test_prompt_and_seeds_change_the_answer() -> None:
    base = textgen.generate(_digest("hello"), min_tokens=20, max_tokens=120).text
    assert textgen.generate(_digest("hello!"), min_tokens=20, max_tokens=120).text != base
    assert textgen.generate(_digest("hello", seed=1), min_tokens=20, max_tokens=120).text != base
    other = textgen.generate(_digest("hello", request_seed=5), min_tokens=20, max_tokens=120)
    assert other.text != base


def test_cap_truncates_with_finish_reason_length() -> None:
    full = textgen.generate(_digest("q"), min_tokens=50, max_tokens=50)
    capped = textgen.generate(_digest("q"), min_tokens=50, max_tokens=50, cap=7)
    assert capped.tokens == 7
    assert capped.finish_reason == "length"
    assert full.text.startswith(capped.text.rstrip("."))


def test_cap_at_or_above_length_is_a_normal_stop() -> None:
    c = textgen.generate(_digest("q"), min_tokens=10, max_tokens=10, cap=10)
    assert (c.tokens, c.finish_reason) == (10, "stop")


def test_words_come_from_the_vocabulary() -> None:
    c = textgen.generate(_digest("vocab"), min_tokens=100, max_tokens=100)
    vocab = set(textgen.VOCABULARY)
    for word in c.text.split():
        assert word.strip(".").lower() in vocab
