"""Cost math (exact, in ``Decimal``).

Prices are USD per one million tokens. The cost of one billed call is

    cost = (prompt_tokens * input_per_1m + completion_tokens * output_per_1m) / 10**6

computed as an exact decimal shift (``scaleb(-6)``), so no rounding ever happens:
gpt-4o-mini with 1,000 prompt and 200 completion tokens costs exactly
``0.000270`` USD. Totals are exact sums of these values. Amounts leave the
simulator as plain decimal strings (``usd()``), never floats and never in
exponent notation.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from llmsim.config import ModelPrice


def call_cost(price: ModelPrice, prompt_tokens: int, completion_tokens: int) -> Decimal:
    """The exact USD cost of one call."""
    return (
        Decimal(prompt_tokens) * price.input_per_1m_usd
        + Decimal(completion_tokens) * price.output_per_1m_usd
    ).scaleb(-6)


def usd(amount: Decimal) -> str:
    """The canonical plain decimal string of an amount: no exponent (``"0.00000015"``,
    not ``"1.5E-7"``), no trailing zeros (``"0.0000117"``, not ``"0.00001170"``)."""
    text = format(amount.normalize(), "f")
    return "0" if text == "-0" else text


class PriceTable:
    """model -> price; the models it names are the models the simulator serves."""

    def __init__(self, prices: Mapping[str, ModelPrice]) -> None:
        self._prices = dict(prices)

    @property
    def models(self) -> list[str]:
        return sorted(self._prices)

    def __contains__(self, model: object) -> bool:
        return model in self._prices

    def price(self, model: str) -> ModelPrice:
        return self._prices[model]

    def cost(self, model: str, prompt_tokens: int, completion_tokens: int) -> Decimal:
        return call_cost(self._prices[model], prompt_tokens, completion_tokens)
