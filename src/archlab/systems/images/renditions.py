"""Renditions: each source image resized for each device, in JPEG, WebP and AVIF, with libvips.

The source is decoded once, straight to the largest width any rendition needs (libvips'
thumbnail shrinks on load: a 12 MP JPEG decodes at 1/2, 1/4 or 1/8 scale when that is enough),
rotated upright from its EXIF orientation, converted to 8-bit sRGB (CMYK, 16-bit and
profile-tagged sources included), and kept in memory; every smaller width is resized from that.
Nothing is ever upscaled: a rendition wider than the source is made at the source's width, and
widths that coincide are encoded once. Every rendition is saved without metadata (no EXIF, so
no GPS position, no camera serial), and JPEG -- which has no transparency -- gets transparent
areas flattened onto white.

Animated GIFs (and other multi-frame sources) get still renditions of their first frame; the
original, with its animation, stays available as uploaded.

Renditions come in passes, one format at a time, fastest first (JPEG, then WebP, then AVIF), so
that the catalog can publish the JPEGs while the slower encoders still work.

Renditions wider than ``large_width`` (2,048 pixels: only a high-density desktop asks for more)
are the costly ones, so they get no AVIF (Cloudflare's image service stops AVIF at 1,200) and
WebP at a lower effort. Measured on a 12 MP phone-like source, for the 3,840-pixel rendition:
libaom needs about 150 MB and two thirds of a second (40 MB and a quarter of a second at 2,048),
and libwebp 1.4 s at its default effort 4 against 0.44 s at effort 1, for a file 4% larger.
A client that accepts AVIF is served WebP above the cap.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pyvips

# libvips keeps recent operations and their results for reuse; a worker never sees the same
# source twice, so the cache would only hold on to decoded images.
pyvips.cache_set_max(0)

DEFAULT_SIZES = {"thumb": 160, "mobile": 480, "tablet": 1024, "desktop": 1920}
"""Rendition names and their widths in CSS pixels (at 1x)."""
DEFAULT_DENSITIES = (1, 2)
FORMATS = ("jpeg", "webp", "avif")
MIME = {"jpeg": "image/jpeg", "webp": "image/webp", "avif": "image/avif"}
EXTENSION = {"jpeg": "jpg", "webp": "webp", "avif": "avif"}
UNBOUNDED_HEIGHT = 10_000_000
"""Renditions are bounded by width only: a tall image keeps its proportions."""


@dataclass(frozen=True)
class Rendition:
    name: str
    """The size's name (thumb, mobile, ...)."""
    density: int
    format: str
    width: int
    height: int
    data: bytes

    @property
    def label(self) -> str:
        return f"{self.name}@{self.density}x.{EXTENSION[self.format]}"


@dataclass(frozen=True)
class RenditionSet:
    sizes: dict[str, int]
    densities: tuple[int, ...] = DEFAULT_DENSITIES
    formats: tuple[str, ...] = FORMATS
    jpeg_quality: int = 82
    webp_quality: int = 80
    avif_quality: int = 55
    avif_effort: int = 1
    """libaom's effort, 0 (fastest) to 9: AVIF is by far the slowest encoder (a 1920-pixel
    rendition: 0.18 s at 1, 0.7 s at 2, 4 s at 4 on this machine)."""
    webp_effort: int = 4
    """libwebp's effort (its "method"), 0 to 6; 4 is its default."""
    large_width: int = 2048
    """Renditions wider than this get no AVIF and WebP at ``large_webp_effort`` (see the
    module's documentation)."""
    large_webp_effort: int = 1

    def make(self, source: bytes) -> list[Rendition]:
        """Every rendition of ``source``; pyvips.Error if it cannot be decoded."""
        return [rendition for made in self.passes(source) for rendition in made]

    def passes(self, source: bytes) -> Iterator[list[Rendition]]:
        """The renditions of ``source``, one list per format, fastest format first; the source
        is decoded once, before the first pass. pyvips.Error if it cannot be decoded."""
        wanted = {
            (name, d): width * d for name, width in self.sizes.items() for d in self.densities
        }
        base = _upright_srgb(source, max(wanted.values()))
        resized: dict[int, pyvips.Image] = {}
        sized = []
        for (name, density), target in sorted(wanted.items(), key=lambda kv: -kv[1]):
            width = min(target, base.width)
            if width not in resized:
                resized[width] = base if width == base.width else base.resize(width / base.width)
            sized.append((name, density, resized[width]))
        for fmt in sorted(self.formats, key=FORMATS.index):
            made = []
            encoded: dict[int, bytes] = {}  # widths that coincide are encoded once
            for name, density, image in sized:
                if fmt == "avif" and image.width > self.large_width:
                    continue
                if image.width not in encoded:
                    encoded[image.width] = self._encode(image, fmt)
                data = encoded[image.width]
                made.append(Rendition(name, density, fmt, image.width, image.height, data))
            yield made

    def _encode(self, image: pyvips.Image, fmt: str) -> bytes:
        if fmt == "jpeg":
            flat = image.flatten(background=[255, 255, 255]) if image.hasalpha() else image
            # Baseline Huffman tables: optimised or progressive coding saves about a tenth of
            # the bytes but takes three to eight times as long to encode.
            data = flat.jpegsave_buffer(Q=self.jpeg_quality, keep="none")
        elif fmt == "webp":
            large = image.width > self.large_width
            effort = self.large_webp_effort if large else self.webp_effort
            data = image.webpsave_buffer(Q=self.webp_quality, effort=effort, keep="none")
        else:
            data = image.heifsave_buffer(
                compression="av1", Q=self.avif_quality, effort=self.avif_effort, keep="none"
            )
        return bytes(data)


DEFAULT_RENDITIONS = RenditionSet(DEFAULT_SIZES)


def _upright_srgb(source: bytes, width: int) -> pyvips.Image:
    """The source decoded once at ``width`` (or its own width, if smaller), upright, 8-bit
    sRGB, in memory. Sources are checked (``formats.inspect``) before they get here, so this
    decode skips libvips' fail-on-error mode, which costs a quarter more time."""
    image = pyvips.Image.thumbnail_buffer(source, width, height=UNBOUNDED_HEIGHT, size="down")
    if image.interpretation != "srgb":
        image = image.colourspace("srgb")
    if image.format != "uchar":
        image = image.cast("uchar")
    return image.copy_memory()
