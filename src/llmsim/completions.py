"""``POST /v1/chat/completions``.

One call goes: auth (401) -> body (400) -> model (404) -> answer and token counts
(deterministic, see :mod:`llmsim.textgen` and :mod:`llmsim.tokens`) -> injected
fault (5xx, not billed) -> admission (429s, see :mod:`llmsim.state`) -> billing
(:mod:`llmsim.ledger`) -> the answer, after the modelled latency, as one JSON
object or as a stream (:mod:`llmsim.streaming`).

Every admitted answer carries the six ``x-ratelimit-*`` headers (counting this
call), ``openai-project``, and ``x-client-request-id`` echoed when the client
sent one (it is also recorded in the ledger, to join the provider's ledger with
the caller's); the app adds ``x-request-id`` and ``openai-processing-ms``.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from llmsim import errors, schemas, streaming, textgen, tokens
from llmsim.auth import api_project
from llmsim.ledger import LedgerEntry
from llmsim.state import Simulator

ENDPOINT = "chat.completions"

router = APIRouter()


def outcome_of(err: errors.SimError) -> str:
    if err.status == 429:
        return "quota_exceeded" if err.code == "insufficient_quota" else "rate_limited"
    if err.status >= 500:
        return "server_error"
    if err.status == 404:
        return "not_found"
    return "bad_request"


@router.post("/v1/chat/completions")
async def chat_completions(request: Request) -> Response:
    sim: Simulator = request.app.state.sim
    start = sim.clock()
    project = api_project(request, sim, ENDPOINT)
    try:
        return await _complete(request, sim, project, start)
    except errors.SimError as err:
        sim.metrics.requests.labels(project, ENDPOINT, outcome_of(err)).inc()
        raise


async def _read_json(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise errors.bad_request(
            "We could not parse the JSON body of your request. (HINT: This likely means you "
            "aren't using your HTTP library correctly.)"
        ) from None


async def _complete(request: Request, sim: Simulator, project: str, start: float) -> Response:
    body = await _read_json(request)
    req = schemas.parse_request(body)
    if req.model not in sim.prices:
        raise errors.model_not_found(req.model)

    raw_messages: list[Any] = body["messages"]
    n_prompt = tokens.prompt_tokens(raw_messages)
    completion = textgen.generate(
        textgen.request_digest(sim.config.seed, req.model, raw_messages, req.seed),
        min_tokens=sim.config.completion.min_tokens,
        max_tokens=sim.config.completion.max_tokens,
        cap=req.token_cap,
    )
    n_completion = completion.tokens

    extra_s = sim.faults.extra_latency_ms / 1000.0
    fault = sim.draw_fault()
    if fault is not None:
        if extra_s > 0:
            await asyncio.sleep(extra_s)
        raise fault

    headers = sim.admit(project, req.model, n_prompt + n_completion)

    cost = sim.prices.cost(req.model, n_prompt, n_completion)
    client_request_id = request.headers.get("x-client-request-id")
    sim.ledger.record(
        LedgerEntry(
            ts=sim.wall_clock(),
            request_id=request.state.request_id,
            client_request_id=client_request_id,
            project=project,
            model=req.model,
            prompt_tokens=n_prompt,
            completion_tokens=n_completion,
            cost_usd=cost,
            stream=req.stream,
        )
    )
    m = sim.metrics
    m.requests.labels(project, ENDPOINT, "ok").inc()
    m.tokens.labels(project, req.model, "prompt").inc(n_prompt)
    m.tokens.labels(project, req.model, "completion").inc(n_completion)
    m.cost.labels(project, req.model).inc(float(cost))

    headers["openai-project"] = project
    headers["openai-version"] = "2020-10-01"
    if client_request_id:
        headers["x-client-request-id"] = client_request_id

    plan = sim.latency.plan(n_completion, extra_s=extra_s)
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(sim.wall_clock())
    usage_obj = schemas.usage(n_prompt, n_completion)
    stream_label = "true" if req.stream else "false"
    m.in_flight.inc()

    if req.stream:
        events = streaming.stream_events(
            completion_id=completion_id,
            created=created,
            model=req.model,
            completion=completion,
            plan=plan,
            usage_obj=usage_obj if req.include_usage else None,
        )

        def on_close(completed: bool) -> None:
            m.in_flight.dec()
            if completed:
                m.response_seconds.labels(project, stream_label).observe(sim.clock() - start)

        headers["cache-control"] = "no-cache"
        return StreamingResponse(
            streaming.paced(events, start=start, clock=sim.clock, on_close=on_close),
            media_type="text/event-stream",
            headers=headers,
        )

    try:
        wait = start + plan.total_s - sim.clock()
        if wait > 0:
            await asyncio.sleep(wait)
    finally:
        m.in_flight.dec()
    m.response_seconds.labels(project, stream_label).observe(sim.clock() - start)
    return JSONResponse(
        schemas.chat_completion(
            completion_id=completion_id,
            created=created,
            model=req.model,
            content=completion.text,
            finish_reason=completion.finish_reason,
            usage_obj=usage_obj,
        ),
        headers=headers,
    )
