"""Renditions from real images: upright, sRGB, no metadata, never upscaled, every format."""

from __future__ import annotations

import pytest
import pyvips

from archlab.systems.images.renditions import DEFAULT_RENDITIONS, RenditionSet
from tests.images import samples

SMALL = RenditionSet({"thumb": 40, "mobile": 120}, formats=("jpeg", "webp", "avif"))


def decoded(data: bytes) -> pyvips.Image:
    return pyvips.Image.new_from_buffer(data, "")


@pytest.mark.parametrize("orientation", range(1, 9))
def test_each_exif_orientation_comes_out_upright(orientation: int) -> None:
    source = samples.jpeg(400, 200, orientation=orientation)
    [thumb] = [r for r in SMALL.make(source) if r.label == "mobile@1x.jpg"]
    portrait = orientation in (5, 6, 7, 8)  # these orientations rotate by 90 degrees
    assert (thumb.width, thumb.height) == ((120, 240) if portrait else (120, 60))
    assert "orientation" not in decoded(thumb.data).get_fields()


def test_renditions_carry_no_metadata() -> None:
    image = samples.photo(400, 300).copy()
    image.set_type(pyvips.GValue.gstr_type, "exif-ifd0-Make", "SecretCam")
    source = bytes(image.jpegsave_buffer())
    for rendition in SMALL.make(source):
        fields = decoded(rendition.data).get_fields()
        assert not [f for f in fields if f.startswith(("exif", "xmp", "iptc", "icc"))], fields


@pytest.mark.parametrize(
    "make", [samples.cmyk_jpeg, samples.png16, samples.png_with_alpha, samples.avif, samples.webp]
)
def test_every_source_becomes_8_bit_srgb(make: object) -> None:
    for rendition in SMALL.make(make()):  # type: ignore[operator]
        image = decoded(rendition.data)
        assert image.format == "uchar"
        assert image.interpretation in ("srgb", "b-w")
        if rendition.format == "jpeg":
            assert not image.hasalpha()  # flattened onto white


def test_never_upscaled_and_equal_widths_share_one_size() -> None:
    source = samples.jpeg(100, 50)
    renditions = SMALL.make(source)
    assert {r.width for r in renditions} == {40, 80, 100}  # 120 and 240 wanted: 100 is all
    assert len(renditions) == 4 * 3  # still one per name, density and format


def test_the_default_set_names_and_formats() -> None:
    renditions = DEFAULT_RENDITIONS.make(samples.jpeg(4000, 3000))
    labels = {r.label for r in renditions}
    assert len(labels) == 4 * 2 * 3 - 1  # no AVIF past 2,048 pixels: no desktop@2x.avif
    assert {"thumb@1x.jpg", "tablet@2x.avif", "desktop@2x.webp"} <= labels
    assert "desktop@2x.avif" not in labels
    widths = {r.label: r.width for r in renditions}
    assert widths["thumb@1x.jpg"] == 160 and widths["desktop@2x.jpg"] == 3840
    for rendition in renditions:
        assert (
            decoded(rendition.data)
            .get("vips-loader")
            .startswith({"jpeg": "jpeg", "webp": "webp", "avif": "heif"}[rendition.format])
        )


def test_an_animation_gives_still_renditions_of_its_first_frame() -> None:
    renditions = SMALL.make(samples.animated_gif(frames=3))
    image = decoded(next(r for r in renditions if r.format == "webp").data)
    assert image.height == renditions[0].height == 80 * image.width // 120
    assert not image.get_typeof("n-pages") or image.get("n-pages") == 1


def test_a_panorama_keeps_its_proportions() -> None:
    renditions = SMALL.make(samples.jpeg(6000, 300))
    thumb = next(r for r in renditions if r.label == "thumb@1x.jpg")
    assert (thumb.width, thumb.height) == (40, 2)


def test_passes_come_one_format_at_a_time_fastest_first() -> None:
    passes = list(SMALL.passes(samples.jpeg(400, 300)))
    assert [{r.format for r in made} for made in passes] == [{"jpeg"}, {"webp"}, {"avif"}]
    assert [len(made) for made in passes] == [4, 4, 4]


def test_no_avif_wider_than_its_cap() -> None:
    capped = RenditionSet({"small": 100, "large": 300}, densities=(1,), large_width=200)
    made = {r.label: r.width for r in capped.make(samples.jpeg(400, 300))}
    assert made == {
        "large@1x.jpg": 300,
        "large@1x.webp": 300,
        "small@1x.jpg": 100,
        "small@1x.webp": 100,
        "small@1x.avif": 100,
    }


def test_coinciding_widths_are_encoded_once() -> None:
    renditions = SMALL.make(samples.jpeg(100, 50))  # 120 and 240 wanted: both 100 wide
    widest = [r for r in renditions if r.width == 100 and r.format == "webp"]
    assert len(widest) == 2 and widest[0].data is widest[1].data
