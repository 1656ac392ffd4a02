"""Run-time resolution of the URLs and headers guards and telemetry use.

``${NAME}`` in a URL or header value is expanded from the environment when the run
starts (the plan keeps the template; the value is never stored). A path URL
(``/metrics``) is relative to the target's base URL. Hosts must be loopback or in the
plan's ``target.allowed_hosts``, like the load itself.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

__all__ = ["MissingEnv", "expand", "host_problem", "resolve_url"]

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class MissingEnv(KeyError):
    def __str__(self) -> str:
        return f"environment variable {self.args[0]} is not set"


def expand(text: str, env: Mapping[str, str]) -> str:
    """``text`` with every ``${NAME}`` replaced; raises MissingEnv."""

    def sub(match: re.Match[str]) -> str:
        name = match.group(1)
        if not env.get(name):
            raise MissingEnv(name)
        return env[name]

    return _ENV_REF.sub(sub, text)


def expand_headers(headers: Mapping[str, str], env: Mapping[str, str]) -> dict[str, str]:
    return {k: expand(v, env) for k, v in headers.items()}


def references(texts: Iterable[str]) -> list[str]:
    return sorted({m for t in texts for m in _ENV_REF.findall(t)})


def resolve_url(url: str, base_url: str, env: Mapping[str, str]) -> str:
    url = expand(url, env)
    return base_url.rstrip("/") + url if url.startswith("/") else url


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def host_problem(url: str, allowed: Iterable[str]) -> str | None:
    """None when ``url`` is http(s) to loopback or an allowed host, else why not."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "not an http(s) URL with a host"
    if _is_loopback(parts.hostname) or parts.hostname in set(allowed):
        return None
    return (f"host {parts.hostname!r} is neither loopback nor in target.allowed_hosts; "
            "perfgate only talks to hosts the plan allows")
