"""Amazon SNS subscription filter policies.

The cases follow the examples of the Amazon SNS developer guide:

* https://docs.aws.amazon.com/sns/latest/dg/sns-subscription-filter-policies.html
* https://docs.aws.amazon.com/sns/latest/dg/string-value-matching.html
* https://docs.aws.amazon.com/sns/latest/dg/numeric-value-matching.html
* https://docs.aws.amazon.com/sns/latest/dg/attribute-key-matching.html
* https://docs.aws.amazon.com/sns/latest/dg/and-or-logic.html
* https://docs.aws.amazon.com/sns/latest/dg/subscription-filter-policy-constraints.html

and the limits recorded against the real service, as collected in the research notes
(routing-facts.md, section B).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from archlab.routing import FilterPolicy, InvalidEvent, InvalidFilterPolicy


def S(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value}


def N(value: str) -> dict[str, str]:
    return {"DataType": "Number", "StringValue": value}


def A(values: list[Any]) -> dict[str, str]:
    return {"DataType": "String.Array", "StringValue": json.dumps(values)}


def B(value: bytes) -> dict[str, Any]:
    return {"DataType": "Binary", "BinaryValue": value}


def by_attributes(policy: dict[str, Any], attributes: dict[str, Any] | None) -> bool:
    return FilterPolicy(policy).matches("{}", attributes)


def by_body(policy: dict[str, Any], body: Any) -> bool:
    text = body if isinstance(body, str) else json.dumps(body)
    return FilterPolicy(policy, scope="MessageBody").matches(text)


def values(count: int) -> list[str]:
    return [f"v{i}" for i in range(count)]


# --------------------------------------------------------------------------------------------
# MessageAttributes scope: data types
# --------------------------------------------------------------------------------------------


class TestStringAttributes:
    POLICY = {"customer_interests": ["rugby", "tennis"]}  # noqa: RUF012

    @pytest.mark.parametrize(
        ("attribute", "expected"),
        [
            (S("rugby"), True),
            (S("tennis"), True),
            (S("baseball"), False),
            (S("Rugby"), False),  # exact matching is case-sensitive
            (A(["rugby", "tennis"]), True),
            (A(["baseball", "rugby"]), True),  # any element of a String.Array
            (A(["baseball"]), False),
            (A([]), False),
        ],
    )
    def test_exact(self, attribute: dict[str, Any], expected: bool) -> None:
        assert by_attributes(self.POLICY, {"customer_interests": attribute}) is expected

    def test_other_attributes_are_ignored(self) -> None:
        attributes = {"customer_interests": S("rugby"), "store": S("example_corp")}
        assert by_attributes(self.POLICY, attributes) is True

    def test_missing_attribute_does_not_match(self) -> None:
        assert by_attributes(self.POLICY, {"store": S("example_corp")}) is False

    def test_all_keys_must_match(self) -> None:
        policy = {"store": ["example_corp"], "event": ["order_placed"]}
        assert by_attributes(policy, {"store": S("example_corp"), "event": S("order_placed")})
        assert not by_attributes(
            policy, {"store": S("example_corp"), "event": S("order_cancelled")}
        )
        assert not by_attributes(policy, {"store": S("example_corp")})


class TestNumberAttributes:
    @pytest.mark.parametrize(
        ("attribute", "expected"),
        [
            (N("30"), True),
            (N("30.0"), True),
            (N("3.0e1"), True),
            (N("31"), False),
            (S("30"), False),  # a String attribute is not a number
            (A([30, 40]), True),  # numeric elements of a String.Array are numbers
            (A(["30"]), False),
        ],
    )
    def test_exact_number(self, attribute: dict[str, Any], expected: bool) -> None:
        assert by_attributes({"age": [30]}, {"age": attribute}) is expected

    @pytest.mark.parametrize(
        ("attribute", "expected"),
        [
            (N("301.5"), True),
            (N("3.015e2"), True),
            (N("301.50"), True),
            (N("301.6"), False),
            (S("301.5"), False),
        ],
    )
    def test_numeric_equals(self, attribute: dict[str, Any], expected: bool) -> None:
        policy = {"price_usd": [{"numeric": ["=", 301.5]}]}
        assert by_attributes(policy, {"price_usd": attribute}) is expected

    @pytest.mark.parametrize(
        ("attribute", "expected"),
        [
            (N("0"), False),
            (N("0.01"), True),
            (N("100"), True),
            (N("150"), True),
            (N("150.00001"), False),
            (N("-5"), False),
            (S("30"), False),  # the string "30" never matches a numeric condition
            (A([200, 100]), True),
            (A([200, 300]), False),
        ],
    )
    def test_numeric_range(self, attribute: dict[str, Any], expected: bool) -> None:
        policy = {"price_usd": [{"numeric": [">", 0, "<=", 150]}]}
        assert by_attributes(policy, {"price_usd": attribute}) is expected

    @pytest.mark.parametrize(
        ("condition", "value", "expected"),
        [
            ([">", 30], "30", False),
            ([">=", 30], "30", True),
            (["<", 30], "29.999", True),
            (["<=", 30], "30", True),
            (["<", 30], "30", False),
            ([">", 0, "<=", 100], "99", True),  # recorded against AWS
            ([">", 0, "<=", 100], "111", False),
        ],
    )
    def test_numeric_operators(self, condition: list[Any], value: str, expected: bool) -> None:
        assert by_attributes({"n": [{"numeric": condition}]}, {"n": N(value)}) is expected

    @pytest.mark.parametrize(
        ("attribute", "expected"),
        [(N("101"), True), (N("100"), False), (N("100.0"), False), (N("500"), False)],
    )
    def test_numeric_anything_but(self, attribute: dict[str, Any], expected: bool) -> None:
        policy = {"price_usd": [{"anything-but": [100, 500]}]}
        assert by_attributes(policy, {"price_usd": attribute}) is expected


class TestStringArrayAttributes:
    @pytest.mark.parametrize(
        ("elements", "expected"),
        [
            (["value1", "value2"], True),  # recorded against AWS
            (["value2", "value3"], False),
            (["value1"], True),
            ([], False),
        ],
    )
    def test_exact_any_element(self, elements: list[Any], expected: bool) -> None:
        assert by_attributes({"store": ["value1"]}, {"store": A(elements)}) is expected

    @pytest.mark.parametrize(
        ("elements", "expected"),
        [
            (["baseball", "football"], True),
            (["rugby", "baseball"], False),  # newest documentation: no element may be listed
            (["tennis"], False),
            (["baseball"], True),
        ],
    )
    def test_anything_but_must_hold_for_every_element(
        self, elements: list[Any], expected: bool
    ) -> None:
        policy = {"customer_interests": [{"anything-but": ["rugby", "tennis"]}]}
        assert by_attributes(policy, {"customer_interests": A(elements)}) is expected

    def test_anything_but_prefix_for_every_element(self) -> None:
        policy = {"customer_interests": [{"anything-but": {"prefix": "bas"}}]}
        assert by_attributes(policy, {"customer_interests": A(["rugby", "golf"])}) is True
        assert by_attributes(policy, {"customer_interests": A(["rugby", "baseball"])}) is False

    def test_prefix_on_elements(self) -> None:
        policy = {"customer_interests": [{"prefix": "bas"}]}
        assert by_attributes(policy, {"customer_interests": A(["rugby", "basketball"])}) is True
        assert by_attributes(policy, {"customer_interests": A(["rugby", "tennis"])}) is False

    def test_mixed_element_types(self) -> None:
        attributes = {"tags": A(["x", 5, True, None])}
        assert by_attributes({"tags": [5]}, attributes) is True
        assert by_attributes({"tags": [True]}, attributes) is True
        assert by_attributes({"tags": ["5"]}, attributes) is False


class TestBinaryAttributes:
    def test_binary_attribute_is_ignored(self) -> None:
        attributes = {"image": B(b"\x89PNG"), "store": S("example_corp")}
        assert by_attributes({"image": [{"exists": True}]}, attributes) is False
        assert by_attributes({"image": [{"prefix": ""}]}, attributes) is False
        assert by_attributes({"store": ["example_corp"]}, attributes) is True

    def test_binary_attribute_does_not_count_as_present(self) -> None:
        attributes = {"image": B(b"\x89PNG"), "store": S("example_corp")}
        assert by_attributes({"image": [{"exists": False}]}, attributes) is True


class TestMissingAttributes:
    @pytest.mark.parametrize("attributes", [None, {}], ids=["none", "empty"])
    @pytest.mark.parametrize(
        "policy",
        [
            {"store": ["example_corp"]},
            {"store": [{"exists": False}]},
            {"store": [{"anything-but": "whatever"}]},
            {"attr1": [None, {"anything-but": "whatever"}]},  # recorded against AWS
        ],
        ids=["exact", "exists-false", "anything-but", "null-or-anything-but"],
    )
    def test_no_attributes_never_match(
        self, policy: dict[str, Any], attributes: dict[str, Any] | None
    ) -> None:
        assert by_attributes(policy, attributes) is False

    def test_anything_but_needs_the_attribute(self) -> None:
        policy = {"store": [{"anything-but": "example_corp"}]}
        assert by_attributes(policy, {"event": S("order_placed")}) is False
        assert by_attributes(policy, {"store": S("other_corp")}) is True
        assert by_attributes(policy, {"store": S("example_corp")}) is False


# --------------------------------------------------------------------------------------------
# MessageAttributes scope: operators
# --------------------------------------------------------------------------------------------


class TestKeyMatching:
    @pytest.mark.parametrize(
        ("attributes", "expected"),
        [
            ({"store": S("fans"), "customer_interests": A(["baseball", "basketball"])}, True),
            ({"store": N("7")}, True),  # recorded against AWS: a Number attribute exists
            ({"customer_interests": A(["baseball", "basketball"])}, False),
        ],
    )
    def test_exists_true(self, attributes: dict[str, Any], expected: bool) -> None:
        assert by_attributes({"store": [{"exists": True}]}, attributes) is expected

    @pytest.mark.parametrize(
        ("attributes", "expected"),
        [
            ({"store": S("fans"), "customer_interests": A(["baseball", "basketball"])}, False),
            ({"customer_interests": A(["baseball", "basketball"])}, True),
            ({"other": S("x")}, True),
        ],
    )
    def test_exists_false(self, attributes: dict[str, Any], expected: bool) -> None:
        assert by_attributes({"store": [{"exists": False}]}, attributes) is expected

    def test_exists_true_in_body(self) -> None:
        policy = {"store": [{"exists": True}]}
        assert by_body(policy, {"store": "fans", "customer_interests": ["baseball"]}) is True
        assert by_body(policy, {"customer_interests": ["baseball", "basketball"]}) is False

    @pytest.mark.parametrize("store", [None, "", []], ids=["null", "empty-string", "empty-array"])
    def test_exists_true_needs_a_non_null_non_empty_value(self, store: Any) -> None:
        # attribute-key-matching.html: "The key must have a non-null and non-empty value."
        assert by_body({"store": [{"exists": True}]}, {"store": store, "other": 1}) is False

    def test_exists_false_in_body(self) -> None:
        policy = {"store": [{"exists": False}]}
        assert by_body(policy, {"store": "fans", "customer_interests": ["baseball"]}) is False
        assert by_body(policy, {"customer_interests": ["baseball", "basketball"]}) is True


class TestStringOperators:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [("baseball", True), ("basketball", True), ("bas", True), ("rugby", False), ("Bas", False)],
    )
    def test_prefix(self, value: str, expected: bool) -> None:
        policy = {"customer_interests": [{"prefix": "bas"}]}
        assert by_attributes(policy, {"customer_interests": S(value)}) is expected

    def test_prefix_does_not_match_numbers(self) -> None:
        assert by_attributes({"code": [{"prefix": "12"}]}, {"code": N("123")}) is False
        assert by_attributes({"code": [{"prefix": "12"}]}, {"code": S("123")}) is True

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("baseball", True),
            ("basketball", True),
            ("ball", True),
            ("rugby", False),
            ("BALL", False),
        ],
    )
    def test_suffix(self, value: str, expected: bool) -> None:
        policy = {"customer_interests": [{"suffix": "ball"}]}
        assert by_attributes(policy, {"customer_interests": S(value)}) is expected

    @pytest.mark.parametrize(
        ("value", "expected"),
        [("tennis", True), ("TENNIS", True), ("Tennis", True), ("tennis ", False), ("golf", False)],
    )
    def test_equals_ignore_case(self, value: str, expected: bool) -> None:
        policy = {"customer_interests": [{"equals-ignore-case": "tennis"}]}
        assert by_attributes(policy, {"customer_interests": S(value)}) is expected

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("10.0.0.0", True),
            ("10.0.0.255", True),
            ("10.0.1.0", False),
            ("10.1.1.0", False),
            ("not-an-ip", False),
        ],
    )
    def test_cidr(self, value: str, expected: bool) -> None:
        policy = {"source_ip": [{"cidr": "10.0.0.0/24"}]}
        assert by_attributes(policy, {"source_ip": S(value)}) is expected

    def test_cidr_ipv6(self) -> None:
        policy = {"source_ip": [{"cidr": "2001:db8:1234:1a00::/64"}]}
        assert by_attributes(policy, {"source_ip": S("2001:db8:1234:1a00::9")}) is True
        assert by_attributes(policy, {"source_ip": S("2001:db8:1234:1a01::9")}) is False

    @pytest.mark.parametrize(
        ("value", "expected"),
        [("baseball", True), ("football", True), ("rugby", False), ("tennis", False)],
    )
    def test_anything_but_values(self, value: str, expected: bool) -> None:
        policy = {"customer_interests": [{"anything-but": ["rugby", "tennis"]}]}
        assert by_attributes(policy, {"customer_interests": S(value)}) is expected

    def test_anything_but_single_value(self) -> None:
        policy = {"event": [{"anything-but": "order_cancelled"}]}
        assert by_attributes(policy, {"event": S("order_placed")}) is True
        assert by_attributes(policy, {"event": S("order_cancelled")}) is False

    @pytest.mark.parametrize(
        ("value", "expected"),
        [("rugby", True), ("tennis", True), ("baseball", False), ("basketball", False)],
    )
    def test_anything_but_prefix(self, value: str, expected: bool) -> None:
        policy = {"customer_interests": [{"anything-but": {"prefix": "bas"}}]}
        assert by_attributes(policy, {"customer_interests": S(value)}) is expected

    def test_values_in_one_list_are_or(self) -> None:
        policy = {"color": ["red", {"prefix": "bl"}, {"suffix": "een"}]}
        assert by_attributes(policy, {"color": S("red")}) is True
        assert by_attributes(policy, {"color": S("blue")}) is True
        assert by_attributes(policy, {"color": S("green")}) is True
        assert by_attributes(policy, {"color": S("orange")}) is False


class TestOrOperator:
    POLICY = {  # noqa: RUF012
        "source": ["aws.cloudwatch"],
        "$or": [{"metricName": ["CPUUtilization"]}, {"namespace": ["AWS/EC2"]}],
    }

    @pytest.mark.parametrize(
        ("attributes", "expected"),
        [
            ({"source": S("aws.cloudwatch"), "metricName": S("CPUUtilization")}, True),
            ({"source": S("aws.cloudwatch"), "namespace": S("AWS/EC2")}, True),
            ({"source": S("aws.cloudwatch"), "metricName": S("x"), "namespace": S("y")}, False),
            ({"source": S("aws.cloudwatch")}, False),
            ({"source": S("aws.ec2"), "metricName": S("CPUUtilization")}, False),
        ],
    )
    def test_attributes(self, attributes: dict[str, Any], expected: bool) -> None:
        assert by_attributes(self.POLICY, attributes) is expected

    def test_body(self) -> None:
        assert by_body(self.POLICY, {"source": "aws.cloudwatch", "namespace": "AWS/EC2"}) is True
        assert by_body(self.POLICY, {"source": "aws.cloudwatch", "namespace": "AWS/ES"}) is False

    def test_nested_in_body(self) -> None:
        policy = {"detail": {"$or": [{"state": ["ALARM"]}, {"count": [{"numeric": [">", 5]}]}]}}
        assert by_body(policy, {"detail": {"state": "ALARM"}}) is True
        assert by_body(policy, {"detail": {"count": 6}}) is True
        assert by_body(policy, {"detail": {"state": "OK", "count": 1}}) is False


# --------------------------------------------------------------------------------------------
# MessageBody scope
# --------------------------------------------------------------------------------------------


class TestMessageBody:
    POLICY = {  # noqa: RUF012
        "store": ["example_corp"],
        "event": [{"anything-but": "order_cancelled"}],
        "customer_interests": ["rugby", "football", "baseball"],
        "price_usd": [{"numeric": [">=", 100]}],
    }
    BODY = {  # noqa: RUF012
        "store": "example_corp",
        "event": "order_placed",
        "customer_interests": ["soccer", "rugby", "hockey"],
        "price_usd": 210.75,
    }

    def test_documentation_example(self) -> None:
        assert by_body(self.POLICY, self.BODY) is True

    @pytest.mark.parametrize(
        ("change", "expected"),
        [
            ({"event": "order_cancelled"}, False),
            ({"customer_interests": ["soccer", "hockey"]}, False),
            ({"customer_interests": "rugby"}, True),
            ({"price_usd": 99.99}, False),
            ({"price_usd": "210.75"}, False),  # a string is not a number
            ({"store": "other_corp"}, False),
        ],
    )
    def test_variations(self, change: dict[str, Any], expected: bool) -> None:
        assert by_body(self.POLICY, {**self.BODY, **change}) is expected

    def test_message_attributes_are_not_used_in_body_scope(self) -> None:
        policy = FilterPolicy({"store": ["example_corp"]}, scope="MessageBody")
        assert policy.matches("{}", {"store": S("example_corp")}) is False
        assert policy.matches('{"store": "example_corp"}', None) is True

    def test_body_is_not_used_in_attribute_scope(self) -> None:
        policy = FilterPolicy({"store": ["example_corp"]})
        assert policy.matches('{"store": "example_corp"}', {"other": S("x")}) is False

    @pytest.mark.parametrize(
        ("body", "expected"),
        [
            ({"patient": {"diagnosis": {"code": "J10"}}}, True),
            ({"patient": {"diagnosis": {"code": "J11"}}}, False),
            ({"patient": {"code": "J10"}}, False),
            ({"patient.diagnosis.code": "J10"}, True),  # dotted keys join like nesting
            ({"patient": {"diagnosis.code": "J10"}}, True),
            ({"patient": [{"diagnosis": {"code": "J11"}}, {"diagnosis": {"code": "J10"}}]}, True),
        ],
    )
    def test_nested_keys(self, body: dict[str, Any], expected: bool) -> None:
        policy = {"patient": {"diagnosis": {"code": ["J10"]}}}
        assert by_body(policy, body) is expected

    def test_arrays_match_any_element(self) -> None:
        policy_1 = {"route-to": ["queue1"]}
        policy_2 = {"route-to": ["queue2"]}
        body = {"route-to": ["queue1", "queue2"]}
        assert by_body(policy_1, body) is True
        assert by_body(policy_2, body) is True
        assert by_body({"route-to": ["queue3"]}, body) is False

    def test_arrays_of_objects_and_arrays_of_arrays(self) -> None:
        policy = {"Records": {"s3": {"object": {"key": [{"prefix": "auto-"}]}}}}
        body = {"Records": [{"s3": {"object": [[{"key": "auto-123"}]]}}]}
        assert by_body(policy, body) is True
        assert by_body(policy, {"Records": [{"s3": {"object": {"key": "manual-1"}}}]}) is False

    def test_nested_exists_false(self) -> None:
        policy = {"object": {"nested_key": [{"exists": False}]}}
        assert by_body(policy, {"object": {"other": 1}}) is True
        assert by_body(policy, {"object": {"nested_key": "x"}}) is False

    @pytest.mark.parametrize(
        "body",
        ["not json", '{"store": ', "", "store=example_corp"],
        ids=["words", "truncated", "empty", "form"],
    )
    def test_non_json_body_does_not_match(self, body: str) -> None:
        assert by_body({"store": [{"exists": False}]}, body) is False
        assert by_body({"store": ["example_corp"]}, body) is False

    @pytest.mark.parametrize(
        "body",
        ['"example_corp"', '["example_corp"]', "42", "null", "true"],
        ids=["string", "array", "number", "null", "true"],
    )
    def test_non_object_json_body_does_not_match(self, body: str) -> None:
        assert by_body({"store": [{"exists": False}]}, body) is False
        assert by_body({"store": ["example_corp"]}, body) is False


# --------------------------------------------------------------------------------------------
# Limits
# --------------------------------------------------------------------------------------------


class TestKeyLimit:
    @pytest.mark.parametrize("scope", ["MessageAttributes", "MessageBody"])
    def test_five_keys_accepted(self, scope: str) -> None:
        FilterPolicy({f"k{i}": ["x"] for i in range(5)}, scope=scope)  # type: ignore[arg-type]

    @pytest.mark.parametrize("scope", ["MessageAttributes", "MessageBody"])
    def test_six_keys_rejected(self, scope: str) -> None:
        with pytest.raises(InvalidFilterPolicy):
            FilterPolicy({f"k{i}": ["x"] for i in range(6)}, scope=scope)  # type: ignore[arg-type]


class TestComplexityLimit:
    def test_150_values_accepted(self) -> None:
        policy = FilterPolicy({"key": values(150)})
        assert policy.matches("{}", {"key": S("v149")}) is True

    def test_151_values_rejected(self) -> None:
        with pytest.raises(InvalidFilterPolicy):
            FilterPolicy({"key": values(151)})

    def test_product_of_150_accepted(self) -> None:
        FilterPolicy({"a": values(10), "b": values(15)})
        FilterPolicy({"a": values(5), "b": values(5), "c": values(6)})

    @pytest.mark.parametrize(
        "policy",
        [
            {"a": values(100), "b": values(51)},  # recorded against AWS
            {"a": values(10), "b": values(15), "c": values(2)},
            {"a": values(151)},
        ],
        ids=["100x51", "10x15x2", "151"],
    )
    def test_product_over_150_rejected(self, policy: dict[str, Any]) -> None:
        with pytest.raises(InvalidFilterPolicy):
            FilterPolicy(policy)

    def test_documentation_example_is_six(self) -> None:
        FilterPolicy({"key_a": ["v1", "v2", "v3"], "key_b": ["v4"], "key_c": ["v5", "v6"]})

    NESTED = {  # noqa: RUF012
        "key_a": {"key_b": {"key_c": ["value_one", "value_two", "value_three", "value_four"]}},
        "key_d": {"key_e": ["value_one", "value_two", "value_three"]},
    }

    def test_nested_documentation_example_72_accepted(self) -> None:
        policy = FilterPolicy(self.NESTED, scope="MessageBody")
        body = {"key_a": {"key_b": {"key_c": "value_two"}}, "key_d": {"key_e": "value_three"}}
        assert policy.matches(json.dumps(body)) is True

    def test_nested_example_with_key_f_216_rejected(self) -> None:
        policy = {**self.NESTED, "key_f": ["value_one", "value_two", "value_three"]}
        with pytest.raises(InvalidFilterPolicy):
            FilterPolicy(policy, scope="MessageBody")

    @staticmethod
    def or_policy(sources: int, space_ids: int) -> dict[str, Any]:
        return {
            "source": values(sources),
            "$or": [
                {"metricName": values(6)},
                {
                    "metricType": values(4),
                    "$or": [{"metricId": values(4)}, {"spaceId": values(space_ids)}],
                },
            ],
        }

    def test_or_example_152_rejected(self) -> None:
        # 4*6 + 4*4*4 + 4*4*4 = 152, recorded against AWS
        with pytest.raises(InvalidFilterPolicy):
            FilterPolicy(self.or_policy(sources=4, space_ids=4))

    def test_or_example_150_accepted(self) -> None:
        # 3*6 + 3*4*4 + 3*4*7 = 150, recorded against AWS
        policy = FilterPolicy(self.or_policy(sources=3, space_ids=7))
        attributes = {"source": S("v2"), "metricType": S("v0"), "spaceId": S("v6")}
        assert policy.matches("{}", attributes) is True


# --------------------------------------------------------------------------------------------
# Invalid policies, scopes and messages
# --------------------------------------------------------------------------------------------


class TestInvalidPolicies:
    def test_nested_keys_rejected_in_attribute_scope(self) -> None:
        with pytest.raises(InvalidFilterPolicy) as raised:
            FilterPolicy({"store": {"name": ["example_corp"]}})
        assert raised.value.path == "store"

    def test_nested_keys_accepted_in_body_scope(self) -> None:
        FilterPolicy({"store": {"name": ["example_corp"]}}, scope="MessageBody")

    @pytest.mark.parametrize(
        ("policy", "path"),
        [
            pytest.param({"path": [{"wildcard": "a*"}]}, "path[0]", id="wildcard"),
            pytest.param(
                {"f": [{"anything-but": {"suffix": ".png"}}]}, "f[0].anything-but", id="ab-suffix"
            ),
            pytest.param(
                {"f": [{"anything-but": {"exists": True}}]}, "f[0].anything-but", id="ab-exists"
            ),
            pytest.param(
                {"f": [{"anything-but": {"equals-ignore-case": "x"}}]},
                "f[0].anything-but",
                id="ab-ignore-case",
            ),
            pytest.param(
                {"f": [{"anything-but": {"wildcard": "*x"}}]},
                "f[0].anything-but",
                id="ab-wildcard",
            ),
            pytest.param(
                {"f": [{"anything-but": {"prefix": 5}}]},
                "f[0].anything-but.prefix",
                id="ab-prefix-number",
            ),
            pytest.param({"f": [{"suffix": 100}]}, "f[0].suffix", id="suffix-number"),
            pytest.param({"f": [{"suffix": ["a", "b"]}]}, "f[0].suffix", id="suffix-list"),
            pytest.param({"f": [["v"]]}, "f[0]", id="nested-array"),
            pytest.param({"f": [{"prefix": "a", "suffix": "b"}]}, "f[0]", id="two-keys"),
            pytest.param({"f": [{"numeric": [1, "<="]}]}, "f[0].numeric[0]", id="numeric-order"),
            pytest.param({"f": [{"numeric": ["=", "000"]}]}, "f[0].numeric[1]", id="numeric-str"),
            pytest.param({"f": [{"numeric": [">", 20, 30]}]}, "f[0].numeric", id="numeric-3"),
            pytest.param({"f": [{"numeric": [">", 3, "<", 1]}]}, "f[0].numeric", id="numeric-low"),
            pytest.param({"f": [{"exists": "yes"}]}, "f[0].exists", id="exists-string"),
            pytest.param({"f": []}, "f", id="empty-array"),
            pytest.param({"f": "x"}, "f", id="not-array"),
            pytest.param(
                {"f": [{"prefix": {"equals-ignore-case": "x"}}]},
                "f[0].prefix",
                id="prefix-ignore-case",
            ),
            pytest.param({"$or": [{"a": ["x"]}]}, "$or", id="or-one-branch"),
        ],
    )
    def test_invalid_policy(self, policy: dict[str, Any], path: str) -> None:
        with pytest.raises(InvalidFilterPolicy) as raised:
            FilterPolicy(policy)
        assert raised.value.path == path

    @pytest.mark.parametrize("text", ['{"a": [', "nope", '["a"]', '"a"'])
    def test_malformed_or_non_object_policy_text(self, text: str) -> None:
        with pytest.raises(InvalidFilterPolicy):
            FilterPolicy(text)

    def test_policy_as_json_text(self) -> None:
        policy = FilterPolicy('{"store": ["example_corp"]}')
        assert policy.matches("{}", {"store": S("example_corp")}) is True
        assert policy.matches("{}", {"store": S("other")}) is False

    @pytest.mark.parametrize("scope", ["RandomValue", "messageBody", "", "MessageAttribute"])
    def test_invalid_scope(self, scope: str) -> None:
        with pytest.raises(InvalidFilterPolicy):
            FilterPolicy({"store": ["example_corp"]}, scope=scope)  # type: ignore[arg-type]


class TestMalformedAttributes:
    @pytest.mark.parametrize(
        "attribute",
        [
            pytest.param({"DataType": "Integer", "StringValue": "1"}, id="bad-data-type"),
            pytest.param({"DataType": "string", "StringValue": "x"}, id="data-type-case"),
            pytest.param({"StringValue": "x"}, id="no-data-type"),
            pytest.param("example_corp", id="not-an-object"),
            pytest.param(N("abc"), id="number-not-a-number"),
            pytest.param(N(""), id="number-empty"),
            pytest.param(
                {"DataType": "String.Array", "StringValue": "not json"}, id="array-not-json"
            ),
            pytest.param(
                {"DataType": "String.Array", "StringValue": '{"a": 1}'}, id="array-is-object"
            ),
            pytest.param({"DataType": "String.Array", "StringValue": '"a"'}, id="array-is-string"),
            pytest.param(
                {"DataType": "String.Array", "StringValue": '[["a"]]'}, id="array-of-arrays"
            ),
            pytest.param({"DataType": "String"}, id="no-string-value"),
        ],
    )
    def test_malformed_attribute_raises(self, attribute: Any) -> None:
        with pytest.raises(InvalidEvent):
            by_attributes({"store": ["example_corp"]}, {"store": attribute})

    def test_custom_data_type_suffixes_are_accepted(self) -> None:
        attributes = {
            "store": {"DataType": "String.custom", "StringValue": "example_corp"},
            "price": {"DataType": "Number.float", "StringValue": "9.5"},
        }
        policy = {"store": ["example_corp"], "price": [{"numeric": ["<", 10]}]}
        assert by_attributes(policy, attributes) is True
