"""Target groups on their own: registration, health states, least outstanding requests."""

from __future__ import annotations

import pytest

from archlab.runtime.balancer.targets import HealthCheckPolicy, TargetGroup


def group(*ids: str, **policy: object) -> TargetGroup:
    tg = TargetGroup("web", HealthCheckPolicy(**policy))  # type: ignore[arg-type]
    tg.register([{"id": i, "host": "127.0.0.1", "port": 9000 + n} for n, i in enumerate(ids)])
    return tg


def healthy(tg: TargetGroup) -> TargetGroup:
    for target in tg.targets.values():
        for _ in range(tg.health_check.healthy_threshold):
            tg.checked(target, True, "ok")
    return tg


def test_new_targets_are_initial_until_they_pass_the_healthy_threshold() -> None:
    tg = group("a", healthy_threshold=3)
    target = tg.targets["a"]
    for _ in range(2):
        tg.checked(target, True, "ok")
    assert target.health == "initial"
    tg.checked(target, True, "ok")
    assert target.health == "healthy"


def test_failures_in_a_row_make_a_target_unhealthy_and_passes_bring_it_back() -> None:
    tg = healthy(group("a", unhealthy_threshold=2, healthy_threshold=2))
    target = tg.targets["a"]
    tg.checked(target, False, "503")
    assert target.health == "healthy"  # one failure is not enough
    tg.checked(target, True, "ok")
    tg.checked(target, False, "503")
    assert target.health == "healthy"  # the failures must be in a row
    tg.checked(target, False, "503")
    assert target.health == "unhealthy" and target.reason == "503"
    tg.checked(target, True, "ok")
    tg.checked(target, True, "ok")
    assert target.health == "healthy"


def test_a_refused_connection_takes_a_target_out_at_once() -> None:
    tg = healthy(group("a", "b"))
    tg.connection_failed(tg.targets["a"], "connection refused")
    assert tg.targets["a"].health == "unhealthy" and tg.targets["a"].failures == 1
    assert {tg.choose().id for _ in range(4)} == {"b"}  # type: ignore[union-attr]


def test_least_outstanding_requests_then_in_turn() -> None:
    tg = healthy(group("a", "b", "c"))
    tg.targets["a"].outstanding = 2
    tg.targets["b"].outstanding = 1
    tg.targets["c"].outstanding = 1
    chosen = [tg.choose().id for _ in range(4)]  # type: ignore[union-attr]
    assert set(chosen) == {"b", "c"} and chosen[0] != chosen[1]
    assert tg.choose(exclude={"b", "c"}).id == "a"  # type: ignore[union-attr]


def test_no_healthy_target_fails_open_and_draining_ones_never_get_requests() -> None:
    tg = group("a", "b")  # both initial
    assert tg.choose() is not None
    tg.register(
        [
            {"id": "a", "host": "127.0.0.1", "port": 9000, "state": "draining"},
            {"id": "b", "host": "127.0.0.1", "port": 9001},
        ]
    )
    assert {tg.choose().id for _ in range(4)} == {"b"}  # type: ignore[union-attr]
    tg.register([{"id": "a", "host": "127.0.0.1", "port": 9000, "state": "draining"}])
    assert tg.choose() is None


def test_registering_again_keeps_health_unless_the_address_changed() -> None:
    tg = healthy(group("a"))
    tg.targets["a"].requests = 7
    tg.register([{"id": "a", "host": "127.0.0.1", "port": 9000}])
    assert tg.targets["a"].health == "healthy" and tg.targets["a"].requests == 7
    tg.register([{"id": "a", "host": "127.0.0.1", "port": 9999}])
    assert tg.targets["a"].health == "initial"


@pytest.mark.parametrize(
    "policy",
    [
        {"path": "health"},
        {"interval_s": 0},
        {"timeout_s": 2, "interval_s": 1},
        {"healthy_threshold": 0},
    ],
)
def test_a_bad_health_check_is_refused(policy: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        HealthCheckPolicy(**policy)  # type: ignore[arg-type]
