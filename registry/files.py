"""Files uploaded through the API (`POST /v1/files`) for use as prediction inputs."""

from __future__ import annotations

import contextlib
import hashlib
import json
import mimetypes
import re
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import QuerySet
from django.db.models.fields.files import FieldFile
from django.utils.text import get_valid_filename

from registry import selectors
from registry.errors import InvalidInput, NotFound, PayloadTooLarge, PermissionDenied
from registry.models import File

# A Vitrine file URL, as the playground and the API's clients put them in an input.
FILE_URL = re.compile(r"^https?://[^/]+/v1/files/(?P<id>[a-z0-9]{10,32})/?$")


def file_references(value: Any, path: str) -> list[tuple[str, str]]:
    """The Vitrine files a JSON value points at: (where, as `path.key.0`, file id)."""
    if isinstance(value, str):
        match = FILE_URL.match(value)
        return [(path, match["id"])] if match else []
    if isinstance(value, list):
        return [ref for i, item in enumerate(value) for ref in file_references(item, f"{path}.{i}")]
    if isinstance(value, dict):
        return [ref for k, item in value.items() for ref in file_references(item, f"{path}.{k}")]
    return []


@contextlib.contextmanager
def removed_unless_recorded(stored: FieldFile) -> Iterator[None]:
    """Around the transaction that records a file just put in storage: when it fails (the
    database went away mid-write), the file is deleted too, so storage keeps no orphan."""
    try:
        yield
    except BaseException:
        if stored.name:
            stored.storage.delete(stored.name)
        raise


def file_create(
    *,
    owner: User,
    upload: UploadedFile,
    filename: str | None = None,
    content_type: str | None = None,
    metadata: Any = None,
) -> File:
    if upload.size is not None and upload.size > settings.VITRINE_MAX_FILE_BYTES:
        raise PayloadTooLarge(
            f"The file is {upload.size} bytes; the limit is {settings.VITRINE_MAX_FILE_BYTES}."
        )
    if isinstance(metadata, str):
        try:
            metadata = json.loads(metadata) if metadata.strip() else {}
        except ValueError as e:
            raise InvalidInput.single("metadata", "Must be a JSON object.") from e
    if metadata is not None and not isinstance(metadata, dict):
        raise InvalidInput.single("metadata", "Must be a JSON object.")
    name = _display_name(filename or upload.name or "")
    sha256, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
    for chunk in upload.chunks():
        sha256.update(chunk)
        md5.update(chunk)
        size += len(chunk)
    upload.seek(0)
    guessed = mimetypes.guess_type(name)[0]
    file = File(
        owner=owner,
        name=name,
        content_type=content_type or upload.content_type or guessed or "application/octet-stream",
        size=size,
        sha256=sha256.hexdigest(),
        md5=md5.hexdigest(),
        metadata=metadata or {},
    )
    file.content.save(f"{file.pk}/{_storage_name(name)}", upload, save=False)
    with removed_unless_recorded(file.content), transaction.atomic():
        file.save(force_insert=True)
    return file


def _display_name(raw: str) -> str:
    """The name as given, minus what has no place in a name or a header (`/`, controls)."""
    name = "".join(c for c in raw if c.isprintable()).replace("/", "_").strip()[:255]
    return name or "file"


def _storage_name(name: str) -> str:
    # Storage names keep only letters, digits, `-_.`; a name with none of them is "file".
    try:
        return get_valid_filename(name)
    except SuspiciousFileOperation:
        return "file"


def file_list(*, owner: User) -> QuerySet[File]:
    return File.objects.filter(owner=owner).order_by("-created_at", "-id")


def file_get(*, file_id: str, owner: User) -> File:
    """The file, for its owner and staff; the same 404 as a missing one for anyone else."""
    file = File.objects.filter(pk=file_id).first()
    if file is None or (file.owner_id != owner.pk and not selectors.sees_everything(owner)):
        raise NotFound(f"File {file_id} not found.")
    return file


def file_delete(*, file_id: str, owner: User) -> None:
    file = file_get(file_id=file_id, owner=owner)
    if file.owner_id != owner.pk:
        raise PermissionDenied(f"You are not allowed to delete file {file_id}.")
    storage, name = file.content.storage, file.content.name
    file.delete()
    # The bytes go once the row is gone for good: a rolled-back delete keeps both.
    transaction.on_commit(lambda: storage.delete(name))
