"""The web application firewall: the load balancer's first stage, as AWS WAF is an ALB's.

Four rules, in AWS WAF's order of evaluation for a web ACL of this shape:

1. **IP block list** (an IP set rule): clients in the listed CIDR blocks are refused.
2. **Size restriction**: request bodies over ``max_body_bytes`` are refused (413) before they
   are read in full.
3. **Rate-based rule**: a token bucket per client IP (``rate_per_s`` sustained, ``burst`` at
   once); a client over its rate gets 429 until its bucket refills. AWS counts requests over a
   sliding five-minute window; a token bucket answers the same question continuously and lets
   tests use seconds.
4. **Managed rules** in the manner of AWS's SQL database and core rule sets: SQL injection and
   cross-site scripting patterns, looked for in the path, the query string, cookies and the
   body (its first ``inspect_body_bytes``, as AWS inspects only the first 8 KB) after undoing
   the encodings attackers hide behind (percent-encoding twice, ``+`` for space, HTML entities,
   SQL comments, case).

Every rule can run in ``count`` mode (AWS's Count action): matches are counted and logged but let
through, which is how a new rule is tried on live traffic before it blocks. Blocks and counts
are kept per rule for the console and the status file.
"""

from __future__ import annotations

import html
import ipaddress
import re
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import unquote_plus

from archlab.clock import Clock, SystemClock

Action = Literal["block", "count"]

SQL_INJECTION = re.compile(
    r"""
    '\s*(or|and)\s+('?\w+'?\s*(=|<|>|like\b)|\d+\s*(=|<|>)|true\b|false\b)  # ' or '1'='1
    | \b(or|and)\s+(?P<n>\d+)\s*=\s*(?P=n)\b                                # or 1=1
    | \bunion\s+(all\s+)?select\b
    | ;\s*(drop|delete|insert|update|alter|create|truncate|exec)\s
    | '\s*(--|\#|;)                                                         # '-- '# ';
    | \b(sleep|benchmark|pg_sleep)\s*\(\s*\d
    | \bwaitfor\s+delay\b
    | \bselect\b[^;]{0,100}\bfrom\b[^;]{0,100}\b(where|information_schema|pg_|sys)
    | \binformation_schema\b | \bxp_cmdshell\b | \bload_file\s*\(
    """,
    re.IGNORECASE | re.VERBOSE,
)
CROSS_SITE_SCRIPTING = re.compile(
    r"""
    <\s*/?\s*script\b
    | <[^>]*\bon[a-z]{3,}\s*=                           # <img src=x onerror=...>
    | \b(javascript|vbscript)\s*:
    | <\s*(iframe|object|embed|base|meta|link|svg)\b
    | \bsrcdoc\s*=
    | \bdocument\s*\.\s*(cookie|location|write)\b
    | \bdata\s*:\s*text/html
    """,
    re.IGNORECASE | re.VERBOSE,
)
SQL_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class WafPolicy:
    """The web ACL: what each rule allows and whether it blocks or only counts."""

    block_cidrs: tuple[str, ...] = ()
    max_body_bytes: int = 1_048_576
    rate_per_s: float = 100.0
    """Sustained requests a second per client IP; 0 turns the rate rule off."""
    burst: int = 1_000
    inspect_body_bytes: int = 8_192
    mode: Action = "block"
    """``count``: every rule only counts (the whole web ACL in Count)."""

    def __post_init__(self) -> None:
        for block in self.block_cidrs:
            try:
                ipaddress.ip_network(block, strict=False)
            except ValueError:
                raise ValueError(
                    f"block_cidrs: {block!r} is not an IP address or CIDR block"
                ) from None
        if self.max_body_bytes < 0 or self.rate_per_s < 0 or self.burst < 1:
            raise ValueError("max_body_bytes and rate_per_s must be >= 0, burst >= 1")


@dataclass(frozen=True)
class Verdict:
    """A rule's finding; ``blocked`` False when the rule (or the ACL) is in count mode."""

    rule: str
    status: int
    reason: str
    blocked: bool


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class Counters:
    blocked: dict[str, int] = field(default_factory=dict)
    counted: dict[str, int] = field(default_factory=dict)
    allowed: int = 0


class Waf:
    MAX_CLIENTS = 100_000
    """Token buckets kept at most; the fullest (idle) ones are dropped first beyond it."""

    def __init__(self, policy: WafPolicy, clock: Clock | None = None) -> None:
        self.policy = policy
        self.clock = clock or SystemClock()
        self.counters = Counters()
        self._networks = [ipaddress.ip_network(b, strict=False) for b in policy.block_cidrs]
        self._buckets: dict[str, _Bucket] = {}

    def declared_too_large(self, content_length: int) -> Verdict | None:
        """The size rule, on a declared Content-Length or on the bytes read so far: the proxy
        asks it before and while reading a body, so a large body is refused unread."""
        if content_length <= self.policy.max_body_bytes:
            return None
        detail = f"the body of {content_length:,} bytes exceeds {self.policy.max_body_bytes:,}"
        return self._finding("size-restriction", 413, detail)

    def inspect(
        self,
        client_ip: str,
        target: str,
        cookies: str,
        body: bytes,
    ) -> Verdict | None:
        """The first rule a whole request breaks, after the size rule (None: it passes every
        rule). ``target`` is the request target as sent (path and query); a finding in count
        mode is returned too, with ``blocked`` False."""
        counted = None
        for finding in self._findings(client_ip, target, cookies, body):
            if finding.blocked:
                return finding
            counted = counted or finding
        if counted is None:
            self.counters.allowed += 1
        return counted

    def _findings(self, client_ip: str, target: str, cookies: str, body: bytes) -> list[Verdict]:
        found = []
        if self._networks and self._listed(client_ip):
            found.append(self._finding("ip-block-list", 403, f"{client_ip} is on the block list"))
        if self.policy.rate_per_s and not self._take_token(client_ip):
            found.append(self._finding("rate-limit", 429, f"{client_ip} is over its rate"))
        text = self._inspected_text(target, cookies, body)
        for rule, pattern in (("sql-injection", SQL_INJECTION), ("xss", CROSS_SITE_SCRIPTING)):
            match = pattern.search(text)
            if match:
                found.append(self._finding(rule, 403, f"matched {match.group(0)[:60]!r}"))
        return found

    def _finding(self, rule: str, status: int, reason: str) -> Verdict:
        blocked = self.policy.mode == "block"
        tally = self.counters.blocked if blocked else self.counters.counted
        tally[rule] = tally.get(rule, 0) + 1
        return Verdict(rule, status, reason, blocked)

    def _listed(self, client_ip: str) -> bool:
        try:
            address = ipaddress.ip_address(client_ip)
        except ValueError:
            return False
        return any(address in network for network in self._networks)

    def _take_token(self, client_ip: str) -> bool:
        now = self.clock.now()
        bucket = self._buckets.get(client_ip)
        if bucket is None:
            if len(self._buckets) >= self.MAX_CLIENTS:
                self._forget_idle(now)
            bucket = self._buckets[client_ip] = _Bucket(float(self.policy.burst), now)
        refill = (now - bucket.updated) * self.policy.rate_per_s
        bucket.tokens = min(float(self.policy.burst), bucket.tokens + refill)
        bucket.updated = now
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        return True

    def _forget_idle(self, now: float) -> None:
        """Drop the buckets that would be full by now: their clients lose nothing."""
        full_after = self.policy.burst / self.policy.rate_per_s
        for ip in [ip for ip, b in self._buckets.items() if now - b.updated >= full_after]:
            del self._buckets[ip]

    def _inspected_text(self, target: str, cookies: str, body: bytes) -> str:
        """Path, query, cookies and the body's head as one text, encodings undone (bodies
        are inspected as text, JSON and forms alike)."""
        parts = [target, cookies]
        if body:
            head = body[: self.policy.inspect_body_bytes].decode("utf-8", "replace")
            parts.append(head)
        text = "\n".join(parts)
        if "%" in text or "+" in text:
            # Twice: a payload encoded twice (%2527) is decoded once by the application.
            text = unquote_plus(unquote_plus(text))
        if "&" in text:
            text = html.unescape(text)
        if "/*" in text:
            text = SQL_COMMENT.sub(" ", text)
        return WHITESPACE.sub(" ", text)
