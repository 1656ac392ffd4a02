"""Server-sent events of a streamed chat completion.

The stream is, in order (each event is ``data: <json>\\n\\n``):

1. at ``ttft``: a chunk with ``delta = {"role": "assistant", "content": ""}``;
2. token ``i`` (one vocabulary word) at ``ttft + i * per_token``;
3. a chunk with an empty ``delta`` and the ``finish_reason``;
4. with ``stream_options.include_usage``: a chunk with ``choices: []`` and the
   ``usage`` (every earlier chunk then carries ``"usage": null``);
5. ``data: [DONE]``.

Times are deadlines measured from the request's arrival, not sleeps chained one
after another, so the stream does not drift late; events that are already due
are written together in one send.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from llmsim import schemas
from llmsim.latency import LatencyPlan
from llmsim.textgen import Completion

DONE = b"data: [DONE]\n\n"


def sse_event(payload: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(payload, separators=(",", ":")).encode() + b"\n\n"


def stream_events(
    *,
    completion_id: str,
    created: int,
    model: str,
    completion: Completion,
    plan: LatencyPlan,
    usage_obj: dict[str, Any] | None,
) -> list[tuple[float, bytes]]:
    """Every event of the stream with its due time (seconds after arrival)."""
    with_usage = usage_obj is not None

    def make(delta: dict[str, Any] | None, **kw: Any) -> bytes:
        return sse_event(
            schemas.chunk(
                completion_id=completion_id,
                created=created,
                model=model,
                delta=delta,
                with_usage_field=with_usage,
                **kw,
            )
        )

    events = [(plan.ttft_s, make({"role": "assistant", "content": "", "refusal": None}))]
    for i, piece in enumerate(completion.pieces):
        events.append((plan.token_due_s(i), make({"content": piece})))
    end = plan.total_s
    events.append((end, make({}, finish_reason=completion.finish_reason)))
    if usage_obj is not None:
        events.append((end, make(None, usage_obj=usage_obj)))
    events.append((end, DONE))
    return events


async def paced(
    events: list[tuple[float, bytes]],
    *,
    start: float,
    clock: Callable[[], float],
    on_close: Callable[[bool], None],
) -> AsyncIterator[bytes]:
    """Yield the events at their due times; ``on_close(completed)`` runs exactly once,
    also when the client goes away mid-stream."""
    completed = False
    try:
        buffer: list[bytes] = []
        for due, data in events:
            wait = start + due - clock()
            if wait > 0:
                if buffer:
                    yield b"".join(buffer)
                    buffer.clear()
                await asyncio.sleep(wait)
            buffer.append(data)
        if buffer:
            yield b"".join(buffer)
        completed = True
    finally:
        on_close(completed)
