"""Collapsed stacks (py-spy ``--format raw``, Brendan Gregg's folded format) -> self time
and an SVG flamegraph.

A folded line is ``root;caller;...;leaf COUNT``: COUNT samples had exactly that stack.
A frame's *self* samples are those where it is the leaf (the CPU was in that frame's own
code), its *total* samples those where it is anywhere on the stack (counted once per
line even when recursive). Shares are of all samples in the profile.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

__all__ = ["Profile", "main", "parse_collapsed", "render_svg"]


@dataclass
class Profile:
    stacks: dict[tuple[str, ...], int] = field(default_factory=dict)

    @property
    def samples(self) -> int:
        return sum(self.stacks.values())

    def self_samples(self) -> Counter[str]:
        out: Counter[str] = Counter()
        for stack, n in self.stacks.items():
            if stack:
                out[stack[-1]] += n
        return out

    def total_samples(self) -> Counter[str]:
        out: Counter[str] = Counter()
        for stack, n in self.stacks.items():
            for frame in set(stack):
                out[frame] += n
        return out


def parse_collapsed(text: str) -> Profile:
    """Lines that do not end in a count are ignored (comments, blank lines)."""
    profile = Profile()
    for line in text.splitlines():
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        key = tuple(f for f in stack.split(";") if f)
        profile.stacks[key] = profile.stacks.get(key, 0) + int(count)
    return profile


@dataclass
class _Node:
    name: str
    value: int = 0
    children: dict[str, _Node] = field(default_factory=dict)


def _tree(profile: Profile) -> _Node:
    root = _Node("all")
    for stack, n in profile.stacks.items():
        node = root
        node.value += n
        for frame in stack:
            node = node.children.setdefault(frame, _Node(frame))
            node.value += n
    return root


def _colour(name: str) -> str:
    h = int(hashlib.md5(name.encode(), usedforsecurity=False).hexdigest()[:4], 16)
    return f"rgb({205 + h % 50},{80 + (h >> 6) % 120},{40 + (h >> 10) % 40})"


def _label(name: str, w: float) -> str:
    if len(name) * 6.5 < w:
        return name
    return name[: int(w / 6.5) - 2] + ".." if w > 24 else ""


def render_svg(profile: Profile, title: str, width: int = 1200, row: int = 17,
               min_share: float = 0.001) -> str:
    """A self-contained SVG flamegraph (root at the bottom; hover a frame for its share)."""
    root = _tree(profile)
    total = max(root.value, 1)
    rects: list[tuple[float, int, float, _Node]] = []

    def walk(node: _Node, x: float, depth: int) -> None:
        for child in sorted(node.children.values(), key=lambda c: c.name):
            w = child.value / total * (width - 20)
            if child.value / total >= min_share:
                rects.append((x, depth, w, child))
                walk(child, x, depth + 1)
            x += w

    walk(root, 10.0, 0)
    height = (max((r[1] for r in rects), default=0) + 1) * row + 60
    body = []
    for x, depth, w, node in rects:
        y = height - 20 - (depth + 1) * row
        body.append(
            f'<g><title>{escape(node.name)}: {node.value} samples ({node.value / total:.1%})'
            f'</title><rect x="{x:.1f}" y="{y}" width="{max(w - 0.5, 0.1):.1f}" '
            f'height="{row - 1}" fill="{_colour(node.name)}" rx="2"/>'
            f'<text x="{x + 3:.1f}" y="{y + row - 5}">{escape(_label(node.name, w))}</text></g>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="monospace" font-size="11">'
            f'<rect width="100%" height="100%" fill="#fff"/>'
            f'<text x="10" y="20" font-size="14">{escape(title)} '
            f'({profile.samples} samples)</text>' + "".join(body) + "</svg>")


def main(argv: list[str] | None = None) -> int:
    """``python -m perfgate.capture.flamegraph RAW SVG TITLE``: render the SVG in its own
    process (the capture hook runs it niced, so the load generator's loop never waits on
    it) and print ``{"samples": N}``."""
    raw, svg, title = (argv if argv is not None else sys.argv[1:])[:3]
    profile = parse_collapsed(Path(raw).read_text(encoding="utf-8", errors="replace"))
    Path(svg).write_text(render_svg(profile, title), encoding="utf-8")
    print(json.dumps({"samples": profile.samples}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
