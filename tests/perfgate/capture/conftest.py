"""Capture fixtures: a fake py-spy (writes collapsed stacks where py-spy would) and a
fake PostgreSQL connection with pg_stat_statements."""

from __future__ import annotations

import stat
import sys
from pathlib import Path
from typing import Any

import pytest

FAKE_PYSPY = '''#!{python}
import sys
args = sys.argv[1:]
out = args[args.index("--output") + 1]
assert args[0] == "record" and "--pid" in args and "--nonblocking" in args and "--gil" in args
with open(out, "w") as f:
    f.write("main (app.py:1);handle (app.py:9);hot (app.py:20) 70\\n")
    f.write("main (app.py:1);poll (asyncio.py:5) 30\\n")
'''


@pytest.fixture(name="fake_pyspy")
def fake_pyspy_fixture(tmp_path: Path) -> str:
    path = tmp_path / "py-spy"
    path.write_text(FAKE_PYSPY.format(python=sys.executable))
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


class FakePg:
    def __init__(self, log: list[str]) -> None:
        self.log = log

    async def execute(self, query: str) -> Any:
        self.log.append(query.strip())
        return "SELECT 1"

    async def fetch(self, query: str, *args: Any) -> list[Any]:
        self.log.append(f"fetch {args}")
        return [{"query": "SELECT * FROM courses WHERE title LIKE $1", "calls": 120,
                 "total_exec_time": 3400.5, "mean_exec_time": 28.3, "rows": 2400}]

    async def close(self) -> None:
        self.log.append("close")


@pytest.fixture(name="pg_log")
def pg_log_fixture() -> list[str]:
    return []


@pytest.fixture(name="fake_pg")
def fake_pg_fixture(pg_log: list[str]) -> Any:
    async def connect(dsn: str) -> FakePg:
        pg_log.append(f"connect {dsn}")
        return FakePg(pg_log)

    return connect
