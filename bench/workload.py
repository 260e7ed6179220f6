"""A reproducible routing workload: purchase events and rule sets mixing every operator.

Events look like what the storefront's checkout publishes (about 800 bytes of nested JSON with
arrays of objects). Rules are drawn from the same value pools, so that each event matches a few
rules of any set, as on a real bus, and every EventBridge operator appears in every set.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

Condition = Callable[[random.Random, dict[str, Any], dict[str, Any]], None]
"""Adds one condition to a rule: (random source, the rule, the rule's "detail" object)."""

COVERAGES = ["car", "home", "travel", "life", "health", "pet", "bike", "boat"]
CHANNELS = ["web", "mobile", "agent", "partner", "phone"]
SEGMENTS = ["bronze", "silver", "gold", "platinum"]
COUNTRIES = ["DE", "FR", "ES", "IT", "NL", "BE", "PT", "PL", "SE", "IE"]
CURRENCIES = ["EUR", "EUR", "EUR", "SEK", "PLN"]
DETAIL_TYPES = ["PolicyPurchased", "PolicyRenewed", "PolicyCancelled", "QuoteRequested"]
SOURCES = ["archlab.storefront", "archlab.partners", "archlab.agents"]
ADDONS = ["GLASS", "ROADSIDE", "LEGAL", "THEFT", "FLOOD", "DENTAL", "ABROAD", "GADGET"]
TAGS = ["promo", "renewal", "bundle", "student", "family", "green", "loyalty", "referral"]
CUSTOMERS = 50_000
DOMAINS = ["example.com", "mail.de", "corp.fr"]
YEARS = [2022, 2023, 2024, 2025, 2026]
REGIONS = ["eu-west-1", "eu-central-1", "eu-north-1"]


def make_event(rng: random.Random, number: int) -> dict[str, Any]:
    coverage = rng.choice(COVERAGES)
    items = [
        {
            "sku": f"{coverage.upper()}-{rng.choice(['BASIC', 'PLUS', 'MAX'])}",
            "quantity": 1,
            "price": round(rng.uniform(50, 900), 2),
        }
    ]
    for addon in rng.sample(ADDONS, rng.randint(0, 3)):
        items.append({"sku": f"ADDON-{addon}", "quantity": rng.randint(1, 2), "price": 25.0})
    premium = round(sum(item["price"] * item["quantity"] for item in items), 2)
    return {
        "version": "0",
        "id": f"7f3c9a4e-{number % 65536:04x}-4d1b-9a2e-{rng.getrandbits(48):012x}",
        "detail-type": rng.choice(DETAIL_TYPES),
        "source": rng.choice(SOURCES),
        "account": "123456789012",
        "time": f"2026-11-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:14:07Z",
        "region": rng.choice(REGIONS),
        "resources": [f"arn:aws:archlab:eu-west-1:123456789012:policy/P-{_policy(rng)}"],
        "detail": {
            "orderId": f"ORD-{rng.choice(YEARS)}-{rng.randrange(10**7):07d}",
            "coverage": coverage,
            "channel": rng.choice(CHANNELS),
            "premium": {"amount": premium, "currency": rng.choice(CURRENCIES)},
            "customer": {
                "id": _customer(rng),
                "segment": rng.choice(SEGMENTS),
                "age": rng.randint(18, 90),
                "country": rng.choice(COUNTRIES),
                "email": _email(rng),
                "ip": f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}",
            },
            "items": items,
            "tags": rng.sample(TAGS, rng.randint(0, 3)),
            "discountCode": rng.choice(["", "", "WINTER10", "LOYAL5"]),
            "agent": rng.choice([None, None, f"A{rng.randrange(500):04d}"]),
            "riskScore": round(rng.random(), 4),
            "firstPolicy": rng.random() < 0.3,
        },
    }


def _customer(rng: random.Random) -> str:
    return f"C{rng.randrange(CUSTOMERS):06d}"


def _email(rng: random.Random) -> str:
    return f"user{rng.randrange(CUSTOMERS)}@{rng.choice(DOMAINS)}"


def _policy(rng: random.Random) -> str:
    return f"{rng.randrange(10**6):06d}"


def make_rule(rng: random.Random, anchor: Condition) -> dict[str, Any]:
    """A rule for one narrow slice of traffic (one customer, one block of orders, ...).

    Each rule has an *anchor* on a field with many distinct values, so that the share of rules
    an event matches falls as the set grows, as on a real bus, plus up to two further
    conditions. Anchors and conditions between them use every operator.
    """
    rule: dict[str, Any] = {"detail-type": rng.sample(DETAIL_TYPES, rng.randint(1, 3))}
    detail: dict[str, Any] = {}
    anchor(rng, rule, detail)
    for condition in rng.sample(CONDITIONS, rng.randint(0, 2)):
        condition(rng, rule, detail)
    if detail:
        rule["detail"] = detail
    return rule


def coverage_rule(coverage: str) -> dict[str, Any]:
    """The purchases fan-out: every purchase of one coverage type to its backend's queue."""
    return {
        "source": [{"prefix": "archlab."}],
        "detail-type": ["PolicyPurchased", "PolicyRenewed"],
        "detail": {"coverage": [coverage], "channel": [{"anything-but": ["partner"]}]},
    }


def _by_customer(rng: random.Random, rule: dict[str, Any], detail: dict[str, Any]) -> None:
    _merge(detail, "customer", {"id": [_customer(rng)]})


def _by_order_block(rng: random.Random, rule: dict[str, Any], detail: dict[str, Any]) -> None:
    detail["orderId"] = [{"prefix": f"ORD-{rng.choice(YEARS)}-{rng.randrange(10**5):05d}"}]


def _by_premium_band(rng: random.Random, rule: dict[str, Any], detail: dict[str, Any]) -> None:
    low = round(rng.uniform(50, 3000), 2)
    _merge(detail, "premium", {"amount": [{"numeric": [">=", low, "<", round(low + 0.5, 2)]}]})


def _by_network(rng: random.Random, rule: dict[str, Any], detail: dict[str, Any]) -> None:
    block = f"10.{rng.randrange(256)}.{rng.randrange(256)}.0/24"
    _merge(detail, "customer", {"ip": [{"cidr": block}]})


def _by_email(rng: random.Random, rule: dict[str, Any], detail: dict[str, Any]) -> None:
    _merge(detail, "customer", {"email": [{"equals-ignore-case": _email(rng).upper()}]})


def _by_event_id(rng: random.Random, rule: dict[str, Any], detail: dict[str, Any]) -> None:
    rule["id"] = [{"suffix": f"{rng.getrandbits(16):04x}"}]


def _by_policy_block(rng: random.Random, rule: dict[str, Any], detail: dict[str, Any]) -> None:
    rule["resources"] = [{"wildcard": f"arn:aws:archlab:*:policy/P-{_policy(rng)[:4]}*"}]


ANCHORS = [
    _by_customer,
    _by_order_block,
    _by_premium_band,
    _by_network,
    _by_email,
    _by_event_id,
    _by_policy_block,
]


def _merge(detail: dict[str, Any], key: str, value: dict[str, Any]) -> None:
    detail.setdefault(key, {}).update(value)


def _numeric(rng: random.Random, rule: dict[str, Any], detail: dict[str, Any]) -> None:
    low = rng.randrange(0, 1500, 10)
    _merge(
        detail, "premium", {"amount": [{"numeric": [">=", low, "<", low + rng.randrange(50, 800)]}]}
    )


def _age(rng: random.Random, rule: dict[str, Any], detail: dict[str, Any]) -> None:
    _merge(
        detail, "customer", {"age": [{"numeric": [rng.choice([">", ">="]), rng.randint(18, 80)]}]}
    )


def _anything_but(rng: random.Random, rule: dict[str, Any], detail: dict[str, Any]) -> None:
    detail["channel"] = [{"anything-but": rng.sample(CHANNELS, rng.randint(1, 2))}]


def _anything_but_prefix(rng: random.Random, rule: dict[str, Any], detail: dict[str, Any]) -> None:
    detail["discountCode"] = [{"anything-but": {"prefix": rng.choice(["WIN", "LOY", "SUM"])}}]


def _suffix(rng: random.Random, rule: dict[str, Any], detail: dict[str, Any]) -> None:
    system = "." + rng.choice(SOURCES).split(".")[-1].upper()
    rule["source"] = [{"suffix": {"equals-ignore-case": system}}]


def _ignore_case(rng: random.Random, rule: dict[str, Any], detail: dict[str, Any]) -> None:
    _merge(detail, "customer", {"country": [{"equals-ignore-case": rng.choice(COUNTRIES).lower()}]})


def _items(rng: random.Random, rule: dict[str, Any], detail: dict[str, Any]) -> None:
    detail["items"] = {
        "sku": [{"prefix": f"ADDON-{rng.choice(ADDONS)}"}],
        "quantity": [{"numeric": [">=", rng.randint(1, 2)]}],
    }


def _tags(rng: random.Random, rule: dict[str, Any], detail: dict[str, Any]) -> None:
    detail["tags"] = rng.sample(TAGS, 2)


def _exists(rng: random.Random, rule: dict[str, Any], detail: dict[str, Any]) -> None:
    detail["agent"] = [{"exists": rng.random() < 0.5}] if rng.random() < 0.5 else [None]


def _or(rng: random.Random, rule: dict[str, Any], detail: dict[str, Any]) -> None:
    detail["$or"] = [
        {"firstPolicy": [True]},
        {"riskScore": [{"numeric": ["<", round(rng.random(), 2)]}]},
    ]


def _prefix_time(rng: random.Random, rule: dict[str, Any], detail: dict[str, Any]) -> None:
    rule["time"] = [{"prefix": f"2026-11-{rng.randint(1, 28):02d}"}]


CONDITIONS = [
    _age,
    _anything_but,
    _anything_but_prefix,
    _suffix,
    _ignore_case,
    _items,
    _tags,
    _exists,
    _or,
    _prefix_time,
]


def make_workload(rules: int, events: int, seed: int = 7) -> tuple[dict[str, Any], list[Any]]:
    """``rules`` rules and ``events`` events; every set, however small, mixes every operator.

    Rules are dealt round-robin over the families: the coverage fan-out (one rule per coverage
    type, until each has one) and the seven anchors. So a set of 10 tests as many different
    fields as a set of 10,000, and sizes compare like with like.
    """
    rng = random.Random(seed)
    coverages = iter(COVERAGES)
    rule_set: dict[str, Any] = {}
    while len(rule_set) < rules:
        family = len(rule_set) % (len(ANCHORS) + 1)
        coverage = next(coverages, None) if family == 0 else None
        if coverage is not None:
            rule_set[f"coverage-{coverage}"] = coverage_rule(coverage)
        else:
            anchor = ANCHORS[(family - 1) % len(ANCHORS)]
            rule_set[f"rule-{len(rule_set):05d}"] = make_rule(rng, anchor)
    # Events come from their own random source: every rule-set size sees the same events.
    event_source = random.Random(seed + 1)
    event_list = [make_event(event_source, n) for n in range(events)]
    return rule_set, event_list


if __name__ == "__main__":
    rules, events = make_workload(3, 1)
    print(json.dumps(rules, indent=1))
    print(len(json.dumps(events[0])), json.dumps(events[0], indent=1))
