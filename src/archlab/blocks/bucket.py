"""The bucket block: Amazon S3 semantics (objects, listings, notifications, presigned URLs).

As with queues, the block checks everything a caller passes against S3's rules -- bucket names,
keys, user metadata, content types, ranges, listing parameters, notification configurations --
and raises S3's error before the engine is asked to change anything, so bad input changes
nothing whatever the engine. The engine stores objects and knows what only the store can know
(does the key exist, does the range fit the object, the ETag and time of what it stored).

**Event notifications.** A bucket's notification configuration (QueueConfigurations,
TopicConfigurations, LambdaFunctionConfigurations, each with Events and optional prefix/suffix
filter rules) is kept by the object engine, so every process using the bucket sends the same
events. Events go through a messaging engine given to the block: to a queue as an SQS message,
to a topic as a publish with the subject S3 uses, and to a function as a pending delivery in the
function's delivery queue (:mod:`archlab.blocks.delivery`), retried as Lambda retries S3's
asynchronous invocations. A put or delete sends its events after the engine stored the change,
one message per matching configuration, each holding S3's event JSON. Differences from S3, on
purpose: targets are checked when the configuration is put (S3 sends an ``s3:TestEvent``
instead, which consumers then have to skip); a target deleted since is logged and skipped; and a
process killed between the change and its sends loses those events, where S3 retries
internally (S3 promises no more than that notifications are usually delivered within seconds).

**Presigned URLs.** ``presign`` signs method, bucket, key and expiry with HMAC-SHA256 under the
block's ``signing_key``; ``verify_presigned`` is what a server answering such URLs calls. The
signature is archlab's (``X-Archlab-Expires``, ``X-Archlab-Signature``), not SigV4: it carries
what SigV4 proves for a presigned URL (who signed it, for which request, until when) without
credentials or canonical requests.
"""

from __future__ import annotations

import builtins
import datetime
import hashlib
import hmac
import itertools
import json
import logging
import re
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote, quote_plus, urlencode, urlsplit

from archlab.blocks import delivery
from archlab.blocks.checks import integer
from archlab.blocks.delivery import PendingDelivery
from archlab.blocks.errors import (
    AccessDenied,
    InvalidArgument,
    InvalidBucketName,
    KeyTooLongError,
    MessagingError,
    MetadataTooLarge,
    QueueDoesNotExist,
)
from archlab.blocks.queue import ACCOUNT, REGION, Queue, queue_arn
from archlab.blocks.topic import Topic, function_arn, topic_arn
from archlab.clock import Clock, SystemClock
from archlab.engines.base import MessagingEngine
from archlab.engines.objectstore import ObjectEngine, ObjectInfo, ObjectSummary

log = logging.getLogger(__name__)

BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
IP_ADDRESS = re.compile(r"\d{1,3}(\.\d{1,3}){3}")
RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
MAX_KEY_BYTES = 1_024
MAX_METADATA_BYTES = 2_048
MAX_KEYS = 1_000
MAX_DELETE_KEYS = 1_000
MAX_PRESIGN_SECONDS = 604_800
"""Seven days, S3's limit for a presigned URL."""
MIN_SIGNING_KEY_BYTES = 32
"""HMAC-SHA256's output size, the shortest key RFC 2104 recommends."""
DEFAULT_CONTENT_TYPE = "binary/octet-stream"
# User metadata travels as x-amz-meta-NAME headers: names are HTTP tokens (RFC 9110, stored in
# lower case as S3 does), values printable ASCII (S3 returns others only RFC 2047-encoded).
METADATA_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9a-z-]+")
HEADER_VALUE = re.compile(r"[\t\x20-\x7e]*")
METHODS = ("GET", "PUT")
EVENTS = (
    "s3:ObjectCreated:*",
    "s3:ObjectCreated:Put",
    "s3:ObjectRemoved:*",
    "s3:ObjectRemoved:Delete",
)
"""The events a bucket of archlab can raise: it puts and deletes, and does nothing else."""
TARGETS = {
    "QueueConfigurations": "QueueArn",
    "TopicConfigurations": "TopicArn",
    "LambdaFunctionConfigurations": "LambdaFunctionArn",
}
TARGET_ARN = {
    "QueueArn": re.compile(r"arn:aws:sqs:[^:]*:[^:]*:([A-Za-z0-9_-]{1,80}(?:\.fifo)?)"),
    "TopicArn": re.compile(r"arn:aws:sns:[^:]*:[^:]*:([A-Za-z0-9_-]{1,256}(?:\.fifo)?)"),
    "LambdaFunctionArn": re.compile(r"arn:aws:lambda:[^:]*:[^:]*:function:([A-Za-z0-9_-]{1,64})"),
}
CONFIGURATION_FIELDS = ("Id", "Events", "Filter")
FILTER_RULES = ("prefix", "suffix")
NOTIFICATION_SUBJECT = "Amazon S3 Notification"
_SEQUENCE = itertools.count()


def bucket_arn(name: str) -> str:
    return f"arn:aws:s3:::{name}"


def validate_bucket_name(name: Any) -> str:
    """A bucket name by S3's rules for general purpose buckets."""
    if not isinstance(name, str):
        raise InvalidBucketName(f"a bucket name must be text, got {name!r}")
    problem = _bucket_name_problem(name)
    if problem:
        raise InvalidBucketName(f"bucket name {name!r} is invalid: {problem}")
    return name


def _bucket_name_problem(name: str) -> str | None:
    if not BUCKET_NAME.fullmatch(name):
        return (
            "a bucket name has 3 to 63 lower-case letters, digits, dots and hyphens, and begins"
            " and ends with a letter or digit"
        )
    if ".." in name:
        return "a bucket name has no two adjacent dots"
    if IP_ADDRESS.fullmatch(name):
        return "a bucket name is not an IP address"
    if name.startswith(RESERVED_PREFIXES) or name.endswith(RESERVED_SUFFIXES):
        return (
            f"the prefixes {', '.join(RESERVED_PREFIXES)} and the suffixes"
            f" {', '.join(RESERVED_SUFFIXES)} are reserved"
        )
    return None


def validate_key(key: Any) -> str:
    """An object key: 1 to 1,024 bytes of UTF-8, as in S3, and portable to a file system.

    S3 accepts any key, but archlab also refuses keys with a ``..`` segment, a leading ``/`` or
    a NUL character: written to disk as paths -- by the file engine, or by any tool copying a
    bucket to a directory -- they would climb out of the bucket's directory, name the file
    system's root, or end the path early. The file engine's layout is safe from them anyway;
    the rule is the block's, for every engine, so that a key that works on one engine works on
    all of them and the conformance suite holds every engine to the same keys.
    """
    if not isinstance(key, str) or not key:
        raise InvalidArgument(f"an object key must be non-empty text, got {key!r}")
    try:
        size = len(key.encode())
    except UnicodeEncodeError:
        raise InvalidArgument(f"the key {key!r} is not valid Unicode text") from None
    if size > MAX_KEY_BYTES:
        raise KeyTooLongError(f"the key has {size} bytes in UTF-8; the limit is {MAX_KEY_BYTES}")
    if "\x00" in key or key.startswith("/") or ".." in key.split("/"):
        raise InvalidArgument(
            f"the key {key!r} has a NUL character, a leading / or a .. segment: archlab refuses"
            " keys that would leave the bucket's directory when written to a file system"
        )
    return key


def validate_metadata(metadata: Any) -> dict[str, str]:
    """User metadata (``x-amz-meta-NAME`` values), names in lower case, at most 2 KB: the
    UTF-8 bytes of every name (without the prefix) and value, summed."""
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise InvalidArgument("user metadata must be a dict of names to text values")
    result: dict[str, str] = {}
    for name, value in metadata.items():
        lowered = name.lower() if isinstance(name, str) else None
        if lowered is None or not METADATA_NAME.fullmatch(lowered):
            raise InvalidArgument(
                f"metadata name {name!r} is invalid: x-amz-meta-NAME is an HTTP header, so NAME"
                " is letters, digits and !#$%&'*+.^_`|~-"
            )
        if not isinstance(value, str) or not HEADER_VALUE.fullmatch(value):
            raise InvalidArgument(
                f"metadata {lowered!r}: the value must be printable ASCII text, got {value!r}"
            )
        if lowered in result:
            raise InvalidArgument(f"metadata name {lowered!r} is given twice (names ignore case)")
        result[lowered] = value
    size = sum(len(name.encode()) + len(value.encode()) for name, value in result.items())
    if size > MAX_METADATA_BYTES:
        raise MetadataTooLarge(
            f"user metadata takes {size} bytes (names and values); the limit is"
            f" {MAX_METADATA_BYTES}"
        )
    return result


def validate_content_type(content_type: Any) -> str:
    if (
        not isinstance(content_type, str)
        or not 1 <= len(content_type) <= 1_024
        or not HEADER_VALUE.fullmatch(content_type)
    ):
        raise InvalidArgument(
            f"the content type must be 1 to 1,024 printable ASCII characters, got {content_type!r}"
        )
    return content_type


def _byte_range(requested: Any) -> tuple[int, int | None] | None:
    """A range (start, end inclusive or None for the end), as HTTP's ``bytes=start-end``."""
    if requested is None:
        return None
    if not isinstance(requested, tuple) or len(requested) != 2:
        raise InvalidArgument(f"a range is (start, end) or (start, None), got {requested!r}")
    start, end = requested
    integer(start, "the range's start", 0, error=InvalidArgument)
    if end is not None:
        integer(end, "the range's end", start, error=InvalidArgument)
    return start, end


@dataclass(frozen=True)
class PutResult:
    key: str
    etag: str
    """The quoted MD5 hex of the body."""
    size: int
    last_modified: float


@dataclass(frozen=True)
class Object(ObjectInfo):
    """An object as GetObject returns it; ``size`` is the whole object's, ``body`` only the
    requested range's."""

    body: bytes
    content_range: str | None = None
    """``bytes START-END/SIZE`` when a range was asked for."""


@dataclass(frozen=True)
class ListResult:
    """One page of ListObjectsV2: objects and common prefixes, in key order."""

    contents: list[ObjectSummary]
    common_prefixes: list[str]
    is_truncated: bool
    next_continuation_token: str | None

    @property
    def key_count(self) -> int:
        """Keys and common prefixes on this page, as S3's KeyCount (both count to MaxKeys)."""
        return len(self.contents) + len(self.common_prefixes)


class Bucket:
    """One bucket, through an object engine.

    ``messaging`` carries the event notifications (without it, a configuration naming targets
    is refused). ``signing_key`` signs presigned URLs: a secret of at least 32 bytes (such as
    ``secrets.token_bytes(32)``) that every process signing or verifying this bucket's URLs
    shares, and nothing else sees. ``clock`` dates events and expires presigned URLs.

    >>> objects = connect_objects("file:///.archlab/objects")           # doctest: +SKIP
    >>> bucket = Bucket.create(objects, "images")                        # doctest: +SKIP
    >>> bucket.put("originals/cat.jpg", data, content_type="image/jpeg")  # doctest: +SKIP
    """

    def __init__(
        self,
        engine: ObjectEngine,
        name: str,
        *,
        messaging: MessagingEngine | None = None,
        signing_key: bytes | None = None,
        clock: Clock | None = None,
    ) -> None:
        if signing_key is not None and (
            not isinstance(signing_key, bytes) or len(signing_key) < MIN_SIGNING_KEY_BYTES
        ):
            raise InvalidArgument(
                f"the signing key must be at least {MIN_SIGNING_KEY_BYTES} random bytes"
            )
        self.engine = engine
        self.name = validate_bucket_name(name)
        self.arn = bucket_arn(self.name)
        self.messaging = messaging
        self.signing_key = signing_key
        self.clock = clock or SystemClock()
        self._topics: dict[str, Topic] = {}

    @classmethod
    def create(
        cls,
        engine: ObjectEngine,
        name: str,
        *,
        messaging: MessagingEngine | None = None,
        signing_key: bytes | None = None,
        clock: Clock | None = None,
    ) -> Bucket:
        """Create the bucket, or find it: as in S3's us-east-1, creating a bucket you already
        own succeeds."""
        bucket = cls(engine, name, messaging=messaging, signing_key=signing_key, clock=clock)
        engine.create_bucket(bucket.name)
        return bucket

    # --- objects ----------------------------------------------------------------------------

    def put(
        self,
        key: str,
        body: bytes,
        *,
        content_type: str = DEFAULT_CONTENT_TYPE,
        metadata: dict[str, str] | None = None,
    ) -> PutResult:
        """Store an object, replacing any under the key; sends ObjectCreated:Put events."""
        validate_key(key)
        if not isinstance(body, bytes):
            raise InvalidArgument(f"the body must be bytes, got {type(body).__name__}")
        info = self.engine.put_object(
            self.name, key, body, validate_content_type(content_type), validate_metadata(metadata)
        )
        self._notify("ObjectCreated:Put", key, info)
        return PutResult(key, info.etag, info.size, info.last_modified)

    def get(self, key: str, *, range: tuple[int, int | None] | None = None) -> Object:
        """The object, or the bytes ``range`` names: (start, end) inclusive, end None for the
        rest, an end past the object meaning its end; InvalidRange if start is past the end."""
        validate_key(key)
        byte_range = _byte_range(range)
        info, body = self.engine.get_object(self.name, key, byte_range)
        content_range = None
        if byte_range is not None:
            start = byte_range[0]
            content_range = f"bytes {start}-{start + len(body) - 1}/{info.size}"
        return Object(
            key=info.key,
            size=info.size,
            etag=info.etag,
            last_modified=info.last_modified,
            content_type=info.content_type,
            metadata=dict(info.metadata),
            body=body,
            content_range=content_range,
        )

    def head(self, key: str) -> ObjectInfo:
        """The object's metadata, without its body."""
        return self.engine.head_object(self.name, validate_key(key))

    def delete(self, key: str) -> None:
        """Delete the object; a missing key is not an error (as in S3, which also sends the
        ObjectRemoved:Delete event for it)."""
        self.engine.delete_object(self.name, validate_key(key))
        self._notify("ObjectRemoved:Delete", key, None)

    def delete_many(self, keys: Sequence[str]) -> builtins.list[str]:  # `list` is a method here
        """Delete up to 1,000 keys (DeleteObjects); returns the keys deleted, each once. Every
        key is checked before any is deleted."""
        if isinstance(keys, str) or not isinstance(keys, Sequence):
            raise InvalidArgument("keys must be a list of keys")
        if not 1 <= len(keys) <= MAX_DELETE_KEYS:
            raise InvalidArgument(f"delete 1 to {MAX_DELETE_KEYS} keys at once, got {len(keys)}")
        unique = list(dict.fromkeys(validate_key(key) for key in keys))
        for key in unique:
            self.engine.delete_object(self.name, key)
            self._notify("ObjectRemoved:Delete", key, None)
        return unique

    def list(
        self,
        prefix: str = "",
        *,
        max_keys: int = MAX_KEYS,
        continuation_token: str | None = None,
        delimiter: str | None = None,
    ) -> ListResult:
        """One page of keys under ``prefix`` in UTF-8 byte order (ListObjectsV2). With a
        delimiter, keys holding it after the prefix are rolled up into common prefixes, which
        count towards ``max_keys`` (1-1,000) with the keys. Pass the result's
        ``next_continuation_token`` for the next page."""
        if not isinstance(prefix, str):
            raise InvalidArgument(f"the prefix must be text, got {prefix!r}")
        integer(max_keys, "max_keys", 1, MAX_KEYS, InvalidArgument)
        if delimiter is not None and (not isinstance(delimiter, str) or not delimiter):
            raise InvalidArgument(f"the delimiter must be non-empty text, got {delimiter!r}")
        if continuation_token is not None and not isinstance(continuation_token, str):
            raise InvalidArgument("The continuation token provided is incorrect")
        page = self.engine.list_objects(self.name, prefix, delimiter, max_keys, continuation_token)
        return ListResult(
            page.contents, page.common_prefixes, page.next_token is not None, page.next_token
        )

    # --- notifications ----------------------------------------------------------------------

    def put_notification_configuration(self, configuration: dict[str, Any]) -> None:
        """Replace the bucket's notification configuration, as PutBucketNotificationConfiguration.

        ``{"QueueConfigurations": [{"Id": ..., "QueueArn": ..., "Events": [...], "Filter":
        {"Key": {"FilterRules": [{"Name": "prefix", "Value": "originals/"}]}}}], ...}``, with
        TopicConfigurations (TopicArn) and LambdaFunctionConfigurations (LambdaFunctionArn)
        alike. Events: s3:ObjectCreated:* or :Put, s3:ObjectRemoved:* or :Delete. Every target
        must exist; two configurations may not share an event type for overlapping keys (as in
        S3). ``{}`` removes every configuration."""
        checked = self._configuration(configuration)
        for entry in checked.get("LambdaFunctionConfigurations", []):
            assert self.messaging is not None  # checked: targets need it
            function = delivery.function_name(entry["LambdaFunctionArn"])
            delivery.ensure_queue(self.messaging, delivery.function_queue(function))
        self.engine.set_notification_configuration(self.name, json.dumps(checked))

    def notification_configuration(self) -> dict[str, Any]:
        """The configuration as stored (every configuration with its Id)."""
        document = self.engine.notification_configuration(self.name)
        return {} if document is None else dict(json.loads(document))

    def _configuration(self, configuration: Any) -> dict[str, Any]:
        if not isinstance(configuration, dict):
            raise InvalidArgument("a notification configuration is a dict")
        unknown = set(configuration) - set(TARGETS)
        if unknown:
            raise InvalidArgument(
                f"unsupported notification configuration {', '.join(sorted(unknown))}"
                f" (supported: {', '.join(TARGETS)})"
            )
        if any(configuration.values()) and self.messaging is None:
            raise InvalidArgument(
                f"the bucket {self.name!r} has no messaging engine to send notifications with:"
                " give one as Bucket(..., messaging=engine)"
            )
        checked: dict[str, Any] = {}
        for kind, arn_field in TARGETS.items():
            entries = configuration.get(kind, [])
            if not isinstance(entries, list):
                raise InvalidArgument(f"{kind} must be a list")
            if entries:
                checked[kind] = [self._target(arn_field, entry) for entry in entries]
        _check_overlaps([entry for entries in checked.values() for entry in entries])
        return checked

    def _target(self, arn_field: str, entry: Any) -> dict[str, Any]:
        """One configuration, checked, with its target's canonical ARN and an Id."""
        if not isinstance(entry, dict):
            raise InvalidArgument("a notification configuration entry is a dict")
        unknown = set(entry) - {arn_field, *CONFIGURATION_FIELDS}
        if unknown:
            raise InvalidArgument(f"unknown fields {', '.join(sorted(unknown))} in {entry!r}")
        configuration_id = entry.get("Id", str(uuid.uuid4()))
        if not isinstance(configuration_id, str) or not configuration_id:
            raise InvalidArgument("a configuration's Id must be non-empty text")
        checked: dict[str, Any] = {
            "Id": configuration_id,
            arn_field: self._existing_target(arn_field, entry.get(arn_field)),
            "Events": _events(entry.get("Events")),
        }
        rules = _filter_rules(entry.get("Filter"))
        if rules:
            checked["Filter"] = {"Key": {"FilterRules": rules}}
        return checked

    def _existing_target(self, arn_field: str, arn: Any) -> str:
        """The canonical ARN of a target. Queues and topics must exist in the messaging engine;
        a function needs only a valid name, as its deliveries wait in its own queue until a
        process hosting it runs."""
        assert self.messaging is not None
        match = TARGET_ARN[arn_field].fullmatch(arn) if isinstance(arn, str) else None
        if match is None:
            raise InvalidArgument(f"{arn_field} {arn!r} is not an ARN of the right service")
        name = match.group(1)
        if name.endswith(".fifo"):
            raise InvalidArgument(f"{arn}: S3 cannot send notifications to a FIFO destination")
        if arn_field == "LambdaFunctionArn":
            return function_arn(name)
        if arn_field == "TopicArn":
            if name not in self.messaging.list_topics():
                raise InvalidArgument(_unvalidated(arn, "the topic does not exist"))
            return topic_arn(name)
        try:
            self.messaging.queue_attributes(name)
        except QueueDoesNotExist:
            raise InvalidArgument(_unvalidated(arn, "the queue does not exist")) from None
        return queue_arn(name)

    def _notify(self, event_name: str, key: str, info: ObjectInfo | None) -> None:
        """Send the event to every configuration that wants it; a failing target is logged."""
        configuration = self.notification_configuration()
        matching = [
            (arn_field, entry)
            for kind, arn_field in TARGETS.items()
            for entry in configuration.get(kind, [])
            if _wants(entry, event_name, key)
        ]
        if not matching:
            return
        if self.messaging is None:
            log.warning(
                "bucket %s: %s of %r not sent: its notifications need a messaging engine",
                self.name,
                event_name,
                key,
            )
            return
        record = self._record(event_name, key, info)
        for arn_field, entry in matching:
            record["s3"]["configurationId"] = entry["Id"]
            event = json.dumps({"Records": [record]})
            try:
                self._send(self.messaging, arn_field, entry[arn_field], event)
            except MessagingError as error:
                log.warning(
                    "bucket %s: %s of %r not sent to %s (%s: %s)",
                    self.name,
                    event_name,
                    key,
                    entry[arn_field],
                    error.code,
                    error.message,
                )

    def _record(self, event_name: str, key: str, info: ObjectInfo | None) -> dict[str, Any]:
        """S3's event record (eventVersion 2.1); created events carry size and eTag."""
        now = self.clock.now()
        when = datetime.datetime.fromtimestamp(now, datetime.UTC)
        # Greater for later events of a key, as S3's: microseconds, then a counter.
        sequencer = f"{round(now * 1_000_000):014X}{next(_SEQUENCE) % 0x1000000:06X}"
        target: dict[str, Any] = {"key": quote_plus(key, safe="/")}
        if info is not None:
            target.update(size=info.size, eTag=info.etag.strip('"'))
        target["sequencer"] = sequencer
        return {
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": REGION,
            "eventTime": when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "eventName": event_name,
            "userIdentity": {"principalId": f"AWS:{ACCOUNT}"},
            "requestParameters": {"sourceIPAddress": "127.0.0.1"},
            "responseElements": {
                "x-amz-request-id": secrets.token_hex(8).upper(),
                "x-amz-id-2": secrets.token_urlsafe(48),
            },
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": "",
                "bucket": {
                    "name": self.name,
                    "ownerIdentity": {"principalId": ACCOUNT},
                    "arn": self.arn,
                },
                "object": target,
            },
        }

    def _send(self, messaging: MessagingEngine, arn_field: str, arn: str, event: str) -> None:
        if arn_field == "QueueArn":
            Queue(messaging, arn).send(event)
        elif arn_field == "TopicArn":
            topic = self._topics.get(arn)
            if topic is None:
                topic = self._topics[arn] = Topic(messaging, arn, self.clock)
            topic.publish(event, subject=NOTIFICATION_SUBJECT)
        else:
            self._invoke(messaging, delivery.function_name(arn), event)

    def _invoke(self, messaging: MessagingEngine, function: str, event: str) -> None:
        """A pending delivery to the function, retried as Lambda retries an asynchronous
        invocation (twice, one and then two minutes later)."""
        pending = PendingDelivery(
            protocol="lambda",
            endpoint=function,
            payload=event,
            style="events",
            source=self.arn,
            policy=delivery.LAMBDA_ASYNC_RETRIES,
            created=self.clock.now(),
        )
        try:
            messaging.send(pending.queue, [pending.message()])
        except QueueDoesNotExist:  # archlab's own queue was deleted: make it again
            delivery.ensure_queue(messaging, pending.queue)
            messaging.send(pending.queue, [pending.message()])

    # --- presigned URLs ---------------------------------------------------------------------

    def presign(
        self, method: Literal["GET", "PUT"], key: str, expires_in: int, base_url: str
    ) -> str:
        """A URL that lets its holder ``method`` the key for ``expires_in`` seconds (1 to
        604,800): ``BASE/BUCKET/KEY?X-Archlab-Expires=EPOCH&X-Archlab-Signature=HEX``."""
        _check_method(method)
        validate_key(key)
        integer(expires_in, "expires_in", 1, MAX_PRESIGN_SECONDS, InvalidArgument)
        parts = urlsplit(base_url) if isinstance(base_url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidArgument(f"the base URL must be an http(s) URL, got {base_url!r}")
        expires = int(self.clock.now()) + expires_in
        query = urlencode(
            {
                "X-Archlab-Expires": expires,
                "X-Archlab-Signature": self._signature(method, key, expires),
            }
        )
        return f"{base_url.rstrip('/')}/{self.name}/{quote(key, safe='/')}?{query}"

    def verify_presigned(self, method: str, key: str, expires: int | str, signature: str) -> None:
        """Accept a presigned request or raise AccessDenied: a signature that does not match
        (compared in constant time), or an expiry in the past ("Request has expired")."""
        _check_method(method)
        validate_key(key)
        if isinstance(expires, bool) or not (
            isinstance(expires, int) or (isinstance(expires, str) and expires.isdigit())
        ):
            raise AccessDenied(f"X-Archlab-Expires must be a time in epoch seconds: {expires!r}")
        expected = self._signature(method, key, int(expires))
        if (
            not isinstance(signature, str)
            or not signature.isascii()
            or not hmac.compare_digest(expected, signature)
        ):
            raise AccessDenied(
                "The request signature we calculated does not match the signature you provided"
            )
        if self.clock.now() > int(expires):
            raise AccessDenied("Request has expired")

    def _signature(self, method: str, key: str, expires: int) -> str:
        if self.signing_key is None:
            raise InvalidArgument(
                f"the bucket {self.name!r} has no signing key: give one as"
                " Bucket(..., signing_key=secrets.token_bytes(32))"
            )
        message = json.dumps([method, self.name, key, expires]).encode()
        return hmac.new(self.signing_key, message, hashlib.sha256).hexdigest()


def _check_method(method: Any) -> None:
    if method not in METHODS:
        raise InvalidArgument(f"a presigned URL is for GET or PUT, got {method!r}")


def _unvalidated(arn: str, reason: str) -> str:
    return f"Unable to validate the following destination configurations: {arn} ({reason})"


def _events(events: Any) -> list[str]:
    if not isinstance(events, list) or not events:
        raise InvalidArgument("a configuration needs a non-empty list of Events")
    for event in events:
        if event not in EVENTS:
            raise InvalidArgument(
                f"The event is not supported for notifications: {event!r}"
                f" (supported: {', '.join(EVENTS)})"
            )
    return list(dict.fromkeys(events))


def _filter_rules(raw: Any) -> list[dict[str, str]]:
    """Filter.Key.FilterRules: at most one prefix and one suffix rule (names ignore case)."""
    if raw is None:
        return []
    key = raw.get("Key") if isinstance(raw, dict) and set(raw) == {"Key"} else None
    rules = (
        key.get("FilterRules") if isinstance(key, dict) and set(key) == {"FilterRules"} else None
    )
    if not isinstance(rules, list):
        raise InvalidArgument('a Filter is {"Key": {"FilterRules": [{"Name": ..., "Value": ...}]}}')
    checked: dict[str, str] = {}
    for rule in rules:
        name = rule.get("Name") if isinstance(rule, dict) else None
        value = rule.get("Value") if isinstance(rule, dict) else None
        if not isinstance(name, str) or name.lower() not in FILTER_RULES:
            raise InvalidArgument(f"a filter rule's Name is prefix or suffix, got {name!r}")
        if not isinstance(value, str) or len(value.encode()) > MAX_KEY_BYTES:
            raise InvalidArgument(f"a filter rule's Value is text of at most 1,024 bytes: {rule}")
        if name.lower() in checked:
            raise InvalidArgument(f"Cannot specify more than one {name.lower()} rule in a filter.")
        checked[name.lower()] = value
    return [{"Name": name, "Value": value} for name, value in checked.items()]


def _affixes(entry: dict[str, Any]) -> tuple[str, str]:
    """A configuration's prefix and suffix ("" when it has none)."""
    rules = {
        r["Name"]: r["Value"] for r in entry.get("Filter", {}).get("Key", {}).get("FilterRules", [])
    }
    return rules.get("prefix", ""), rules.get("suffix", "")


def _wants(entry: dict[str, Any], event_name: str, key: str) -> bool:
    family = event_name.split(":")[0]
    if f"s3:{event_name}" not in entry["Events"] and f"s3:{family}:*" not in entry["Events"]:
        return False
    prefix, suffix = _affixes(entry)
    return key.startswith(prefix) and key.endswith(suffix)


def _check_overlaps(entries: list[dict[str, Any]]) -> None:
    """S3 refuses two configurations that share an event type for keys both filters accept:
    one event would go to two destinations."""
    for index, first in enumerate(entries):
        for second in entries[index + 1 :]:
            if _share_event(first["Events"], second["Events"]) and _filters_overlap(
                _affixes(first), _affixes(second)
            ):
                raise InvalidArgument(
                    "Configurations overlap. Configurations on the same bucket cannot share a"
                    f" common event type: {first['Id']} and {second['Id']}"
                )


def _share_event(first: list[str], second: list[str]) -> bool:
    for a in first:
        for b in second:
            if a.split(":")[1] == b.split(":")[1] and (a == b or "*" in (a[-1], b[-1])):
                return True
    return False


def _filters_overlap(first: tuple[str, str], second: tuple[str, str]) -> bool:
    (prefix_a, suffix_a), (prefix_b, suffix_b) = first, second
    prefixes = prefix_a.startswith(prefix_b) or prefix_b.startswith(prefix_a)
    suffixes = suffix_a.endswith(suffix_b) or suffix_b.endswith(suffix_a)
    return prefixes and suffixes
