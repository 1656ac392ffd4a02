"""``GET /api/students/{student_id}/profile``: student, enrollments, progress."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, HTTPException, Request

from studyhall import queries
from studyhall.routes import services

router = APIRouter()


@router.get("/api/students/{student_id}/profile")
async def profile(student_id: int, request: Request) -> dict[str, Any]:
    sv = services(request)
    async with sv.db.connection() as conn:
        data = await queries.profile(sv.db, conn, student_id)
    if data is None:
        raise HTTPException(404, f"student {student_id} not found")
    await sv.queue.put({"type": "profile_view", "student_id": student_id, "ts": time.time()})
    return data
