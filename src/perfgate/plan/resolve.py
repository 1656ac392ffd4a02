"""Run-time choices applied to a validated plan: target override, host allow-list, secrets.

Secrets stay out of the plan: ``${NAME}`` in header values is expanded from the
environment only when a run starts, and the expanded values are handed to the engine
alone. What is stored is the template, never the value.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from perfgate.plan.models import Plan

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class TargetNotAllowed(ValueError):
    """The target host is neither loopback nor in the plan's allowed_hosts."""


class MissingSecret(KeyError):
    """A ``${NAME}`` in the plan has no value in the environment."""

    def __str__(self) -> str:
        return f"environment variable {self.args[0]} is not set (referenced by the plan's headers)"


def with_target(plan: Plan, base_url: str | None) -> Plan:
    if base_url is None:
        return plan
    target = plan.target.model_copy(update={"base_url": base_url.rstrip("/")})
    return plan.model_copy(update={"target": target})


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_target_allowed(plan: Plan) -> str:
    """Return the target host; raise TargetNotAllowed unless loopback or explicitly allowed."""
    parts = urlsplit(plan.target.base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetNotAllowed(f"target base_url {plan.target.base_url!r} is not an http(s) URL")
    host = parts.hostname
    if _is_loopback(host) or host in plan.target.allowed_hosts:
        return host
    raise TargetNotAllowed(
        f"target host {host!r} is not loopback and not in target.allowed_hosts "
        f"{plan.target.allowed_hosts}; perfgate only sends traffic to hosts a plan allows"
    )


def env_references(plan: Plan) -> list[str]:
    return sorted({m for v in plan.target.headers.values() for m in _ENV_REF.findall(v)})


@dataclass(frozen=True)
class ResolvedSecrets:
    headers: dict[str, str]
    values: tuple[str, ...]  # every expanded secret, for redaction


def expand_headers(plan: Plan, env: Mapping[str, str] | None = None) -> ResolvedSecrets:
    source = os.environ if env is None else env
    values: list[str] = []

    def sub(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in source:
            raise MissingSecret(name)
        values.append(source[name])
        return source[name]

    headers = {k: _ENV_REF.sub(sub, v) for k, v in plan.target.headers.items()}
    return ResolvedSecrets(headers, tuple(v for v in values if v))
