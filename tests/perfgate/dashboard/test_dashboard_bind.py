"""Where the dashboard listens, and which binds need a token."""

from __future__ import annotations

import pytest

from perfgate.dashboard.bind import DEFAULT_BIND, Bind, BindError, is_loopback, parse_bind


@pytest.mark.parametrize(("text", "bind"), [
    ("127.0.0.1:8089", Bind("127.0.0.1", 8089)),
    ("0.0.0.0:0", Bind("0.0.0.0", 0)),
    (":9000", Bind("127.0.0.1", 9000)),
    ("[::1]:8089", Bind("::1", 8089)),
    ("warroom.example:80", Bind("warroom.example", 80)),
])
def test_parse_bind(text: str, bind: Bind) -> None:
    assert parse_bind(text) == bind


@pytest.mark.parametrize("text", ["8089", "host:", "host:port", "1.2.3.4:70000", "[::1]8089"])
def test_parse_bind_rejects(text: str) -> None:
    with pytest.raises(BindError, match="HOST:PORT"):
        parse_bind(text)


@pytest.mark.parametrize(("host", "loop"), [
    ("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("localhost", True),
    ("0.0.0.0", False), ("::", False), ("10.1.2.3", False), ("warroom.example", False),
])
def test_loopback(host: str, loop: bool) -> None:
    assert is_loopback(host) is loop
    assert Bind(host, 1).loopback is loop


def test_default_is_loopback_8089() -> None:
    assert Bind("127.0.0.1", 8089) == DEFAULT_BIND and DEFAULT_BIND.loopback
    assert str(Bind("::1", 8089)) == "[::1]:8089"
