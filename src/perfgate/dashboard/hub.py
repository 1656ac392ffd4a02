"""The fan-out from the run's one snapshot stream to every connected browser.

The controller calls :meth:`Hub.on_snapshot` once a second (in the run's event loop,
right before it commits that second). A single pump task then reads what the store
committed since the last read (:func:`read_tail`, in a worker thread: the loop never
blocks on SQLite) and sends each browser one ``tick`` message: the snapshot plus the
new store rows, with the cursor as the SSE event id.

A browser that connects (or reconnects with ``Last-Event-ID``) is caught up from its own
cursor: the heavy read runs off the pump (``catch_up``: the dashboard gives it a worker
process) while ticks go on; the pump then sends it, tops it up with a short read to the
pump's cursor, and only then adds the browser to the ticks. So the rows a browser gets
are gap-free and never repeated: every live client's cursor is at or past the pump's,
and ticks are filtered by the client's cursor. Snapshots are coalesced: a slow read
skips stale snapshots, never store rows.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perfgate.controller.snapshot import Snapshot
from perfgate.dashboard.sse import event, to_json
from perfgate.dashboard.tail import Cursor, empty_tail, read_tail

__all__ = ["Client", "Hub"]

Reader = Callable[[Path, Cursor], tuple[dict[str, Any], Cursor]]
Enricher = Callable[[dict[str, Any]], dict[str, Any]]  # a tick's tail -> extra payload
CatchUp = Callable[[Path, Cursor], Awaitable[tuple[str, Cursor]]]  # -> (rows JSON, cursor)
MAX_BACKLOG = 120  # messages; a browser further behind is dropped (it reconnects)
NEAR_SECONDS = 120  # a catch-up this short is read in a thread, longer ones by ``catch_up``


@dataclass(eq=False)
class Client:
    cursor: Cursor
    queue: asyncio.Queue[bytes | None] = field(default_factory=asyncio.Queue)
    closed: bool = False

    def send(self, message: bytes | None) -> None:
        if self.closed:
            return
        if message is not None and self.queue.qsize() >= MAX_BACKLOG:
            message = None  # too far behind: end this stream; EventSource reconnects
        if message is None:
            self.closed = True
        self.queue.put_nowait(message)


def _since(rows: list[dict[str, Any]], key: str, after: int) -> list[dict[str, Any]]:
    return [r for r in rows if int(r[key]) > after]


def _filtered(tail: dict[str, Any], c: Cursor) -> dict[str, Any]:
    return {"seconds": _since(tail["seconds"], "s", c.window),
            "generator": _since(tail["generator"], "s", c.generator),
            "events": _since(tail["events"], "id", c.event),
            "samples": _since(tail["samples"], "r", c.sample),
            "plateaus": tail["plateaus"]}


def _covers(a: Cursor, b: Cursor) -> bool:
    return (a.window >= b.window and a.generator >= b.generator and a.event >= b.event
            and a.sample >= b.sample)


def _max(a: Cursor, b: Cursor) -> Cursor:
    return Cursor(max(a.window, b.window), max(a.generator, b.generator),
                  max(a.event, b.event), max(a.sample, b.sample))


class Hub:
    def __init__(self, run_dir: Path, *, read: Reader = read_tail,
                 enrich: Enricher | None = None, catch_up: CatchUp | None = None) -> None:
        self.run_dir = run_dir
        self._read = read
        self._enrich = enrich
        self._catch_up = catch_up or self._catch_up_in_thread
        self._cursor = Cursor()
        self._clients: set[Client] = set()
        self._joining: list[tuple[Client, str, Cursor]] = []  # caught up, not yet live
        self._preparing: set[asyncio.Task[None]] = set()
        self._pending: Snapshot | None = None
        self._published = self._processed = 0
        self._wake = asyncio.Event()
        self._idle = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None
        self.snapshot: dict[str, Any] | None = None
        self.plateaus: list[dict[str, Any]] = []
        self.end: dict[str, Any] | None = None
        self.read_error: str | None = None

    @property
    def cursor(self) -> Cursor:
        return self._cursor

    @property
    def clients(self) -> int:
        return len(self._clients)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._pump(), name="dashboard-pump")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for task in list(self._preparing):
            task.cancel()
        for client in [*self._clients, *(c for c, _, _ in self._joining)]:
            client.send(None)
        self._clients.clear()
        self._joining.clear()

    def on_snapshot(self, snap: Snapshot) -> None:
        """The controller's subscriber: O(1), never blocks the tick."""
        self._pending = snap
        self._published += 1
        self._wake.set()

    def connect(self, last_event_id: str | None) -> Client:
        """A new stream, caught up from its ``Last-Event-ID`` (none: the whole run)."""
        client = Client(Cursor.parse(last_event_id))
        if self._task is None:
            client.send(None)
        else:
            task = asyncio.create_task(self._prepare(client))
            self._preparing.add(task)
            task.add_done_callback(self._preparing.discard)
        return client

    def disconnect(self, client: Client) -> None:
        client.closed = True
        self._clients.discard(client)

    async def drain(self) -> None:
        """Wait until every snapshot published so far has been sent."""
        async with self._idle:
            await self._idle.wait_for(lambda: self._processed >= self._published
                                      or self._task is None)

    async def finish(self, end: dict[str, Any]) -> None:
        """The run is over: send the final ticks, then the verdict, to every browser."""
        await self.drain()
        self.end = end
        message = event("end", end)
        for client in self._clients:
            client.send(message)

    async def _pump(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._published > self._processed:
                upto, snap = self._published, self._pending
                tail, self._cursor = await self._safe_read(self._cursor, enrich=True)
                self._tick(snap, tail)
                async with self._idle:
                    self._processed = upto
                    self._idle.notify_all()
            while self._joining:
                client, rows, cursor = self._joining.pop(0)
                if client.closed:
                    continue
                self._send_rows(client, rows, cursor)
                if not _covers(client.cursor, self._cursor):  # ticks went on meanwhile
                    tail, cursor = await self._safe_read(client.cursor)  # a short top-up
                    if client.closed:
                        continue
                    self._send(client, tail, _max(cursor, self._cursor))
                if self.end is not None:
                    client.send(event("end", self.end))
                self._clients.add(client)

    async def _prepare(self, client: Client) -> None:
        """The heavy part of a catch-up, off the pump: ticks go on meanwhile."""
        near = self._cursor.window - client.cursor.window <= NEAR_SECONDS
        read = self._catch_up_in_thread if near else self._catch_up
        try:
            rows, cursor = await read(self.run_dir, client.cursor)
        except Exception as exc:  # a store read must never end the dashboard
            self.read_error = f"{type(exc).__name__}: {exc}"
            rows, cursor = to_json(empty_tail()), client.cursor
        if not client.closed:
            self._joining.append((client, rows, cursor))
            self._wake.set()

    async def _catch_up_in_thread(self, run_dir: Path, cursor: Cursor) -> tuple[str, Cursor]:
        tail, new = await asyncio.to_thread(self._read, run_dir, cursor)
        return to_json(tail), new

    def _read_enriched(self, cursor: Cursor, enrich: bool) -> tuple[dict[str, Any], Cursor]:
        tail, new = self._read(self.run_dir, cursor)
        if enrich and self._enrich is not None:
            try:
                tail["extra"] = self._enrich(tail)
            except Exception as exc:  # charts are a view: the tiles must go on without them
                tail["extra"] = {"enrich_error": f"{type(exc).__name__}: {exc}"}
        return tail, new

    async def _safe_read(self, cursor: Cursor, *, enrich: bool = False
                         ) -> tuple[dict[str, Any], Cursor]:
        """Read (and for a tick, enrich) in a worker thread; only the pump calls this."""
        try:
            tail, new = await asyncio.to_thread(self._read_enriched, cursor, enrich)
        except Exception as exc:  # a store read must never end the dashboard
            self.read_error = f"{type(exc).__name__}: {exc}"
            return empty_tail(), cursor
        self.read_error = None
        return tail, new

    def _tick(self, snap: Snapshot | None, tail: dict[str, Any]) -> None:
        if snap is not None:
            self.snapshot = snap.to_dict()
        if tail["plateaus"]:
            self.plateaus = tail["plateaus"]
        for client in list(self._clients):
            if client.closed:
                self._clients.discard(client)
            else:
                self._send(client, tail, _max(client.cursor, self._cursor))

    def _send_rows(self, client: Client, rows: str, new_cursor: Cursor) -> None:
        """A catch-up: rows already JSON (made off the loop); the snapshot joins them."""
        head = to_json({"snapshot": self.snapshot, "read_error": self.read_error})
        client.cursor = new_cursor
        client.send(f"id: {new_cursor.encode()}\nevent: tick\ndata: {head[:-1]},{rows[1:]}\n\n"
                    .encode())

    def _send(self, client: Client, tail: dict[str, Any], new_cursor: Cursor) -> None:
        payload = {"snapshot": self.snapshot, **_filtered(tail, client.cursor),
                   "read_error": self.read_error, **tail.get("extra", {})}
        if not payload["plateaus"]:
            payload["plateaus"] = self.plateaus
        client.cursor = new_cursor
        client.send(event("tick", payload, new_cursor.encode()))
