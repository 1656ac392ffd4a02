"""Exact Decimal pricing: provider cost from tokens, billed = markup x provider cost."""

from __future__ import annotations

from decimal import Decimal

from studyhall.settings import ModelPrice

MILLION = Decimal(1_000_000)
ZERO = Decimal(0)


def provider_cost(price: ModelPrice, prompt_tokens: int, completion_tokens: int) -> Decimal:
    cost_in = Decimal(prompt_tokens) * price.input_per_1m
    cost_out = Decimal(completion_tokens) * price.output_per_1m
    return (cost_in + cost_out) / MILLION


def usd(amount: Decimal) -> str:
    """A plain decimal string (never scientific notation), trailing zeros dropped."""
    if amount == 0:
        return "0"
    return format(amount.normalize(), "f")


def estimate_tokens(text: str) -> int:
    """Rough token count (4 characters a token), only for the fallback_bills fault."""
    return max(1, len(text) // 4)
