"""System ``storefront``: the notes' three-tier web application -- insurance products, a cart
and a checkout -- behind load balancers and a WAF, its tiers auto scaled over two zones."""

from archlab.systems import System
from archlab.systems.storefront.topology import PROFILES

SYSTEM = System(
    name="storefront",
    description="Shop for insurance; kill an instance or a zone and see it hold.",
    profiles=PROFILES,
    default_profile="ha",
)
