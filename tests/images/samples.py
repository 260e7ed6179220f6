"""Real images, made at test time with libvips: every case the images system must handle."""

from __future__ import annotations

import pyvips


def photo(width: int = 640, height: int = 480, bands: int = 3) -> pyvips.Image:
    """A colourful gradient (flat images compress too well to exercise encoders)."""
    x = pyvips.Image.xyz(width, height)
    red = x[0] * 255 / max(width - 1, 1)
    green = x[1] * 255 / max(height - 1, 1)
    blue = (x[0] + x[1]) % 256
    image = red.bandjoin([green, blue])
    if bands == 4:
        image = image.bandjoin(x[0] % 256)
    return image.cast("uchar").copy(interpretation="srgb")


def jpeg(width: int = 640, height: int = 480, orientation: int = 1, **options: object) -> bytes:
    image = photo(width, height).copy()
    if orientation != 1:
        image.set_type(pyvips.GValue.gint_type, "orientation", orientation)
    return bytes(image.jpegsave_buffer(**options))


def cmyk_jpeg() -> bytes:
    return bytes(photo(320, 240).icc_transform("cmyk").jpegsave_buffer())


def png_with_alpha() -> bytes:
    return bytes(photo(300, 200, bands=4).pngsave_buffer())


def png16() -> bytes:
    image = (photo(300, 200).cast("ushort") * 257).copy(interpretation="rgb16")
    return bytes(image.pngsave_buffer())


def animated_gif(frames: int = 3) -> bytes:
    pages = [photo(120, 80).linear([1, 1, 1], [i * 40, 0, 0]).cast("uchar") for i in range(frames)]
    strip = pages[0].join(pages[1], "vertical") if frames > 1 else pages[0]
    for page in pages[2:]:
        strip = strip.join(page, "vertical")
    strip = strip.copy()
    strip.set_type(pyvips.GValue.gint_type, "page-height", 80)
    return bytes(strip.gifsave_buffer())


def webp() -> bytes:
    return bytes(photo(200, 100).webpsave_buffer())


def avif() -> bytes:
    return bytes(photo(200, 100).heifsave_buffer(compression="av1"))


def bomb(side: int = 20_000) -> bytes:
    """A PNG of ``side`` x ``side`` black pixels: small on disk, gigabytes decoded."""
    return bytes(pyvips.Image.black(side, side).pngsave_buffer(compression=9))
