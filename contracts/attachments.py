"""Checks on uploaded contract scans: allowed extension, size, and content that matches.

The extension says what a file claims to be; the first bytes say what it is. A file is
accepted only when both agree, so a renamed executable or HTML page never gets stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

# extension → (kind, content type, magic-byte test)
_SIGNATURES = {
    "pdf": ("pdf", "application/pdf", lambda head: head.startswith(b"%PDF-")),
    "png": ("image", "image/png", lambda head: head.startswith(b"\x89PNG\r\n\x1a\n")),
    "jpg": ("image", "image/jpeg", lambda head: head.startswith(b"\xff\xd8\xff")),
    "jpeg": ("image", "image/jpeg", lambda head: head.startswith(b"\xff\xd8\xff")),
    "gif": ("image", "image/gif", lambda head: head[:6] in (b"GIF87a", b"GIF89a")),
    "webp": ("image", "image/webp",
             lambda head: head[:4] == b"RIFF" and head[8:12] == b"WEBP"),
}


def max_attachment_bytes() -> int:
    return int(getattr(settings, "CONTRACT_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024))


@dataclass(frozen=True)
class CheckedFile:
    kind: str
    content_type: str
    extension: str


def check_attachment(upload) -> CheckedFile:
    """Validate an uploaded file; raises ``ValidationError`` with a message for the user."""
    name = getattr(upload, "name", "") or ""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in _SIGNATURES:
        raise ValidationError(
            _("“%(name)s” is not an allowed file type. Upload a PDF or an image "
              "(PNG, JPEG, GIF, WebP).") % {"name": name}, code="type")
    limit = max_attachment_bytes()
    if upload.size > limit:
        raise ValidationError(
            _("“%(name)s” is %(size)s; the limit is %(limit)s.")
            % {"name": name, "size": filesizeformat(upload.size), "limit": filesizeformat(limit)},
            code="size")
    if upload.size == 0:
        raise ValidationError(_("“%(name)s” is empty.") % {"name": name}, code="empty")
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    kind, content_type, matches = _SIGNATURES[extension]
    if not matches(head):
        raise ValidationError(
            _("The content of “%(name)s” is not a %(ext)s file; it may be damaged or renamed.")
            % {"name": name, "ext": extension.upper()}, code="content")
    return CheckedFile(kind=kind, content_type=content_type, extension=extension)
