"""RuleSet behaviour beyond agreement with EventPattern: its API, atomicity and threads."""

from __future__ import annotations

import threading

import pytest

from archlab.routing import EventPattern, InvalidEvent, InvalidEventPattern, RuleSet

CAR = {"detail": {"coverage": "car", "premium": 900}}


def test_add_replace_remove() -> None:
    rules = RuleSet()
    rules.add("cars", {"detail": {"coverage": ["car"]}})
    assert rules.matches(CAR) == ["cars"]
    rules.add("cars", {"detail": {"coverage": ["home"]}})  # replaced, as PutRule does
    assert rules.matches(CAR) == []
    assert len(rules) == 1 and "cars" in rules
    rules.remove("cars")
    assert len(rules) == 0 and rules.matches(CAR) == []
    with pytest.raises(KeyError):
        rules.remove("cars")


def test_matches_accepts_json_text_and_returns_sorted_names() -> None:
    rules = RuleSet(
        {
            "b": {"detail": {"premium": [{"numeric": [">", 500]}]}},
            "a": {"detail": {"coverage": ["car"]}},
        }
    )
    assert rules.matches('{"detail": {"coverage": "car", "premium": 900}}') == ["a", "b"]


def test_empty_pattern_is_rejected() -> None:
    with pytest.raises(InvalidEventPattern):
        RuleSet({"all": {}})


def test_invalid_pattern_changes_nothing() -> None:
    rules = RuleSet({"cars": {"detail": {"coverage": ["car"]}}})
    with pytest.raises(InvalidEventPattern):
        rules.add("cars", {"detail": {"coverage": "car"}})
    assert rules.matches(CAR) == ["cars"]


def test_update_is_all_or_nothing() -> None:
    rules = RuleSet({"cars": {"detail": {"coverage": ["car"]}}})
    with pytest.raises(InvalidEventPattern):
        rules.update({"big": {"detail": {"premium": [{"numeric": [">", 500]}]}}, "bad": {"x": 1}})
    assert rules.names() == ["cars"]


def test_bad_names_and_events() -> None:
    rules = RuleSet()
    with pytest.raises(ValueError, match="rule name"):
        rules.add("", {"a": ["x"]})
    with pytest.raises(InvalidEvent):
        rules.matches("[1, 2]")
    with pytest.raises(InvalidEvent):
        rules.matches("{not json")


def test_compiled_patterns_are_accepted_and_kept() -> None:
    pattern = EventPattern({"detail": {"coverage": ["car"]}})
    rules = RuleSet({"cars": pattern})
    assert rules.pattern("cars") is pattern


def test_replanning_as_the_set_grows_keeps_answers() -> None:
    """Adding rules one by one crosses several re-plans; answers must not change."""
    rules = RuleSet()
    patterns = {
        f"customer-{n}": {"detail-type": ["Purchase"], "detail": {"customer": [f"C{n}"]}}
        for n in range(300)
    }
    for name, pattern in patterns.items():
        rules.add(name, pattern)
    event = {"detail-type": "Purchase", "detail": {"customer": "C123"}}
    assert rules.matches(event) == ["customer-123"]
    # After the re-plans, the shared detail-type no longer leads every rule: customers do.
    assert "detail.customer" in rules._root.fields


def test_rules_change_while_other_threads_match() -> None:
    stable = {"detail": {"coverage": ["car"]}}
    rules = RuleSet({"stable": stable})
    errors: list[BaseException] = []
    stop = threading.Event()

    def match_continuously() -> None:
        try:
            while not stop.is_set():
                matched = rules.matches(CAR)
                assert "stable" in matched, matched
        except BaseException as error:  # reported to the main thread below
            errors.append(error)

    readers = [threading.Thread(target=match_continuously) for _ in range(3)]
    for reader in readers:
        reader.start()
    try:
        for round_ in range(200):
            name = f"churn-{round_ % 7}"
            rules.add(name, {"detail": {"premium": [{"numeric": [">", round_]}]}})
            if round_ % 3 == 0:
                rules.remove(name)
    finally:
        stop.set()
        for reader in readers:
            reader.join()
    assert not errors, errors[0]
    assert "stable" in rules.matches(CAR)
