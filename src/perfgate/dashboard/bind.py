"""Where the dashboard listens, and whether that address needs a token.

Loopback binds (``127.0.0.0/8``, ``::1``, ``localhost``) are reachable only from this
machine and need no token. Any other bind (``0.0.0.0``, a LAN address, a host name)
gets a token generated for this run: printed once, required on every request, never
stored.
"""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass

__all__ = ["DEFAULT_BIND", "Bind", "BindError", "is_loopback", "new_token", "parse_bind"]


class BindError(ValueError):
    """A ``--dashboard-bind`` value that is not ``HOST:PORT``."""


@dataclass(frozen=True)
class Bind:
    host: str
    port: int

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


DEFAULT_BIND = Bind("127.0.0.1", 8089)


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def parse_bind(text: str) -> Bind:
    """``HOST:PORT``, ``[V6]:PORT`` or ``:PORT`` (loopback); port 0 picks a free one."""
    text = text.strip()
    if text.startswith("["):
        host, sep, port = text[1:].partition("]:")
    else:
        host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise BindError(f"--dashboard-bind {text!r}: expected HOST:PORT, e.g. 127.0.0.1:8089")
    return Bind(host or "127.0.0.1", int(port))


def new_token() -> str:
    return secrets.token_urlsafe(24)
