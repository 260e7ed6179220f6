"""The insurance products the storefront sells: the catalogue the first migration seeds.

Coverage types are the purchases system's (``car``, ``home``, ``life``, ``travel``, ``pet``), so
that a checkout's policies route to that system's backends. The database is the source of truth
once seeded: changing a product here changes new databases only, and an existing one needs a
migration that updates its rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

CURRENCY = "USD"


@dataclass(frozen=True)
class Product:
    id: str
    """A slug (``car-essential``): stable, readable in URLs."""
    name: str
    coverage: str
    """One of the purchases system's ``COVERAGES``."""
    summary: str
    description: str
    monthly_premium: Decimal
    features: tuple[str, ...]
    currency: str = CURRENCY


PRODUCTS: tuple[Product, ...] = (
    Product(
        id="car-essential",
        name="Car Essential",
        coverage="car",
        summary="Third-party liability and roadside help for everyday drivers.",
        description=(
            "The cover the law asks for and a little more: liability for injury and damage to"
            " others, legal expenses, and a tow to the nearest garage when the car will not go."
        ),
        monthly_premium=Decimal("42.50"),
        features=("Third-party liability", "Roadside assistance", "Legal expenses"),
    ),
    Product(
        id="car-comprehensive",
        name="Car Comprehensive",
        coverage="car",
        summary="Your own car covered too: collision, theft, fire and glass.",
        description=(
            "Everything in Car Essential, plus repairs to your own car after a collision, theft"
            " or fire, windscreen replacement with no excess, and a courtesy car while yours is"
            " in the garage."
        ),
        monthly_premium=Decimal("89.00"),
        features=("Collision and theft", "Glass with no excess", "Courtesy car"),
    ),
    Product(
        id="home-contents",
        name="Home Contents",
        coverage="home",
        summary="What you own, at home and away, for renters and owners.",
        description=(
            "Furniture, electronics, clothes and valuables, replaced new for old after theft,"
            " fire or water damage, including items you carry outside the home."
        ),
        monthly_premium=Decimal("18.75"),
        features=("New for old", "Items away from home", "Accidental damage option"),
    ),
    Product(
        id="home-complete",
        name="Home Complete",
        coverage="home",
        summary="Buildings and contents in one policy for homeowners.",
        description=(
            "The structure of your home and everything in it: rebuilding after fire, storm or"
            " flood, emergency repairs, and somewhere to stay while the home is uninhabitable."
        ),
        monthly_premium=Decimal("54.20"),
        features=("Buildings and contents", "Alternative accommodation", "Emergency repairs"),
    ),
    Product(
        id="life-term-20",
        name="Term Life 20",
        coverage="life",
        summary="A fixed sum for your family if you die within twenty years.",
        description=(
            "A level premium for twenty years and a tax-free lump sum for the people you name,"
            " with cover that can be converted to whole life without new medical questions."
        ),
        monthly_premium=Decimal("29.90"),
        features=("Level premium", "Tax-free lump sum", "Convertible"),
    ),
    Product(
        id="life-whole",
        name="Whole Life",
        coverage="life",
        summary="Lifelong cover that builds a cash value.",
        description=(
            "Cover for as long as you live, a guaranteed payout, and a cash value that grows"
            " each year and can be borrowed against."
        ),
        monthly_premium=Decimal("112.00"),
        features=("Lifelong cover", "Guaranteed payout", "Cash value"),
    ),
    Product(
        id="travel-annual",
        name="Travel Annual Multi-Trip",
        coverage="travel",
        summary="Every trip of the year, up to 45 days each.",
        description=(
            "Medical emergencies abroad, cancellation, lost luggage and delays for any number of"
            " trips in twelve months, winter sports included."
        ),
        monthly_premium=Decimal("14.50"),
        features=("Unlimited trips", "Medical emergencies", "Cancellation cover"),
    ),
    Product(
        id="travel-backpacker",
        name="Travel Backpacker",
        coverage="travel",
        summary="One long trip, up to eighteen months, adventure activities included.",
        description=(
            "For gap years and sabbaticals: medical cover and repatriation, over a hundred"
            " adventure activities, and cover for the gear you carry."
        ),
        monthly_premium=Decimal("21.00"),
        features=("Up to 18 months", "Adventure activities", "Repatriation"),
    ),
    Product(
        id="pet-accident",
        name="Pet Accident",
        coverage="pet",
        summary="Vet bills after accidents, for cats and dogs of any age.",
        description=(
            "Treatment after an accident up to a yearly limit, third-party liability for dogs,"
            " and help finding a lost pet."
        ),
        monthly_premium=Decimal("12.40"),
        features=("Accident treatment", "Dog liability", "Lost pet help"),
    ),
    Product(
        id="pet-lifetime",
        name="Pet Lifetime",
        coverage="pet",
        summary="Accidents and illness, with a limit that renews every year.",
        description=(
            "Vet fees for accidents and illnesses, long-term conditions included, with a limit"
            " restored every year for the whole of your pet's life."
        ),
        monthly_premium=Decimal("38.60"),
        features=("Illness and accidents", "Long-term conditions", "Renewing limit"),
    ),
)
