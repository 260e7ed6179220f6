"""What an uploaded file really is, and whether it is safe to decode.

The type comes from the file's first bytes (its magic number), never from its name or the
Content-Type the client sent: a script named ``cat.jpg`` is text, and a PNG sent as
``image/jpeg`` is a PNG. Only raster formats are accepted; SVG is rejected rather than
sanitised, because an SVG is a program (scripts, external references, entity expansion) and
the renditions are raster anyway.

Safety comes before any decoding: the header alone says how many pixels the image has, so a
decompression bomb -- a few hundred kilobytes of PNG that would expand to gigabytes -- is
refused in about a millisecond. Only then is the image decoded, once, into a small preview with
libvips failing on any error, which catches truncated and corrupt files before anything is
stored.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyvips

MAX_PIXELS = 50_000_000
"""Default pixel-count limit: above a 50 MP camera, below anything that exhausts memory."""
HEIF_BRANDS = {
    b"avif": ("avif", "avif", "image/avif"),
    b"avis": ("avif", "avif", "image/avif"),
    b"heic": ("heic", "heic", "image/heic"),
    b"heix": ("heic", "heic", "image/heic"),
    b"heim": ("heic", "heic", "image/heic"),
    b"heis": ("heic", "heic", "image/heic"),
    b"mif1": ("heif", "heif", "image/heif"),
    b"msf1": ("heif", "heif", "image/heif"),
}


class ImageRejected(ValueError):
    """The upload is not an image archlab accepts; ``status`` is the HTTP status to answer."""

    def __init__(self, title: str, detail: str, status: int = 422) -> None:
        super().__init__(f"{title}: {detail}")
        self.title = title
        self.detail = detail
        self.status = status


@dataclass(frozen=True)
class ImageType:
    name: str
    """jpeg, png, gif, webp, avif, heic, heif or tiff."""
    extension: str
    mime: str


@dataclass(frozen=True)
class ImageInfo:
    type: ImageType
    width: int
    height: int
    pages: int
    """Frames of an animation (1 for a still image)."""


def detect(data: bytes) -> ImageType:
    """The image type the bytes start with; ImageRejected if they are no image we accept."""
    if not data:
        raise ImageRejected("Empty upload", "the request body holds no bytes", 400)
    head = data[:32]
    if head.startswith(b"\xff\xd8\xff"):
        return ImageType("jpeg", "jpg", "image/jpeg")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return ImageType("png", "png", "image/png")
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return ImageType("gif", "gif", "image/gif")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return ImageType("webp", "webp", "image/webp")
    if head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS:
        return ImageType(*HEIF_BRANDS[head[8:12]])
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return ImageType("tiff", "tiff", "image/tiff")
    if _looks_like_svg(data):
        raise ImageRejected(
            "Unsupported image type",
            "SVG is not accepted: it can carry scripts and external references; upload a raster"
            " image (JPEG, PNG, WebP, GIF, AVIF/HEIF or TIFF)",
            415,
        )
    raise ImageRejected(
        "Unsupported image type",
        "the bytes are not a JPEG, PNG, WebP, GIF, AVIF/HEIF or TIFF image (the type is read"
        " from the content, not from the file name or Content-Type)",
        415,
    )


def _looks_like_svg(data: bytes) -> bool:
    start = data[:1024].lstrip().lower()
    return start.startswith((b"<svg", b"<?xml")) and b"<svg" in data[:4096].lower()


def inspect(data: bytes, max_pixels: int = MAX_PIXELS) -> ImageInfo:
    """Type and size from the header, the pixel limit enforced before any decoding, then one
    small decode that fails on any error (a truncated or corrupt file)."""
    kind = detect(data)
    try:
        header = pyvips.Image.new_from_buffer(data, "", access="sequential")
    except pyvips.Error as error:
        raise _unreadable(kind, error) from None
    pages = header.get("n-pages") if header.get_typeof("n-pages") else 1
    page_height = header.get("page-height") if header.get_typeof("page-height") else header.height
    pixels = header.width * page_height * max(pages, 1)
    if pixels > max_pixels:
        raise ImageRejected(
            "Image too large",
            f"{header.width}x{page_height} pixels"
            + (f" x {pages} frames" if pages > 1 else "")
            + f" is more than the limit of {max_pixels:,} pixels",
            413,
        )
    try:
        # Decoding into a tiny preview checks every byte (fail on error) at little cost:
        # JPEG and WebP decode at a fraction of their size.
        pyvips.Image.thumbnail_buffer(data, 32, option_string="fail_on=error").avg()
    except pyvips.Error as error:
        raise _unreadable(kind, error) from None
    return ImageInfo(kind, header.width, page_height, pages)


def _unreadable(kind: ImageType, error: pyvips.Error) -> ImageRejected:
    reason = str(error).strip().splitlines()[0] if str(error).strip() else "unreadable"
    return ImageRejected(
        "Corrupt image",
        f"the file starts like a {kind.name.upper()} but cannot be decoded ({reason})",
        422,
    )
