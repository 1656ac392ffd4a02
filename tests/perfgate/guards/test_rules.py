"""``for:`` semantics on a fake clock: held 119 s does not fire, 120 s does, a gap resets."""

from __future__ import annotations

from perfgate.guards.rules import ForRule, RuleState, Transition, scaled

BREACH = 0.02  # 2% errors against "> 0.5%"


def run(rule: ForRule, values: dict[int, float | None], until: int) -> dict[int, Transition]:
    """Evaluate once a second from t=0 to ``until``; default value: breaching."""
    return {t: rule.evaluate(float(t), values.get(t, BREACH)) for t in range(until + 1)}


def test_held_for_119_seconds_does_not_fire_120_does() -> None:
    rule = ForRule(">", 0.005, 120.0)
    seen = run(rule, {}, 119)
    assert seen[0] is Transition.BREACH
    assert Transition.FIRE not in seen.values() and rule.state is RuleState.PENDING
    assert rule.evaluate(120.0, BREACH) is Transition.FIRE
    assert rule.state is RuleState.FIRING and rule.fired_at == 120.0


def test_a_gap_resets_the_clock() -> None:
    rule = ForRule(">", 0.005, 120.0)
    seen = run(rule, {60: None}, 180)  # no data at t=60: the condition did not hold
    assert seen[60] is Transition.CLEAR and seen[61] is Transition.BREACH
    assert Transition.FIRE not in seen.values()
    assert rule.evaluate(181.0, BREACH) is Transition.FIRE  # 120 s after t=61


def test_a_good_evaluation_resets_and_a_cleared_firing_rule_can_fire_again() -> None:
    rule = ForRule(">", 0.005, 2.0)
    assert run(rule, {1: 0.001}, 4)[4] is Transition.FIRE  # 2..4 held
    assert rule.evaluate(5.0, 0.0) is Transition.CLEAR
    assert rule.evaluate(6.0, BREACH) is Transition.BREACH


def test_for_zero_fires_on_the_first_breach() -> None:
    rule = ForRule(">", 0.0, 0.0)
    assert rule.evaluate(0.0, 0.0) is Transition.NONE
    assert rule.evaluate(1.0, 1.0) is Transition.FIRE


def test_float_ticks_do_not_lose_the_last_second() -> None:
    rule = ForRule(">", 0.005, 12.0)
    t = 0.0
    fired = None
    for _ in range(200):
        if rule.evaluate(t, BREACH) is Transition.FIRE:
            fired = t
            break
        t += 0.1  # 120 additions of 0.1 is 11.99999...
    assert fired is not None and abs(fired - 12.0) < 1e-6


def test_scaled_durations_have_a_floor() -> None:
    assert scaled(120, 0.5, 3.0) == 60
    assert scaled(120, 1 / 30, 3.0) == 4
    assert scaled(120, 0.001, 3.0) == 3.0
    assert scaled(2, 0.001, 3.0) == 2  # never longer than the plan says
    assert scaled(0, 0.5, 3.0) == 0


def test_on_a_jittery_1s_grid_the_held_time_is_rounded_to_the_grid() -> None:
    rule = ForRule(">", 0.005, 6.0, resolution=1.0)
    assert rule.evaluate(10.004, BREACH) is Transition.BREACH
    for t in (11.001, 12.003, 13.002, 14.001, 15.003):
        assert rule.evaluate(t, BREACH) is Transition.NONE
    assert rule.evaluate(16.001, BREACH) is Transition.FIRE  # held 5.997 s: six ticks
