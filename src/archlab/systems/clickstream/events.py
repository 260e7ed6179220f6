"""The clickstream's events: what the tracker sends, how each is checked, and the flat record
the lake keeps.

A batch is ``{"events": [...]}``, at most ``MAX_EVENTS`` events and ``MAX_BATCH_BYTES`` bytes.
Each event is checked on its own: one bad event is refused with its index and the reason, and
the rest of its batch is kept. An event names one of ``EVENT_NAMES`` (anything else is refused:
a typo must not become a new series in every dashboard); ``custom`` events carry their own
``label``.

What the collector adds, from the request rather than the browser:

- ``received_at``, the collector's clock (``event_time`` is the browser's, which may be wrong:
  it is kept, but must lie within a day before and ``MAX_CLOCK_SKEW_S`` after arrival);
- ``ip``: the client's address truncated -- the last octet of IPv4 zeroed, IPv6 cut to its /48
  -- so that no visitor is identifiable by it (what analytics tools call IP anonymisation);
- device fields parsed from the User-Agent (ua-parser, Browserscope's rules): browser, its
  major version, operating system, device family and a device type (desktop, mobile, tablet);
- requests from crawlers (ua-parser's ``Spider`` device, or a User-Agent naming a bot) are
  counted and dropped, since no dashboard should count them as visits.
"""

from __future__ import annotations

import ipaddress
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from ua_parser import parse as parse_user_agent

EVENT_NAMES = frozenset(
    {
        "page_view",
        "click",
        "add_to_cart",
        "remove_from_cart",
        "begin_checkout",
        "purchase",
        "search",
        "custom",
    }
)
MAX_EVENTS = 500
MAX_BATCH_BYTES = 1_048_576
MAX_CLOCK_SKEW_S = 300
MAX_AGE_S = 86_400
HOUR_MS = 3_600_000
ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
LABEL = re.compile(r"[a-z][a-z0-9_]{0,63}")
PRODUCT = re.compile(r"[a-z0-9-]{1,64}")
COVERAGE = re.compile(r"[a-z]{1,32}")
CURRENCY = re.compile(r"[A-Z]{3}")
MAX_TEXT = 2048
BOT_WORDS = re.compile(r"bot|crawl|spider|slurp|headless|lighthouse|python-|curl/|wget/", re.I)

COLUMNS: dict[str, str] = {
    "event_id": "string",
    "name": "string",
    "label": "string",
    "event_time": "timestamp",
    "event_date": "string",
    "event_hour": "string",
    "received_at": "timestamp",
    "session_id": "string",
    "visitor_id": "string",
    "page": "string",
    "referrer_host": "string",
    "product_id": "string",
    "coverage": "string",
    "value": "double",
    "currency": "string",
    "ip": "string",
    "browser": "string",
    "browser_version": "string",
    "os": "string",
    "device_family": "string",
    "device_type": "string",
}
"""The lake's columns and their catalog types; timestamps are milliseconds since the epoch.
``event_date`` (``2026-12-02``) and ``event_hour`` (``13``), in UTC, are what the lake is
partitioned by (``dt=``, ``hour=``): by when the event happened, so that a backfill or a late
batch lands in the partitions a query for that time prunes to."""


@dataclass(frozen=True)
class Refused:
    index: int
    reason: str


@dataclass
class Checked:
    """A batch checked: the records to keep, the events refused and why, and whether the whole
    request came from a bot (then nothing is kept)."""

    records: list[dict[str, Any]] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)
    bot: bool = False


class BadBatch(ValueError):
    """The request as a whole cannot be read: nothing in it is kept."""


@dataclass(frozen=True)
class Client:
    """What the collector knows of the sender, from the request."""

    ip: str
    device: dict[str, str | None]
    bot: bool


def read_batch(body: bytes) -> list[Any]:
    """The events of a request body, or ``BadBatch`` saying why there are none."""
    if len(body) > MAX_BATCH_BYTES:
        raise BadBatch(f"the batch is {len(body):,} bytes; at most {MAX_BATCH_BYTES:,}")
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError) as error:
        raise BadBatch(f"the body is not JSON: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("events"), list):
        raise BadBatch('the body must be an object with a list of "events"')
    events: list[Any] = document["events"]
    if not events:
        raise BadBatch("the batch has no events")
    if len(events) > MAX_EVENTS:
        raise BadBatch(f"the batch has {len(events)} events; at most {MAX_EVENTS}")
    return events


def client(address: str, user_agent: str) -> Client:
    return Client(truncate_ip(address), _device(user_agent[:MAX_TEXT]), is_bot(user_agent))


def check(events: list[Any], sender: Client, now_ms: int) -> Checked:
    """Each event checked and made a record (see the module)."""
    checked = Checked(bot=sender.bot)
    if sender.bot:
        return checked
    for index, event in enumerate(events):
        try:
            checked.records.append(_record(event, sender, now_ms))
        except ValueError as error:
            checked.refused.append(Refused(index, str(error)))
    return checked


def _record(event: Any, sender: Client, now_ms: int) -> dict[str, Any]:
    if not isinstance(event, dict):
        raise ValueError("an event must be an object")
    name = event.get("name")
    if name not in EVENT_NAMES:
        known = ", ".join(sorted(EVENT_NAMES))
        raise ValueError(f"name: unknown event {name!r}; known: {known}")
    label = _optional(event, "label", LABEL)
    if name == "custom" and label is None:
        raise ValueError("label: a custom event needs a label ([a-z][a-z0-9_]*)")
    when = _event_time(event.get("time"), now_ms)
    value = event.get("value")
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1e9
    ):
        raise ValueError("value: a number from 0 to 1e9")
    if name == "purchase" and value is None:
        raise ValueError("value: a purchase needs its value")
    day, hour = _day_and_hour(when // HOUR_MS)
    return {
        "event_id": _optional(event, "id", ID) or uuid.uuid4().hex,
        "name": name,
        "label": label,
        "event_time": when,
        "event_date": day,
        "event_hour": hour,
        "received_at": now_ms,
        "session_id": _required(event, "session", ID),
        "visitor_id": _required(event, "visitor", ID),
        "page": _page(event.get("page")),
        "referrer_host": _referrer_host(event.get("referrer")),
        "product_id": _optional(event, "product", PRODUCT),
        "coverage": _optional(event, "coverage", COVERAGE),
        "value": None if value is None else float(value),
        "currency": _optional(event, "currency", CURRENCY),
        "ip": sender.ip,
        **sender.device,
    }


@lru_cache(maxsize=1024)
def _day_and_hour(hours: int) -> tuple[str, str]:
    """The UTC date and hour of the ``hours``-th hour since the epoch, cached: a batch's
    events, and most of a day's, fall in a few hours (formatting each took a third of a
    batch's check)."""
    moment = datetime.fromtimestamp(hours * 3600, UTC)
    return moment.strftime("%Y-%m-%d"), moment.strftime("%H")


def _required(event: dict[str, Any], key: str, pattern: re.Pattern[str]) -> str:
    found = _optional(event, key, pattern)
    if found is None:
        raise ValueError(f"{key}: required ({pattern.pattern})")
    return found


def _optional(event: dict[str, Any], key: str, pattern: re.Pattern[str]) -> str | None:
    value = event.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise ValueError(f"{key}: {value!r} does not match {pattern.pattern}")
    return value


def _event_time(value: Any, now_ms: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("time: required, milliseconds since the epoch (an integer)")
    if value > now_ms + MAX_CLOCK_SKEW_S * 1000:
        raise ValueError(f"time: more than {MAX_CLOCK_SKEW_S} s in the future")
    if value < now_ms - MAX_AGE_S * 1000:
        raise ValueError(f"time: more than {MAX_AGE_S // 3600} hours old")
    return value


def _page(value: Any) -> str:
    if not isinstance(value, str) or not value.startswith("/") or len(value) > MAX_TEXT:
        raise ValueError("page: required, a path starting with / (the page's URL path)")
    return value.split("#", 1)[0]


def _referrer_host(value: Any) -> str | None:
    """Only the referring site is kept: a full referrer URL can carry personal data."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise ValueError("referrer: a URL")
    match = re.match(r"^[a-z][a-z0-9+.-]*://([^/?#@]*@)?([^/?#:]+)", value, re.I)
    if match is None:
        raise ValueError("referrer: a URL")
    return match.group(2).lower()


def truncate_ip(address: str) -> str:
    """IPv4 with its last octet zeroed, IPv6 cut to its /48; an unparseable address is empty."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return ""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False).network_address)


def is_bot(user_agent: str) -> bool:
    if not user_agent.strip():
        return True  # every browser sends one
    return _parsed(user_agent[:MAX_TEXT])[3] == "Spider" or bool(BOT_WORDS.search(user_agent))


def _device(user_agent: str) -> dict[str, str | None]:
    browser, version, system, family = _parsed(user_agent)
    return {
        "browser": browser,
        "browser_version": version,
        "os": system,
        "device_family": family,
        "device_type": _device_type(user_agent, system, family),
    }


@lru_cache(maxsize=4096)
def _parsed(user_agent: str) -> tuple[str | None, str | None, str | None, str | None]:
    """(browser, major version, OS, device family), cached: a batch's events share one
    User-Agent, and a site's visitors use a few hundred."""
    result = parse_user_agent(user_agent)
    agent, system, device = result.user_agent, result.os, result.device
    return (
        agent.family if agent else None,
        agent.major if agent else None,
        system.family if system else None,
        device.family if device else None,
    )


def _device_type(user_agent: str, system: str | None, family: str | None) -> str:
    lower = user_agent.lower()
    if "ipad" in lower or "tablet" in lower or (system == "Android" and "mobile" not in lower):
        return "tablet"
    if "mobi" in lower or family == "iPhone" or system in ("iOS", "Android"):
        return "mobile"
    return "desktop"
