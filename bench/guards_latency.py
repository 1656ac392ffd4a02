"""Two figures the guards promise: spend overshoot (must be 0) and trigger latency.

    .venv/bin/python bench/guards_latency.py [--trials 5]

**Spend overshoot** = max(0, spent - hard cap) after every AI send a cap allows, where
spent counts realized cost plus every reservation whose answer never came. Measured
(a) on the cost gate alone: 2,000 concurrent sends per trial against caps from 5 to 200
worst-case calls, answers with random real token counts (at most the plan's worst
case) after random delays; (b) in full runs (Controller + guards + an in-process
target) whose cap trips the kill switch mid-plateau.

**Trigger latency** = fire time - (the moment the condition started + its ``for``), on
the run clock. A step error storm (every request fails from a known time X) makes
``error_rate > 0.5%`` true at X; with ``for: 2m`` at time scale 0.05 (6 s over a 3 s
window) the rule should fire at X + 6 s. The latency is what the 1 s windows and the
1 s evaluation tick add (expected: up to ~1-2 s of tick and window-closing delay,
whatever the time scale). X is varied inside the second to sample the tick phase.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from perfgate.controller.runner import Controller, RunConfig
from perfgate.engine.client import MockTransport, PreparedRequest, Response
from perfgate.guards import build_hooks
from perfgate.guards.budget import Budget
from perfgate.guards.gate import CostGate
from perfgate.plan.loader import parse_plan
from perfgate.store.reader import RunReader

PLAN = """
name: bench-guards
run_tag: bench
target: {base_url: "http://127.0.0.1:9"}
schedule:
  arrival: uniform
  warmup: {rps: 50, duration: 20s}
  plateaus: [{rps: 60, duration: 5m}]
families: {core: {timeout: 2s}, ai: {timeout: 2s}}
mix:
  reads: {family: core, weight: 75, endpoints: [{name: item, path: /items}]}
  gen:
    family: ai
    weight: 25
    endpoints: [{name: analyze, method: POST, path: /ai, ai: {prompt_tokens: 450, max_tokens: 300}}]
triggers:
  window: 1m
  rules: [{name: error_rate, signal: error_rate, op: ">", threshold: 0.5%, for: 2m}]
budget:
  hard_cap_usd: CAP
  model: gpt-4o-mini
  prices: {gpt-4o-mini: {input_per_1m: "0.15", output_per_1m: "0.60"}}
"""
SCALE = 0.05
PRICE_IN, PRICE_OUT = Decimal("0.15"), Decimal("0.60")


def ai_answer(rng: random.Random) -> Response:
    prompt, completion = rng.randint(50, 450), rng.randint(1, 300)
    cost = (prompt * PRICE_IN + completion * PRICE_OUT) / 1_000_000
    return Response(200, {"X-AI-Path": "provider", "X-AI-Model": "gpt-4o-mini",
                          "X-AI-Prompt-Tokens": str(prompt),
                          "X-AI-Completion-Tokens": str(completion),
                          "X-AI-Provider-Cost-USD": format(cost.normalize(), "f"),
                          "X-AI-Billed-USD": format((4 * cost).normalize(), "f")})


async def gate_overshoot(trials: int) -> list[Decimal]:
    plan = parse_plan(PLAN.replace("CAP", "1"))
    assert plan.budget is not None
    from perfgate.guards.gate import AiMatcher

    out = []
    for trial in range(trials):
        rng = random.Random(trial)

        async def answer(req: PreparedRequest, rng: random.Random = rng) -> Response:
            await asyncio.sleep(rng.random() * 0.02)
            return ai_answer(rng)

        budget = Budget(plan.budget.model_copy(update={
            "hard_cap_usd": Decimal("0.0002475") * rng.randint(5, 200)}))
        gate = CostGate(MockTransport(answer), budget, AiMatcher.from_plan(plan),
                        on_row=lambda row: None, on_refused=lambda *a: None)
        reqs = [PreparedRequest("POST", "http://127.0.0.1:9/ai", {"X-Request-ID": str(i)})
                for i in range(2000)]
        await asyncio.gather(*(gate.request(r, 5.0) for r in reqs))
        out.append(budget.spent - budget.cap)
    return out


async def run_once(cap: str, storm_at: float | None, out: Path) -> tuple[Path, float]:
    plan = parse_plan(PLAN.replace("CAP", cap))
    rng = random.Random(1)
    t0 = [0.0]

    async def target(req: PreparedRequest) -> Response:
        await asyncio.sleep(0.001)
        if req.url.endswith("/ai"):
            return ai_answer(rng)
        if storm_at is not None and time.monotonic() - t0[0] >= storm_at:
            return Response(500, {})
        return Response(200, {})

    hooks = build_hooks(plan, time_scale=SCALE, env={})
    controller = Controller(RunConfig(plan=plan, out_dir=out, time_scale=SCALE),
                            transport=MockTransport(target), hooks=hooks)
    t0[0] = time.monotonic()  # the controller's run clock starts within a millisecond
    outcome = await controller.run()
    return outcome.run_dir, t0[0]


async def main(trials: int) -> None:
    overs = await gate_overshoot(trials * 4)
    out = Path(tempfile.mkdtemp(prefix="bench-guards-"))
    run_overs, latencies, internal = [], [], []
    for i in range(trials):
        run_dir, _ = await run_once(str(Decimal("0.0002475") * (10 + 7 * i)), None, out)
        with RunReader(run_dir) as r:
            cost = r.meta()["cost"]
        run_overs.append(Decimal(cost["spent_usd"]) - Decimal(cost["cap_usd"]))
    for i in range(trials):
        storm = 3.0 + i * 0.93 / trials  # sample the phase against the 1 s tick
        run_dir, _ = await run_once("500", storm, out)
        with RunReader(run_dir) as r:
            fired = r.events("trigger_fired")[0]
        latencies.append(fired.t - (storm + fired.data["for_s"]))
        internal.append(fired.data["latency_s"])
    for what, diffs in (("cost gate alone, 2,000 concurrent sends x", overs),
                        ("full runs tripping the kill switch x", run_overs)):
        over = max(Decimal(0), max(diffs))
        print(f"spend overshoot ({what} {len(diffs)}): {over} USD "
              f"{'(never past the cap)' if over == 0 else 'FAIL'}; closest approach "
              f"${-max(diffs)} under the cap")
    print(f"trigger latency (error storm, for 2m x {SCALE} = 6 s): mean "
          f"{statistics.mean(latencies):.3f} s, max {max(latencies):.3f} s, min "
          f"{min(latencies):.3f} s over {len(latencies)} runs; of which evaluation "
          f"(fire - held-for-duration, on the 1 s grid) max {max(internal):.3f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=5)
    asyncio.run(main(parser.parse_args().trials))
