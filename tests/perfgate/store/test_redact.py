from pathlib import Path

from perfgate.store import REDACTED, redact
from perfgate.store.redact import redact_value


def test_redact_replaces_every_occurrence_longest_first() -> None:
    assert redact("a=tok b=tok-long", ["tok", "tok-long"]) == f"a={REDACTED} b={REDACTED}"


def test_redact_ignores_empty_secrets() -> None:
    assert redact("nothing here", ["", ""]) == "nothing here"
    assert redact("x", []) == "x"


def test_redact_value_walks_json_like_data() -> None:
    value = {"k": ["s3cret", 1, None, True], "s3cret": 2.5, "p": Path("/tmp/s3cret")}
    assert redact_value(value, ["s3cret"]) == {
        "k": [REDACTED, 1, None, True],
        REDACTED: 2.5,
        "p": f"/tmp/{REDACTED}",
    }
    assert redact_value(value, []) is value
