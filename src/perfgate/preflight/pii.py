"""A scanner for personal data in generated payloads (the memo: synthetic payloads only).

What counts as a hit:

* e-mail addresses outside the reserved domains (RFC 2606/6761: ``example.com``,
  ``example.org``, ``example.net`` and their subdomains; the ``.test``, ``.example``,
  ``.invalid`` and ``.localhost`` top-level domains);
* phone numbers: ``+`` and 7-15 digits (E.164), or 3-3-4 digit groups with separators
  (``(555) 123-4567``, ``555.123.4567``);
* SSN-like numbers: ``ddd-dd-dddd``;
* card numbers: 13-19 digits (spaces or dashes allowed) that pass the Luhn check;
* public IP addresses: IPv4/IPv6 that ``ipaddress`` calls global (private, loopback,
  link-local and documentation ranges are fine).

Plain numbers (ids, pages) are not phone numbers: a match needs ``+`` or separators.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["PiiHit", "luhn_ok", "scan"]

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@((?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,})")
_PHONE = re.compile(r"(?<![\w+])(?:\+\d{7,15}\b|\(?\b\d{3}\)?[ .-]\d{3}[ .-]\d{4}\b)")
_SSN = re.compile(r"\b\d{3}-\d{2}-\d{4}\b")
_CARD = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
_IPV6 = re.compile(r"(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![0-9A-Fa-f:])")
_RESERVED_SLD = ("example.com", "example.org", "example.net")
_RESERVED_TLD = ("test", "example", "invalid", "localhost")


@dataclass(frozen=True)
class PiiHit:
    kind: str  # email | phone | ssn | card | ip
    value: str


def luhn_ok(digits: str) -> bool:
    total, double = 0, False
    for ch in reversed(digits):
        d = int(ch)
        if double:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
        double = not double
    return total % 10 == 0


def _reserved(domain: str) -> bool:
    d = domain.lower().rstrip(".")
    return d.rsplit(".", 1)[-1] in _RESERVED_TLD or any(
        d == s or d.endswith("." + s) for s in _RESERVED_SLD)


def _global_ip(text: str) -> bool:
    try:
        return ipaddress.ip_address(text).is_global
    except ValueError:
        return False


def scan(text: str) -> list[PiiHit]:
    hits = [PiiHit("email", m.group(0)) for m in _EMAIL.finditer(text)
            if not _reserved(m.group(1))]
    hits += [PiiHit("ssn", m.group(0)) for m in _SSN.finditer(text)]
    hits += [PiiHit("phone", m.group(0)) for m in _PHONE.finditer(text)]
    for m in _CARD.finditer(text):
        digits = re.sub(r"[ -]", "", m.group(0))
        if 13 <= len(digits) <= 19 and luhn_ok(digits):
            hits.append(PiiHit("card", m.group(0)))
    hits += [PiiHit("ip", m.group(0)) for m in _IPV4.finditer(text) if _global_ip(m.group(0))]
    hits += [PiiHit("ip", m.group(0)) for m in _IPV6.finditer(text)
             if m.group(0).count(":") >= 2 and _global_ip(m.group(0))]
    return hits


def scan_all(texts: Iterable[str]) -> list[PiiHit]:
    return [hit for text in texts for hit in scan(text)]
