"""``POST /api/ai/analyze`` {"student_id", "text"} and ``POST /api/ai/generate``
{"course_id", "count"}. The DB connection is released before the provider call."""

from __future__ import annotations

import time

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from studyhall import queries
from studyhall.ai.service import AIResult, KillSwitchActive
from studyhall.routes import request_id, services
from studyhall.services import Services

router = APIRouter()


class AnalyzeRequest(BaseModel):
    student_id: int
    text: str = Field(min_length=1, max_length=20_000)


class GenerateRequest(BaseModel):
    course_id: int
    count: int = Field(default=5, ge=1, le=20)


def _kill_switch_503() -> HTTPException:
    return HTTPException(503, "AI kill switch is on", headers={"Retry-After": "60"})


async def _after(sv: Services, rid: str, endpoint: str, result: AIResult) -> JSONResponse:
    await sv.queue.put({"type": "ai_call", "endpoint": endpoint, "path": result.path,
                        "request_id": rid, "ts": time.time()})
    return JSONResponse(result.payload | {"ai_path": result.path}, headers=result.headers())


@router.post("/api/ai/analyze")
async def analyze(body: AnalyzeRequest, request: Request) -> JSONResponse:
    sv = services(request)
    async with sv.db.connection() as conn:
        student = await queries.student_brief(sv.db, conn, body.student_id)
    if student is None:
        raise HTTPException(404, f"student {body.student_id} not found")
    rid = request_id(request)
    try:
        result = await sv.ai.analyze(rid, student, body.text)
    except KillSwitchActive:
        raise _kill_switch_503() from None
    sv.outbound.emit("outbound_email", {"request_id": rid, "student_id": body.student_id,
                                        "template": "feedback_ready"})
    sv.outbound.emit("notifications", {"request_id": rid, "student_id": body.student_id,
                                       "kind": "feedback_ready"})
    return await _after(sv, rid, "analyze", result)


@router.post("/api/ai/generate")
async def generate(body: GenerateRequest, request: Request) -> JSONResponse:
    sv = services(request)
    async with sv.db.connection() as conn:
        course = await queries.course_brief(sv.db, conn, body.course_id)
    if course is None:
        raise HTTPException(404, f"course {body.course_id} not found")
    rid = request_id(request)
    try:
        result = await sv.ai.generate(rid, course, body.count)
    except KillSwitchActive:
        raise _kill_switch_503() from None
    sv.outbound.emit("provider_webhooks", {"request_id": rid, "course_id": body.course_id,
                                           "event": "quiz_generated"})
    return await _after(sv, rid, "generate", result)
