"""Tables (SQLAlchemy Core) and the dialect-specific search index DDL.

SQLite: an external-content FTS5 table ``courses_fts`` (porter stemming) over title and
description. PostgreSQL: a stored generated ``tsvector`` column with a GIN index,
queried with ``plainto_tsquery``.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.ext.asyncio import AsyncConnection

metadata = MetaData()

students = Table(
    "students",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("name", String(120), nullable=False),
    Column("email", String(200), nullable=False),
    Column("grade_level", Integer, nullable=False),
    Column("joined_on", String(10), nullable=False),
    Column("bio", Text, nullable=False),
)

courses = Table(
    "courses",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("title", String(200), nullable=False),
    Column("topic", String(40), nullable=False),
    Column("level", String(20), nullable=False),
    Column("instructor", String(120), nullable=False),
    Column("description", Text, nullable=False),
    Index("ix_courses_topic_id", "topic", "id"),
)

enrollments = Table(
    "enrollments",
    metadata,
    Column("student_id", Integer, ForeignKey("students.id"), primary_key=True),
    Column("course_id", Integer, ForeignKey("courses.id"), primary_key=True),
    Column("progress_pct", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("enrolled_on", String(10), nullable=False),
)

SQLITE_SEARCH_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS courses_fts USING fts5("
    "title, description, content='courses', content_rowid='id', "
    "tokenize='porter unicode61')",
)
SQLITE_SEARCH_REBUILD = "INSERT INTO courses_fts(courses_fts) VALUES('rebuild')"

POSTGRES_SEARCH_DDL = (
    "ALTER TABLE courses ADD COLUMN IF NOT EXISTS search_tsv tsvector GENERATED ALWAYS AS "
    "(to_tsvector('english', title || ' ' || description)) STORED",
    "CREATE INDEX IF NOT EXISTS ix_courses_search_tsv ON courses USING GIN (search_tsv)",
)


async def create_schema(conn: AsyncConnection, *, drop: bool = False) -> None:
    dialect = conn.dialect.name
    if drop:
        if dialect == "sqlite":
            await conn.execute(text("DROP TABLE IF EXISTS courses_fts"))
        await conn.run_sync(metadata.drop_all)
    await conn.run_sync(metadata.create_all)
    ddl = SQLITE_SEARCH_DDL if dialect == "sqlite" else POSTGRES_SEARCH_DDL
    for statement in ddl:
        await conn.execute(text(statement))


async def finish_search_index(conn: AsyncConnection) -> None:
    """After bulk loading: (re)build the FTS5 index on SQLite, ANALYZE everywhere."""
    if conn.dialect.name == "sqlite":
        await conn.execute(text(SQLITE_SEARCH_REBUILD))
        await conn.execute(text("ANALYZE"))
    else:
        await conn.execute(text("ANALYZE courses"))
        await conn.execute(text("ANALYZE students"))
        await conn.execute(text("ANALYZE enrollments"))
