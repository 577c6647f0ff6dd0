"""Content types by file extension: which get a charset, which are worth compressing.

The table is ours rather than :mod:`mimetypes`' alone, whose answers depend on the
machine's ``/etc/mime.types`` (so replicas could disagree). Unknown extensions
fall back to :mod:`mimetypes`, then to ``application/octet-stream``.
"""

from __future__ import annotations

import mimetypes
import posixpath

TYPES: dict[str, str] = {
    # text
    "css": "text/css",
    "js": "text/javascript",
    "mjs": "text/javascript",
    "cjs": "text/javascript",
    "html": "text/html",
    "htm": "text/html",
    "txt": "text/plain",
    "md": "text/markdown",
    "csv": "text/csv",
    "ics": "text/calendar",
    "vtt": "text/vtt",
    # structured data
    "json": "application/json",
    "map": "application/json",
    "jsonld": "application/ld+json",
    "webmanifest": "application/manifest+json",
    "xml": "application/xml",
    "xhtml": "application/xhtml+xml",
    "atom": "application/atom+xml",
    "rss": "application/rss+xml",
    "wasm": "application/wasm",
    "pdf": "application/pdf",
    # images
    "svg": "image/svg+xml",
    "avif": "image/avif",
    "webp": "image/webp",
    "png": "image/png",
    "apng": "image/apng",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "ico": "image/x-icon",
    "bmp": "image/bmp",
    "jxl": "image/jxl",
    # fonts
    "woff2": "font/woff2",
    "woff": "font/woff",
    "ttf": "font/ttf",
    "otf": "font/otf",
    "eot": "application/vnd.ms-fontobject",
    # audio, video, models
    "mp4": "video/mp4",
    "webm": "video/webm",
    "ogv": "video/ogg",
    "mp3": "audio/mpeg",
    "ogg": "audio/ogg",
    "oga": "audio/ogg",
    "m4a": "audio/mp4",
    "wav": "audio/wav",
    "flac": "audio/flac",
    "glb": "model/gltf-binary",
    "gltf": "model/gltf+json",
    # archives
    "zip": "application/zip",
    "gz": "application/gzip",
    "zst": "application/zstd",
    "br": "application/octet-stream",
}

#: Types that compress well beyond ``text/*`` and the ``+json``/``+xml`` families.
COMPRESSIBLE: frozenset[str] = frozenset(
    {
        "application/json",
        "application/xml",
        "application/wasm",
        "application/vnd.ms-fontobject",
        "font/ttf",
        "font/otf",
        "image/svg+xml",
        "image/x-icon",
        "image/bmp",
    }
)

DEFAULT = "application/octet-stream"


def media_type(name: str) -> str:
    """The media type of ``name`` (no parameters)."""
    ext = posixpath.splitext(name)[1][1:].lower()
    found = TYPES.get(ext)
    if found is not None:
        return found
    guessed, encoding = mimetypes.guess_type(name, strict=False)
    if guessed is None or encoding is not None:
        return DEFAULT
    return guessed


def content_type(media: str, charset: str = "utf-8") -> str:
    """The Content-Type header value: ``text/*`` gets a charset."""
    if media.startswith("text/"):
        return f"{media}; charset={charset}"
    return media


def is_compressible(media: str) -> bool:
    return (
        media.startswith("text/")
        or media in COMPRESSIBLE
        or media.endswith("+json")
        or media.endswith("+xml")
    )
