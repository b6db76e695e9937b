"""A photo the web chat uploads (`POST /api/chat/photo`, multipart/form-data): the form read
in memory, the image's kind told by its first bytes.

The body is parsed with python-multipart's streaming parser straight from the request's bytes
(which the gateway's body limit, bot/limits.py, has already capped): nothing is spooled to a
temporary file, as FastAPI's `UploadFile` would do past 1 MB, so the image is never written
anywhere; it goes to the router in memory and is dropped with the request. Fields: `photo`
(the file) and `sender` (the resident's token; the cookie does as well).
The declared content type of the file is not trusted: the kind is read from the bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from python_multipart.multipart import MultipartParser, parse_options_header

PHOTO_FIELD = "photo"
MAX_FIELD = 4096  # a field other than the photo (`sender`)
MAX_PARTS = 8


class BadForm(ValueError):
    """Not a multipart form, or a malformed one."""


@dataclass
class PhotoForm:
    """The fields of an upload: the photo's bytes (None: no file), and the others."""

    photo: bytes | None = field(default=None, repr=False)
    fields: dict[str, str] = field(default_factory=dict)


@dataclass
class _Part:
    headers: dict[str, bytes] = field(default_factory=dict)
    chunks: list[bytes] = field(default_factory=list)
    size: int = 0


def parse_form(content_type: str, body: bytes) -> PhotoForm:
    """The form in `body`; raises BadForm when it is no multipart form or a text field is
    longer than `MAX_FIELD`."""
    kind, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise BadForm("not multipart/form-data")
    parts: list[_Part] = []
    header: list[bytes] = [b"", b""]

    def begin() -> None:
        if len(parts) >= MAX_PARTS:
            raise BadForm("too many parts")
        parts.append(_Part())

    def header_field(data: bytes, start: int, end: int) -> None:
        header[0] += data[start:end]

    def header_value(data: bytes, start: int, end: int) -> None:
        header[1] += data[start:end]

    def header_end() -> None:
        parts[-1].headers[header[0].decode("latin-1").lower()] = header[1]
        header[0] = header[1] = b""

    def part_data(data: bytes, start: int, end: int) -> None:
        parts[-1].chunks.append(data[start:end])
        parts[-1].size += end - start

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": begin,
            "on_header_field": header_field,
            "on_header_value": header_value,
            "on_header_end": header_end,
            "on_part_data": part_data,
        },
    )
    try:
        parser.write(body)
        parser.finalize()
    except ValueError as error:  # python-multipart's errors are ValueErrors
        raise BadForm(str(error)) from error
    return _form(parts)


def _form(parts: list[_Part]) -> PhotoForm:
    form = PhotoForm()
    for part in parts:
        _, options = parse_options_header(part.headers.get("content-disposition", b""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        if name == PHOTO_FIELD and b"filename" in options:
            form.photo = b"".join(part.chunks)
        elif name and name != PHOTO_FIELD:
            if part.size > MAX_FIELD:
                raise BadForm(f"field {name} too long")
            form.fields[name] = b"".join(part.chunks).decode("utf-8", "replace")
    return form


def image_kind(data: bytes) -> str | None:
    """ "JPEG", "PNG" or "WEBP" when `data` starts like one (the formats the reader takes,
    core.screens.ACCEPTED_FORMATS); None for anything else (HEIC, GIF, PDF, text…)."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None
