"""The tags on every request: run, plateau, W3C baggage and traceparent, a request id.

    X-Perf-Run: perf6b
    X-Perf-Plateau: p3
    baggage: perf.run=perf6b,perf.plateau=p3
    traceparent: 00-<32 hex trace id>-<16 hex parent id>-01   (never all zeros)
    X-Request-ID: <prefix>-<hex counter>                      (unique within the run)

The constant part is computed once per plateau; per request it costs one counter
step and one ``getrandbits``. ``X-Request-ID`` joins the cost ledger, so give each
shard its own prefix (the run id plus the shard number).
"""

from __future__ import annotations

import random
import secrets

RUN_HEADER = "X-Perf-Run"
PLATEAU_HEADER = "X-Perf-Plateau"
BAGGAGE_HEADER = "baggage"
TRACEPARENT_HEADER = "traceparent"
REQUEST_ID_HEADER = "X-Request-ID"

_MASK64 = (1 << 64) - 1
_ZERO_TRACE = "0" * 32
_ZERO_PARENT = "0" * 16


class Tagger:
    __slots__ = ("_bits", "_constant", "_counter", "_prefix", "run_tag")

    def __init__(
        self, run_tag: str, request_id_prefix: str | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.run_tag = run_tag
        prefix = request_id_prefix if request_id_prefix is not None else (
            f"{run_tag}-{secrets.token_hex(4)}")
        self._prefix = prefix + "-"
        self._counter = 0
        self._bits = (rng if rng is not None else random.Random()).getrandbits
        self._constant: dict[str, dict[str, str]] = {}

    def _for_plateau(self, plateau_id: str) -> dict[str, str]:
        constant = {
            RUN_HEADER: self.run_tag,
            PLATEAU_HEADER: plateau_id,
            BAGGAGE_HEADER: f"perf.run={self.run_tag},perf.plateau={plateau_id}",
        }
        self._constant[plateau_id] = constant
        return constant

    def apply(self, headers: dict[str, str], plateau_id: str) -> str:
        """Add the tags to ``headers`` in place; return the request id."""
        headers.update(self._constant.get(plateau_id) or self._for_plateau(plateau_id))
        self._counter = counter = self._counter + 1
        request_id = f"{self._prefix}{counter:x}"
        headers[REQUEST_ID_HEADER] = request_id
        # trace id (32 hex digits), then parent id (16); to_bytes().hex() is the fast way
        ids = self._bits(192).to_bytes(24, "big").hex()
        if ids.startswith(_ZERO_TRACE) or ids.endswith(_ZERO_PARENT):  # ~never: 2**-64
            bits = int(ids, 16)
            ids = f"{(bits >> 64) or 1:032x}{(bits & _MASK64) or 1:016x}"
        headers[TRACEPARENT_HEADER] = f"00-{ids[:32]}-{ids[32:]}-01"
        return request_id

    @property
    def issued(self) -> int:
        return self._counter
