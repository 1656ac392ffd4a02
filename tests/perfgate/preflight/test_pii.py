"""The PII scanner: what is a hit and what is not."""

from __future__ import annotations

import pytest

from perfgate.preflight.pii import luhn_ok, scan


@pytest.mark.parametrize("text, kind", [
    ("contact jane.doe@gmail.com", "email"),
    ("call +14155550123", "phone"),
    ("call (415) 555-0123", "phone"),
    ("ssn 123-45-6789", "ssn"),
    ("card 4111 1111 1111 1111", "card"),
    ("card 5500-0000-0000-0004", "card"),
    ("from 8.8.8.8", "ip"),
    ("from 2001:4860:4860::8888", "ip"),
])
def test_hits(text: str, kind: str) -> None:
    assert [h.kind for h in scan(text)] == [kind]


@pytest.mark.parametrize("text", [
    "a@example.com b@mail.example.org c@x.example.net d@host.test e@y.invalid f@z.example",
    "student_id 1234 page 3 count 8 course 1999",
    "4111111111111112",  # fails Luhn
    "10.0.0.1 192.168.1.5 127.0.0.1 192.0.2.10 ::1 fe80::1",
    "2024-05-01 12:30:00 and a uuid 123e4567-e89b-42d3-a456-426614174000",
])
def test_not_hits(text: str) -> None:
    assert scan(text) == []


def test_luhn() -> None:
    assert luhn_ok("4111111111111111") and luhn_ok("79927398713")
    assert not luhn_ok("79927398710")
