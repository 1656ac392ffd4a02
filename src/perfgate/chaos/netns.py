"""A network namespace reached over a veth pair: where the AI egress lives for the
``iptables`` chaos kind (and for ``perfgate demo`` when it runs as root).

Addresses are a /30 inside 10.203.0.0/16 (the project's own test range, used only
inside namespaces perfgate creates): the host end gets ``.1``, the namespace end
``.2``. ``destroy`` removes the pair and the namespace (processes started inside it
must be stopped first; the caller owns them) and never fails loudly: it is cleanup.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from types import TracebackType

from perfgate.chaos.fault import ChaosError

__all__ = ["NetnsLink", "netns_problem"]


def netns_problem() -> str | None:
    """Why a namespace + iptables setup is impossible here, or None."""
    if os.geteuid() != 0:
        return "not root"
    missing = [t for t in ("ip", "iptables") if shutil.which(t) is None]
    return f"missing {', '.join(missing)}" if missing else None


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    got = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=15, check=False)
    if check and got.returncode != 0:
        raise ChaosError(f"ip {' '.join(args)}: {got.stderr.strip()}")
    return got


def _free_subnet() -> int:
    """A third octet whose 10.203.X.0/30 no interface here uses."""
    used = _ip("-o", "-4", "addr", "show", check=False).stdout
    for _ in range(64):
        x = secrets.randbelow(254) + 1
        if f"10.203.{x}." not in used:
            return x
    raise ChaosError("no free 10.203.X.0/30 subnet")


@dataclass
class NetnsLink:
    name: str
    host_if: str
    ns_if: str
    host_ip: str
    ns_ip: str
    created: bool = False

    @classmethod
    def create(cls, prefix: str = "pgai") -> NetnsLink:
        problem = netns_problem()
        if problem:
            raise ChaosError(f"cannot create a network namespace: {problem}")
        tag = secrets.token_hex(3)
        x = _free_subnet()
        link = cls(f"{prefix}-{tag}", f"{prefix[:4]}{tag}h", f"{prefix[:4]}{tag}n",
                   f"10.203.{x}.1", f"10.203.{x}.2")
        try:
            _ip("netns", "add", link.name)
            link.created = True
            _ip("link", "add", link.host_if, "type", "veth", "peer", "name", link.ns_if)
            _ip("link", "set", link.ns_if, "netns", link.name)
            _ip("addr", "add", f"{link.host_ip}/30", "dev", link.host_if)
            _ip("link", "set", link.host_if, "up")
            ns = ("netns", "exec", link.name, "ip")
            _ip(*ns, "addr", "add", f"{link.ns_ip}/30", "dev", link.ns_if)
            _ip(*ns, "link", "set", link.ns_if, "up")
            _ip(*ns, "link", "set", "lo", "up")
        except ChaosError:
            link.destroy()
            raise
        return link

    def exec_prefix(self) -> list[str]:
        return ["ip", "netns", "exec", self.name]

    def destroy(self) -> None:
        _ip("link", "del", self.host_if, check=False)  # deletes both ends of the pair
        if self.created:
            _ip("netns", "del", self.name, check=False)
            self.created = False

    def exists(self) -> bool:
        return self.name in _ip("netns", "list", check=False).stdout.split()

    def __enter__(self) -> NetnsLink:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.destroy()
