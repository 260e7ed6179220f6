"""Amazon SNS subscription filter policies."""

from __future__ import annotations

import json
from typing import Any, Literal

from archlab.routing.documents import Leaves, flatten, json_type_name, load_document
from archlab.routing.errors import InvalidEvent, InvalidFilterPolicy
from archlab.routing.evaluate import matches_any
from archlab.routing.grammar import Dialect, compile_pattern, load_pattern
from archlab.routing.predicates import Conjunction, Scalar

Scope = Literal["MessageAttributes", "MessageBody"]
SCOPES: tuple[Scope, ...] = ("MessageAttributes", "MessageBody")

MAX_KEYS = 5
MAX_COMBINATIONS = 150
MAX_POLICY_BYTES = 256 * 1024

SNS = Dialect(
    name="SNS",
    error=InvalidFilterPolicy,
    operators=frozenset(
        {"prefix", "suffix", "equals-ignore-case", "anything-but", "numeric", "cidr", "exists"}
    ),
    anything_but_forms=frozenset({"prefix"}),
    anything_but_lists=frozenset(),
    allow_ignore_case_affixes=False,
    exists_needs_value=True,
    anything_but_every=True,
    max_alternatives=MAX_COMBINATIONS,
)


class FilterPolicy:
    """A compiled SNS filter policy, applied to message attributes or to the message body.

    >>> policy = FilterPolicy({"coverage": ["car"]})
    >>> policy.matches("{}", {"coverage": {"DataType": "String", "StringValue": "car"}})
    True
    """

    def __init__(self, policy: dict[str, Any] | str, scope: Scope = "MessageAttributes"):
        if scope not in SCOPES:
            raise InvalidFilterPolicy(
                f"scope must be MessageAttributes or MessageBody, got {scope!r}"
            )
        self.scope = scope
        self.text, self.policy = load_pattern(policy, SNS)
        size = len(self.text.encode())
        if size > MAX_POLICY_BYTES:
            raise InvalidFilterPolicy(f"is {size} bytes; the limit is {MAX_POLICY_BYTES} (256 KB)")
        if not isinstance(self.policy, dict):
            raise InvalidFilterPolicy(f"must be a JSON object, got {json_type_name(self.policy)}")
        if scope == "MessageAttributes":
            for key, value in self.policy.items():
                if key != "$or" and isinstance(value, dict):
                    raise InvalidFilterPolicy(
                        "nested keys need the MessageBody scope; MessageAttributes policies"
                        " are flat",
                        key,
                    )
        self.conjunctions: tuple[Conjunction, ...] = compile_pattern(self.policy, SNS)
        _check_limits(self.policy)

    def matches(self, message_body: str, message_attributes: dict[str, Any] | None = None) -> bool:
        """Whether SNS would deliver this message to a subscription with this policy.

        In the MessageBody scope a body that is not a JSON object simply does not match. In the
        MessageAttributes scope a message without attributes never matches (not even
        ``exists: false``), as SNS documents.
        """
        if self.scope == "MessageBody":
            try:
                document = load_document(message_body, "message body")
            except InvalidEvent:
                return False
            leaves = flatten(document)
        else:
            if not message_attributes:
                return False
            leaves = attribute_leaves(message_attributes)
        return matches_any(self.conjunctions, leaves)

    def __repr__(self) -> str:
        return f"FilterPolicy({self.text}, scope={self.scope!r})"


def attribute_leaves(attributes: dict[str, Any]) -> Leaves:
    """Message attributes in the SNS API shape, as the leaves a policy is matched against.

    String attributes give a string, Number attributes a number, String.Array attributes one
    value per element; Binary attributes are not compared and give nothing.
    """
    if not isinstance(attributes, dict):
        raise InvalidEvent(
            f"message attributes must be an object, got {json_type_name(attributes)}"
        )
    leaves: Leaves = {}
    for name, attribute in attributes.items():
        values = _attribute_values(name, attribute)
        if values:
            leaves[name] = [(value, ()) for value in values]
    return leaves


def _attribute_values(name: str, attribute: Any) -> list[Scalar]:
    if not isinstance(attribute, dict) or not isinstance(attribute.get("DataType"), str):
        raise InvalidEvent(
            'must be an object such as {"DataType": "String", "StringValue": "car"}', name
        )
    data_type = attribute["DataType"]
    base = "String.Array" if data_type == "String.Array" else data_type.split(".")[0]
    if base == "Binary":
        return []
    if base not in ("String", "Number", "String.Array"):
        raise InvalidEvent(
            f"DataType must be String, Number, String.Array or Binary, got {data_type!r}", name
        )
    text = attribute.get("StringValue")
    if not isinstance(text, str):
        raise InvalidEvent(f"a {data_type} attribute needs a StringValue string", name)
    if base == "String":
        return [text]
    if base == "Number":
        return [_number(text, name)]
    try:
        elements = json.loads(text)
    except json.JSONDecodeError:
        elements = None
    if not isinstance(elements, list) or any(isinstance(e, (dict, list)) for e in elements):
        raise InvalidEvent(
            "a String.Array value must be a JSON array of strings, numbers, booleans or null",
            name,
        )
    return elements


def _number(text: str, name: str) -> float:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise InvalidEvent(f"Number value {text!r} is not a number", name) from None


def _check_limits(policy: dict[str, Any]) -> None:
    keys = _top_level_keys(policy)
    if len(keys) > MAX_KEYS:
        raise InvalidFilterPolicy(
            f"has {len(keys)} keys ({', '.join(sorted(keys))}); the limit is {MAX_KEYS}"
        )
    combinations = sum(_combinations(policy, 1))
    if combinations > MAX_COMBINATIONS:
        raise InvalidFilterPolicy(
            f"is too complex: {combinations} combinations, the limit is {MAX_COMBINATIONS}"
            " (values multiplied across keys, by nesting depth, summed over $or branches)"
        )


def _top_level_keys(node: dict[str, Any]) -> set[str]:
    """The keys SNS counts against its limit of five: top-level ones, $or branches included."""
    keys: set[str] = set()
    for key, value in node.items():
        if key == "$or":
            for branch in value:
                keys |= _top_level_keys(branch)
        else:
            keys.add(key)
    return keys


def _combinations(node: dict[str, Any], depth: int) -> list[int]:
    """SNS's complexity of each alternative ``$or`` expands into.

    Within an alternative, each list of values contributes its length times its nesting depth,
    and contributions multiply (the SNS documentation's example: a 4-value list at depth 3 and a
    3-value list at depth 2 give 3 x 4 x 2 x 3 = 72). The policy's complexity is the sum over
    alternatives.
    """
    alternatives = [1]
    for key, value in node.items():
        if key == "$or":
            branches = [c for branch in value for c in _combinations(branch, depth)]
            alternatives = [a * b for a in alternatives for b in branches]
        elif isinstance(value, dict):
            nested = _combinations(value, depth + 1)
            alternatives = [a * b for a in alternatives for b in nested]
        else:
            alternatives = [a * depth * len(value) for a in alternatives]
    return alternatives
