"""Choosing the rendition: width from hints, device or query; format from Accept."""

from __future__ import annotations

import pytest

from archlab.systems.images.negotiation import (
    BadImageRequest,
    Choice,
    accepted_formats,
    choose,
    device_class,
    pick,
)

IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Mobile/15E148 Safari/604.1"
PIXEL = "Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 Chrome/131 Mobile Safari"
IPAD = "Mozilla/5.0 (iPad; CPU OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Safari/604.1"
GALAXY_TAB = "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 Chrome/131 Safari"
DESKTOP = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131 Safari/537.36"


@pytest.mark.parametrize(
    ("agent", "device"),
    [
        (IPHONE, "mobile"),
        (PIXEL, "mobile"),
        (IPAD, "tablet"),
        (GALAXY_TAB, "tablet"),
        (DESKTOP, "desktop"),
        ("", "desktop"),
        ("curl/8.5.0", "desktop"),
    ],
)
def test_device_class_from_the_user_agent(agent: str, device: str) -> None:
    assert device_class(agent) == device


@pytest.mark.parametrize(
    ("headers", "query", "width", "reason"),
    [
        ({"User-Agent": IPHONE}, {}, 960, "User-Agent"),
        ({"User-Agent": IPAD}, {}, 2048, "User-Agent"),
        ({"User-Agent": DESKTOP}, {}, 1920, "User-Agent"),
        ({"User-Agent": DESKTOP, "Sec-CH-DPR": "2"}, {}, 3840, "User-Agent"),
        ({"Sec-CH-Width": "750"}, {}, 750, "Sec-CH-Width"),
        (
            {"sec-ch-viewport-width": "390", "sec-ch-dpr": "3"},
            {},
            1170,
            "Sec-CH-Viewport-Width x Sec-CH-DPR",
        ),
        ({"Sec-CH-Width": "not a number", "User-Agent": IPHONE}, {}, 960, "User-Agent"),
        ({"Sec-CH-Width": "750"}, {"w": "300"}, 300, "?w="),
        ({"User-Agent": IPHONE, "Sec-CH-Width": "750"}, {"device": "desktop"}, 1920, "?device="),
    ],
)
def test_width_comes_from_the_most_precise_signal(
    headers: dict[str, str], query: dict[str, str], width: int, reason: str
) -> None:
    choice = choose(headers, query)
    assert (choice.width, choice.reason) == (width, reason)


@pytest.mark.parametrize("query", [{"w": "abc"}, {"w": "0"}, {"w": "99999"}, {"device": "toaster"}])
def test_bad_query_parameters(query: dict[str, str]) -> None:
    with pytest.raises(BadImageRequest):
        choose({}, query)


@pytest.mark.parametrize(
    ("accept", "fmt"),
    [
        ("image/avif,image/webp,image/apng,image/*,*/*;q=0.8", "avif"),
        ("image/webp,*/*", "webp"),
        ("image/avif;q=0,image/webp", "webp"),
        ("image/*", "jpeg"),
        ("*/*", "jpeg"),
        ("", "jpeg"),
        ("text/html", "jpeg"),
    ],
)
def test_format_from_accept(accept: str, fmt: str) -> None:
    formats = accepted_formats(accept)
    assert formats[0] == fmt and formats[-1] == "jpeg"


def test_every_accepted_format_in_order() -> None:
    assert accepted_formats("image/webp,image/avif") == ("avif", "webp", "jpeg")
    assert accepted_formats("image/webp") == ("webp", "jpeg")
    assert accepted_formats("") == ("jpeg",)


AVIF_CLIENT = ("avif", "webp", "jpeg")


def choice(width: int, formats: tuple[str, ...]) -> Choice:
    return Choice(width, formats, "mobile", "")


def test_pick_the_smallest_wide_enough_else_the_widest() -> None:
    available = [(160, "jpeg"), (480, "jpeg"), (960, "jpeg"), (480, "webp"), (960, "webp")]
    assert pick(available, choice(500, ("webp", "jpeg"))) == 4
    assert pick(available, choice(400, ("jpeg",))) == 1
    assert pick(available, choice(5000, ("jpeg",))) == 2
    assert pick(available, choice(100, AVIF_CLIENT)) == 3  # no AVIF yet: the next accepted
    assert pick([(160, "jpeg")], choice(100, AVIF_CLIENT)) == 0
    assert pick([], choice(100, ("jpeg",))) is None


def test_width_comes_before_format() -> None:
    """AVIF stops at 2,048 pixels: a client wanting 3,840 gets the WebP that wide, not an AVIF
    it would scale up."""
    available = [(2048, "avif"), (3840, "webp"), (3840, "jpeg"), (2048, "webp")]
    assert pick(available, choice(3840, AVIF_CLIENT)) == 1
    assert pick(available, choice(2000, AVIF_CLIENT)) == 0
    assert pick(available, choice(3840, ("jpeg",))) == 2
    assert pick(available, choice(9000, AVIF_CLIENT)) == 1  # none wide enough: widest, compact


def test_unaccepted_formats_only_when_nothing_else_exists() -> None:
    assert pick([(480, "webp"), (160, "jpeg")], choice(400, ("jpeg",))) == 1
    assert pick([(480, "webp"), (960, "avif")], choice(400, ("jpeg",))) == 1
