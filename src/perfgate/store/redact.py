"""Scrubbing secrets out of free text before it reaches the store.

Secrets are never handed to the store in the first place; this is the second line:
any event message, event data, meta value or verdict that quotes one (an error echoing
a header, say) gets ``[REDACTED]`` in its place.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["REDACTED", "redact", "redact_value"]

REDACTED = "[REDACTED]"


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of every non-empty secret replaced."""
    # Longest first, so a secret that contains another is replaced whole.
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def redact_value(value: object, secrets: Iterable[str]) -> object:
    """Redact every string (keys too) inside a JSON-like value.

    Numbers, booleans and None pass as they are; any other leaf becomes its ``str()``
    (as the store's JSON encoding would make it), redacted.
    """
    found = tuple(s for s in secrets if s)
    if not found:
        return value
    return _walk(value, found)


def _walk(value: object, secrets: tuple[str, ...]) -> object:
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {_walk(k, secrets): _walk(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_walk(v, secrets) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(str(value), secrets)
