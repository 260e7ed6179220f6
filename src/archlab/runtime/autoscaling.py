"""Target-tracking autoscaling on backlog per worker, as AWS recommends for queue consumers.

The metric is backlog per worker: visible messages ÷ workers. Its target is how many waiting
messages one worker can have and still meet the acceptable latency: acceptable latency ÷
average processing time. The desired size is the backlog divided by that target, rounded up
and kept within [min, max]. Scaling out waits for the scale-out cooldown since the last
scale-out; scaling in waits for the scale-in cooldown since any scaling, and removes only idle
workers (a busy one finishes its message first, and is removed by a later decision).

The autoscaler only decides; the pool acts. Every decision carries its inputs, so the log says
why the pool has the size it has.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from archlab.clock import Clock, SystemClock
from archlab.topology import TargetTracking


@dataclass(frozen=True)
class ScalingDecision:
    pool: str
    at: float
    visible: int
    workers: int
    idle: int
    backlog_per_worker: float
    target_backlog_per_worker: float
    desired: int
    change: int
    """Workers to add (> 0) or to remove (< 0, idle ones only); 0 holds."""
    action: Literal["scale-out", "scale-in", "hold"]
    reason: str

    def describe(self) -> str:
        return (
            f"{self.pool}: {self.action} {self.workers} -> {self.workers + self.change}"
            f" (visible {self.visible}, backlog/worker {self.backlog_per_worker:.1f},"
            f" target {self.target_backlog_per_worker:.1f}, desired {self.desired},"
            f" idle {self.idle}): {self.reason}"
        )


class Autoscaler:
    def __init__(
        self,
        pool: str,
        policy: TargetTracking,
        min_size: int,
        max_size: int,
        clock: Clock | None = None,
    ) -> None:
        self.pool = pool
        self.policy = policy
        self.min_size = min_size
        self.max_size = max_size
        self.clock = clock or SystemClock()
        self._last_scale_out = -math.inf
        self._last_scaling = -math.inf

    def desired(self, visible: int) -> int:
        needed = math.ceil(visible / self.policy.target_backlog_per_worker)
        return max(self.min_size, min(self.max_size, needed))

    def decide(self, visible: int, workers: int, idle: int) -> ScalingDecision:
        now = self.clock.now()
        desired = self.desired(visible)
        change = 0
        action: Literal["scale-out", "scale-in", "hold"] = "hold"
        if desired > workers:
            if now - self._last_scale_out >= self.policy.scale_out_cooldown_s:
                change, action, reason = desired - workers, "scale-out", "backlog above target"
            else:
                reason = "scale-out cooldown"
        elif desired < workers:
            if now - self._last_scaling < self.policy.scale_in_cooldown_s:
                reason = "scale-in cooldown"
            elif idle == 0:
                reason = "no idle worker to remove"
            else:
                change = -min(workers - desired, idle)
                action, reason = "scale-in", "backlog below target"
        else:
            reason = "at the desired size"
        if change > 0:
            self._last_scale_out = self._last_scaling = now
        elif change < 0:
            self._last_scaling = now
        per_worker = visible / workers if workers else float(visible)
        return ScalingDecision(
            pool=self.pool,
            at=now,
            visible=visible,
            workers=workers,
            idle=idle,
            backlog_per_worker=per_worker,
            target_backlog_per_worker=self.policy.target_backlog_per_worker,
            desired=desired,
            change=change,
            action=action,
            reason=reason,
        )
