from __future__ import annotations

import json
import random
import uuid
from urllib.parse import parse_qs, urlsplit

from perfgate.engine.mix import build_endpoints
from perfgate.engine.params import VOCABULARY, RequestFactory, param_generator
from perfgate.plan.loader import parse_plan
from perfgate.plan.models import ParamSpec, Plan


def by_name(plan: Plan) -> dict[str, object]:
    return {r.name: r for r in build_endpoints(plan)}


def test_perf6b_requests_have_typed_values(perf6b: Plan) -> None:
    refs = build_endpoints(perf6b)
    f = RequestFactory(perf6b, "http://sut:8000/", random.Random(3),
                       {"Authorization": "Bearer t"})
    ep = {r.name: r for r in refs}
    for _ in range(200):
        prof = f.build(ep["profile"])
        parts = urlsplit(prof.url)
        assert (parts.scheme, parts.netloc) == ("http", "sut:8000")
        sid = int(parts.path.split("/")[3])
        assert 1 <= sid <= 10000 and parts.path == f"/api/students/{sid}/profile"
        assert prof.method == "GET" and prof.body is None
        assert prof.headers == {"Authorization": "Bearer t"}

        search = f.build(ep["search"])
        q = parse_qs(urlsplit(search.url).query)
        assert q["q"][0] in perf6b.params["search_term"].choice  # type: ignore[operator]
        assert 1 <= int(q["page"][0]) <= 5

        gen = f.build(ep["ai_generate"])
        assert gen.method == "POST"
        assert gen.headers["Content-Type"] == "application/json"
        body = json.loads(gen.body)  # type: ignore[arg-type]
        assert isinstance(body["course_id"], int) and 1 <= body["course_id"] <= 2000
        assert isinstance(body["count"], int) and 3 <= body["count"] <= 8

        ana = json.loads(f.build(ep["ai_analyze"]).body)  # type: ignore[arg-type]
        words = ana["text"].split(" ")
        assert 80 <= len(words) <= 220 and set(words) <= set(VOCABULARY)
        assert isinstance(ana["student_id"], int)


def test_same_seed_same_requests(perf6b: Plan) -> None:
    refs = build_endpoints(perf6b)

    def run(seed: int) -> list[tuple[str, bytes | None]]:
        f = RequestFactory(perf6b, None, random.Random(seed))
        return [(r.url, r.body) for r in (f.build(refs[i % len(refs)]) for i in range(500))]

    assert run(9) == run(9)
    assert run(9) != run(10)
    assert run(9)[0][0].startswith("http://127.0.0.1:8000/")


def test_requests_do_not_share_header_dicts(perf6b: Plan) -> None:
    ref = build_endpoints(perf6b)[0]
    f = RequestFactory(perf6b, rng=random.Random(1))
    a, b = f.build(ref), f.build(ref)
    a.headers["X"] = "1"
    assert "X" not in b.headers


PLAN = """
name: p
run_tag: t
target: {base_url: "http://h"}
schedule: {plateaus: [{rps: 1, duration: 1s}]}
families: {core: {}}
mix:
  m:
    family: core
    weight: 1
    endpoints:
      - name: e
        method: PUT
        path: /items/{name}/v{ver}
        query: {id: "{rid}", tag: "t-{ver}", fixed: "x y"}
        headers: {X-Extra: "1"}
        body: {id: "{rid}", label: "item {name}", list: ["{ver}", 3, null], flag: true}
params:
  name: {choice: ["a b/c"]}
  ver: {int: [7, 7]}
  rid: {uuid: true}
"""


def test_templates_quote_and_keep_types() -> None:
    plan = parse_plan(PLAN)
    (ref,) = build_endpoints(plan)
    req = RequestFactory(plan, rng=random.Random(0), static_headers={"A": "b"}).build(ref)
    parts = urlsplit(req.url)
    assert parts.path == "/items/a%20b%2Fc/v7"
    q = parse_qs(parts.query)
    rid = q["id"][0]
    assert uuid.UUID(rid).version == 4
    assert q["tag"] == ["t-7"] and q["fixed"] == ["x y"]
    assert json.loads(req.body or b"") == {"id": rid, "label": "item a b/c",
                                           "list": [7, 3, None], "flag": True}
    assert req.method == "PUT"
    assert req.headers == {"A": "b", "X-Extra": "1", "Content-Type": "application/json"}


def test_param_generators() -> None:
    rng = random.Random(5)
    ints = param_generator(ParamSpec.model_validate({"int": [1, 3]}), rng)
    assert {ints() for _ in range(300)} == {1, 2, 3}
    const = param_generator(ParamSpec(const="k"), rng)
    assert const() == "k"
    words = param_generator(ParamSpec.model_validate({"words": {"min": 2, "max": 2}}), rng)
    assert len(str(words()).split()) == 2
    u = param_generator(ParamSpec(uuid=True), random.Random(1))
    assert u() == param_generator(ParamSpec(uuid=True), random.Random(1))()
