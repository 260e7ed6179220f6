"""Property tests: the rule index answers exactly as evaluating each pattern on its own does.

Patterns and events are drawn from a small vocabulary of paths and values, so that random
patterns match random events often, arrays of objects put array consistency to the test, and
every operator appears.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from archlab.routing import EventPattern, RuleSet

STRINGS = ["", "a", "ab", "ba", "A", "Ab", "a*b", "10.0.0.7", "10.0.1.7", "2001:db8::1", "x.y"]
NUMBERS = [0, 1, 1.5, -2, 10, 10.0, 300, 1e6]
SCALARS = st.sampled_from([*STRINGS, *NUMBERS, True, False, None])

# Paths an event may hold; "items" is an array of objects, "tags" an array of scalars.
OBJECT_PATHS = ["a", "b", "c.d", "c.e"]
ITEM_KEYS = ["k", "v"]
PATTERN_PATHS = [*OBJECT_PATHS, "tags", "items.k", "items.v", "c"]


def nest(flat: dict[str, Any]) -> dict[str, Any]:
    """{"c.d": 1} -> {"c": {"d": 1}}, leaving a clash (c and c.d) to the first writer."""
    document: dict[str, Any] = {}
    for path, value in flat.items():
        node = document
        *parents, last = path.split(".")
        for part in parents:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                break
            node = child
        else:
            node.setdefault(last, value)
    return document


values = st.one_of(SCALARS, st.lists(SCALARS, max_size=3))
items = st.lists(st.dictionaries(st.sampled_from(ITEM_KEYS), values, max_size=2), max_size=3)


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    flat = draw(st.dictionaries(st.sampled_from(OBJECT_PATHS), values, max_size=4))
    event = nest(flat)
    if draw(st.booleans()):
        event["items"] = draw(items)
    if draw(st.booleans()):
        event["tags"] = draw(st.lists(SCALARS, max_size=3))
    if draw(st.booleans()):
        # A key holding a dot joins like nesting: {"c.d": x} is the path c.d too.
        event["c.d"] = draw(SCALARS)
    return event


text = st.sampled_from(["a", "b", "A", "ab", "10.", "*", "x"])
operators = st.one_of(
    SCALARS,
    st.builds(lambda t: {"prefix": t}, st.sampled_from(["", "a", "A", "10.0"])),
    st.builds(lambda t: {"prefix": {"equals-ignore-case": t}}, text),
    st.builds(lambda t: {"suffix": t}, st.sampled_from(["", "b", ".7", "::1"])),
    st.builds(lambda t: {"suffix": {"equals-ignore-case": t}}, text),
    st.builds(lambda t: {"equals-ignore-case": t}, st.sampled_from(STRINGS)),
    st.builds(lambda t: {"wildcard": t}, st.sampled_from(["*", "a*", "*b", "a*b", "1*.7", ""])),
    st.builds(
        lambda v: {"anything-but": v},
        st.one_of(
            st.sampled_from(STRINGS),
            st.sampled_from(NUMBERS),
            st.lists(st.sampled_from(STRINGS), min_size=1, max_size=2),
            st.lists(st.sampled_from(NUMBERS), min_size=1, max_size=2),
            st.builds(lambda t: {"prefix": t}, st.sampled_from(["a", "10."])),
            st.builds(lambda t: {"suffix": t}, st.sampled_from(["b", ".7"])),
            st.builds(lambda t: {"equals-ignore-case": t}, st.sampled_from(["a", "AB"])),
            st.builds(lambda t: {"wildcard": t}, st.sampled_from(["a*", "*b"])),
        ),
    ),
    st.builds(
        lambda op, n: {"numeric": [op, n]},
        st.sampled_from(["=", "<", "<=", ">", ">="]),
        st.sampled_from(NUMBERS),
    ),
    st.builds(
        lambda low, width, lop, uop: {"numeric": [lop, low, uop, low + width]},
        st.sampled_from(NUMBERS),
        st.sampled_from([0.5, 1, 10, 1e7]),
        st.sampled_from([">", ">="]),
        st.sampled_from(["<", "<="]),
    ),
    st.builds(
        lambda block: {"cidr": block},
        st.sampled_from(["10.0.0.0/24", "10.0.0.0/8", "10.0.1.0/24", "2001:db8::/32"]),
    ),
    st.builds(lambda present: {"exists": present}, st.booleans()),
)


@st.composite
def patterns(draw: st.DrawFn) -> dict[str, Any]:
    paths = draw(st.lists(st.sampled_from(PATTERN_PATHS), min_size=1, max_size=3, unique=True))
    # "c" and "c.d" cannot both be leaves of one nested pattern.
    if "c" in paths and any(p.startswith("c.") for p in paths):
        paths.remove("c")
    pattern = nest({p: draw(st.lists(operators, min_size=1, max_size=3)) for p in paths})
    if draw(st.integers(0, 3)) == 0:
        branches = draw(
            st.lists(
                st.builds(
                    lambda p, v: {p: v},
                    st.sampled_from(OBJECT_PATHS[:2]),
                    st.lists(operators, min_size=1, max_size=2),
                ),
                min_size=2,
                max_size=3,
            )
        )
        pattern["$or"] = branches
    return pattern


@given(st.lists(patterns(), min_size=1, max_size=12), st.lists(events(), min_size=1, max_size=8))
def test_ruleset_agrees_with_patterns_one_at_a_time(
    rule_patterns: list[dict[str, Any]], sample: list[dict[str, Any]]
) -> None:
    compiled = {f"r{i}": EventPattern(p) for i, p in enumerate(rule_patterns)}
    rules = RuleSet()
    for name, pattern in compiled.items():
        rules.add(name, pattern)
    for event in sample:
        expected = sorted(name for name, pattern in compiled.items() if pattern.matches(event))
        assert rules.matches(event) == expected


@given(
    st.lists(patterns(), min_size=2, max_size=12),
    st.data(),
    st.lists(events(), min_size=1, max_size=6),
)
def test_removing_rules_leaves_the_others_intact(
    rule_patterns: list[dict[str, Any]], data: st.DataObject, sample: list[dict[str, Any]]
) -> None:
    compiled = {f"r{i}": EventPattern(p) for i, p in enumerate(rule_patterns)}
    rules = RuleSet()
    for name, pattern in compiled.items():
        rules.add(name, pattern)
    removed = data.draw(st.lists(st.sampled_from(sorted(compiled)), unique=True))
    for name in removed:
        rules.remove(name)
        del compiled[name]
    for event in sample:
        expected = sorted(name for name, pattern in compiled.items() if pattern.matches(event))
        assert rules.matches(event) == expected
    for name in list(compiled):
        rules.remove(name)
    # Nothing is left behind once every rule is gone.
    assert rules.matches(sample[0]) == []
    assert not rules._root.fields and not rules._root.children
