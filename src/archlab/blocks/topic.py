"""The topic block: Amazon SNS semantics (publish, subscriptions, filter policies) over an engine.

A publish is delivered to every subscription whose filter policy matches it (policies are
evaluated with :mod:`archlab.routing`), and the deliveries to queues happen in one engine
transaction: every matching queue gets the message, or none does.

Queue (``sqs``) subscriptions are supported; function and HTTP subscriptions, with their retries
and subscription dead-letter queues, come with the runtime.
"""

from __future__ import annotations

import datetime
import json
import re
import uuid
from typing import Any, cast

from archlab.blocks.errors import InvalidParameter
from archlab.blocks.queue import ACCOUNT, REGION, message_size, queue_name
from archlab.clock import Clock, SystemClock
from archlab.engines.base import MessagingEngine, OutgoingMessage
from archlab.routing import FilterPolicy, InvalidEvent, InvalidFilterPolicy
from archlab.routing.filterpolicy import SCOPES, Scope, attribute_leaves

TOPIC_NAME = re.compile(r"[A-Za-z0-9_-]{1,256}")
MAX_MESSAGE_BYTES = 262_144
PROTOCOLS = ("sqs",)
SUBSCRIPTION_ATTRIBUTES = ("FilterPolicy", "FilterPolicyScope", "RawMessageDelivery")


def topic_name(name_or_arn: str) -> str:
    if not isinstance(name_or_arn, str) or not name_or_arn:
        raise InvalidParameter("a topic name or ARN is required")
    return name_or_arn.rsplit(":", 1)[-1] if name_or_arn.startswith("arn:") else name_or_arn


def topic_arn(name: str) -> str:
    return f"arn:aws:sns:{REGION}:{ACCOUNT}:{name}"


class Topic:
    """One topic, through an engine."""

    def __init__(self, engine: MessagingEngine, name_or_arn: str, clock: Clock | None = None):
        self.engine = engine
        self.name = topic_name(name_or_arn)
        self.arn = topic_arn(self.name)
        self.clock = clock or SystemClock()
        self._policies: dict[tuple[str, str], FilterPolicy] = {}

    @classmethod
    def create(cls, engine: MessagingEngine, name: str, clock: Clock | None = None) -> Topic:
        name = topic_name(name)
        if not TOPIC_NAME.fullmatch(name):
            raise InvalidParameter(
                f"topic name {name!r} is invalid: 1 to 256 letters, digits, hyphens or underscores"
            )
        engine.create_topic(name)
        return cls(engine, name, clock)

    def subscribe(
        self, protocol: str, endpoint: str, attributes: dict[str, Any] | None = None
    ) -> str:
        """Subscribe an endpoint (a queue's name or ARN, for ``sqs``); returns the subscription
        ARN. Subscribing the same endpoint again updates its attributes."""
        if protocol not in PROTOCOLS:
            raise InvalidParameter(
                f"protocol {protocol!r} is not supported yet (supported: {', '.join(PROTOCOLS)})"
            )
        queue = queue_name(endpoint)
        self.engine.queue_attributes(queue)  # the queue must exist
        checked = _subscription_attributes(attributes or {})
        subscription = self.engine.subscribe(self.name, protocol, queue, checked)
        return f"{self.arn}:{subscription}"

    def unsubscribe(self, subscription_arn: str) -> None:
        self.engine.unsubscribe(subscription_arn.rsplit(":", 1)[-1])

    def subscriptions(self) -> list[dict[str, Any]]:
        """As ListSubscriptionsByTopic, with each subscription's attributes."""
        return [
            {
                "SubscriptionArn": f"{self.arn}:{s.id}",
                "Protocol": s.protocol,
                "Endpoint": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{s.endpoint}",
                "TopicArn": self.arn,
                "Attributes": s.attributes,
            }
            for s in self.engine.subscriptions(self.name)
        ]

    def publish(
        self,
        message: str,
        *,
        subject: str | None = None,
        message_attributes: dict[str, Any] | None = None,
    ) -> str:
        """Publish to every matching subscription, atomically; returns the SNS MessageId."""
        if not isinstance(message, str) or not message:
            raise InvalidParameter("Message must be non-empty text")
        attributes = _message_attributes(message_attributes)
        size = message_size(message, attributes)
        if size > MAX_MESSAGE_BYTES:
            raise InvalidParameter(
                f"the message is {size} bytes with its attributes; the limit is {MAX_MESSAGE_BYTES}"
            )
        message_id = str(uuid.uuid4())
        batches = self._deliveries(message_id, message, subject, attributes)
        if batches:
            self.engine.send_many(batches)
        return message_id

    def _deliveries(
        self,
        message_id: str,
        message: str,
        subject: str | None,
        attributes: dict[str, dict[str, str]],
    ) -> dict[str, list[OutgoingMessage]]:
        """What each subscribed queue receives: the messages for its matching subscriptions."""
        deliveries: dict[str, list[OutgoingMessage]] = {}
        for subscription in self.engine.subscriptions(self.name):
            policy = self._policy(subscription.attributes)
            if policy is not None and not policy.matches(message, attributes):
                continue
            if subscription.attributes.get("RawMessageDelivery") == "true":
                outgoing = OutgoingMessage(message, attributes)
            else:
                outgoing = OutgoingMessage(
                    self._envelope(message_id, message, subject, attributes, subscription.id)
                )
            deliveries.setdefault(subscription.endpoint, []).append(outgoing)
        return deliveries

    def _policy(self, attributes: dict[str, str]) -> FilterPolicy | None:
        text = attributes.get("FilterPolicy")
        if not text:
            return None
        scope = cast(Scope, attributes.get("FilterPolicyScope", "MessageAttributes"))
        key = (text, scope)
        if key not in self._policies:
            self._policies[key] = FilterPolicy(text, scope)
        return self._policies[key]

    def _envelope(
        self,
        message_id: str,
        message: str,
        subject: str | None,
        attributes: dict[str, dict[str, str]],
        subscription: str,
    ) -> str:
        """The JSON notification SNS delivers when raw delivery is off."""
        now = datetime.datetime.fromtimestamp(self.clock.now(), datetime.UTC)
        envelope: dict[str, Any] = {
            "Type": "Notification",
            "MessageId": message_id,
            "TopicArn": self.arn,
            "Message": message,
            "Timestamp": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "SignatureVersion": "1",
            "UnsubscribeURL": f"archlab://sns/unsubscribe/{self.arn}:{subscription}",
        }
        if subject is not None:
            envelope["Subject"] = subject
        if attributes:
            envelope["MessageAttributes"] = {
                name: {
                    "Type": a["DataType"],
                    "Value": a.get("StringValue", a.get("BinaryValue", "")),
                }
                for name, a in attributes.items()
            }
        return json.dumps(envelope)


def _subscription_attributes(attributes: dict[str, Any]) -> dict[str, str]:
    if not isinstance(attributes, dict):
        raise InvalidParameter("subscription attributes must be an object")
    for key in attributes:
        if key not in SUBSCRIPTION_ATTRIBUTES:
            raise InvalidParameter(
                f"unknown subscription attribute {key!r}"
                f" (known: {', '.join(SUBSCRIPTION_ATTRIBUTES)})"
            )
    result: dict[str, str] = {}
    scope = attributes.get("FilterPolicyScope", "MessageAttributes")
    if scope not in SCOPES:
        raise InvalidParameter(
            f"FilterPolicyScope must be MessageAttributes or MessageBody, got {scope!r}"
        )
    if "FilterPolicy" in attributes:
        raw = attributes["FilterPolicy"]
        text = raw if isinstance(raw, str) else json.dumps(raw)
        try:
            FilterPolicy(text, scope)
        except InvalidFilterPolicy as error:
            raise InvalidParameter(f"FilterPolicy: {error}") from None
        result["FilterPolicy"] = text
        result["FilterPolicyScope"] = scope
    raw_delivery = str(attributes.get("RawMessageDelivery", "false")).lower()
    if raw_delivery not in ("true", "false"):
        raise InvalidParameter("RawMessageDelivery must be true or false")
    result["RawMessageDelivery"] = raw_delivery
    return result


def _message_attributes(attributes: dict[str, Any] | None) -> dict[str, dict[str, str]]:
    """SNS message attributes, checked as SNS does (the same shape as SQS's, plus
    String.Array)."""
    if not attributes:
        return {}
    try:
        attribute_leaves(attributes)
    except InvalidEvent as error:
        raise InvalidParameter(f"MessageAttributes: {error}") from None
    for name, attribute in attributes.items():
        if "StringValue" not in attribute and "BinaryValue" not in attribute:
            raise InvalidParameter(f"MessageAttributes: {name}: a value is required")
    return {name: dict(attribute) for name, attribute in attributes.items()}
