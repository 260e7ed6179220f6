"""EventBridge event patterns, one operator at a time.

The cases follow the examples of the Amazon EventBridge user guide:

* https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
* https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html
  (arrays, null values and empty strings)

and, where the guide is silent, the behaviour recorded against the real service or taken from
aws/event-ruler (the engine behind EventBridge), as collected in the research notes
(routing-facts.md, sections 2-4).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from archlab.routing import EventPattern, InvalidEvent, InvalidEventPattern

MISSING = object()
"""Marks a case whose event lacks the field altogether."""


def event_with(path: str, value: Any) -> dict[str, Any]:
    """An event holding ``value`` at a dotted ``path`` (``MISSING`` leaves the leaf out)."""
    *parents, leaf = path.split(".")
    event: dict[str, Any] = {"source": "archlab.test"}
    node = event
    for parent in parents:
        node = node.setdefault(parent, {})
    if value is not MISSING:
        node[leaf] = value
    return event


def matches(pattern: dict[str, Any] | str, event: dict[str, Any] | str) -> bool:
    return EventPattern(pattern).matches(event)


# --------------------------------------------------------------------------------------------
# Exact values, null, empty strings, booleans
# --------------------------------------------------------------------------------------------


class TestExactValues:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("Alice", True),
            ("alice", False),  # exact matching is case-sensitive
            ("Alice ", False),  # and does not trim or normalise
            (["Bob", "Alice"], True),  # an event array matches if any element does
            (["Bob", "Carol"], False),
            (MISSING, False),
        ],
    )
    def test_equals(self, value: Any, expected: bool) -> None:
        assert matches({"Name": ["Alice"]}, event_with("Name", value)) is expected

    def test_fields_are_and_values_are_or(self) -> None:
        pattern = {"Location": ["New York"], "Day": ["Monday", "Tuesday"]}
        assert matches(pattern, {"Location": "New York", "Day": "Tuesday"}) is True
        assert matches(pattern, {"Location": "New York", "Day": "Friday"}) is False
        assert matches(pattern, {"Location": "Boston", "Day": "Monday"}) is False
        assert matches(pattern, {"Location": "New York"}) is False

    def test_nested_structure_must_match(self) -> None:
        pattern = {"source": ["aws.ec2"], "detail": {"state": ["running"]}}
        assert matches(pattern, {"source": "aws.ec2", "detail": {"state": "running"}}) is True
        assert matches(pattern, {"source": "aws.ec2", "state": "running"}) is False
        assert matches(pattern, {"source": "aws.ec2", "detail": {"state": "stopped"}}) is False

    def test_fields_not_in_the_pattern_are_ignored(self) -> None:
        event = {"source": "aws.ec2", "detail": {"state": "running", "instance-id": "i-1"}}
        assert matches({"detail": {"state": ["running"]}}, event) is True

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            (300, True),
            (300.0, True),  # recorded against AWS: [300] matches 300.0
            (301, False),
            ("300", False),  # a string is not a number
        ],
    )
    def test_numbers_compare_by_value_not_as_strings(self, value: Any, expected: bool) -> None:
        assert matches({"count": [300]}, {"count": value}) is expected

    def test_number_in_exponent_form_in_event_text(self) -> None:
        assert matches({"count": [300]}, '{"count": 3.0e2}') is True

    @pytest.mark.parametrize(
        ("value", "expected"),
        [(None, True), ("", False), ("null", False), ([], False), (MISSING, False)],
    )
    def test_null_matches_only_json_null(self, value: Any, expected: bool) -> None:
        pattern = {"detail": {"responseElements": [None]}}
        assert matches(pattern, event_with("detail.responseElements", value)) is expected

    @pytest.mark.parametrize(
        ("value", "expected"),
        [("", True), (None, False), (" ", False), ("x", False), (MISSING, False)],
    )
    def test_empty_string_matches_only_empty_string(self, value: Any, expected: bool) -> None:
        pattern = {"detail": {"eventVersion": [""]}}
        assert matches(pattern, event_with("detail.eventVersion", value)) is expected

    def test_null_or_empty_string(self) -> None:
        pattern = {"LastName": ["", None]}
        assert matches(pattern, {"LastName": ""}) is True
        assert matches(pattern, {"LastName": None}) is True
        assert matches(pattern, {"LastName": "Doe"}) is False

    @pytest.mark.parametrize(
        ("pattern_value", "value", "expected"),
        [
            (True, True, True),
            (True, False, False),
            (True, "true", False),
            (True, 1, False),  # a boolean is never the number 1
            (False, False, True),
            (False, 0, False),
            (False, None, False),
            (1, True, False),
        ],
    )
    def test_booleans(self, pattern_value: Any, value: Any, expected: bool) -> None:
        assert matches({"detail": {"flag": [pattern_value]}}, {"detail": {"flag": value}}) is (
            expected
        )


# --------------------------------------------------------------------------------------------
# prefix / suffix (with and without equals-ignore-case)
# --------------------------------------------------------------------------------------------


class TestPrefix:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("2017-10-02T18:43:48Z", True),
            ("2017-10-02", True),
            ("2017-10-03T18:43:48Z", False),
            ("2017-10-0", False),
            (20171002, False),  # prefix only matches strings
            (["2016-01-01", "2017-10-02T00:00:00Z"], True),
            (MISSING, False),
        ],
    )
    def test_time_prefix(self, value: Any, expected: bool) -> None:
        assert matches({"time": [{"prefix": "2017-10-02"}]}, event_with("time", value)) is expected

    def test_prefix_is_case_sensitive(self) -> None:
        assert matches({"Region": [{"prefix": "us-"}]}, {"Region": "us-east-1"}) is True
        assert matches({"Region": [{"prefix": "us-"}]}, {"Region": "US-EAST-1"}) is False
        assert matches({"Region": [{"prefix": "us-"}]}, {"Region": "eu-west-1"}) is False

    def test_empty_prefix_matches_any_string_but_not_other_types(self) -> None:
        pattern = {"k": [{"prefix": ""}]}
        assert matches(pattern, {"k": ""}) is True
        assert matches(pattern, {"k": "anything"}) is True
        assert matches(pattern, {"k": 5}) is False
        assert matches(pattern, {"k": None}) is False

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("eventbridge", True),
            ("EventBridge", True),
            ("EVENTBRIDGE", True),
            ("eVeNtBrIdGe", True),
            ("event", False),
            ("lambda", False),
        ],
    )
    def test_prefix_equals_ignore_case(self, value: str, expected: bool) -> None:
        pattern = {"service": [{"prefix": {"equals-ignore-case": "eventb"}}]}
        assert matches(pattern, {"service": value}) is expected


class TestSuffix:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("image.png", True),
            (".png", True),
            ("image.PNG", False),  # case-sensitive
            ("image.png.txt", False),
            ("png", False),
            (["a.txt", "b.png"], True),
            (MISSING, False),
        ],
    )
    def test_file_name_suffix(self, value: Any, expected: bool) -> None:
        pattern = {"FileName": [{"suffix": ".png"}]}
        assert matches(pattern, event_with("FileName", value)) is expected

    def test_suffix_only_matches_strings(self) -> None:
        assert matches({"n": [{"suffix": "5"}]}, {"n": 25}) is False
        assert matches({"n": [{"suffix": "5"}]}, {"n": "25"}) is True

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("EventBridge", True),
            ("EVENTBRIDGE", True),
            ("eventbridge", True),
            ("tbridge", True),
            ("EventBridges", False),
            ("bridge", False),
        ],
    )
    def test_suffix_equals_ignore_case(self, value: str, expected: bool) -> None:
        pattern = {"service": [{"suffix": {"equals-ignore-case": "tbridge"}}]}
        assert matches(pattern, {"service": value}) is expected


# --------------------------------------------------------------------------------------------
# equals-ignore-case
# --------------------------------------------------------------------------------------------


class TestEqualsIgnoreCase:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("alice", True),
            ("Alice", True),
            ("ALICE", True),
            ("alicia", False),
            ("alice ", False),
            (["Bob", "ALICE"], True),
            (5, False),
            (None, False),
            (MISSING, False),
        ],
    )
    def test_name(self, value: Any, expected: bool) -> None:
        pattern = {"Name": [{"equals-ignore-case": "alice"}]}
        assert matches(pattern, event_with("Name", value)) is expected

    def test_empty_string(self) -> None:
        pattern = {"Name": [{"equals-ignore-case": ""}]}
        assert matches(pattern, {"Name": ""}) is True
        assert matches(pattern, {"Name": "x"}) is False


# --------------------------------------------------------------------------------------------
# wildcard
# --------------------------------------------------------------------------------------------


class TestWildcard:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("arn:aws:events:us-east-1:123456789012:event-bus/default", True),
            ("arn:aws:events:us-east-1::event-bus/", True),  # '*' may match nothing
            ("arn:aws:events:us-west-2:123456789012:event-bus/default", False),
            ("arn:aws:events:us-east-1:123456789012:rule/default", False),
            ("xarn:aws:events:us-east-1:123456789012:event-bus/default", False),
        ],
    )
    def test_event_bus_arn(self, value: str, expected: bool) -> None:
        pattern = {"EventBusArn": [{"wildcard": "arn:aws:events:us-east-1:*:event-bus/*"}]}
        assert matches(pattern, {"EventBusArn": value}) is expected

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("dir/file.png", True),
            ("dir/init/file.png", True),  # '*' crosses '/'
            ("dir/.png", True),
            ("dir/file.jpg", False),
            ("other/file.png", False),
            ("dir/file.png.bak", False),  # the whole value must match
        ],
    )
    def test_file_path(self, value: str, expected: bool) -> None:
        assert matches({"Filename": [{"wildcard": "dir/*.png"}]}, {"Filename": value}) is expected

    def test_lone_star_matches_every_string_only(self) -> None:
        pattern = {"k": [{"wildcard": "*"}]}
        assert matches(pattern, {"k": ""}) is True
        assert matches(pattern, {"k": "abc"}) is True
        assert matches(pattern, {"k": 5}) is False
        assert matches(pattern, {"k": None}) is False
        assert matches(pattern, {"other": "abc"}) is False

    def test_without_star_is_exact(self) -> None:
        pattern = {"k": [{"wildcard": "abc"}]}
        assert matches(pattern, {"k": "abc"}) is True
        assert matches(pattern, {"k": "abcd"}) is False

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("dir/*.png", True),  # \* is a literal star
            ("dir/file.png", False),
            ("dir/\\*.png", False),
        ],
    )
    def test_escaped_star(self, value: str, expected: bool) -> None:
        pattern = {"k": [{"wildcard": "dir/\\*.png"}]}  # the JSON string  dir/\\*.png
        assert matches(pattern, {"k": value}) is expected

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("C:\\Users\\alice", True),  # \\ is a literal backslash, the final * a wildcard
            ("C:\\Users\\", True),
            ("C:/Users/alice", False),
            ("C:\\\\Users\\alice", False),
        ],
    )
    def test_escaped_backslash(self, value: str, expected: bool) -> None:
        pattern = {"k": [{"wildcard": "C:\\\\Users\\\\*"}]}
        assert matches(pattern, {"k": value}) is expected

    def test_escaped_backslash_then_escaped_star(self) -> None:
        pattern = {"k": [{"wildcard": "a\\\\\\*b"}]}  # a, literal '\', literal '*', b
        assert matches(pattern, {"k": "a\\*b"}) is True
        assert matches(pattern, {"k": "a\\xb"}) is False

    def test_escapes_in_json_text(self) -> None:
        # JSON text needs its own escaping: "a\\\\*" is the pattern  a\\*  (literal '\' then '*')
        assert matches('{"k": [{"wildcard": "a\\\\\\\\*"}]}', {"k": "a\\tail"}) is True
        assert matches('{"k": [{"wildcard": "a\\\\*"}]}', {"k": "a*"}) is True
        assert matches('{"k": [{"wildcard": "a\\\\*"}]}', {"k": "ab"}) is False


# --------------------------------------------------------------------------------------------
# anything-but
# --------------------------------------------------------------------------------------------


class TestAnythingBut:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("running", True),
            ("initializing", False),
            ("Initializing", True),  # plain anything-but is case-sensitive
            (None, True),  # recorded against AWS: anything-but matches null
            (5, True),
            (["initializing", "running"], True),  # one element not excluded is enough
            (["initializing"], False),
            (MISSING, False),  # but the field must be there
        ],
    )
    def test_single_string(self, value: Any, expected: bool) -> None:
        pattern = {"detail": {"state": [{"anything-but": "initializing"}]}}
        assert matches(pattern, event_with("detail.state", value)) is expected

    @pytest.mark.parametrize(
        ("value", "expected"),
        [(124, True), (123, False), (123.0, False), (0, True), (MISSING, False)],
    )
    def test_single_number(self, value: Any, expected: bool) -> None:
        pattern = {"x-limit": [{"anything-but": 123}]}
        assert matches(pattern, event_with("x-limit", value)) is expected

    @pytest.mark.parametrize(
        ("value", "expected"),
        [("running", True), ("stopped", False), ("overloaded", False), ("Stopped", True)],
    )
    def test_list_of_strings(self, value: str, expected: bool) -> None:
        pattern = {"state": [{"anything-but": ["stopped", "overloaded"]}]}
        assert matches(pattern, {"state": value}) is expected

    @pytest.mark.parametrize(
        ("value", "expected"), [(150, True), (100, False), (200.0, False), (300, False)]
    )
    def test_list_of_numbers(self, value: Any, expected: bool) -> None:
        pattern = {"x-limit": [{"anything-but": [100, 200, 300]}]}
        assert matches(pattern, {"x-limit": value}) is expected

    @pytest.mark.parametrize(
        ("value", "expected"),
        [("running", True), ("initializing", False), ("init", False), ("Init", True), (12, True)],
    )
    def test_prefix(self, value: Any, expected: bool) -> None:
        pattern = {"state": [{"anything-but": {"prefix": "init"}}]}
        assert matches(pattern, {"state": value}) is expected

    @pytest.mark.parametrize(
        ("value", "expected"),
        [("notes.md", True), ("notes.txt", False), (".txt", False), ("notes.TXT", True)],
    )
    def test_suffix(self, value: str, expected: bool) -> None:
        pattern = {"FileName": [{"anything-but": {"suffix": ".txt"}}]}
        assert matches(pattern, {"FileName": value}) is expected

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("running", True),
            ("stopped", False),
            ("STOPPED", False),
            ("overloaded", False),
            ("OverLoaded", False),
        ],
    )
    def test_equals_ignore_case(self, value: str, expected: bool) -> None:
        pattern = {"state": [{"anything-but": {"equals-ignore-case": ["Stopped", "OverLoaded"]}}]}
        assert matches(pattern, {"state": value}) is expected

    def test_equals_ignore_case_single_string(self) -> None:
        pattern = {"state": [{"anything-but": {"equals-ignore-case": "initializing"}}]}
        assert matches(pattern, {"state": "INITIALIZING"}) is False
        assert matches(pattern, {"state": "running"}) is True

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("/usr/lib/python", False),
            ("/lib/", False),
            ("/usr/bin/python", True),
            ("lib", True),
            (123, True),  # recorded against AWS: anything-but wildcard matches a number
        ],
    )
    def test_wildcard(self, value: Any, expected: bool) -> None:
        pattern = {"FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]}
        assert matches(pattern, {"FilePath": value}) is expected

    @pytest.mark.parametrize(
        ("value", "expected"),
        [("/usr/lib/x", False), ("/usr/bin/x", False), ("/opt/tool/x", True)],
    )
    def test_wildcard_list(self, value: str, expected: bool) -> None:
        pattern = {"FilePath": [{"anything-but": {"wildcard": ["*/lib/*", "*/bin/*"]}}]}
        assert matches(pattern, {"FilePath": value}) is expected


# --------------------------------------------------------------------------------------------
# numeric
# --------------------------------------------------------------------------------------------


class TestNumeric:
    @pytest.mark.parametrize(
        ("condition", "value", "expected"),
        [
            (["<", 10], 9.999, True),
            (["<", 10], 10, False),
            (["<", 10], -5, True),
            (["<=", 10], 10, True),
            (["<=", 10], 10.0, True),
            (["<=", 10], 10.0001, False),
            ([">", 0], 0, False),
            ([">", 0], 0.000001, True),
            ([">", 0], -1, False),
            ([">=", 0], 0, True),
            ([">=", 0], -0.1, False),
            (["=", 3.018e2], 301.8, True),
            (["=", 3.018e2], 301.80, True),
            (["=", 3.018e2], 302, False),
            (["=", 5], 5.0, True),  # int and float compare by value
            (["=", 5.0], 5, True),
            ([">", 100], 101.0, True),
            ([">", 100], 100.0, False),
            ([">", -1.5], -1.4, True),
            ([">", -1.5], -1.5, False),
        ],
    )
    def test_single_operator(self, condition: list[Any], value: Any, expected: bool) -> None:
        assert matches({"x": [{"numeric": condition}]}, {"x": value}) is expected

    @pytest.mark.parametrize(
        ("condition", "value", "expected"),
        [
            ([">", 0, "<=", 5], 0, False),  # exclusive lower bound
            ([">", 0, "<=", 5], 0.1, True),
            ([">", 0, "<=", 5], 3, True),
            ([">", 0, "<=", 5], 5, True),  # inclusive upper bound
            ([">", 0, "<=", 5], 5.0, True),
            ([">", 0, "<=", 5], 5.000001, False),
            ([">=", 0, "<", 5], 0, True),  # inclusive lower bound
            ([">=", 0, "<", 5], 5, False),  # exclusive upper bound
            ([">=", 0, "<", 5], 4.999999, True),
            ([">=", 1.5, "<=", 2.5], 1.5, True),
            ([">=", 1.5, "<=", 2.5], 2.5, True),
            ([">=", 1.5, "<=", 2.5], 2.6, False),
            ([">", -10, "<", -5], -7, True),
            ([">", -10, "<", -5], -5, False),
        ],
    )
    def test_range(self, condition: list[Any], value: Any, expected: bool) -> None:
        assert matches({"c-count": [{"numeric": condition}]}, {"c-count": value}) is expected

    def test_documentation_example(self) -> None:
        pattern = {
            "detail": {
                "c-count": [{"numeric": [">", 0, "<=", 5]}],
                "d-count": [{"numeric": ["<", 10]}],
                "x-limit": [{"numeric": ["=", 3.018e2]}],
            }
        }
        event = {"detail": {"c-count": 5, "d-count": 7, "x-limit": 301.8}}
        assert matches(pattern, event) is True
        assert matches(pattern, {"detail": {"c-count": 5, "d-count": 10, "x-limit": 301.8}}) is (
            False
        )

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("300", False),  # numeric matching only works on JSON numbers
            (None, False),
            (True, False),
            ([50, 150], True),  # any element
            ([50, 60], False),
            (MISSING, False),
        ],
    )
    def test_only_numbers_match(self, value: Any, expected: bool) -> None:
        pattern = {"detail": {"n": [{"numeric": [">", 100]}]}}
        assert matches(pattern, event_with("detail.n", value)) is expected

    def test_several_ranges_are_or(self) -> None:
        pattern = {"n": [{"numeric": ["<", 0]}, {"numeric": [">", 100]}]}
        assert matches(pattern, {"n": -1}) is True
        assert matches(pattern, {"n": 101}) is True
        assert matches(pattern, {"n": 50}) is False


# --------------------------------------------------------------------------------------------
# cidr
# --------------------------------------------------------------------------------------------


class TestCidr:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("10.0.0.0", True),
            ("10.0.0.1", True),
            ("10.0.0.255", True),
            ("10.0.1.0", False),
            ("9.255.255.255", False),
            ("10.0.0", False),  # not an IP address
            ("not-an-ip", False),
            ("10.0.0.1/24", False),
            ("", False),
            (10, False),
            (None, False),
            (["192.168.0.1", "10.0.0.7"], True),
            ("2001:db8::1", False),  # an IPv6 address is never in an IPv4 block
            (MISSING, False),
        ],
    )
    def test_ipv4(self, value: Any, expected: bool) -> None:
        pattern = {"detail": {"sourceIPAddress": [{"cidr": "10.0.0.0/24"}]}}
        assert matches(pattern, event_with("detail.sourceIPAddress", value)) is expected

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("2001:db8:1234:1a00::", True),
            ("2001:db8:1234:1a00::1", True),
            ("2001:db8:1234:1a00:ffff:ffff:ffff:ffff", True),
            ("2001:DB8:1234:1A00::7", True),  # hex digits in either case
            ("2001:0db8:1234:1a00:0000:0000:0000:0009", True),  # uncompressed form
            ("2001:db8:1234:1a01::", False),
            ("2001:db8:1234:19ff:ffff:ffff:ffff:ffff", False),
            ("10.0.0.1", False),
            ("not-an-ip", False),
        ],
    )
    def test_ipv6(self, value: str, expected: bool) -> None:
        pattern = {"sourceIPAddress": [{"cidr": "2001:db8:1234:1a00::/64"}]}
        assert matches(pattern, {"sourceIPAddress": value}) is expected

    @pytest.mark.parametrize(
        ("block", "value", "expected"),
        [
            ("10.0.0.1/24", "10.0.0.0", True),  # host bits are masked off
            ("10.0.0.1/24", "10.0.0.200", True),
            ("10.0.0.1/24", "10.0.1.1", False),
            ("172.16.5.9/12", "172.31.255.255", True),
            ("172.16.5.9/12", "172.32.0.0", False),
            ("2001:db8::1/64", "2001:db8::ffff", True),
            ("2001:db8::1/64", "2001:db8:0:1::", False),
        ],
    )
    def test_host_bits_are_masked(self, block: str, value: str, expected: bool) -> None:
        assert matches({"ip": [{"cidr": block}]}, {"ip": value}) is expected

    def test_zero_length_prefix_matches_every_address_of_its_family(self) -> None:
        assert matches({"ip": [{"cidr": "0.0.0.0/0"}]}, {"ip": "203.0.113.9"}) is True
        assert matches({"ip": [{"cidr": "0.0.0.0/0"}]}, {"ip": "::1"}) is False
        assert matches({"ip": [{"cidr": "0.0.0.0/0"}]}, {"ip": "localhost"}) is False


# --------------------------------------------------------------------------------------------
# exists
# --------------------------------------------------------------------------------------------


class TestExists:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("pending", True),
            (0, True),
            (False, True),
            (["pending"], True),
            ([], False),  # recorded against AWS: an empty array has no value
            ({"code": 16}, False),  # exists only looks at leaves, not at objects
            (MISSING, False),
        ],
    )
    def test_exists_true(self, value: Any, expected: bool) -> None:
        pattern = {"detail": {"state": [{"exists": True}]}}
        assert matches(pattern, event_with("detail.state", value)) is expected

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("pending", False),
            (0, False),
            (["pending"], False),
            ([], True),
            ({"c1": 100}, True),  # documentation: an object is not a leaf, so it "doesn't exist"
            (MISSING, True),
        ],
    )
    def test_exists_false(self, value: Any, expected: bool) -> None:
        pattern = {"detail": {"state": [{"exists": False}]}}
        assert matches(pattern, event_with("detail.state", value)) is expected

    def test_exists_false_when_parent_is_missing(self) -> None:
        pattern = {"detail": {"state": [{"exists": False}]}}
        assert matches(pattern, {"source": "aws.ec2"}) is True
        assert matches(pattern, {"source": "aws.ec2", "detail": {}}) is True

    def test_exists_true_when_parent_is_missing(self) -> None:
        pattern = {"detail": {"state": [{"exists": True}]}}
        assert matches(pattern, {"source": "aws.ec2"}) is False

    def test_exists_true_on_nested_leaf_inside_array(self) -> None:
        pattern = {"detail": {"items": {"sku": [{"exists": True}]}}}
        assert matches(pattern, {"detail": {"items": [{"qty": 1}, {"sku": "A1"}]}}) is True
        assert matches(pattern, {"detail": {"items": [{"qty": 1}]}}) is False

    def test_exists_combined_with_other_fields(self) -> None:
        pattern = {"source": ["aws.ec2"], "detail": {"error": [{"exists": False}]}}
        assert matches(pattern, {"source": "aws.ec2", "detail": {"state": "ok"}}) is True
        assert matches(pattern, {"source": "aws.ec2", "detail": {"error": "boom"}}) is False
        assert matches(pattern, {"source": "aws.s3", "detail": {"state": "ok"}}) is False


# --------------------------------------------------------------------------------------------
# $or
# --------------------------------------------------------------------------------------------


class TestOr:
    TOP_LEVEL = {  # noqa: RUF012
        "source": ["aws.cloudwatch"],
        "$or": [
            {"metricName": ["CPUUtilization", "ReadLatency"]},
            {"namespace": ["AWS/EC2", "AWS/ES"]},
        ],
    }

    @pytest.mark.parametrize(
        ("event", "expected"),
        [
            ({"source": "aws.cloudwatch", "metricName": "CPUUtilization"}, True),
            ({"source": "aws.cloudwatch", "namespace": "AWS/ES"}, True),
            ({"source": "aws.cloudwatch", "metricName": "x", "namespace": "AWS/EC2"}, True),
            ({"source": "aws.cloudwatch", "metricName": "x", "namespace": "y"}, False),
            ({"source": "aws.cloudwatch"}, False),
            ({"source": "aws.ec2", "metricName": "CPUUtilization"}, False),  # still AND
        ],
    )
    def test_top_level(self, event: dict[str, Any], expected: bool) -> None:
        assert matches(self.TOP_LEVEL, event) is expected

    NESTED = {  # noqa: RUF012
        "detail": {
            "$or": [
                {"c-count": [{"numeric": [">", 0, "<=", 5]}]},
                {"d-count": [{"numeric": ["<", 10]}]},
                {"x-limit": [{"numeric": ["=", 3.018e2]}]},
            ]
        }
    }

    @pytest.mark.parametrize(
        ("detail", "expected"),
        [
            ({"c-count": 3}, True),
            ({"d-count": 9}, True),
            ({"x-limit": 301.8}, True),
            ({"c-count": 6, "d-count": 10, "x-limit": 300}, False),
            ({"c-count": 6, "d-count": 2}, True),
            ({}, False),
        ],
    )
    def test_nested_in_detail(self, detail: dict[str, Any], expected: bool) -> None:
        assert matches(self.NESTED, {"detail": detail}) is expected

    def test_or_inside_or(self) -> None:
        pattern = {
            "source": ["aws.cloudwatch"],
            "$or": [
                {"metricName": ["CPUUtilization"]},
                {
                    "metricType": ["MetricType"],
                    "$or": [{"metricId": [1234]}, {"spaceId": [1000]}],
                },
            ],
        }
        base = {"source": "aws.cloudwatch"}
        assert matches(pattern, {**base, "metricName": "CPUUtilization"}) is True
        assert matches(pattern, {**base, "metricType": "MetricType", "metricId": 1234}) is True
        assert matches(pattern, {**base, "metricType": "MetricType", "spaceId": 1000}) is True
        assert matches(pattern, {**base, "metricType": "MetricType", "spaceId": 1}) is False
        assert matches(pattern, {**base, "metricId": 1234}) is False

    def test_branches_with_exists_false(self) -> None:
        pattern = {"$or": [{"a": [{"exists": False}]}, {"a": ["x"]}]}
        assert matches(pattern, {"b": 1}) is True
        assert matches(pattern, {"a": "x"}) is True
        assert matches(pattern, {"a": "y"}) is False


# --------------------------------------------------------------------------------------------
# Arrays in events, arrays of objects, array consistency
# --------------------------------------------------------------------------------------------


class TestArrays:
    PATTERN = {  # noqa: RUF012
        "resources": [
            "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
            "arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f",
            "arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f",
        ]
    }

    def test_array_matches_if_any_element_matches(self) -> None:
        event = {
            "resources": [
                "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
                "arn:aws:ec2:us-east-1:000000000000:instance/i-00000000",
            ]
        }
        assert matches(self.PATTERN, event) is True

    def test_array_without_common_element_does_not_match(self) -> None:
        event = {"resources": ["arn:aws:ec2:us-east-1:000000000000:instance/i-00000000"]}
        assert matches(self.PATTERN, event) is False
        assert matches(self.PATTERN, {"resources": []}) is False

    def test_multi_level_arrays_are_flattened(self) -> None:
        assert matches({"a": ["x"]}, {"a": [["y"], ["z", "x"]]}) is True
        assert matches({"a": ["x"]}, {"a": [["y"], ["z"]]}) is False

    def test_field_inside_array_of_objects(self) -> None:
        pattern = {"employees": {"firstName": ["Anna"]}}
        event = {"employees": [{"firstName": "John"}, {"firstName": "Anna"}]}
        assert matches(pattern, event) is True
        assert matches(pattern, {"employees": [{"firstName": "John"}]}) is False

    @pytest.mark.parametrize(
        ("items", "expected"),
        [
            ([{"type": "car", "price": 50}, {"type": "home", "price": 500}], False),
            ([{"type": "car", "price": 500}], True),
            ([{"type": "home", "price": 500}, {"type": "car", "price": 500}], True),
            ([{"type": "car", "price": 50}, {"type": "car", "price": 150}], True),
            ([{"type": "car"}, {"price": 500}], False),
            ([], False),
        ],
    )
    def test_fields_must_come_from_the_same_element(
        self, items: list[dict[str, Any]], expected: bool
    ) -> None:
        pattern = {"items": {"type": ["car"], "price": [{"numeric": [">", 100]}]}}
        assert matches(pattern, {"items": items}) is expected

    def test_consistency_applies_to_nested_arrays_of_objects(self) -> None:
        pattern = {"orders": {"lines": {"sku": ["A"], "qty": [2]}}}
        mixed = {"orders": [{"lines": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 2}]}]}
        split = {"orders": [{"lines": [{"sku": "A", "qty": 1}]}, {"lines": [{"qty": 2}]}]}
        same = {
            "orders": [{"lines": [{"sku": "B", "qty": 2}]}, {"lines": [{"sku": "A", "qty": 2}]}]
        }
        assert matches(pattern, mixed) is False
        assert matches(pattern, split) is False
        assert matches(pattern, same) is True

    def test_different_arrays_combine_freely(self) -> None:
        pattern = {"a": {"x": [1]}, "b": {"y": [2]}}
        assert matches(pattern, {"a": [{"x": 0}, {"x": 1}], "b": [{"y": 2}]}) is True

    def test_parent_field_combines_with_any_element(self) -> None:
        pattern = {"detail": {"region": ["us-east-1"], "items": {"type": ["car"]}}}
        event = {"detail": {"region": "us-east-1", "items": [{"type": "home"}, {"type": "car"}]}}
        assert matches(pattern, event) is True


# --------------------------------------------------------------------------------------------
# Dotted keys, JSON text input
# --------------------------------------------------------------------------------------------


class TestDottedKeys:
    @pytest.mark.parametrize(
        "pattern",
        [{"detail.state": ["running"]}, {"detail": {"state": ["running"]}}],
        ids=["dotted-pattern", "nested-pattern"],
    )
    @pytest.mark.parametrize(
        ("event", "expected"),
        [
            ({"detail": {"state": "running"}}, True),
            ({"detail.state": "running"}, True),
            ({"detail": {"state": "stopped"}}, False),
            ({"detail.state": "stopped"}, False),
            ({"detailstate": "running"}, False),
        ],
    )
    def test_dots_join_like_nesting(
        self, pattern: dict[str, Any], event: dict[str, Any], expected: bool
    ) -> None:
        assert matches(pattern, event) is expected

    def test_mixed_forms(self) -> None:
        assert matches({"a": {"b.c": [1]}}, {"a.b": {"c": 1}}) is True
        assert matches({"a.b": {"c": [1]}}, {"a": {"b.c": 1}}) is True
        assert matches({"a.b.c": [1]}, {"a": {"b": {"c": 2}}}) is False


class TestJsonText:
    def test_pattern_and_event_as_json_text(self) -> None:
        pattern = EventPattern('{"source": ["aws.ec2"], "detail": {"state": ["running"]}}')
        assert pattern.matches('{"source": "aws.ec2", "detail": {"state": "running"}}') is True
        assert pattern.matches('{"source": "aws.ec2", "detail": {"state": "stopped"}}') is False

    def test_event_as_bytes(self) -> None:
        pattern = EventPattern({"source": ["aws.ec2"]})
        assert pattern.matches(b'{"source": "aws.ec2"}') is True

    def test_text_and_dict_patterns_agree(self) -> None:
        as_dict = {"n": [{"numeric": [">", 0, "<=", 5]}], "s": [{"prefix": "a"}]}
        as_text = json.dumps(as_dict)
        for event in ({"n": 3, "s": "abc"}, {"n": 6, "s": "abc"}, {"n": 3, "s": "b"}):
            assert EventPattern(as_dict).matches(event) is EventPattern(as_text).matches(
                json.dumps(event)
            )

    @pytest.mark.parametrize(
        "event",
        ['{"source": ', "not json", "", '{"a": 1,}'],
        ids=["truncated", "plain-text", "empty", "trailing-comma"],
    )
    def test_malformed_event_text_raises(self, event: str) -> None:
        with pytest.raises(InvalidEvent):
            EventPattern({"source": ["aws.ec2"]}).matches(event)

    @pytest.mark.parametrize(
        "event",
        ['["aws.ec2"]', '"aws.ec2"', "42", "null", ["aws.ec2"], 42, None],
        ids=["text-array", "text-string", "text-number", "text-null", "list", "int", "none"],
    )
    def test_non_object_event_raises(self, event: Any) -> None:
        with pytest.raises(InvalidEvent):
            EventPattern({"source": ["aws.ec2"]}).matches(event)


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------

LONG = "x" * 2038
"""Makes '{"a":["' + LONG + '"]}' exactly 2048 characters long."""


class TestValidation:
    @pytest.mark.parametrize(
        ("pattern", "path"),
        [
            # structure
            pytest.param({"source": "aws.ec2"}, "source", id="leaf-not-array"),
            pytest.param({"detail": {"state": "running"}}, "detail.state", id="nested-leaf-string"),
            pytest.param({"detail": {"count": 42}}, "detail.count", id="leaf-number"),
            pytest.param({"detail": {"flag": None}}, "detail.flag", id="leaf-null"),
            pytest.param({"resources": []}, "resources", id="empty-array"),
            pytest.param({"detail": {"state": []}}, "detail.state", id="nested-empty-array"),
            pytest.param({"detail": {}}, "detail", id="empty-object"),
            pytest.param({}, "", id="empty-pattern"),
            pytest.param({"a": [["x"]]}, "a[0]", id="nested-array"),
            pytest.param({"a": ["x", ["y"]]}, "a[1]", id="nested-array-second"),
            # operators
            pytest.param({"a": [{"contains": "x"}]}, "a[0]", id="unknown-operator"),
            pytest.param({"a": [{"NUMERIC": [">", 1]}]}, "a[0]", id="operator-case"),
            pytest.param({"a": [{"Prefix": "x"}]}, "a[0]", id="operator-case-prefix"),
            pytest.param({"a": ["ok", {"prefix": "x", "suffix": "y"}]}, "a[1]", id="two-keys"),
            pytest.param({"a": [{}]}, "a[0]", id="empty-operator-object"),
            pytest.param({"d": {"s": [{"prefix": ["x"]}]}}, "d.s[0].prefix", id="prefix-list"),
            pytest.param({"a": [{"prefix": 5}]}, "a[0].prefix", id="prefix-number"),
            pytest.param({"a": [{"prefix": None}]}, "a[0].prefix", id="prefix-null"),
            pytest.param({"a": [{"suffix": 100}]}, "a[0].suffix", id="suffix-number"),
            pytest.param({"a": [{"suffix": ["a", "b"]}]}, "a[0].suffix", id="suffix-list"),
            pytest.param(
                {"a": [{"prefix": {"equals-ignore-case": 5}}]},
                "a[0].prefix.equals-ignore-case",
                id="prefix-ignore-case-number",
            ),
            pytest.param(
                {"a": [{"prefix": {"wildcard": "x*"}}]}, "a[0].prefix", id="prefix-unknown-inner"
            ),
            pytest.param(
                {"a": [{"equals-ignore-case": ["x"]}]},
                "a[0].equals-ignore-case",
                id="ignore-case-list",
            ),
            pytest.param(
                {"a": [{"equals-ignore-case": {"prefix": "x"}}]},
                "a[0].equals-ignore-case",
                id="ignore-case-object",
            ),
            # wildcard
            pytest.param({"a": [{"wildcard": ["x*"]}]}, "a[0].wildcard", id="wildcard-list"),
            pytest.param({"a": [{"wildcard": 5}]}, "a[0].wildcard", id="wildcard-number"),
            pytest.param(
                {"a": [{"wildcard": "arn:aws:events:us-east-1:**:event-bus/*"}]},
                "a[0].wildcard",
                id="wildcard-double-star",
            ),
            pytest.param({"a": [{"wildcard": "a\\b"}]}, "a[0].wildcard", id="wildcard-bad-escape"),
            pytest.param({"a": [{"wildcard": "ab\\"}]}, "a[0].wildcard", id="wildcard-trailing-\\"),
            pytest.param(
                {"a": [{"wildcard": "*:*:*:*:*:event-bus/*"}]},
                "a[0].wildcard",
                id="wildcard-too-complex",
            ),
            # anything-but
            pytest.param({"a": [{"anything-but": None}]}, "a[0].anything-but", id="ab-null"),
            pytest.param({"a": [{"anything-but": True}]}, "a[0].anything-but", id="ab-boolean"),
            pytest.param({"a": [{"anything-but": []}]}, "a[0].anything-but", id="ab-empty-list"),
            pytest.param(
                {"a": [{"anything-but": ["x", 1]}]}, "a[0].anything-but", id="ab-mixed-list"
            ),
            pytest.param(
                {"a": [{"anything-but": ["x", None]}]}, "a[0].anything-but[1]", id="ab-null-in-list"
            ),
            pytest.param(
                {"a": [{"anything-but": [{"prefix": "x"}]}]},
                "a[0].anything-but[0]",
                id="ab-object-in-list",
            ),
            pytest.param(
                {"a": [{"anything-but": {"exists": True}}]},
                "a[0].anything-but",
                id="ab-unsupported-inner",
            ),
            pytest.param(
                {"a": [{"anything-but": {"numeric": [">", 1]}}]},
                "a[0].anything-but",
                id="ab-numeric-inner",
            ),
            pytest.param({"a": [{"anything-but": {}}]}, "a[0].anything-but", id="ab-empty-object"),
            pytest.param(
                {"a": [{"anything-but": {"prefix": "x", "suffix": "y"}}]},
                "a[0].anything-but",
                id="ab-two-inner-keys",
            ),
            pytest.param(
                {"a": [{"anything-but": {"prefix": 5}}]},
                "a[0].anything-but.prefix",
                id="ab-prefix-number",
            ),
            pytest.param(
                {"a": [{"anything-but": {"prefix": ""}}]},
                "a[0].anything-but.prefix",
                id="ab-prefix-empty",
            ),
            pytest.param(
                {"a": [{"anything-but": {"wildcard": "a**"}}]},
                "a[0].anything-but.wildcard",
                id="ab-wildcard-double-star",
            ),
            pytest.param(
                {"a": [{"anything-but": {"equals-ignore-case": [123]}}]},
                "a[0].anything-but.equals-ignore-case[0]",
                id="ab-ignore-case-number",
            ),
            # numeric
            pytest.param({"a": [{"numeric": 10}]}, "a[0].numeric", id="numeric-not-array"),
            pytest.param({"a": [{"numeric": []}]}, "a[0].numeric", id="numeric-empty"),
            pytest.param({"a": [{"numeric": [">"]}]}, "a[0].numeric", id="numeric-no-value"),
            pytest.param({"a": [{"numeric": [">", 0, "<"]}]}, "a[0].numeric", id="numeric-3"),
            pytest.param(
                {"a": [{"numeric": [">", 0, "<", 5, "<"]}]}, "a[0].numeric", id="numeric-5"
            ),
            pytest.param({"a": [{"numeric": ["!=", 5]}]}, "a[0].numeric[0]", id="numeric-op"),
            pytest.param({"a": [{"numeric": ["==", 5]}]}, "a[0].numeric[0]", id="numeric-op-=="),
            pytest.param({"a": [{"numeric": [1, "<="]}]}, "a[0].numeric[0]", id="numeric-swapped"),
            pytest.param(
                {"a": [{"numeric": [">", 0, ">", 10]}]}, "a[0].numeric[2]", id="numeric-two-lower"
            ),
            pytest.param(
                {"a": [{"numeric": ["<", 100, ">", 10]}]}, "a[0].numeric", id="numeric-upper-first"
            ),
            pytest.param(
                {"a": [{"numeric": ["=", 1, "<", 10]}]}, "a[0].numeric", id="numeric-eq-range"
            ),
            pytest.param(
                {"a": [{"numeric": [">", 10, "<", 5]}]}, "a[0].numeric", id="numeric-lower-gt-upper"
            ),
            pytest.param(
                {"a": [{"numeric": [">=", 5, "<=", 5]}]},
                "a[0].numeric",
                id="numeric-lower-eq-upper",
            ),
            pytest.param({"a": [{"numeric": [">", "10"]}]}, "a[0].numeric[1]", id="numeric-string"),
            pytest.param(
                {"a": [{"numeric": ["=", "000"]}]}, "a[0].numeric[1]", id="numeric-eq-str"
            ),
            pytest.param(
                {"a": [{"numeric": [">", 0, "<", "5"]}]}, "a[0].numeric[3]", id="numeric-upper-str"
            ),
            pytest.param({"a": [{"numeric": [">", True]}]}, "a[0].numeric[1]", id="numeric-bool"),
            # cidr
            pytest.param({"a": [{"cidr": "10.0.0.0"}]}, "a[0].cidr", id="cidr-no-slash"),
            pytest.param({"a": [{"cidr": "10.0.0.0/24/8"}]}, "a[0].cidr", id="cidr-two-slashes"),
            pytest.param({"a": [{"cidr": "xx.11.xx/24"}]}, "a[0].cidr", id="cidr-bad-address"),
            pytest.param(
                {"a": [{"cidr": "xxxx:db8:1234:1a00::/64"}]}, "a[0].cidr", id="cidr-bad-ipv6"
            ),
            pytest.param({"a": [{"cidr": "10.0.0.0/abc"}]}, "a[0].cidr", id="cidr-bad-mask"),
            pytest.param({"a": [{"cidr": "10.0.0.0/33"}]}, "a[0].cidr", id="cidr-mask-too-big"),
            pytest.param({"a": [{"cidr": "10.0.0.1/32"}]}, "a[0].cidr", id="cidr-/32"),
            pytest.param({"a": [{"cidr": "2001:db8::1/128"}]}, "a[0].cidr", id="cidr-/128"),
            pytest.param({"a": [{"cidr": 10}]}, "a[0].cidr", id="cidr-number"),
            # exists
            pytest.param({"a": [{"exists": "true"}]}, "a[0].exists", id="exists-string"),
            pytest.param({"a": [{"exists": 1}]}, "a[0].exists", id="exists-number"),
            pytest.param({"a": [{"exists": None}]}, "a[0].exists", id="exists-null"),
            # $or
            pytest.param({"$or": [{"a": ["x"]}]}, "$or", id="or-one-branch"),
            pytest.param({"d": {"$or": [{"a": ["x"]}]}}, "d.$or", id="nested-or-one-branch"),
            pytest.param({"$or": []}, "$or", id="or-empty"),
            pytest.param({"$or": [{"a": ["x"]}, "b"]}, "$or[1]", id="or-string-branch"),
            pytest.param({"d": {"$or": [["x"], {"a": ["x"]}]}}, "d.$or[0]", id="or-array-branch"),
            pytest.param({"$or": [{"a": ["x"]}, {}]}, "$or[1]", id="or-empty-branch"),
            pytest.param(
                {"$or": [{"a": ["x"]}, {"b": "y"}]}, "$or[1].b", id="or-branch-invalid-leaf"
            ),
        ],
    )
    def test_invalid_pattern_names_its_location(self, pattern: dict[str, Any], path: str) -> None:
        with pytest.raises(InvalidEventPattern) as raised:
            EventPattern(pattern)
        assert raised.value.path == path
        assert raised.value.reason

    def test_pattern_of_2048_characters_is_accepted(self) -> None:
        text = '{"a":["' + LONG + '"]}'
        assert len(text) == 2048
        assert EventPattern(text).matches({"a": LONG}) is True

    def test_pattern_over_2048_characters_is_rejected(self) -> None:
        text = '{"a":["' + LONG + 'x"]}'
        assert len(text) == 2049
        with pytest.raises(InvalidEventPattern) as raised:
            EventPattern(text)
        assert raised.value.path == ""

    def test_long_pattern_given_as_dict_is_rejected(self) -> None:
        with pytest.raises(InvalidEventPattern) as raised:
            EventPattern({"a": ["x" * 3000]})
        assert raised.value.path == ""

    @pytest.mark.parametrize(
        "text",
        ['{"a": [', "this is not json", '{"a": ["x"],}', "{'a': ['x']}", ""],
        ids=["truncated", "words", "trailing-comma", "single-quotes", "empty"],
    )
    def test_malformed_json_text(self, text: str) -> None:
        with pytest.raises(InvalidEventPattern) as raised:
            EventPattern(text)
        assert raised.value.path == ""

    @pytest.mark.parametrize(
        "pattern",
        ['["a"]', '"a"', "42", "null", "true", ["a"]],
        ids=["text-array", "text-string", "text-number", "text-null", "text-true", "list"],
    )
    def test_non_object_pattern(self, pattern: Any) -> None:
        with pytest.raises(InvalidEventPattern) as raised:
            EventPattern(pattern)
        assert raised.value.path == ""

    def test_error_message_includes_the_path(self) -> None:
        with pytest.raises(InvalidEventPattern) as raised:
            EventPattern({"detail": {"state": [{"prefix": 5}]}})
        assert raised.value.path == "detail.state[0].prefix"
        assert str(raised.value).startswith("detail.state[0].prefix: ")

    @pytest.mark.parametrize(
        "pattern",
        [
            {"a": [{"prefix": ""}]},
            {"a": [{"equals-ignore-case": ""}]},
            {"a": [{"anything-but": {"wildcard": ""}}]},
            {"a": [{"wildcard": "a\\*b\\\\c*"}]},
            {"a": [{"numeric": [">=", -1e9, "<=", 1e9]}]},
            {"a": [{"cidr": "10.0.0.1/24"}]},
            {"a": [{"cidr": "0.0.0.0/0"}]},
            {"a": [{"anything-but": {"prefix": ["us-", "eu-"]}}]},
            {"a": ["x", 1, True, None, {"exists": True}]},
        ],
        ids=lambda p: json.dumps(p),
    )
    def test_valid_edge_forms_are_accepted(self, pattern: dict[str, Any]) -> None:
        EventPattern(pattern)  # must not raise
