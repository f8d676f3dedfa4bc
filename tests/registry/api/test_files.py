"""The Files API (`/v1/files`), beyond what the replicate client's own tests cover."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from registry.models import File

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("filename", ['\U000d3ead¯"£', "..", "a\r\nb.png"])
def test_a_file_named_with_no_usable_characters_is_stored(
    auth_api: Any, user: Any, filename: str
) -> None:
    # Found by schemathesis: such names were an HTML 400 (Django refused the storage name).
    upload = SimpleUploadedFile("content.png", b"\x89PNG\r\n\x1a\n", "image/png")
    response = auth_api.post("/v1/files", {"content": upload, "filename": filename})
    assert response.status_code == 201, response.content
    file = File.objects.get(pk=response.json()["id"])
    assert "\n" not in file.name
    assert file.content.read() == b"\x89PNG\r\n\x1a\n"
    auth_api.force_login(user)
    download = auth_api.get(f"/v1/files/{file.pk}/download")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"\x89PNG\r\n\x1a\n"
