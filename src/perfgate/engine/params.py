"""Seeded synthetic parameters and the requests built from them.

Each ``params`` entry of the plan becomes a generator drawing from one shared
``random.Random``, so a seed reproduces every value. Values are synthetic: ``words``
draws from a fixed vocabulary of ordinary English words (no personal data).

Templates (path, query values, JSON body strings): a string that is exactly
``"{name}"`` becomes the value itself with its type (an int stays an int in JSON);
any other string is ``str.format_map`` over the values. Path values are
percent-encoded, the query is urlencoded, the body is compact JSON.
"""

from __future__ import annotations

import json
import random
import re
import string
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, urlencode

from perfgate.engine.client import PreparedRequest
from perfgate.engine.mix import EndpointRef, build_endpoints
from perfgate.plan.models import ParamSpec, Plan

Values = Mapping[str, Any]
Render = Callable[[Values], Any]

VOCABULARY: tuple[str, ...] = (
    "about", "across", "after", "again", "air", "always", "animal", "answer", "apple",
    "area", "around", "art", "ask", "autumn", "back", "ball", "basket", "beach", "became",
    "before", "began", "begin", "behind", "believe", "below", "better", "between", "bird",
    "black", "blue", "boat", "body", "book", "both", "bottle", "bread", "bridge", "bright",
    "bring", "brother", "build", "busy", "call", "came", "candle", "care", "carry", "cause",
    "center", "change", "check", "children", "circle", "city", "class", "clean", "clear",
    "close", "cloud", "cold", "color", "common", "complete", "country", "course", "cover",
    "create", "cross", "dance", "dark", "decide", "deep", "describe", "design", "direct",
    "discover", "distance", "door", "draw", "dream", "drive", "early", "earth", "easy",
    "energy", "enough", "even", "evening", "every", "example", "explain", "face", "fact",
    "family", "farm", "fast", "field", "figure", "final", "find", "fire", "first", "fish",
    "flower", "follow", "food", "forest", "form", "forward", "found", "free", "friend",
    "front", "fruit", "full", "game", "garden", "gather", "gentle", "give", "glass", "gold",
    "good", "great", "green", "ground", "group", "grow", "guess", "half", "happy", "hard",
    "heart", "heavy", "help", "high", "hill", "history", "hold", "home", "hope", "horse",
    "hour", "house", "idea", "important", "island", "journey", "keep", "kind", "king",
    "know", "lake", "language", "large", "later", "laugh", "learn", "leave", "letter",
    "level", "light", "line", "list", "listen", "little", "long", "machine", "main", "make",
    "many", "map", "mark", "measure", "middle", "might", "mind", "minute", "moment", "money",
    "moon", "morning", "mountain", "move", "music", "name", "nature", "near", "never",
    "night", "north", "note", "notice", "number", "ocean", "open", "order", "other", "page",
    "paper", "part", "pattern", "people", "picture", "piece", "place", "plain", "plan",
    "plant", "play", "point", "power", "practice", "problem", "question", "quick", "quiet",
    "rain", "reach", "read", "ready", "reason", "record", "river", "road", "rock", "room",
    "round", "rule", "school", "science", "season", "second", "seed", "sentence", "shape",
    "share", "ship", "short", "show", "side", "simple", "sing", "size", "sky", "slow",
    "small", "snow", "soft", "song", "sound", "south", "space", "special", "spring",
    "square", "stand", "star", "start", "stay", "step", "still", "stone", "story", "street",
    "strong", "study", "summer", "sun", "surface", "table", "teach", "test", "thing",
    "think", "thought", "through", "time", "together", "town", "travel", "tree", "true",
    "turn", "under", "unit", "usual", "valley", "voice", "walk", "warm", "watch", "water",
    "wave", "weather", "week", "west", "wheel", "white", "whole", "wide", "wind", "window",
    "winter", "wonder", "wood", "word", "work", "world", "write", "year", "young",
)

_EXACT = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)\}$")


def param_generator(spec: ParamSpec, rng: random.Random) -> Callable[[], Any]:
    """A zero-argument generator for one parameter, drawing from ``rng``."""
    if spec.int_range is not None:
        lo, hi = spec.int_range
        randint = rng.randint
        return lambda: randint(lo, hi)
    if spec.choice is not None:
        choices = tuple(spec.choice)
        choice = rng.choice
        return lambda: choice(choices)
    if spec.words is not None:
        wmin, wmax = spec.words.min, spec.words.max
        draw = rng.choices

        def words() -> str:
            return " ".join(draw(VOCABULARY, k=rng.randint(wmin, wmax)))

        return words
    if spec.uuid:
        bits = rng.getrandbits
        return lambda: str(uuid.UUID(int=bits(128), version=4))
    const = spec.const
    return lambda: const


def _fields(text: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(text) if name]


def compile_template(template: Any, used: set[str] | None = None) -> Render:
    """Turn a template (str, dict, list, scalar) into ``render(values)``; note the names used."""
    if isinstance(template, str):
        exact = _EXACT.match(template)
        if exact:
            name = exact.group(1)
            if used is not None:
                used.add(name)
            return lambda values: values[name]
        fields = _fields(template)
        if not fields:
            return lambda values: template
        if used is not None:
            used.update(f.split(".")[0].split("[")[0] for f in fields)
        return template.format_map
    if isinstance(template, dict):
        items = [(k, compile_template(v, used)) for k, v in template.items()]
        return lambda values: {k: render(values) for k, render in items}
    if isinstance(template, list):
        parts = [compile_template(v, used) for v in template]
        return lambda values: [render(values) for render in parts]
    return lambda values: template


class _Compiled:
    __slots__ = ("body", "generators", "headers", "method", "path", "prefix", "query")

    path: Render | str

    def __init__(
        self, ref: EndpointRef, base_url: str, generators: Mapping[str, Callable[[], Any]],
        static_headers: Mapping[str, str],
    ) -> None:
        spec = ref.spec
        used: set[str] = set()
        self.method = spec.method
        self.prefix = base_url
        path_used: set[str] = set()
        path = compile_template(spec.path, path_used)
        self.path = path if path_used else base_url + spec.path
        used |= path_used
        self.query = [(k, compile_template(v, used)) for k, v in spec.query.items()]
        self.body: Render | None = (
            compile_template(spec.body, used) if spec.body is not None else None)
        self.headers = {**static_headers, **spec.headers}
        if self.body is not None:
            self.headers.setdefault("Content-Type", "application/json")
        missing = sorted(used - set(generators))
        if missing:
            raise ValueError(f"endpoint {ref.name!r} uses unknown params: {missing}")
        # sorted: the draw order (hence the values for a seed) does not depend on set order
        self.generators = [(name, generators[name]) for name in sorted(used)]


class RequestFactory:
    """Builds each endpoint's request with fresh synthetic values (templates compiled once)."""

    def __init__(
        self, plan: Plan, base_url: str | None = None, rng: random.Random | None = None,
        static_headers: Mapping[str, str] | None = None,
        endpoints: list[EndpointRef] | None = None,
    ) -> None:
        rng = rng if rng is not None else random.Random(plan.schedule.seed)
        base = (base_url if base_url is not None else plan.target.base_url).rstrip("/")
        generators = {name: param_generator(spec, rng) for name, spec in plan.params.items()}
        refs = endpoints if endpoints is not None else build_endpoints(plan)
        headers = dict(static_headers or {})
        self._compiled = [_Compiled(ref, base, generators, headers) for ref in refs]

    def build(self, ref: EndpointRef) -> PreparedRequest:
        c = self._compiled[ref.index]
        values = {name: gen() for name, gen in c.generators}
        path = c.path
        if isinstance(path, str):
            url = path
        else:
            url = c.prefix + str(path({k: quote(v, safe="") if isinstance(v, str) else v
                                       for k, v in values.items()}))
        if c.query:
            url += "?" + urlencode([(k, render(values)) for k, render in c.query])
        body = None
        if c.body is not None:
            body = json.dumps(c.body(values), separators=(",", ":")).encode()
        return PreparedRequest(c.method, url, dict(c.headers), body)
