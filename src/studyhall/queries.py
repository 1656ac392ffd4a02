"""The statements behind the API, one function each; every one is timed by name
(``studyhall_db_query_seconds{statement}``) and uses an index, except the deliberate
``search_like`` scan of the ``slow_search`` fault."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from studyhall.db import Database

PAGE_SIZE = 20

STUDENT = text(
    "SELECT id, name, email, grade_level, joined_on, bio FROM students WHERE id = :id"
)
ENROLLMENTS = text(
    "SELECT e.course_id, c.title, c.topic, e.progress_pct, e.status, e.enrolled_on "
    "FROM enrollments e JOIN courses c ON c.id = e.course_id "
    "WHERE e.student_id = :id ORDER BY e.course_id"
)
STUDENT_BRIEF = text("SELECT id, name, grade_level FROM students WHERE id = :id")
COURSE_BRIEF = text(
    "SELECT id, title, topic, level, description FROM courses WHERE id = :id"
)
BROWSE_TOPIC = text(
    "SELECT id, title, topic, level, instructor FROM courses WHERE topic = :topic "
    "ORDER BY id LIMIT :limit OFFSET :offset"
)
BROWSE_ALL = text(
    "SELECT id, title, topic, level, instructor FROM courses "
    "ORDER BY id LIMIT :limit OFFSET :offset"
)
SEARCH_SQLITE = text(
    "SELECT c.id, c.title, c.topic, c.level, c.instructor FROM courses_fts "
    "JOIN courses c ON c.id = courses_fts.rowid WHERE courses_fts MATCH :q "
    "ORDER BY courses_fts.rank, c.id LIMIT :limit OFFSET :offset"
)
SEARCH_POSTGRES = text(
    "SELECT id, title, topic, level, instructor FROM courses "
    "WHERE search_tsv @@ plainto_tsquery('english', :q) "
    "ORDER BY ts_rank(search_tsv, plainto_tsquery('english', :q)) DESC, id "
    "LIMIT :limit OFFSET :offset"
)
SEARCH_LIKE = text(
    "SELECT id, title, topic, level, instructor FROM courses "
    "WHERE lower(title) LIKE :pattern OR lower(description) LIKE :pattern "
    "ORDER BY id LIMIT :limit OFFSET :offset"
)

_WORD = re.compile(r"\w+", re.UNICODE)


def search_words(q: str) -> list[str]:
    return _WORD.findall(q.lower())[:8]


def _page(page: int) -> dict[str, int]:
    # one extra row tells whether there is a next page, without a COUNT(*)
    return {"limit": PAGE_SIZE + 1, "offset": (page - 1) * PAGE_SIZE}


def _paged(rows: Any, page: int) -> dict[str, Any]:
    items = [dict(r) for r in rows[:PAGE_SIZE]]
    return {"page": page, "page_size": PAGE_SIZE, "has_more": len(rows) > PAGE_SIZE,
            "items": items}


async def profile(db: Database, conn: AsyncConnection, student_id: int) -> dict[str, Any] | None:
    rows = await db.fetch_all(conn, "profile_student", STUDENT, {"id": student_id})
    if not rows:
        return None
    enrolled = await db.fetch_all(conn, "profile_enrollments", ENROLLMENTS, {"id": student_id})
    items = [dict(r) for r in enrolled]
    completed = sum(1 for e in items if e["status"] == "completed")
    avg = round(sum(e["progress_pct"] for e in items) / len(items), 1) if items else 0.0
    return {
        "student": dict(rows[0]),
        "enrollments": items,
        "progress": {"courses": len(items), "completed": completed, "average_pct": avg},
    }


async def search(
    db: Database, conn: AsyncConnection, q: str, page: int, *, slow: bool, slow_sleep_ms: int
) -> dict[str, Any]:
    words = search_words(q)
    if not words:
        return _paged([], page) | {"q": q}
    if slow:
        rows = await db.fetch_all(
            conn, "search_like", SEARCH_LIKE, {"pattern": f"%{' '.join(words)}%"} | _page(page)
        )
        if slow_sleep_ms:
            await asyncio.sleep(slow_sleep_ms / 1000)
    elif db.dialect == "sqlite":
        match = " ".join(f'"{w}"' for w in words)
        rows = await db.fetch_all(conn, "search_fts", SEARCH_SQLITE, {"q": match} | _page(page))
    else:
        rows = await db.fetch_all(
            conn, "search_fts", SEARCH_POSTGRES, {"q": " ".join(words)} | _page(page)
        )
    return _paged(rows, page) | {"q": q}


async def browse(
    db: Database, conn: AsyncConnection, topic: str | None, page: int
) -> dict[str, Any]:
    if topic:
        rows = await db.fetch_all(
            conn, "browse_topic", BROWSE_TOPIC, {"topic": topic.lower()} | _page(page)
        )
    else:
        rows = await db.fetch_all(conn, "browse_all", BROWSE_ALL, _page(page))
    return _paged(rows, page) | {"topic": topic}


async def student_brief(
    db: Database, conn: AsyncConnection, student_id: int
) -> dict[str, Any] | None:
    rows = await db.fetch_all(conn, "ai_student", STUDENT_BRIEF, {"id": student_id})
    return dict(rows[0]) if rows else None


async def course_brief(
    db: Database, conn: AsyncConnection, course_id: int
) -> dict[str, Any] | None:
    rows = await db.fetch_all(conn, "ai_course", COURSE_BRIEF, {"id": course_id})
    return dict(rows[0]) if rows else None
