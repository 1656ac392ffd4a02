from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from llmsim.config import SimConfig, load_config


def test_defaults() -> None:
    cfg = SimConfig()
    assert cfg.keys == {"sk-sim-primary": "proj-primary", "sk-sim-secondary": "proj-secondary"}
    assert cfg.project_names() == ["proj-primary", "proj-secondary"]
    assert cfg.project_config("proj-primary") == cfg.default_project
    assert cfg.latency.ttft_median_ms == 350
    assert cfg.latency.per_token_ms == 2
    assert cfg.window_s == 60


def test_load_json_and_yaml(tmp_path: Path) -> None:
    data = {
        "keys": {"k1": "p1"},
        "projects": {"p1": {"rpm": 5, "tpm": 500, "spend_limit_usd": "0.01"}},
        "prices": {"m": {"input_per_1m_usd": "1", "output_per_1m_usd": 2.5}},
        "latency_scale": 0.5,
    }
    jpath = tmp_path / "c.json"
    jpath.write_text(json.dumps(data))
    cfg = load_config(jpath)
    assert cfg.project_config("p1").spend_limit_usd == Decimal("0.01")
    assert cfg.prices["m"].output_per_1m_usd == Decimal("2.5")
    ypath = tmp_path / "c.yaml"
    ypath.write_text(
        "keys: {k1: p1}\nprojects:\n  p1: {rpm: 5, tpm: 500, spend_limit_usd: '0.01'}\n"
        "prices:\n  m: {input_per_1m_usd: '1', output_per_1m_usd: 2.5}\nlatency_scale: 0.5\n"
    )
    assert load_config(ypath) == cfg


def test_empty_yaml_is_the_default(tmp_path: Path) -> None:
    path = tmp_path / "empty.yml"
    path.write_text("")
    assert load_config(path) == SimConfig()


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("{not json", "cannot parse"),
        ("[1, 2]", "mapping"),
        ('{"latency_scal": 1}', "latency_scal"),
        ('{"prices": {}}', "prices"),
        ('{"completion": {"min_tokens": 10, "max_tokens": 5}}', "min_tokens"),
    ],
)
def test_bad_files_name_the_file_and_the_problem(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(ValueError, match=needle) as info:
        load_config(path)
    assert str(path) in str(info.value)


def test_negative_limits_are_rejected() -> None:
    with pytest.raises(ValidationError):
        SimConfig.model_validate({"default_project": {"rpm": 0}})
