"""The cost budget: worst-case reservations, the per-call ledger, the markup checks.

Money is ``Decimal`` throughout; nothing is rounded. Prices are USD per 1M tokens::

    worst case  = (prompt_tokens x input + max_tokens x output) / 10**6   (the plan's sizes)
    provider    = (prompt x input + completion x output) / 10**6          (the response's
                                                                          tokens, the
                                                                          plan's price)
    billed must = markup x provider      on the provider path
    billed must = 0                      on a cache or extractive fallback

**The cap.** Before an AI request is sent, ``try_reserve(worst)`` admits it only if
``spent + reserved + worst <= hard cap`` and then adds ``worst`` to ``reserved``. The
check and the update happen with no ``await`` between them, and every request of a run
goes through one event loop, so concurrent sends cannot both pass on the same headroom:
``spent`` can never exceed the cap as long as each call costs at most its reservation.
When the response arrives its reservation is released and its real cost added to
``spent``. A call whose response never arrives (timeout, reset, cancelled at the stop)
may still have been made and billed by the provider, so its whole reservation stays
spent ("unresolved"). A call that costs more than its reservation (the plan's
``prompt_tokens`` was not a true upper bound) is counted as ``over_reservation`` and is
the one way ``spent`` could pass the cap: the finding says the envelope is wrong.

**Findings** (counted per kind, the first ``EXAMPLES`` kept with the evidence):
``markup_mismatch``, ``cost_mismatch`` (reported provider cost != tokens x price),
``fallback_billed``, ``unknown_model``, ``unknown_path``, ``missing_headers``,
``malformed_headers``, ``over_reservation``.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from perfgate.guards.spec import BudgetSpec, ModelPriceSpec

__all__ = ["Budget", "PlateauCost", "Reservation", "call_cost"]

MILLION = Decimal(1_000_000)
ZERO = Decimal(0)
EXAMPLES = 5
FALLBACK_PATHS = ("cache", "extractive")


def call_cost(price: ModelPriceSpec, prompt_tokens: int, completion_tokens: int) -> Decimal:
    return (Decimal(prompt_tokens) * price.input_per_1m
            + Decimal(completion_tokens) * price.output_per_1m) / MILLION


def usd(amount: Decimal) -> str:
    text = format(amount.normalize(), "f")
    return "0" if text in ("0", "-0") else text


@dataclass(frozen=True)
class Reservation:
    id: int
    amount: Decimal
    endpoint: str
    request_id: str
    plateau: str


@dataclass
class PlateauCost:
    ai_calls: int = 0  # answered AI calls (any path)
    provider_calls: int = 0
    fallback_calls: int = 0
    provider_cost: Decimal = ZERO  # recomputed, realized
    billed: Decimal = ZERO
    fallback_billed: Decimal = ZERO
    markup_mismatches: int = 0  # markup or reported-cost mismatches on provider calls
    unresolved: int = 0
    unresolved_usd: Decimal = ZERO
    refused: int = 0
    cost_sq: float = 0.0  # sum of squared per-call costs (for the $/AI call interval)

    def to_dict(self) -> dict[str, Any]:
        return {k: usd(v) if isinstance(v, Decimal) else v for k, v in self.__dict__.items()}


@dataclass
class Budget:
    spec: BudgetSpec
    realized: Decimal = ZERO
    unresolved: Decimal = ZERO
    reserved: Decimal = ZERO
    billed: Decimal = ZERO
    killed: bool = False
    refused: int = 0
    plateaus: dict[str, PlateauCost] = field(default_factory=dict)
    findings: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=itertools.count)
    _open: dict[int, Reservation] = field(default_factory=dict)

    @property
    def spent(self) -> Decimal:
        """What counts against the cap: realized cost plus unresolved reservations."""
        return self.realized + self.unresolved

    @property
    def cap(self) -> Decimal:
        return self.spec.hard_cap_usd

    def worst_case(self, prompt_tokens: int, max_tokens: int) -> Decimal:
        return call_cost(self.spec.prices[self.spec.model], prompt_tokens, max_tokens)

    def plateau(self, plateau: str) -> PlateauCost:
        return self.plateaus.setdefault(plateau, PlateauCost())

    def try_reserve(self, amount: Decimal, endpoint: str, request_id: str, plateau: str
                    ) -> Reservation | None:
        """Admit a send (None: it would pass the cap, or the kill switch is on)."""
        # No await in here: the check and the reservation are one step of the loop.
        if self.killed or self.realized + self.unresolved + self.reserved + amount > self.cap:
            self.refused += 1
            self.plateau(plateau).refused += 1
            return None
        res = Reservation(next(self._ids), amount, endpoint, request_id, plateau)
        self._open[res.id] = res
        self.reserved += amount
        return res

    def _release(self, res: Reservation) -> None:
        if self._open.pop(res.id, None) is not None:
            self.reserved -= res.amount

    def settle_unknown(self, res: Reservation, reason: str) -> dict[str, Any]:
        """No response: the reservation stays spent (the provider may have billed it)."""
        self._release(res)
        self.unresolved += res.amount
        pc = self.plateau(res.plateau)
        pc.unresolved += 1
        pc.unresolved_usd += res.amount
        return {"request_id": res.request_id, "plateau": res.plateau,
                "endpoint": res.endpoint, "reserved_usd": usd(res.amount),
                "finding": "unresolved", "note": reason[:200]}

    def close_open(self, reason: str) -> list[dict[str, Any]]:
        """Settle every reservation still open (requests abandoned at the stop) as
        unresolved; return their ledger rows."""
        return [self.settle_unknown(res, reason) for res in list(self._open.values())]

    def settle(self, res: Reservation, status: int, headers: Mapping[str, str]
               ) -> dict[str, Any]:
        """Record the answered call; return its ledger row (see ``schema.LEDGER_COLUMNS``)."""
        self._release(res)
        h = {k.lower(): v for k, v in headers.items()}
        names = self.spec.headers
        row: dict[str, Any] = {"request_id": res.request_id, "plateau": res.plateau,
                               "endpoint": res.endpoint, "status": status,
                               "reserved_usd": usd(res.amount)}
        path = h.get(names.path.lower())
        if path is None:
            return self._finding(row, "missing_headers", f"no {names.path} (HTTP {status})")
        try:
            prompt = int(h.get(names.prompt_tokens.lower(), "0"))
            completion = int(h.get(names.completion_tokens.lower(), "0"))
            reported = Decimal(h.get(names.provider_cost.lower(), "0"))
            billed = Decimal(h.get(names.billed.lower(), "0"))
        except (ValueError, InvalidOperation):
            return self._finding(row, "malformed_headers", "unparseable token or USD header")
        model = h.get(names.model.lower(), "")
        row.update(path=path, model=model, provider_key=h.get(names.provider_key.lower()),
                   prompt_tokens=prompt, completion_tokens=completion,
                   header_cost_usd=usd(reported), billed_usd=usd(billed))
        pc = self.plateau(res.plateau)
        pc.ai_calls += 1
        self.billed += billed
        pc.billed += billed
        if path in FALLBACK_PATHS:
            pc.fallback_calls += 1
            row.update(provider_cost_usd="0", expected_billed_usd="0")
            if billed != 0:
                pc.fallback_billed += billed
                return self._finding(row, "fallback_billed", f"{path} answer billed ${usd(billed)}")
            return row
        if path != "provider":
            return self._finding(row, "unknown_path", f"{names.path}: {path!r}")
        price = self.spec.prices.get(model)
        cost = call_cost(price or self.spec.prices[self.spec.model], prompt, completion)
        expected = self.spec.markup * cost
        self.realized += cost
        pc.provider_calls += 1
        pc.provider_cost += cost
        pc.cost_sq += float(cost) ** 2
        row.update(provider_cost_usd=usd(cost), expected_billed_usd=usd(expected))
        problems = []
        if price is None:
            problems.append(("unknown_model", f"model {model!r} not in the price table"))
        if reported != cost:
            problems.append(("cost_mismatch", f"reported ${usd(reported)} != "
                                              f"tokens x price ${usd(cost)}"))
        if billed != expected:
            problems.append(("markup_mismatch", f"billed ${usd(billed)} != {self.spec.markup} "
                                                f"x ${usd(cost)} = ${usd(expected)}"))
        if cost > res.amount:
            problems.append(("over_reservation", f"cost ${usd(cost)} > reserved "
                                                 f"${usd(res.amount)}"))
        if any(kind in ("cost_mismatch", "markup_mismatch") for kind, _ in problems):
            pc.markup_mismatches += 1
        for kind, note in problems:
            self._finding(row, kind, note)
        return row

    def _finding(self, row: dict[str, Any], kind: str, note: str) -> dict[str, Any]:
        self.findings[kind] = self.findings.get(kind, 0) + 1
        examples = self.examples.setdefault(kind, [])
        if len(examples) < EXAMPLES:
            examples.append({**row, "note": note})
        row["finding"] = f"{row['finding']},{kind}" if row.get("finding") else kind
        row["note"] = f"{row['note']}; {note}" if row.get("note") else note
        return row

    def totals(self) -> dict[str, Any]:
        calls = sum(p.ai_calls for p in self.plateaus.values())
        return {"spent_usd": usd(self.spent), "realized_usd": usd(self.realized),
                "unresolved_usd": usd(self.unresolved), "reserved_usd": usd(self.reserved),
                "billed_usd": usd(self.billed), "cap_usd": usd(self.cap),
                "soft_alert_usd": usd(self.spec.soft_alert_usd)
                if self.spec.soft_alert_usd is not None else None,
                "ai_calls": calls, "refused": self.refused, "killed": self.killed,
                "findings": dict(self.findings), "examples": self.examples,
                "overshoot_usd": usd(max(ZERO, self.spent - self.cap))}
