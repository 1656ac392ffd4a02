"""Exact Decimal cost math and the ledger's cost report."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from llmsim.config import ModelPrice, SimConfig
from llmsim.ledger import Ledger, LedgerEntry
from llmsim.pricing import PriceTable, call_cost, usd

MINI = ModelPrice(input_per_1m_usd=Decimal("0.15"), output_per_1m_usd=Decimal("0.60"))


def test_default_price_is_gpt_4o_mini() -> None:
    price = SimConfig().prices["gpt-4o-mini"]
    assert price.input_per_1m_usd == Decimal("0.15")
    assert price.output_per_1m_usd == Decimal("0.60")


def test_call_cost_is_exact() -> None:
    assert call_cost(MINI, 1_000, 200) == Decimal("0.00027")
    assert call_cost(MINI, 1, 0) == Decimal("0.00000015")
    assert call_cost(MINI, 0, 1) == Decimal("0.0000006")
    assert call_cost(MINI, 1_000_000, 1_000_000) == Decimal("0.75")
    assert call_cost(MINI, 0, 0) == 0


def test_sum_of_many_small_costs_has_no_float_drift() -> None:
    total = sum((call_cost(MINI, 7, 3) for _ in range(100_000)), Decimal(0))
    # 100000 * (7 * 0.15 + 3 * 0.60) / 1e6 = 100000 * 2.85e-6
    assert total == Decimal("0.285")


def test_usd_is_plain_and_canonical() -> None:
    assert usd(Decimal("1.5E-7")) == "0.00000015"
    assert usd(Decimal("0.00001170")) == "0.0000117"
    assert usd(Decimal("100")) == "100"
    assert usd(Decimal("0E-10")) == "0"
    assert usd(Decimal("-0")) == "0"


def test_configured_prices_per_model() -> None:
    table = PriceTable(
        {
            "gpt-4o-mini": MINI,
            "big": ModelPrice(input_per_1m_usd=Decimal("2.5"), output_per_1m_usd=Decimal("10")),
        }
    )
    assert table.models == ["big", "gpt-4o-mini"]
    assert "big" in table and "nope" not in table
    assert table.cost("big", 400, 100) == Decimal("0.002")


def _entry(ts: float, project: str, prompt: int, completion: int) -> LedgerEntry:
    return LedgerEntry(
        ts=ts,
        request_id=f"req_{ts}",
        client_request_id=None,
        project=project,
        model="gpt-4o-mini",
        prompt_tokens=prompt,
        completion_tokens=completion,
        cost_usd=call_cost(MINI, prompt, completion),
        stream=False,
    )


def test_ledger_report_sums_per_project_and_total(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "ledger.jsonl"
    ledger = Ledger(path)
    ledger.record(_entry(100.0, "a", 1_000, 200))
    ledger.record(_entry(200.0, "a", 10, 20))
    ledger.record(_entry(300.0, "b", 5, 5))
    assert ledger.spent("a") == Decimal("0.00027") + call_cost(MINI, 10, 20)
    assert ledger.spent("zzz") == 0

    report = ledger.report(projects=["a", "b", "c"])
    by = {p["project"]: p for p in report["projects"]}
    assert by["a"] == {
        "project": "a",
        "calls": 2,
        "prompt_tokens": 1_010,
        "completion_tokens": 220,
        "total_tokens": 1_230,
        "cost_usd": "0.0002835",
    }
    assert by["c"]["calls"] == 0 and by["c"]["cost_usd"] == "0"
    assert report["total"]["calls"] == 3
    total = sum((Decimal(p["cost_usd"]) for p in report["projects"]), Decimal(0))
    assert Decimal(report["total"]["cost_usd"]) == total

    since = ledger.report(since=200.0)
    assert since["total"]["calls"] == 2
    assert ledger.report(since=200.0, until=300.0)["total"]["calls"] == 1
    only_b = ledger.report(projects=["a", "b"], only="b")
    assert [p["project"] for p in only_b["projects"]] == ["b"]
    assert only_b["total"]["calls"] == 1

    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["project"] for r in rows] == ["a", "a", "b"]
    assert rows[0]["cost_usd"] == "0.00027"
    assert set(rows[0]) == {
        "ts",
        "request_id",
        "client_request_id",
        "project",
        "model",
        "prompt_tokens",
        "completion_tokens",
        "cost_usd",
        "stream",
    }

    ledger.clear()
    assert len(ledger) == 0 and ledger.spent("a") == 0
    assert len(path.read_text().splitlines()) == 3  # the file is append-only
