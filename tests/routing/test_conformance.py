"""The EventBridge pattern cases recorded against the real service (see shared/conformance).

The cases are kept in the repository (``tests/routing/conformance/``, provenance in its README)
so that a clone anywhere runs them; when the shared folder sits beside the project, a test
checks that the copy is still the same.

Each case is checked three ways: the pattern alone, the pattern as the only rule of a RuleSet,
and every valid case loaded together into one RuleSet (so the shared index is exercised).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import json5
import pytest

from archlab.routing import EventPattern, InvalidEventPattern, RuleSet
from tests.conftest import REQUIRE_EXTERNALS

CASES_DIR = Path(__file__).resolve().parent / "conformance" / "eventbridge-patterns"
SHARED_DIR = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "eventbridge-patterns"
# Recorded patterns can be longer than the default quota of 2,048 characters.
MAX_LENGTH = 4096


def load_cases() -> list[Any]:
    if not CASES_DIR.is_dir():
        if REQUIRE_EXTERNALS:
            raise RuntimeError(f"the conformance cases are missing: {CASES_DIR}")
        return [pytest.param(None, id="missing", marks=pytest.mark.skip(f"no {CASES_DIR}"))]
    cases = []
    for path in sorted(CASES_DIR.glob("*.json5")):
        case = json5.loads(path.read_text(encoding="utf-8"))
        cases.append(pytest.param((path.stem, case["EventPattern"], case["Event"]), id=path.stem))
    assert cases, f"no cases in {CASES_DIR}"
    return cases


CASES = load_cases()


def expected_outcome(name: str) -> str:
    if name.endswith("_EXC"):
        return "invalid"
    return "no match" if name.endswith("_NEG") else "match"


@pytest.mark.parametrize("case", CASES)
def test_pattern_agrees_with_eventbridge(case: tuple[str, Any, Any]) -> None:
    name, pattern, event = case
    expected = expected_outcome(name)
    if expected == "invalid":
        with pytest.raises(InvalidEventPattern) as raised:
            EventPattern(pattern, max_length=MAX_LENGTH)
        assert raised.value.reason
        return
    matched = EventPattern(pattern, max_length=MAX_LENGTH).matches(event)
    assert matched == (expected == "match")


@pytest.mark.parametrize("case", CASES)
def test_ruleset_agrees_with_eventbridge(case: tuple[str, Any, Any]) -> None:
    name, pattern, event = case
    expected = expected_outcome(name)
    rules = RuleSet()
    if expected == "invalid":
        with pytest.raises(InvalidEventPattern):
            rules.add(name, pattern)
        assert len(rules) == 0
        return
    rules.add(name, EventPattern(pattern, max_length=MAX_LENGTH))
    assert rules.matches(event) == ([name] if expected == "match" else [])


def test_all_cases_in_one_ruleset() -> None:
    valid = [
        c.values[0] for c in CASES if c.values[0] and expected_outcome(c.values[0][0]) != "invalid"
    ]
    if not valid:
        pytest.skip("no conformance cases")
    rules = RuleSet()
    for name, pattern, _ in valid:
        rules.add(name, EventPattern(pattern, max_length=MAX_LENGTH))
    for name, _, event in valid:
        matched = rules.matches(event)
        assert (name in matched) == (expected_outcome(name) == "match"), name
        expected = [n for n in rules.names() if rules.pattern(n).matches(event)]
        assert matched == expected, name
    for name, _, _ in valid:
        rules.remove(name)
    assert len(rules) == 0


@pytest.mark.skipif(not SHARED_DIR.is_dir(), reason=f"no shared cases at {SHARED_DIR} to compare")
def test_the_copied_cases_are_the_shared_ones() -> None:
    def contents(directory: Path) -> dict[str, bytes]:
        return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}

    assert contents(CASES_DIR) == contents(SHARED_DIR)
