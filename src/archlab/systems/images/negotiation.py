"""Which rendition a request should get: its width from the device, its format from Accept.

The width needed, in physical pixels, comes from the most precise signal the request carries:
an explicit ``?w=`` or ``?device=``, then Client Hints (``Sec-CH-Width``, already in physical
pixels; else ``Sec-CH-Viewport-Width`` x ``Sec-CH-DPR``), then the device class the User-Agent
suggests (a phone at 2x, a tablet at 2x, a desktop at 1x). The rendition chosen is the smallest
at least that wide (the largest when none is), so nothing is scaled up in the browser.

The format is the most compact one the client accepts: AVIF, then WebP, then JPEG, which every
client takes. ``image/*`` and ``*/*`` do not count as accepting AVIF or WebP: browsers send them
without being able to decode every format. Width comes before format: when the preferred format
has no rendition wide enough (AVIF stops at 2,048 pixels) but another accepted one has, the
client gets that one rather than an image it would have to scale up.

Because the answer depends on these headers, responses must carry ``Vary`` over them, and
``Accept-CH`` asks browsers to send the hints next time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from archlab.systems.images.renditions import DEFAULT_SIZES

ACCEPT_CH = "Sec-CH-DPR, Sec-CH-Width, Sec-CH-Viewport-Width"
VARY = "Accept, Sec-CH-DPR, Sec-CH-Width, Sec-CH-Viewport-Width, User-Agent"
DEVICE_DEFAULTS = {
    "mobile": (DEFAULT_SIZES["mobile"], 2),
    "tablet": (DEFAULT_SIZES["tablet"], 2),
    "desktop": (DEFAULT_SIZES["desktop"], 1),
}
"""A device class's usual width in CSS pixels and its usual pixel density."""
TABLET = re.compile(r"iPad|Tablet|Silk|Kindle", re.IGNORECASE)
MOBILE = re.compile(r"Mobi|iPhone|iPod|Windows Phone", re.IGNORECASE)
MAX_WIDTH = 10_000


class BadImageRequest(ValueError):
    """A query parameter that makes no sense (``?w=abc``, ``?device=toaster``)."""


@dataclass(frozen=True)
class Choice:
    width: int
    """Physical pixels wanted."""
    formats: tuple[str, ...]
    """The formats the client accepts, most compact first; JPEG always last."""
    device: str
    reason: str
    """Which signal decided the width (for logs and the gallery)."""


def device_class(user_agent: str) -> str:
    """mobile, tablet or desktop. Android tablets are the Android agents without "Mobile"."""
    android_tablet = "Android" in user_agent and "Mobile" not in user_agent
    if TABLET.search(user_agent) or android_tablet:
        return "tablet"
    if MOBILE.search(user_agent):
        return "mobile"
    return "desktop"


def choose(headers: Mapping[str, str], query: Mapping[str, str]) -> Choice:
    """The width and format a request should get (header names are matched case-insensitively)."""
    lower = {name.lower(): value for name, value in headers.items()}
    device = device_class(lower.get("user-agent", ""))
    if "device" in query:
        device = query["device"]
        if device not in DEVICE_DEFAULTS:
            raise BadImageRequest(f"device must be one of {', '.join(DEVICE_DEFAULTS)}")
    width, reason = _width(lower, query, device)
    return Choice(width, accepted_formats(lower.get("accept", "")), device, reason)


def _width(headers: dict[str, str], query: Mapping[str, str], device: str) -> tuple[int, str]:
    if "w" in query:
        return _positive(query["w"], "w"), "?w="
    if "device" not in query:
        hinted = _number(headers.get("sec-ch-width"))
        if hinted:
            return min(round(hinted), MAX_WIDTH), "Sec-CH-Width"
        viewport = _number(headers.get("sec-ch-viewport-width"))
        if viewport:
            dpr = _number(headers.get("sec-ch-dpr")) or 1.0
            return min(round(viewport * dpr), MAX_WIDTH), "Sec-CH-Viewport-Width x Sec-CH-DPR"
    css, density = DEVICE_DEFAULTS[device]
    dpr = _number(headers.get("sec-ch-dpr")) or density
    source = "?device=" if "device" in query else "User-Agent"
    return min(round(css * dpr), MAX_WIDTH), source


def _positive(text: str, name: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_WIDTH:
        raise BadImageRequest(f"{name} must be a whole number of pixels from 1 to {MAX_WIDTH}")
    return int(text)


def _number(text: str | None) -> float | None:
    """A hint's value, or None when absent or malformed (a bad hint is ignored, not an error:
    clients do not choose their hints' values)."""
    try:
        value = float(text) if text else None
    except ValueError:
        return None
    return value if value is not None and 0 < value < 100_000 else None


def accepted_formats(accept: str) -> tuple[str, ...]:
    """AVIF, WebP and JPEG as far as ``accept`` names them explicitly, most compact first;
    JPEG is always there, last."""
    accepted = set()
    for part in accept.split(","):
        media, *parameters = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for parameter in parameters:
            if parameter.startswith("q="):
                quality = _number(parameter[2:]) or 0.0
        if quality > 0:
            accepted.add(media.lower())
    return (*(fmt for fmt in ("avif", "webp") if f"image/{fmt}" in accepted), "jpeg")


def pick(available: Sequence[tuple[int, str]], choice: Choice) -> int | None:
    """Among (width, format) pairs, the index of the rendition to serve: the smallest at least
    as wide as wanted in the first accepted format that has one; when no accepted format has
    one wide enough, the widest accepted (the more compact format on a tie); when no accepted
    format is there at all, the widest of any. None when nothing is available."""
    rank = {fmt: place for place, fmt in enumerate(choice.formats)}
    accepted = [(w, f, i) for i, (w, f) in enumerate(available) if f in rank]
    for fmt in choice.formats:
        wide_enough = [(w, i) for w, f, i in accepted if f == fmt and w >= choice.width]
        if wide_enough:
            return min(wide_enough)[1]
    if accepted:
        return max(accepted, key=lambda c: (c[0], -rank[c[1]]))[2]
    if available:
        return max(range(len(available)), key=lambda i: available[i][0])
    return None
