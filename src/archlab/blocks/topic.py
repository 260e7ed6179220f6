"""The topic block: Amazon SNS semantics (publish, subscriptions, filter policies) over an engine.

A publish is delivered to every subscription whose filter policy matches it (policies are
evaluated with :mod:`archlab.routing`). Queue (``sqs``) subscriptions receive the message in one
engine transaction: every matching queue gets it, or none does. HTTP/S and function
(``lambda``) subscriptions get a pending delivery in that same transaction, attempted afterwards
with retries by a :class:`archlab.blocks.delivery.Dispatcher`; a delivery that cannot be made
goes to the subscription's dead-letter queue (its RedrivePolicy).
"""

from __future__ import annotations

import datetime
import json
import logging
import re
import uuid
from typing import Any, cast
from urllib.parse import urlsplit

from archlab.blocks import delivery
from archlab.blocks.delivery import PendingDelivery, PhasedRetryPolicy, Protocol
from archlab.blocks.errors import InvalidParameter, QueueDoesNotExist
from archlab.blocks.queue import ACCOUNT, REGION, message_size, queue_arn, queue_name
from archlab.clock import Clock, SystemClock
from archlab.engines.base import MessagingEngine, OutgoingMessage, Subscription
from archlab.routing import FilterPolicy, InvalidEvent, InvalidFilterPolicy
from archlab.routing.filterpolicy import SCOPES, Scope, attribute_leaves

log = logging.getLogger(__name__)

TOPIC_NAME = re.compile(r"[A-Za-z0-9_-]{1,256}")
MAX_MESSAGE_BYTES = 262_144
PROTOCOLS = ("sqs", "http", "https", "lambda")
SUBSCRIPTION_ATTRIBUTES = (
    "FilterPolicy",
    "FilterPolicyScope",
    "RawMessageDelivery",
    "RedrivePolicy",
    "DeliveryPolicy",
)
RETRY_POLICY_FIELDS = {
    "numRetries": "num_retries",
    "numNoDelayRetries": "no_delay_retries",
    "numMinDelayRetries": "min_delay_retries",
    "numMaxDelayRetries": "max_delay_retries",
    "minDelayTarget": "min_delay",
    "maxDelayTarget": "max_delay",
    "backoffFunction": "backoff",
}
MAX_HTTP_RETRY_SECONDS = 3_600


def topic_name(name_or_arn: str) -> str:
    if not isinstance(name_or_arn, str) or not name_or_arn:
        raise InvalidParameter("a topic name or ARN is required")
    return name_or_arn.rsplit(":", 1)[-1] if name_or_arn.startswith("arn:") else name_or_arn


def topic_arn(name: str) -> str:
    return f"arn:aws:sns:{REGION}:{ACCOUNT}:{name}"


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


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
        """Subscribe an endpoint -- a queue's name or ARN (``sqs``), a URL (``http``,
        ``https``) or a function's name or ARN (``lambda``); returns the subscription ARN.
        Subscribing the same endpoint again updates its attributes."""
        if protocol not in PROTOCOLS:
            raise InvalidParameter(
                f"protocol {protocol!r} is not supported (supported: {', '.join(PROTOCOLS)})"
            )
        address = self._endpoint(protocol, endpoint)
        checked = _subscription_attributes(attributes or {}, protocol)
        if "RedrivePolicy" in checked:
            dead_letter = json.loads(checked["RedrivePolicy"])["deadLetterTargetArn"]
            self.engine.queue_attributes(queue_name(dead_letter))  # the queue must exist
        subscription = self.engine.subscribe(self.name, protocol, address, checked)
        return f"{self.arn}:{subscription}"

    def _endpoint(self, protocol: str, endpoint: str) -> str:
        """The endpoint as stored: a queue or function name, or a URL."""
        if not isinstance(endpoint, str) or not endpoint:
            raise InvalidParameter("an endpoint is required")
        if protocol == "sqs":
            queue = queue_name(endpoint)
            self.engine.queue_attributes(queue)  # the queue must exist
            return queue
        if protocol == "lambda":
            try:
                name = delivery.function_name(endpoint)
            except ValueError as error:
                raise InvalidParameter(f"Endpoint: {error}") from None
            delivery.ensure_queue(self.engine, delivery.function_queue(name))
            return name
        parts = urlsplit(endpoint)
        if parts.scheme != protocol or not parts.hostname:
            raise InvalidParameter(
                f"Endpoint {endpoint!r} is not a {protocol} URL such as {protocol}://host/path"
            )
        delivery.ensure_queue(self.engine, delivery.HTTP_QUEUE)
        return endpoint

    def unsubscribe(self, subscription_arn: str) -> None:
        self.engine.unsubscribe(subscription_arn.rsplit(":", 1)[-1])

    def subscriptions(self) -> list[dict[str, Any]]:
        """As ListSubscriptionsByTopic, with each subscription's attributes."""
        return [
            {
                "SubscriptionArn": f"{self.arn}:{s.id}",
                "Protocol": s.protocol,
                "Endpoint": _endpoint_arn(s),
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
        """Publish to every matching subscription; returns the SNS MessageId. Queues get the
        message, and push endpoints a pending delivery, in one transaction."""
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
            try:
                self.engine.send_many(batches)
            except QueueDoesNotExist:
                self.engine.send_many(self._without_missing_queues(batches))
        return message_id

    def _deliveries(
        self,
        message_id: str,
        message: str,
        subject: str | None,
        attributes: dict[str, dict[str, str]],
    ) -> dict[str, list[OutgoingMessage]]:
        """What each queue receives: the messages for its matching subscriptions, and the
        pending deliveries for push subscriptions."""
        deliveries: dict[str, list[OutgoingMessage]] = {}
        for subscription in self.engine.subscriptions(self.name):
            policy = self._policy(subscription.attributes)
            if policy is not None and not policy.matches(message, attributes):
                continue
            raw = subscription.attributes.get("RawMessageDelivery") == "true"
            envelope = self._envelope(message_id, message, subject, attributes, subscription.id)
            if subscription.protocol == "sqs":
                outgoing = (
                    OutgoingMessage(message, attributes)
                    if raw
                    else OutgoingMessage(json.dumps(envelope))
                )
                deliveries.setdefault(subscription.endpoint, []).append(outgoing)
                continue
            pending = self._push(subscription, envelope, message if raw else None)
            deliveries.setdefault(pending.queue, []).append(pending.message())
        return deliveries

    def _push(
        self, subscription: Subscription, envelope: dict[str, Any], raw: str | None
    ) -> PendingDelivery:
        """A pending delivery to an HTTP/S endpoint or a function, shaped as SNS sends it."""
        arn = f"{self.arn}:{subscription.id}"
        redrive = json.loads(subscription.attributes.get("RedrivePolicy", "{}"))
        dead_letter = redrive.get("deadLetterTargetArn")
        if subscription.protocol == "lambda":
            sns = dict(envelope, Subject=envelope.get("Subject"))
            sns["UnsubscribeUrl"] = sns.pop("UnsubscribeURL")
            record = {"EventSource": "aws:sns", "EventVersion": "1.0"}
            event = {"Records": [{**record, "EventSubscriptionArn": arn, "Sns": sns}]}
            payload, headers = json.dumps(event), {}
            policy = delivery.LAMBDA_ASYNC_RETRIES
        else:
            settings = json.loads(subscription.attributes.get("DeliveryPolicy", "{}"))
            payload = raw if raw is not None else json.dumps(envelope)
            headers = {
                "Content-Type": settings.get("requestPolicy", {}).get(
                    "headerContentType", "text/plain; charset=UTF-8"
                ),
                "x-amz-sns-message-type": "Notification",
                "x-amz-sns-message-id": envelope["MessageId"],
                "x-amz-sns-topic-arn": self.arn,
                "x-amz-sns-subscription-arn": arn,
            }
            if raw is not None:
                headers["x-amz-sns-rawdelivery"] = "true"
            policy = _retry_policy(settings.get("healthyRetryPolicy", {}))
        return PendingDelivery(
            protocol=cast(Protocol, subscription.protocol),
            endpoint=subscription.endpoint,
            payload=payload,
            style="sns",
            source=arn,
            policy=policy,
            created=self.clock.now(),
            dead_letter=queue_name(dead_letter) if dead_letter else None,
            headers=headers,
        )

    def _without_missing_queues(
        self, batches: dict[str, list[OutgoingMessage]]
    ) -> dict[str, list[OutgoingMessage]]:
        """The batches again after a subscribed queue was found deleted: SNS still delivers to
        the other subscriptions, and sends what the missing queue should have had to its
        subscription's dead-letter queue (or drops it). Delivery queues are recreated."""
        existing = set(self.engine.list_queues())
        redrives = {
            s.endpoint: json.loads(s.attributes.get("RedrivePolicy", "{}"))
            for s in self.engine.subscriptions(self.name)
            if s.protocol == "sqs"
        }
        kept: dict[str, list[OutgoingMessage]] = {}
        for queue, messages in batches.items():
            if queue in existing:
                kept.setdefault(queue, []).extend(messages)
                continue
            if queue == delivery.HTTP_QUEUE or queue.startswith(delivery.FUNCTION_QUEUE_PREFIX):
                delivery.ensure_queue(self.engine, queue)
                kept.setdefault(queue, []).extend(messages)
                continue
            dead_letter = redrives.get(queue, {}).get("deadLetterTargetArn")
            log.warning(
                "topic %s: subscribed queue %s does not exist; %s",
                self.name,
                queue,
                f"sent to {dead_letter}" if dead_letter else "message dropped",
            )
            if dead_letter and queue_name(dead_letter) in existing:
                error = {
                    "ErrorCode": QueueDoesNotExist.code,
                    "ErrorMessage": f"the queue {queue} does not exist",
                    "RequestID": str(uuid.uuid4()),
                }
                attributes = {k: {"DataType": "String", "StringValue": v} for k, v in error.items()}
                kept.setdefault(queue_name(dead_letter), []).extend(
                    OutgoingMessage(m.body, {**m.message_attributes, **attributes})
                    for m in messages
                )
        return kept

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
    ) -> dict[str, Any]:
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
        return envelope


def _endpoint_arn(subscription: Subscription) -> str:
    if subscription.protocol == "sqs":
        return queue_arn(subscription.endpoint)
    if subscription.protocol == "lambda":
        return function_arn(subscription.endpoint)
    return subscription.endpoint


def _subscription_attributes(attributes: dict[str, Any], protocol: str) -> dict[str, str]:
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
        text = _json_text(attributes["FilterPolicy"])
        try:
            FilterPolicy(text, scope)
        except InvalidFilterPolicy as error:
            raise InvalidParameter(f"FilterPolicy: {error}") from None
        result["FilterPolicy"] = text
        result["FilterPolicyScope"] = scope
    raw_delivery = str(attributes.get("RawMessageDelivery", "false")).lower()
    if raw_delivery not in ("true", "false"):
        raise InvalidParameter("RawMessageDelivery must be true or false")
    if raw_delivery == "true" and protocol == "lambda":
        raise InvalidParameter("RawMessageDelivery applies to sqs, http and https subscriptions")
    result["RawMessageDelivery"] = raw_delivery
    if "RedrivePolicy" in attributes:
        result["RedrivePolicy"] = _redrive_policy(attributes["RedrivePolicy"])
    if "DeliveryPolicy" in attributes:
        if protocol not in ("http", "https"):
            raise InvalidParameter("DeliveryPolicy applies to http and https subscriptions")
        result["DeliveryPolicy"] = _delivery_policy(attributes["DeliveryPolicy"])
    return result


def _json_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _json_object(value: Any, what: str) -> dict[str, Any]:
    try:
        parsed = json.loads(_json_text(value))
    except json.JSONDecodeError as error:
        raise InvalidParameter(f"{what} is not valid JSON: {error}") from None
    if not isinstance(parsed, dict):
        raise InvalidParameter(f"{what} must be a JSON object")
    return parsed


def _redrive_policy(value: Any) -> str:
    policy = _json_object(value, "RedrivePolicy")
    target = policy.get("deadLetterTargetArn")
    if set(policy) != {"deadLetterTargetArn"} or not isinstance(target, str):
        raise InvalidParameter('RedrivePolicy must be {"deadLetterTargetArn": "<queue ARN>"}')
    if not target.startswith("arn:aws:sqs:"):
        raise InvalidParameter(f"RedrivePolicy: {target!r} is not a queue ARN (arn:aws:sqs:...)")
    return json.dumps(policy)


def _delivery_policy(value: Any) -> str:
    """An HTTP/S DeliveryPolicy, checked as SNS checks it."""
    policy = _json_object(value, "DeliveryPolicy")
    unknown = set(policy) - {"healthyRetryPolicy", "requestPolicy"}
    if unknown:
        raise InvalidParameter(
            f"DeliveryPolicy: unsupported section {', '.join(sorted(unknown))}"
            " (supported: healthyRetryPolicy, requestPolicy)"
        )
    request = policy.get("requestPolicy", {})
    if not isinstance(request, dict) or set(request) - {"headerContentType"}:
        raise InvalidParameter('DeliveryPolicy.requestPolicy holds only "headerContentType"')
    if not isinstance(request.get("headerContentType", ""), str):
        raise InvalidParameter("DeliveryPolicy.requestPolicy.headerContentType must be text")
    _retry_policy(policy.get("healthyRetryPolicy", {}))
    return json.dumps(policy)


def _retry_policy(raw: Any) -> PhasedRetryPolicy:
    """A healthyRetryPolicy as a retry policy (SNS's HTTP defaults where fields are missing)."""
    where = "DeliveryPolicy.healthyRetryPolicy"
    if not isinstance(raw, dict):
        raise InvalidParameter(f"{where} must be an object")
    unknown = set(raw) - set(RETRY_POLICY_FIELDS)
    if unknown:
        raise InvalidParameter(f"{where}: unknown field {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    for key, field_name in RETRY_POLICY_FIELDS.items():
        if key not in raw:
            continue
        value = raw[key]
        if key == "backoffFunction":
            if value not in delivery.BACKOFF_FUNCTIONS:
                known = ", ".join(delivery.BACKOFF_FUNCTIONS)
                raise InvalidParameter(f"{where}.backoffFunction must be one of {known}")
        elif not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise InvalidParameter(f"{where}.{key} must be a whole number >= 0")
        values[field_name] = value
    policy = PhasedRetryPolicy(**values)
    if policy.num_retries > 100:
        raise InvalidParameter(f"{where}.numRetries must be at most 100")
    if not 1 <= policy.min_delay <= policy.max_delay <= MAX_HTTP_RETRY_SECONDS:
        raise InvalidParameter(
            f"{where}: need 1 <= minDelayTarget <= maxDelayTarget <= {MAX_HTTP_RETRY_SECONDS}"
        )
    phases = policy.no_delay_retries + policy.min_delay_retries + policy.max_delay_retries
    if phases > policy.num_retries:
        raise InvalidParameter(
            f"{where}: numNoDelayRetries + numMinDelayRetries + numMaxDelayRetries ({phases})"
            f" exceed numRetries ({policy.num_retries})"
        )
    if policy.total_delay() > MAX_HTTP_RETRY_SECONDS:
        raise InvalidParameter(
            f"{where}: the retries span {policy.total_delay():.0f} s;"
            f" SNS allows at most {MAX_HTTP_RETRY_SECONDS} s"
        )
    return policy


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
