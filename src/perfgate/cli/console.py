"""Console views as pure functions of data: a live panel per snapshot, a final table.

``rich.live.Live(get_renderable=...)`` calls ``render_snapshot`` on its own refresh;
non-terminal output gets one plain line per tick instead (see ``snapshot_line``).
"""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from perfgate.controller.snapshot import Snapshot
from perfgate.plan.durations import format_duration


def make_console(*, stderr: bool = False) -> Console:
    """A console; when output is not a terminal (CI, pipes) use a width tables fit in."""
    console = Console(stderr=stderr)
    if not console.is_terminal:
        console = Console(stderr=stderr, width=160)
    return console


def _ms(v: float | None) -> str:
    return "-" if v is None else f"{v:,.1f}"


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.2f}%"


def render_snapshot(s: Snapshot) -> RenderableType:
    head = Text.assemble(
        (f"{s.run_id}  ", "bold"),
        (f"{s.phase_id or '-'} {s.phase_name}  ", "cyan"),
        f"{format_duration(round(s.phase_elapsed_s))} elapsed, "
        f"{format_duration(round(s.phase_remaining_s))} left in phase; "
        f"run {format_duration(round(s.t))} / {format_duration(round(s.total_s))}",
    )
    drive = Text(
        f"target {s.target_rps:g} RPS  achieved {s.achieved_rps:.1f} RPS  "
        f"in-flight {s.inflight}  sent {s.sent:,}  dropped {s.dropped:,}  "
        f"loop lag p99 {_ms(s.loop_lag_p99_ms)} ms  gen CPU {_ms(s.cpu_percent)}%"
    )
    table = Table(box=None, pad_edge=False)
    for col in ("family", "req", "rps", "P50 ms", "P95 ms", "P99 ms", "errors"):
        table.add_column(col, justify="left" if col == "family" else "right")
    for f in s.families.values():
        table.add_row(f.family, f"{f.requests:,}", f"{f.rps:.1f}", _ms(f.p50_ms),
                      _ms(f.p95_ms), _ms(f.p99_ms), _pct(f.error_rate))
    return Group(head, drive, table)


def snapshot_line(s: Snapshot) -> str:
    fams = "  ".join(f"{f.family}: P95 {_ms(f.p95_ms)} ms err {_pct(f.error_rate)}"
                     for f in s.families.values())
    return (f"[{format_duration(round(s.t)):>7}] {s.phase_id or '-'} target {s.target_rps:g} "
            f"achieved {s.achieved_rps:.1f} RPS inflight {s.inflight} dropped {s.dropped}  {fams}")


def plateau_table(summary: dict[str, Any]) -> Table:
    table = Table(title=f"{summary.get('plan')} · {summary.get('run_id')} · "
                        f"verdict {summary.get('verdict')}")
    for col in ("plateau", "family", "target", "achieved", "req", "P50", "P90", "P95",
                "P99", "errors", "drive"):
        table.add_column(col, justify="left" if col in ("plateau", "family", "drive") else "right")
    for p in summary.get("plateaus", []):
        label = f"{p['id']}{' (warm-up, excluded)' if p['warmup'] else ''}"
        drive = "ok" if p["valid"] else "INVALID: " + "; ".join(p["invalid_reasons"])
        for i, (fam, st) in enumerate(p["families"].items()):
            table.add_row(
                label if i == 0 else "", fam,
                f"{p['target_rps']:g}" if i == 0 else "",
                f"{p['achieved_rps']:.2f}" if i == 0 else "",
                f"{st['requests']:,}", _ms(st["p50_ms"]), _ms(st["p90_ms"]),
                _ms(st["p95_ms"]), _ms(st["p99_ms"]), _pct(st["error_rate"]),
                drive if i == 0 else "")
    return table
