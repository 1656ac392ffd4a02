"""Load a plan file: YAML -> ``Plan``, with every error at once, each at file:line.

PyYAML's composer keeps node marks; we walk the node tree once to map each key path
to its line, then translate pydantic's error locations (and our own semantic
checks) into ``file:line: key.path: message``.
"""

from __future__ import annotations

import string
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from perfgate.plan.models import Plan

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class PlanIssue:
    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.path or '<plan>'}: {self.message}"


class PlanError(Exception):
    """A plan that cannot be used; ``issues`` holds every problem found."""

    def __init__(self, issues: list[PlanIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


def _line_map(node: yaml.Node, loc: Loc, out: dict[Loc, int]) -> None:
    out.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            out[(*loc, key)] = key_node.start_mark.line + 1
            _line_map(value_node, (*loc, key), out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _line_map(item, (*loc, i), out)


def _line_for(loc: Loc, lines: dict[Loc, int]) -> int | None:
    probe = tuple(loc)
    while probe:
        if probe in lines:
            return lines[probe]
        probe = probe[:-1]
    return lines.get(())


def _dotted(loc: Iterable[str | int]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _clean_loc(loc: tuple[Any, ...], lines: dict[Loc, int]) -> Loc:
    """Drop pydantic's synthetic segments (union tags, function names) not in the YAML."""
    kept: list[str | int] = []
    for part in loc:
        candidate = (*kept, part)
        synthetic = isinstance(part, str) and ("[" in part or "function" in part)
        if candidate in lines or isinstance(part, int) or not synthetic:
            kept.append(part)
    return tuple(kept)


def _template_fields(text: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(text) if name]


def _body_strings(body: Any, loc: Loc) -> Iterable[tuple[Loc, str]]:
    if isinstance(body, str):
        yield loc, body
    elif isinstance(body, dict):
        for key, value in body.items():
            yield from _body_strings(value, (*loc, key))
    elif isinstance(body, list):
        for i, value in enumerate(body):
            yield from _body_strings(value, (*loc, i))


def semantic_issues(plan: Plan) -> list[tuple[Loc, str]]:
    """Cross-field rules pydantic cannot see; returns every problem with its location."""
    problems: list[tuple[Loc, str]] = []
    names: dict[str, Loc] = {}
    for class_name, mix_class in plan.mix.items():
        if mix_class.family not in plan.families:
            problems.append(((
                "mix", class_name, "family"),
                f"unknown family {mix_class.family!r}; declared: {sorted(plan.families)}"))
        for i, ep in enumerate(mix_class.endpoints):
            ep_loc: Loc = ("mix", class_name, "endpoints", i)
            if ep.name in names:
                problems.append(((*ep_loc, "name"), f"endpoint name {ep.name!r} is used twice"))
            names[ep.name] = ep_loc
            templates: list[tuple[Loc, str]] = [((*ep_loc, "path"), ep.path)]
            templates += [((*ep_loc, "query", k), v) for k, v in ep.query.items()]
            templates += list(_body_strings(ep.body, (*ep_loc, "body")))
            for loc, text in templates:
                try:
                    fields = _template_fields(text)
                except ValueError as exc:
                    problems.append((loc, f"bad template {text!r}: {exc}"))
                    continue
                for field in fields:
                    if field not in plan.params:
                        problems.append(
                            (loc, f"template uses {{{field}}} but params has no {field!r}"))
            if not ep.path.startswith("/"):
                problems.append(((*ep_loc, "path"), "path must start with '/'"))
    return problems


def parse_plan(text: str, source: str = "<plan>") -> Plan:
    """Parse plan text; raise PlanError with every issue found."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise PlanError([PlanIssue(source, line, "", f"YAML syntax: {problem}")]) from exc
    lines: dict[Loc, int] = {}
    if node is not None:
        _line_map(node, (), lines)
    if not isinstance(data, dict):
        raise PlanError([PlanIssue(source, 1, "", "a plan is a YAML mapping (key: value)")])
    try:
        plan = Plan.model_validate(data)
    except ValidationError as exc:
        issues = []
        for err in exc.errors(include_url=False):
            loc = _clean_loc(tuple(err["loc"]), lines)
            msg = err["msg"]
            if err["type"] == "extra_forbidden":
                msg = "unknown key (check the spelling; `perfgate plan schema` lists the keys)"
            issues.append(PlanIssue(source, _line_for(loc, lines), _dotted(loc), msg))
        raise PlanError(issues) from exc
    problems = semantic_issues(plan)
    if problems:
        raise PlanError([PlanIssue(source, _line_for(loc, lines), _dotted(loc), msg)
                         for loc, msg in problems])
    return plan


def load_plan(path: str | Path) -> Plan:
    """Read and validate a plan file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise PlanError([PlanIssue(str(p), None, "", f"cannot read plan: {exc.strerror}")]) from exc
    return parse_plan(text, str(p))
