"""The event bus block: Amazon EventBridge semantics over an engine.

Rules hold event patterns (matched together by :class:`archlab.routing.RuleSet`) and up to five
targets each -- queues, topics and functions addressed by ARN, and HTTP endpoints by URL (in
place of an API destination) -- with the event reshaped by InputPath or an InputTransformer.
Archives keep the events that match them, and a replay sends a time range of an archive back
through the bus (or only through some of its rules).

Delivery to queues and topics of the same engine is synchronous, so it fails only for a
permanent reason (the target is gone). Functions and HTTP endpoints get a pending delivery that
a :class:`archlab.blocks.delivery.Dispatcher` attempts under the target's RetryPolicy. An event
that cannot be delivered goes to the target's dead-letter queue, with the error in its message
attributes, when one is configured.
"""

from __future__ import annotations

import datetime
import json
import logging
import re
import uuid
from dataclasses import dataclass
from typing import Any

from archlab.blocks import delivery
from archlab.blocks.checks import integer
from archlab.blocks.delivery import AgeLimitedRetryPolicy, PendingDelivery
from archlab.blocks.errors import (
    EventBridgeValidation,
    InvalidEventPatternError,
    LimitExceeded,
    MalformedDetail,
    MessagingError,
    QueueDoesNotExist,
    ResourceNotFound,
)
from archlab.blocks.queue import ACCOUNT, REGION, queue_name
from archlab.blocks.topic import Topic
from archlab.clock import Clock, SystemClock
from archlab.engines.base import BusRule, MessagingEngine, OutgoingMessage
from archlab.routing import EventPattern, InvalidEventPattern, RuleSet

log = logging.getLogger(__name__)

NAME = re.compile(r"[.\-_A-Za-z0-9]{1,64}")
TARGET_ID = re.compile(r"[.\-_A-Za-z0-9]{1,64}")
VARIABLE = re.compile(r"[A-Za-z0-9_-]{1,256}")
MAX_TARGETS = 5
MAX_ENTRIES = 10
MAX_EVENTS_BYTES = 256 * 1024
PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.-]+)>")
QUEUE_OR_TOPIC_ARN = re.compile(r"arn:aws:(sqs|sns):[^:]*:[^:]*:[A-Za-z0-9_.-]+")
FUNCTION_ARN = re.compile(r"arn:aws:lambda:[^:]*:[^:]*:function:[A-Za-z0-9_-]{1,64}")
URL = re.compile(r"https?://[^/\s]+(/\S*)?")


def bus_arn(name: str) -> str:
    return f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{name}"


def rule_arn(bus: str, rule: str) -> str:
    prefix = "" if bus == "default" else f"{bus}/"
    return f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{prefix}{rule}"


def _name(value: Any, what: str) -> str:
    if isinstance(value, str) and value.startswith("arn:"):
        value = value.rsplit("/", 1)[-1]
    if not isinstance(value, str) or not NAME.fullmatch(value):
        raise EventBridgeValidation(
            f"{what} {value!r} is invalid: 1 to 64 letters, digits, '.', '-' or '_'"
        )
    return value


@dataclass(frozen=True)
class PutEventsResult:
    failed_entry_count: int
    entries: list[dict[str, str]]
    """Per entry: {"EventId": ...}, or {"ErrorCode": ..., "ErrorMessage": ...}."""


class EventBus:
    """One event bus, through an engine."""

    def __init__(self, engine: MessagingEngine, name: str = "default", clock: Clock | None = None):
        self.engine = engine
        self.name = _name(name, "event bus name")
        self.arn = bus_arn(self.name)
        self.clock = clock or SystemClock()
        self._index: tuple[tuple[tuple[str, str], ...], RuleSet] | None = None
        self._archive_patterns: dict[str, EventPattern] = {}
        self._topics: dict[str, Topic] = {}

    @classmethod
    def create(
        cls, engine: MessagingEngine, name: str = "default", clock: Clock | None = None
    ) -> EventBus:
        bus = cls(engine, name, clock)
        engine.create_bus(bus.name)
        return bus

    # --- rules and targets ---------------------------------------------------------------------

    def put_rule(
        self, name: str, event_pattern: dict[str, Any] | str, state: str = "ENABLED"
    ) -> str:
        """Create or update a rule; returns its ARN."""
        name = _name(name, "rule name")
        if state not in ("ENABLED", "DISABLED"):
            raise EventBridgeValidation(f"State must be ENABLED or DISABLED, got {state!r}")
        self.engine.put_rule(self.name, name, _pattern(event_pattern).text, state)
        return rule_arn(self.name, name)

    def delete_rule(self, name: str) -> None:
        rule = self._rule(name)
        if rule.targets:
            raise EventBridgeValidation(f"rule {name!r} still has targets; remove them first")
        self.engine.delete_rule(self.name, rule.name)

    def put_targets(self, rule: str, targets: list[dict[str, Any]]) -> None:
        """Add or replace targets (by Id); a rule has at most five."""
        current = {t["Id"]: t for t in self._rule(rule).targets}
        if not isinstance(targets, list) or not targets:
            raise EventBridgeValidation("Targets must be a non-empty list")
        for target in targets:
            checked = _check_target(target)
            current[checked["Id"]] = checked
            if not QUEUE_OR_TOPIC_ARN.fullmatch(checked["Arn"]):
                delivery.ensure_queue(self.engine, _pending_queue(checked["Arn"]))
        if len(current) > MAX_TARGETS:
            raise LimitExceeded(f"a rule can have at most {MAX_TARGETS} targets")
        self.engine.set_targets(self.name, _name(rule, "rule name"), list(current.values()))

    def remove_targets(self, rule: str, ids: list[str]) -> None:
        remaining = [t for t in self._rule(rule).targets if t["Id"] not in ids]
        self.engine.set_targets(self.name, _name(rule, "rule name"), remaining)

    def rules(self) -> list[BusRule]:
        return self.engine.rules(self.name)

    def _rule(self, name: str) -> BusRule:
        name = _name(name, "rule name")
        for rule in self.engine.rules(self.name):
            if rule.name == name:
                return rule
        raise ResourceNotFound(f"the rule {name!r} does not exist on the bus {self.name!r}")

    # --- events --------------------------------------------------------------------------------

    def put_events(self, entries: list[dict[str, Any]]) -> PutEventsResult:
        """PutEvents: each well-formed entry becomes an event routed to its rules' targets;
        malformed entries fail alone, as in EventBridge."""
        if not isinstance(entries, list) or not 1 <= len(entries) <= MAX_ENTRIES:
            raise EventBridgeValidation(f"Entries must hold 1 to {MAX_ENTRIES} entries")
        size = len(json.dumps(entries, default=str).encode())
        if size > MAX_EVENTS_BYTES:
            raise EventBridgeValidation(f"the entries total {size} bytes; the limit is 256 KB")
        results: list[dict[str, str]] = []
        events = []
        for entry in entries:
            try:
                event = self._event(entry)
            except MessagingError as error:
                results.append({"ErrorCode": error.code, "ErrorMessage": error.message})
                continue
            events.append(event)
            results.append({"EventId": event["id"]})
        self._archive(events)
        index, rules = self._ruleset()
        for event in events:
            self._route(event, index, rules)
        failed = sum("ErrorCode" in r for r in results)
        return PutEventsResult(failed, results)

    def _event(self, entry: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(entry, dict):
            raise EventBridgeValidation("an entry must be an object")
        for key in ("Source", "DetailType", "Detail"):
            if not isinstance(entry.get(key), str) or not entry[key]:
                raise EventBridgeValidation(f"{key} is required and must be a non-empty string")
        try:
            detail = json.loads(entry["Detail"])
        except json.JSONDecodeError:
            detail = None
        if not isinstance(detail, dict):
            raise MalformedDetail("Detail must be a JSON object")
        resources = entry.get("Resources", [])
        if not isinstance(resources, list) or not all(isinstance(r, str) for r in resources):
            raise EventBridgeValidation("Resources must be a list of ARNs (strings)")
        when = entry.get("Time")
        moment = self.clock.now() if when is None else _timestamp(when)
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": entry["DetailType"],
            "source": entry["Source"],
            "account": ACCOUNT,
            "time": _iso(moment),
            "region": REGION,
            "resources": resources,
            "detail": detail,
        }

    def _ruleset(self) -> tuple[RuleSet, dict[str, BusRule]]:
        rules = {
            rule.name: rule for rule in self.engine.rules(self.name) if rule.state == "ENABLED"
        }
        key = tuple(sorted((name, rule.pattern) for name, rule in rules.items()))
        if self._index is None or self._index[0] != key:
            self._index = (key, RuleSet({name: pattern for name, pattern in key}))
        return self._index[1], rules

    def _route(
        self,
        event: dict[str, Any],
        index: RuleSet,
        rules: dict[str, BusRule],
        only: list[str] | None = None,
    ) -> None:
        for name in index.matches(event):
            if only is not None and name not in only:
                continue
            for target in rules[name].targets:
                self._deliver(event, rules[name], target)

    def _deliver(self, event: dict[str, Any], rule: BusRule, target: dict[str, Any]) -> None:
        arn = rule_arn(self.name, rule.name)
        payload = transform(event, target, rule.name, arn)
        dead_letter = target.get("DeadLetterConfig", {}).get("Arn")
        if not QUEUE_OR_TOPIC_ARN.fullmatch(target["Arn"]):
            self._push(event, payload, arn, target)
            return
        try:
            self._send(target["Arn"], payload)
        except MessagingError as error:
            log.warning(
                "event %s for target %s of rule %s failed (%s: %s); %s",
                event["id"],
                target["Id"],
                rule.name,
                error.code,
                error.message,
                f"sent to {dead_letter}" if dead_letter else "dropped: no dead-letter queue",
            )
            if dead_letter is None:
                return
            attributes = {
                "ERROR_CODE": {"DataType": "String", "StringValue": error.code},
                "ERROR_MESSAGE": {"DataType": "String", "StringValue": error.message[:256]},
                "RULE_ARN": {"DataType": "String", "StringValue": arn},
                "TARGET_ARN": {"DataType": "String", "StringValue": target["Arn"]},
            }
            self.engine.send(
                queue_name(dead_letter), [OutgoingMessage(json.dumps(event), attributes)]
            )

    def _push(self, event: dict[str, Any], payload: str, rule: str, target: dict[str, Any]) -> None:
        """A pending delivery to a function or an HTTP endpoint, retried by a dispatcher."""
        retry = target.get("RetryPolicy", {})
        dead_letter = target.get("DeadLetterConfig", {}).get("Arn")
        function = FUNCTION_ARN.fullmatch(target["Arn"])
        pending = PendingDelivery(
            protocol="lambda" if function else "http",
            endpoint=delivery.function_name(target["Arn"]) if function else target["Arn"],
            payload=payload,
            style="events",
            source=f"{rule} target {target['Id']}",
            policy=AgeLimitedRetryPolicy(
                retry.get("MaximumRetryAttempts", 185),
                retry.get("MaximumEventAgeInSeconds", 86_400),
            ),
            created=self.clock.now(),
            dead_letter=queue_name(dead_letter) if dead_letter else None,
            headers={} if function else {"Content-Type": "application/json; charset=utf-8"},
            dead_letter_attributes={"RULE_ARN": rule, "TARGET_ARN": target["Arn"]},
        )
        try:
            self.engine.send(pending.queue, [pending.message()])
        except QueueDoesNotExist:  # archlab's own queue was deleted: make it again
            delivery.ensure_queue(self.engine, pending.queue)
            self.engine.send(pending.queue, [pending.message()])

    def _send(self, arn: str, payload: str) -> None:
        name = arn.rsplit(":", 1)[-1]
        if arn.split(":")[2] == "sqs":
            self.engine.send(name, [OutgoingMessage(payload)])
            return
        # Kept per topic, so each topic's filter policies are compiled once, not per event.
        topic = self._topics.get(name)
        if topic is None:
            topic = self._topics[name] = Topic(self.engine, name, self.clock)
        topic.publish(payload)

    # --- archives and replay -------------------------------------------------------------------

    def create_archive(
        self,
        name: str,
        event_pattern: dict[str, Any] | str | None = None,
        retention_days: int = 0,
    ) -> None:
        """Keep the bus's events (those matching ``event_pattern``, if given); 0 days: forever."""
        name = _name(name, "archive name")
        text = None if event_pattern is None else _pattern(event_pattern).text
        integer(retention_days, "RetentionDays", 0, error=EventBridgeValidation)
        self.engine.create_archive(name, self.name, text, retention_days)

    def _archive(self, events: list[dict[str, Any]]) -> None:
        """Keep new events in the archives whose pattern they match (replays are not kept)."""
        for archive in self.engine.archives(self.name):
            pattern = None
            if archive.pattern:
                pattern = self._archive_patterns.get(archive.pattern)
                if pattern is None:
                    pattern = self._archive_patterns[archive.pattern] = EventPattern(
                        archive.pattern
                    )
            kept = [
                (_epoch(event["time"]), json.dumps(event))
                for event in events
                if pattern is None or pattern.matches(event)
            ]
            if kept:
                self.engine.archive_events(archive.name, kept)

    def replay(self, archive: str, start: float, end: float, rules: list[str] | None = None) -> int:
        """Send the archived events with start <= time < end through this bus again (or only
        through ``rules``), oldest first; returns how many were replayed."""
        if end <= start:
            raise EventBridgeValidation("the replay's end must be after its start")
        source, events = self.engine.archived_events(_name(archive, "archive name"), start, end)
        if source != self.name:
            raise EventBridgeValidation(f"archive {archive!r} belongs to the bus {source!r}")
        replay = f"replay-{uuid.uuid4().hex[:12]}"
        index, enabled = self._ruleset()
        for text in events:
            event = json.loads(text)
            event["replay-name"] = replay
            self._route(event, index, enabled, only=rules)
        return len(events)


def _pattern(event_pattern: dict[str, Any] | str) -> EventPattern:
    """A compiled pattern, or EventBridge's InvalidEventPatternException."""
    try:
        return EventPattern(event_pattern)
    except InvalidEventPattern as error:
        raise InvalidEventPatternError(f"Event pattern is not valid. Reason: {error}") from None


def _check_target(target: Any) -> dict[str, Any]:
    if not isinstance(target, dict):
        raise EventBridgeValidation("a target must be an object")
    allowed = {
        "Id",
        "Arn",
        "Input",
        "InputPath",
        "InputTransformer",
        "DeadLetterConfig",
        "RetryPolicy",
    }
    unknown = set(target) - allowed
    if unknown:
        raise EventBridgeValidation(f"unknown target fields: {', '.join(sorted(unknown))}")
    if not isinstance(target.get("Id"), str) or not TARGET_ID.fullmatch(target["Id"]):
        raise EventBridgeValidation("a target Id is 1 to 64 letters, digits, '.', '-' or '_'")
    arn = target.get("Arn")
    if not isinstance(arn, str) or not any(
        pattern.fullmatch(arn) for pattern in (QUEUE_OR_TOPIC_ARN, FUNCTION_ARN, URL)
    ):
        raise EventBridgeValidation(
            f"target {target['Id']}: Arn must be a queue (arn:aws:sqs:...), topic"
            " (arn:aws:sns:...) or function (arn:aws:lambda:...:function:NAME) ARN,"
            " or an http(s) URL"
        )
    given = [key for key in ("Input", "InputPath", "InputTransformer") if key in target]
    if len(given) > 1:
        raise EventBridgeValidation(f"target {target['Id']}: use only one of {', '.join(given)}")
    if "InputPath" in target:
        _check_path(target["InputPath"], f"target {target['Id']}: InputPath")
    if "InputTransformer" in target:
        _check_transformer(target["InputTransformer"], target["Id"])
    if "Input" in target and not isinstance(target["Input"], str):
        raise EventBridgeValidation(f"target {target['Id']}: Input must be text")
    dead_letter = target.get("DeadLetterConfig")
    if dead_letter is not None and (
        not isinstance(dead_letter, dict)
        or not str(dead_letter.get("Arn", "")).startswith("arn:aws:sqs:")
    ):
        raise EventBridgeValidation(
            f"target {target['Id']}: DeadLetterConfig needs the Arn of a queue"
        )
    retry = target.get("RetryPolicy")
    if retry is not None:
        if not isinstance(retry, dict):
            raise EventBridgeValidation(f"target {target['Id']}: RetryPolicy must be an object")
        attempts = retry.get("MaximumRetryAttempts", 185)
        integer(attempts, "RetryPolicy.MaximumRetryAttempts", 0, 185, EventBridgeValidation)
        age = retry.get("MaximumEventAgeInSeconds", 86_400)
        integer(age, "RetryPolicy.MaximumEventAgeInSeconds", 60, 86_400, EventBridgeValidation)
    return dict(target)


def _pending_queue(arn: str) -> str:
    """The delivery queue of a function or HTTP target."""
    if FUNCTION_ARN.fullmatch(arn):
        return delivery.function_queue(delivery.function_name(arn))
    return delivery.HTTP_QUEUE


def _check_path(path: Any, where: str) -> None:
    if not isinstance(path, str) or not re.fullmatch(r"\$(\.[^.\[\]]+|\[\d+\])*", path):
        raise EventBridgeValidation(f"{where} must be a JSON path such as $.detail.coverage")


def _check_transformer(transformer: Any, target: str) -> None:
    where = f"target {target}: InputTransformer"
    if not isinstance(transformer, dict) or not isinstance(transformer.get("InputTemplate"), str):
        raise EventBridgeValidation(f"{where} needs an InputTemplate")
    paths = transformer.get("InputPathsMap", {})
    if not isinstance(paths, dict) or len(paths) > 100:
        raise EventBridgeValidation(f"{where}: InputPathsMap maps at most 100 names to paths")
    for name, path in paths.items():
        if not VARIABLE.fullmatch(name) or name.startswith("aws."):
            raise EventBridgeValidation(f"{where}: {name!r} is not a valid variable name")
        _check_path(path, f"{where}: InputPathsMap.{name}")
    for name in PLACEHOLDER.findall(transformer["InputTemplate"]):
        if name not in paths and not name.startswith("aws.events."):
            raise EventBridgeValidation(
                f"{where}: InputTemplate uses <{name}>, which is not defined"
            )


def read_path(event: Any, path: str) -> Any:
    """The value a JSON path ($.detail.items[0].sku) selects, or None."""
    value = event
    for name, index in re.findall(r"\.([^.\[\]]+)|\[(\d+)\]", path[1:]):
        if name:
            value = value.get(name) if isinstance(value, dict) else None
        else:
            position = int(index)
            value = value[position] if isinstance(value, list) and position < len(value) else None
    return value


def transform(event: dict[str, Any], target: dict[str, Any], rule: str, arn: str) -> str:
    """What a target receives: the event, a constant Input, the InputPath selection, or the
    InputTransformer's template filled in (strings inserted as text, other values as JSON)."""
    if "Input" in target:
        return str(target["Input"])
    if "InputPath" in target:
        return json.dumps(read_path(event, target["InputPath"]))
    transformer = target.get("InputTransformer")
    if transformer is None:
        return json.dumps(event)
    template: str = transformer["InputTemplate"]
    as_json = template.lstrip().startswith(("{", "["))
    values = {
        name: read_path(event, path) for name, path in transformer.get("InputPathsMap", {}).items()
    }
    values.update(
        {
            "aws.events.rule-name": rule,
            "aws.events.rule-arn": arn,
            "aws.events.event": event,
            "aws.events.event.json": event,
            "aws.events.event.ingestion-time": event["time"],
        }
    )

    def fill(match: re.Match[str]) -> str:
        value = values.get(match.group(1))
        if isinstance(value, str):
            return json.dumps(value)[1:-1] if as_json else value
        return json.dumps(value)

    return PLACEHOLDER.sub(fill, template)


def _iso(moment: float) -> str:
    when = datetime.datetime.fromtimestamp(moment, datetime.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _epoch(iso: str) -> float:
    return (
        datetime.datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ")
        .replace(tzinfo=datetime.UTC)
        .timestamp()
    )


def _timestamp(value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            pass
    raise EventBridgeValidation(
        f"Time must be an ISO 8601 timestamp or epoch seconds, got {value!r}"
    )
