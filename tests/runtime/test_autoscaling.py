"""Target tracking on backlog per worker, driven by a manual clock."""

from __future__ import annotations

from archlab.clock import ManualClock
from archlab.runtime.autoscaling import Autoscaler
from archlab.topology import TargetTracking

POLICY = TargetTracking(
    acceptable_latency_s=1.0,
    processing_time_s=0.1,  # a worker may have 10 messages waiting
    scale_out_cooldown_s=5,
    scale_in_cooldown_s=30,
)


def scaler(clock: ManualClock, min_size: int = 1, max_size: int = 5) -> Autoscaler:
    return Autoscaler("backend", POLICY, min_size, max_size, clock)


def test_desired_size_is_backlog_over_target_within_bounds() -> None:
    autoscaler = scaler(ManualClock())
    assert [autoscaler.desired(v) for v in (0, 1, 10, 11, 35, 1000)] == [1, 1, 1, 2, 4, 5]


def test_scales_out_then_waits_for_the_cooldown() -> None:
    clock = ManualClock()
    autoscaler = scaler(clock)
    first = autoscaler.decide(visible=35, workers=1, idle=0)
    assert (first.action, first.change, first.desired) == ("scale-out", 3, 4)
    assert first.backlog_per_worker == 35 and first.target_backlog_per_worker == 10
    clock.advance(4)
    held = autoscaler.decide(visible=60, workers=4, idle=0)
    assert (held.action, held.reason) == ("hold", "scale-out cooldown")
    clock.advance(1)
    assert autoscaler.decide(visible=60, workers=4, idle=0).change == 1


def test_scales_in_only_idle_workers_after_the_cooldown() -> None:
    clock = ManualClock()
    autoscaler = scaler(clock)
    autoscaler.decide(visible=50, workers=1, idle=0)  # scale out to 5
    clock.advance(10)
    assert autoscaler.decide(visible=0, workers=5, idle=5).reason == "scale-in cooldown"
    clock.advance(20)
    busy = autoscaler.decide(visible=0, workers=5, idle=0)
    assert (busy.action, busy.reason) == ("hold", "no idle worker to remove")
    partly = autoscaler.decide(visible=0, workers=5, idle=2)
    assert (partly.action, partly.change) == ("scale-in", -2)
    clock.advance(30)
    assert autoscaler.decide(visible=0, workers=3, idle=3).change == -2


def test_an_empty_pool_with_work_scales_out_and_min_size_holds() -> None:
    clock = ManualClock()
    autoscaler = scaler(clock, min_size=0)
    assert autoscaler.decide(visible=3, workers=0, idle=0).change == 1
    clock.advance(60)
    assert autoscaler.decide(visible=0, workers=1, idle=1).change == -1
    steady = scaler(clock, min_size=2)
    assert steady.decide(visible=0, workers=2, idle=2).action == "hold"


def test_decisions_describe_their_inputs() -> None:
    decision = scaler(ManualClock()).decide(visible=35, workers=1, idle=0)
    text = decision.describe()
    for part in ("backend", "scale-out 1 -> 4", "visible 35", "target 10.0", "desired 4"):
        assert part in text
