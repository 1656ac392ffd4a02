"""Synthetic, reproducible seed data: made-up names from a fixed vocabulary, e-mail
addresses at the reserved example.com / example.org domains, course texts built from
templates so every search term of the perf-6b plan finds many courses.

``seed_database`` drops and recreates the studyhall tables, then bulk-loads them.
"""

from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, insert, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from studyhall.db import make_engine
from studyhall.schema import courses, create_schema, enrollments, finish_search_index, students

FIRST = ("Avel", "Brisa", "Corin", "Dalia", "Eskel", "Fenna", "Garrow", "Hollis", "Ismay",
         "Jorun", "Kestra", "Lumen", "Maren", "Nilo", "Orla", "Perrin", "Quill", "Rhosyn",
         "Sable", "Tamsin", "Ulric", "Vesper", "Wren", "Xanthe", "Yorick", "Zelda", "Alder",
         "Briar", "Calla", "Dorin")
LAST = ("Ashvale", "Brightwater", "Coldharbor", "Dunmere", "Elmstead", "Fairbrook",
        "Greywick", "Hallowmere", "Ironwood", "Juniperhill", "Kettleby", "Larkspur",
        "Moorfield", "Northcote", "Oakenshaw", "Pennyroyal", "Quarrington", "Rookwood",
        "Silverdale", "Thornbury", "Underhill", "Valemont", "Westerly", "Yarrowby")

# topic -> subjects; every search term of the load plan is a subject somewhere.
SUBJECTS: dict[str, tuple[str, ...]] = {
    "math": ("algebra", "calculus", "geometry", "statistics", "trigonometry"),
    "science": ("biology", "chemistry", "physics", "ecology", "genetics"),
    "humanities": ("history", "economics", "philosophy", "geography"),
    "languages": ("grammar", "writing", "vocabulary", "poetry"),
    "computing": ("programming", "algorithms", "databases", "statistics"),
    "arts": ("poetry", "painting", "music", "history"),
}
TOPICS = tuple(SUBJECTS)
ADJECTIVES = ("Foundations of", "Applied", "Exploring", "Practical", "Advanced", "Intro to",
              "Topics in", "Workshop:", "Modern", "Hands-on")
LEVELS = ("beginner", "intermediate", "advanced")
SUFFIXES = ("I", "II", "III", "Lab", "Seminar", "Studio", "Essentials", "Project")
SENTENCES = (
    "Students build a working understanding of {s} through weekly problem sets.",
    "The course connects {s} with {r} using short projects and peer review.",
    "Each unit ends with a quiz on the key ideas of {s}.",
    "Guided readings show how {r} and {s} shape everyday decisions.",
    "Learners practise {s} step by step, with worked examples and feedback.",
    "A final project applies {s} to a question chosen by the student.",
)
_SCHEMA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
STATUSES = ("active", "active", "active", "completed", "paused")
BIOS = ("Enjoys {s} and long walks.", "Preparing for exams in {s}.",
        "Curious about {s}.", "Learning {s} after school.")


@dataclass(frozen=True)
class SeedReport:
    students: int
    courses: int
    enrollments: int
    seconds: float


def _day(rng: random.Random) -> str:
    return (date(2022, 1, 1) + timedelta(days=rng.randrange(0, 1000))).isoformat()


def make_courses(rng: random.Random, n: int) -> list[dict[str, Any]]:
    rows = []
    for cid in range(1, n + 1):
        topic = TOPICS[(cid - 1) % len(TOPICS)]
        subjects = SUBJECTS[topic]
        subject = subjects[rng.randrange(len(subjects))]
        related = subjects[rng.randrange(len(subjects))]
        title = f"{rng.choice(ADJECTIVES)} {subject.title()} {rng.choice(SUFFIXES)}"
        picked = rng.sample(SENTENCES, 3)
        description = " ".join(t.format(s=subject, r=related) for t in picked)
        rows.append({
            "id": cid, "title": title, "topic": topic, "level": rng.choice(LEVELS),
            "instructor": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            "description": description,
        })
    return rows


def make_students(rng: random.Random, n: int) -> list[dict[str, Any]]:
    rows = []
    all_subjects = sorted({s for subs in SUBJECTS.values() for s in subs})
    for sid in range(1, n + 1):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        domain = "example.com" if sid % 2 else "example.org"
        rows.append({
            "id": sid, "name": f"{first} {last}",
            "email": f"{first.lower()}.{last.lower()}.{sid}@{domain}",
            "grade_level": rng.randint(6, 12), "joined_on": _day(rng),
            "bio": rng.choice(BIOS).format(s=rng.choice(all_subjects)),
        })
    return rows


def make_enrollments(rng: random.Random, n_students: int, n_courses: int) -> list[dict[str, Any]]:
    rows = []
    for sid in range(1, n_students + 1):
        for cid in sorted(rng.sample(range(1, n_courses + 1), min(n_courses, rng.randint(2, 6)))):
            status = rng.choice(STATUSES)
            progress = 100 if status == "completed" else rng.randint(0, 95)
            rows.append({"student_id": sid, "course_id": cid, "progress_pct": progress,
                         "status": status, "enrolled_on": _day(rng)})
    return rows


async def _bulk(conn: AsyncConnection, table: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), 5000):
        await conn.execute(insert(table), rows[start:start + 5000])


async def seed_connection(
    conn: AsyncConnection, *, n_students: int, n_courses: int, seed: int
) -> tuple[int, int, int]:
    rng = random.Random(seed)
    course_rows = make_courses(rng, n_courses)
    student_rows = make_students(rng, n_students)
    enrollment_rows = make_enrollments(rng, n_students, n_courses)
    await create_schema(conn, drop=True)
    await _bulk(conn, courses, course_rows)
    await _bulk(conn, students, student_rows)
    await _bulk(conn, enrollments, enrollment_rows)
    await finish_search_index(conn)
    return len(student_rows), len(course_rows), len(enrollment_rows)


async def seed_database(
    url: str,
    *,
    n_students: int = 10_000,
    n_courses: int = 2_000,
    seed: int = 42,
    db_schema: str | None = None,
    only_if_empty: bool = False,
) -> SeedReport | None:
    """Drop, recreate and load the tables. With ``only_if_empty``, do nothing (return
    None) when the students table already has rows."""
    if n_students < 1 or n_courses < 6:
        raise ValueError("need at least 1 student and 6 courses (one per topic)")
    started = time.perf_counter()
    engine = make_engine(url, pool_size=1, db_schema=db_schema)
    try:
        async with engine.begin() as conn:
            if db_schema and conn.dialect.name == "postgresql":
                if not _SCHEMA_NAME.fullmatch(db_schema):
                    raise ValueError(f"bad PostgreSQL schema name {db_schema!r}")
                await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{db_schema}"'))
            if only_if_empty and await _has_students(conn):
                return None
            counts = await seed_connection(
                conn, n_students=n_students, n_courses=n_courses, seed=seed
            )
    finally:
        await engine.dispose()
    return SeedReport(*counts, seconds=round(time.perf_counter() - started, 3))


async def _has_students(conn: AsyncConnection) -> bool:
    has_table = await conn.run_sync(lambda c: inspect(c).has_table("students"))
    if not has_table:
        return False
    count = (await conn.execute(select(func.count()).select_from(students))).scalar_one()
    return bool(count)
