"""The clickstream's events checked one by one: what is kept, what is refused and why, and what
the collector adds (time, a truncated address, device fields) or drops (bots)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from archlab.systems.clickstream import events
from archlab.systems.clickstream.events import BadBatch, check, client, read_batch, truncate_ip

NOW = 1_780_000_000_000
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1"
)
IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.2 Mobile/15E148 Safari/604.1"
)
ANDROID_PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Mobile Safari/537.36"
)
ANDROID_TABLET = (
    "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
DESKTOP = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
VIEW = {
    "name": "page_view",
    "time": NOW - 1_000,
    "session": "s-1",
    "visitor": "v-1",
    "page": "/products/car-essential#top",
    "referrer": "https://user:pw@www.Google.com/search?q=car+insurance",
}


def checked(*batch: Any, user_agent: str = DESKTOP, ip: str = "203.0.113.77") -> events.Checked:
    return check(list(batch), client(ip, user_agent), NOW)


def test_an_event_becomes_a_flat_record_with_what_the_collector_knows() -> None:
    (record,) = checked(VIEW).records
    assert record["name"] == "page_view" and record["event_time"] == NOW - 1_000
    assert record["received_at"] == NOW
    assert record["page"] == "/products/car-essential"  # no fragment
    assert record["referrer_host"] == "www.google.com"  # the site only: no query, no user
    assert record["ip"] == "203.0.113.0"
    assert record["browser"] == "Chrome" and record["browser_version"] == "120"
    assert record["os"] == "Windows" and record["device_type"] == "desktop"
    assert set(record) == set(events.COLUMNS)
    assert len(record["event_id"]) == 32


def test_a_client_event_id_is_kept_for_deduplication() -> None:
    (record,) = checked({**VIEW, "id": "e-42"}).records
    assert record["event_id"] == "e-42"


@pytest.mark.parametrize(
    ("user_agent", "device_type", "os"),
    [
        (IPHONE, "mobile", "iOS"),
        (IPAD, "tablet", "iOS"),
        (ANDROID_PHONE, "mobile", "Android"),
        (ANDROID_TABLET, "tablet", "Android"),
        (DESKTOP, "desktop", "Windows"),
    ],
)
def test_device_fields_come_from_the_user_agent(user_agent: str, device_type: str, os: str) -> None:
    (record,) = checked(VIEW, user_agent=user_agent).records
    assert (record["device_type"], record["os"]) == (device_type, os)


@pytest.mark.parametrize(
    "user_agent",
    [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "curl/8.5.0",
        "python-requests/2.31",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/120.0 Safari/537.36",
        "",
    ],
)
def test_bots_are_dropped_whole(user_agent: str) -> None:
    result = checked(VIEW, VIEW, user_agent=user_agent)
    assert result.bot and result.records == [] and result.refused == []


@pytest.mark.parametrize(
    ("address", "truncated"),
    [
        ("203.0.113.77", "203.0.113.0"),
        ("2001:db8:abcd:12:1:2:3:4", "2001:db8:abcd::"),
        ("::ffff:198.51.100.9", "198.51.100.0"),
        ("not an address", ""),
    ],
)
def test_addresses_are_truncated(address: str, truncated: str) -> None:
    assert truncate_ip(address) == truncated


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"name": "pageview"}, "name: unknown event 'pageview'"),
        ({"name": None}, "name: unknown event None"),
        ({"name": "custom"}, "label: a custom event needs a label"),
        ({"name": "custom", "label": "Bad Label"}, "label:"),
        ({"time": None}, "time: required"),
        ({"time": "1780000000000"}, "time: required"),
        ({"time": True}, "time: required"),
        ({"time": NOW + 301_000}, "time: more than 300 s in the future"),
        ({"time": NOW - 86_401_000}, "time: more than 24 hours old"),
        ({"session": None}, "session: required"),
        ({"visitor": "has spaces"}, "visitor:"),
        ({"page": "products"}, "page: required, a path"),
        ({"page": 3}, "page: required, a path"),
        ({"referrer": "not a url"}, "referrer: a URL"),
        ({"value": -1}, "value: a number from 0 to 1e9"),
        ({"value": True}, "value: a number from 0 to 1e9"),
        ({"name": "purchase"}, "value: a purchase needs its value"),
        ({"currency": "usd"}, "currency:"),
        ({"product": "../etc"}, "product:"),
    ],
)
def test_a_bad_event_is_refused_with_its_index_and_the_rest_kept(
    changes: dict[str, Any], reason: str
) -> None:
    result = checked(VIEW, {**VIEW, **changes}, VIEW)
    assert len(result.records) == 2
    (refused,) = result.refused
    assert refused.index == 1 and refused.reason.startswith(reason), refused.reason


def test_an_event_that_is_not_an_object_is_refused() -> None:
    (refused,) = checked(["page_view"]).refused
    assert refused.reason == "an event must be an object"


def test_a_purchase_keeps_its_value_coverage_and_currency() -> None:
    purchase = {**VIEW, "name": "purchase", "value": 42.5, "currency": "USD", "coverage": "car"}
    (record,) = checked(purchase).records
    assert (record["value"], record["currency"], record["coverage"]) == (42.5, "USD", "car")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{", "the body is not JSON"),
        (b"\xff\xfe", "the body is not JSON"),
        (b"[]", 'the body must be an object with a list of "events"'),
        (b'{"events": {}}', 'the body must be an object with a list of "events"'),
        (b'{"events": []}', "the batch has no events"),
        (json.dumps({"events": [VIEW] * 501}).encode(), "the batch has 501 events; at most 500"),
        (b" " * (events.MAX_BATCH_BYTES + 1), "the batch is 1,048,577 bytes"),
    ],
)
def test_an_unreadable_batch_is_refused_whole(body: bytes, reason: str) -> None:
    with pytest.raises(BadBatch, match="^" + reason.replace("[", r"\[")):
        read_batch(body)


def test_a_readable_batch_gives_its_events() -> None:
    assert read_batch(json.dumps({"events": [VIEW, VIEW]}).encode()) == [VIEW, VIEW]


def test_the_partition_fields_are_the_event_time_in_utc() -> None:
    (record,) = checked({**VIEW, "time": 1_779_926_400_000 - 1}).records  # 23:59:59.999 UTC
    assert (record["event_date"], record["event_hour"]) == ("2026-05-27", "23")
