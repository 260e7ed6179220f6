"""The storefront's topologies: the notes' three-tier web application, and its fragile twin.

- ``ha``: a public load balancer with a WAF in front sends pages to the presentation tier and
  ``/api/`` to the application tier; the presentation tier reaches the application tier through
  an internal load balancer, never by address; both tiers are auto scaling groups of at least
  two instances over two zones, scaled on requests per target; the application tier reads
  through a cache and from a read replica when one is configured, and writes to the primary.
- ``single``: one of everything, in one zone, no WAF, no cache (its application tier runs with
  the cache off) -- each a single point of failure the notes warn of, there to be broken and
  reviewed.

Only the public load balancer listens on the public address (``ARCHLAB_PUBLIC_HOST``, loopback
by default); the tiers listen on loopback ports that only the load balancers use. The database
is whatever ``ARCHLAB_STOREFRONT_DATABASE_URL`` names (SQLite under ARCHLAB_HOME by default),
with a replica when ``ARCHLAB_STOREFRONT_REPLICA_URL`` is set, and the cache is
``ARCHLAB_STOREFRONT_CACHE_URL`` (in-process by default, ``redis://`` for a shared one).
"""

from __future__ import annotations

import os

from archlab.topology import (
    Cache,
    Database,
    Edge,
    HealthCheck,
    InstanceGroup,
    LoadBalancer,
    Profile,
    RequestTracking,
    Route,
    Service,
    Topology,
    UserJourney,
    WafPolicy,
)

PUBLIC_PORT = 8000
INTERNAL_PORT = 8100
WEB_APP = "archlab.systems.storefront.web.app:create_web_app"
API_APP = "archlab.systems.storefront.api:create_app"
MIGRATE = "archlab.systems.storefront.database:migrate"
ZONES = ("zone-a", "zone-b")


def _port(variable: str, default: int) -> int:
    text = os.environ.get(variable, "")
    return int(text) if text.isdigit() and 0 < int(text) < 65536 else default


def public_port() -> int:
    """ARCHLAB_STOREFRONT_PORT, else 8000."""
    return _port("ARCHLAB_STOREFRONT_PORT", PUBLIC_PORT)


def internal_port() -> int:
    """ARCHLAB_STOREFRONT_INTERNAL_PORT, else 8100."""
    return _port("ARCHLAB_STOREFRONT_INTERNAL_PORT", INTERNAL_PORT)


def api_url() -> str:
    """Where the presentation tier finds the application tier: the internal load balancer."""
    return os.environ.get("ARCHLAB_STOREFRONT_API_URL") or f"http://127.0.0.1:{internal_port()}"


def waf_rate() -> float:
    """Requests a second per client IP before the WAF's rate rule answers 429:
    ARCHLAB_STOREFRONT_WAF_RATE (0 turns it off), else 100. A load test from one address is
    one client, so benchmarks raise or turn it off."""
    text = os.environ.get("ARCHLAB_STOREFRONT_WAF_RATE", "")
    try:
        return max(0.0, float(text)) if text else 100.0
    except ValueError:
        return 100.0


def _journeys(cache: bool) -> tuple[UserJourney, ...]:
    """Browsing reads through the cache (when there is one) to the database; checking out
    writes to the database."""
    tiers = ("shoppers", "storefront", "web", "app-lb", "app")
    return (
        UserJourney(
            name="browse the shop", path=(*tiers, *(("cache",) if cache else ()), "database")
        ),
        UserJourney(name="check out", path=(*tiers, "database")),
    )


def _database(zone: str | None, *, multi_zone: bool = False) -> Database:
    url = os.environ.get("ARCHLAB_STOREFRONT_DATABASE_URL", "sqlite")
    engine = "postgresql" if url.startswith("postgres") else "sqlite"
    replicas = 1 if os.environ.get("ARCHLAB_STOREFRONT_REPLICA_URL") else 0
    label = f"{engine} primary" + (" + read replica" if replicas else "")
    return Database(
        id="database",
        label=label,
        zone=zone,
        multi_zone=multi_zone,
        engine=engine,
        read_replicas=replicas,
        schema_migration=MIGRATE,
    )


def _cache() -> Cache:
    url = os.environ.get("ARCHLAB_STOREFRONT_CACHE_URL", "memory://")
    label = "Redis cache" if url.startswith("redis") else "in-process cache"
    return Cache(id="cache", label=label, multi_zone=True)


def ha() -> Topology:
    checks = HealthCheck()
    return Topology(
        system="storefront",
        description="Three tiers over two zones behind load balancers, a WAF in front.",
        profile=Profile(
            name="ha",
            zones=ZONES,
            knobs={"waf": True, "multi_zone": True, "cache": True, "access_logs": True},
        ),
        nodes=(
            Service(id="shoppers", label="shoppers' browsers"),
            LoadBalancer(
                id="storefront",
                label="public load balancer + WAF",
                port=public_port(),
                default_target="web",
                routes=(Route(path_prefix="/api/", target="app"),),
                waf=WafPolicy(rate_per_s=waf_rate()),
            ),
            InstanceGroup(
                id="web",
                label="presentation tier",
                app=WEB_APP,
                min_size=2,
                max_size=4,
                health_check=checks,
                request_scaling=RequestTracking(requests_per_target_per_s=400),
            ),
            LoadBalancer(
                id="app-lb",
                label="internal load balancer",
                placement="private",
                port=internal_port(),
                default_target="app",
            ),
            InstanceGroup(
                id="app",
                label="application tier",
                app=API_APP,
                min_size=2,
                max_size=6,
                health_check=checks,
                request_scaling=RequestTracking(requests_per_target_per_s=600),
            ),
            _cache(),
            _database(None, multi_zone=True),
        ),
        edges=(
            Edge(source="shoppers", target="storefront", kind="calls"),
            Edge(source="storefront", target="web", kind="calls", label="pages"),
            Edge(source="storefront", target="app", kind="calls", label="/api/"),
            Edge(source="web", target="app-lb", kind="calls"),
            Edge(source="app-lb", target="app", kind="calls"),
            Edge(source="app", target="cache", kind="reads"),
            Edge(source="app", target="database", kind="writes"),
        ),
        journeys=_journeys(cache=True),
    )


def single() -> Topology:
    return Topology(
        system="storefront",
        description="One of everything in one zone: every tier a single point of failure.",
        profile=Profile(
            name="single",
            zones=ZONES,
            knobs={"waf": False, "multi_zone": False, "cache": False, "access_logs": True},
        ),
        nodes=(
            Service(id="shoppers", label="shoppers' browsers"),
            LoadBalancer(
                id="storefront",
                label="public load balancer",
                port=public_port(),
                default_target="web",
                routes=(Route(path_prefix="/api/", target="app"),),
            ),
            InstanceGroup(id="web", label="presentation tier", app=WEB_APP, zones=("zone-a",)),
            LoadBalancer(
                id="app-lb",
                label="internal load balancer",
                placement="private",
                port=internal_port(),
                default_target="app",
            ),
            InstanceGroup(
                id="app",
                label="application tier",
                app=API_APP,
                zones=("zone-a",),
                environment={"ARCHLAB_STOREFRONT_CACHE_URL": "none"},
            ),
            _database("zone-a"),
        ),
        edges=(
            Edge(source="shoppers", target="storefront", kind="calls"),
            Edge(source="storefront", target="web", kind="calls", label="pages"),
            Edge(source="storefront", target="app", kind="calls", label="/api/"),
            Edge(source="web", target="app-lb", kind="calls"),
            Edge(source="app-lb", target="app", kind="calls"),
            Edge(source="app", target="database", kind="writes"),
        ),
        journeys=_journeys(cache=False),
    )


PROFILES = {"ha": ha, "single": single}
