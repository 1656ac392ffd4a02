"""Prometheus exposition text -> the plan's signals.

``parse_exposition`` keeps only the lines of the metrics the plan names (the target's
per-route latency histograms can be most of a scrape, and parsing is CPU on the
generator's loop), then parses them with ``prometheus_client``'s parser. Malformed text
raises ``TelemetryError``.

``Extractor`` turns consecutive scrapes into samples, keeping the state each type needs:
counters become per-second rates between two scrapes (a counter that went down was
reset: its new value is the increase, as in PromQL), ``cpu`` is such a rate x 100 /
cores, histograms become quantiles of the bucket deltas (``perfgate.telemetry.quantile``).
The first scrape of a rate or histogram signal only primes it (no sample, no gap). A
window with no histogram observations gives no quantile sample (there was nothing to
measure) and no gap; so does a labelled metric the target declares (``# TYPE``) but has
no series of yet (a histogram by statement before the first query). A metric absent
from the scrape, or a NaN, is *missing*: the caller records a gap, never a zero.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from prometheus_client.parser import text_string_to_metric_families

from perfgate.telemetry.quantile import Buckets, bucket_deltas, count_over, histogram_quantile
from perfgate.telemetry.series import LabelKey, label_key
from perfgate.telemetry.spec import SignalSpec, quantile_sample_name

__all__ = ["Extractor", "Sample", "SampleIndex", "TelemetryError", "parse_exposition"]

#: sample name -> [(labels, value)]
SampleIndex = dict[str, list[tuple[dict[str, str], float]]]

#: Derived signals (the target contract's names): name -> (function, inputs).
DB_POOL_FREE = "db_pool_free_ratio"


class TelemetryError(Exception):
    """The source answered something that is not usable exposition text."""


@dataclass(frozen=True)
class Sample:
    name: str
    value: float
    labels: dict[str, str] = field(default_factory=dict)


def _metric_token(line: str) -> str:
    end = len(line)
    for sep in ("{", " ", "\t"):
        i = line.find(sep)
        if i != -1:
            end = min(end, i)
    return line[:end]


def _wanted(token: str, bases: tuple[str, ...]) -> bool:
    return any(token == b or token.startswith(b + "_") for b in bases)


def parse_exposition(text: str, metrics: Iterable[str] | None = None) -> SampleIndex:
    """Parse exposition text into ``{sample name: [(labels, value)]}``.

    ``metrics``: the base names the plan needs (``studyhall_db_query_seconds`` keeps its
    ``_bucket``/``_sum``/``_count`` lines, ``x_total`` also keeps ``x``); None keeps all.
    """
    if metrics is not None:
        bases = tuple({m.removesuffix("_total") for m in metrics})
        kept = []
        for line in text.splitlines():
            if line.startswith("#"):
                parts = line.split(None, 3)
                if len(parts) >= 3 and parts[1] in ("HELP", "TYPE") and _wanted(parts[2], bases):
                    kept.append(line)
            elif line.strip() and _wanted(_metric_token(line), bases):
                kept.append(line)
        text = "\n".join(kept) + "\n"
    index: SampleIndex = {}
    try:
        for family in text_string_to_metric_families(text):
            # declared names exist even with no series yet ("nothing observed", not missing)
            suffix = {"counter": "_total", "histogram": "_bucket"}.get(family.type, "")
            index.setdefault(family.name + suffix, [])
            for s in family.samples:
                index.setdefault(s.name, []).append((dict(s.labels), float(s.value)))
    except (ValueError, TypeError, IndexError) as exc:
        raise TelemetryError(f"malformed exposition text: {exc}") from exc
    return index


def _select(index: SampleIndex, names: Iterable[str], labels: Mapping[str, str]
            ) -> list[tuple[dict[str, str], float]] | None:
    """The matching series of the first name with any; [] when the metric is declared
    but has none (or none matching); None when the scrape does not have it at all."""
    declared = False
    for name in names:
        rows = index.get(name)
        if rows is None:
            continue
        declared = True
        if rows:
            return [(lb, v) for lb, v in rows if all(lb.get(k) == w for k, w in labels.items())]
    return [] if declared else None


def _group(rows: list[tuple[dict[str, str], float]], by: list[str]) -> dict[LabelKey, float]:
    out: dict[LabelKey, float] = {}
    for lb, v in rows:
        key = label_key({k: lb.get(k, "") for k in by})
        out[key] = out.get(key, 0.0) + v
    return out


class Extractor:
    """One per source: remembers the previous scrape for rates and bucket deltas."""

    def __init__(self, signals: Mapping[str, SignalSpec], cores: float = 1.0) -> None:
        self.signals = dict(signals)
        self.cores = cores
        self._prev: dict[tuple[str, LabelKey], tuple[float, float]] = {}
        self._prev_buckets: dict[str, Buckets] = {}

    def metric_names(self) -> list[str]:
        return sorted({s.metric for s in self.signals.values() if s.metric})

    def extract(self, t: float, index: SampleIndex
                ) -> tuple[list[Sample], dict[str, Buckets], dict[str, str]]:
        """(samples, cumulative histograms by signal, missing signal -> reason)."""
        samples: list[Sample] = []
        snapshots: dict[str, Buckets] = {}
        missing: dict[str, str] = {}
        for name, spec in self.signals.items():
            assert spec.metric is not None
            if spec.type == "histogram":
                rows = _select(index, [spec.metric + "_bucket"], spec.labels)
            elif spec.type == "gauge":
                rows = _select(index, [spec.metric], spec.labels)
            else:
                base = spec.metric.removesuffix("_total")
                rows = _select(index, [base + "_total", spec.metric, base], spec.labels)
            if rows is None:
                missing[name] = f"metric {spec.metric} not in the scrape"
                continue
            if not rows:
                continue  # declared, nothing observed yet: no sample, no gap
            if any(math.isnan(v) for _, v in rows):
                missing[name] = f"metric {spec.metric} is NaN"
                continue
            if spec.type == "histogram":
                buckets = self._buckets(rows)
                if buckets is None:
                    missing[name] = f"histogram {spec.metric} has no +Inf bucket"
                    continue
                snapshots[name] = buckets
                samples += self._histogram(name, spec, buckets)
            elif spec.type == "gauge":
                samples += [Sample(name, v, dict(k)) for k, v in _group(rows, spec.by).items()]
            else:
                samples += self._rates(t, name, spec, _group(rows, spec.by))
        samples += _derived(samples)
        return samples, snapshots, missing

    def _rates(self, t: float, name: str, spec: SignalSpec, groups: dict[LabelKey, float]
               ) -> list[Sample]:
        out = []
        for key, value in groups.items():
            prev = self._prev.get((name, key))
            self._prev[(name, key)] = (t, value)
            if prev is None or t <= prev[0]:
                continue
            increase = value - prev[1] if value >= prev[1] else value  # reset: from 0
            rate = increase / (t - prev[0])
            if spec.type == "cpu":
                rate = rate * 100.0 / self.cores
            out.append(Sample(name, rate, dict(key)))
        return out

    @staticmethod
    def _buckets(rows: list[tuple[dict[str, str], float]]) -> Buckets | None:
        merged: dict[float, float] = {}
        for lb, v in rows:
            try:
                le = float(lb["le"])
            except (KeyError, ValueError):
                return None
            merged[le] = merged.get(le, 0.0) + v
        if math.inf not in merged:
            return None
        return sorted(merged.items())

    def _histogram(self, name: str, spec: SignalSpec, buckets: Buckets) -> list[Sample]:
        prev = self._prev_buckets.get(name)
        self._prev_buckets[name] = buckets
        if prev is None:
            return []
        delta = bucket_deltas(buckets, prev)
        out = [Sample(sample, count_over(delta, bound)) for sample, bound in spec.over.items()]
        if delta[-1][1] > 0:
            out += [Sample(quantile_sample_name(name, q), histogram_quantile(q, delta))
                    for q in spec.quantiles]
        return out


def _derived(samples: list[Sample]) -> list[Sample]:
    """``db_pool_free_ratio = 1 - db_pool_in_use / db_pool_size`` (contract names)."""
    values = {s.name: s.value for s in samples if not s.labels}
    size, used = values.get("db_pool_size"), values.get("db_pool_in_use")
    if size is None or used is None or size <= 0:
        return []
    return [Sample(DB_POOL_FREE, max(0.0, 1.0 - used / size))]
