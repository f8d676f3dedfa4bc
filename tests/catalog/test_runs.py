"""catalog.runs: held uploads, input kept across a log-in, who may do what with a
prediction, how its input is shown, how often live parts poll."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django.utils.datastructures import MultiValueDict

from catalog import runs
from catalog.schema_forms import submit
from registry import files, selectors
from tests.factories import (
    MembershipFactory,
    ModelFactory,
    OrganizationFactory,
    PredictionFactory,
    VersionFactory,
    cog_schema,
)


def upload(name: str = "a.png", content: bytes = b"png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="image/png")


# Held uploads ------------------------------------------------------------------------------


def test_uploads_are_held_as_placeholders_until_stored() -> None:
    held = runs.HeldUploads()
    assert not held
    submission = submit(
        cog_schema("constraints"),
        MultiValueDict({"photos__url": ["https://x/c.png"]}),
        MultiValueDict({"photos": [upload("a.png"), upload("b.png")]}),
        store_file=held,
    )
    photos = submission.input["photos"]
    assert held and all(p.startswith("https://uploads.invalid/") for p in photos[:2])
    stored = held.store(submission.input, lambda f: f"https://files/{f.name}")
    assert stored["photos"] == ["https://files/a.png", "https://files/b.png", "https://x/c.png"]


def test_a_typed_url_that_looks_like_a_placeholder_stays_what_it_is() -> None:
    held = runs.HeldUploads()
    placeholder = held(upload())
    other = runs.HeldUploads()(upload())  # another submission's placeholder
    stored = held.store({"a": placeholder, "b": other}, lambda f: "https://files/a")
    assert stored == {"a": "https://files/a", "b": other}


# Input kept across a log-in ------------------------------------------------------------------


@pytest.mark.django_db
def test_kept_input_comes_back_once_and_only_on_its_own_page() -> None:
    session = SessionStore()
    data = MultiValueDict(
        {"text": ["Bob"], "tags": ["a", "b"], "api_key": ["sk"], "csrfmiddlewaretoken": ["t"]}
    )
    runs.keep_for_login(session, path="/alice/hello", data=data, secret_names=["api_key"])
    assert runs.take_kept(session, path="/alice/other") is None
    kept = runs.take_kept(session, path="/alice/hello")
    assert kept is not None
    assert dict(kept.lists()) == {"text": ["Bob"], "tags": ["a", "b"]}
    assert runs.take_kept(session, path="/alice/hello") is None


# Who may do what ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_creators_share_and_cancel_owners_curate_and_cancel_others_only_look(
    user: Any, other_user: Any
) -> None:
    org = OrganizationFactory(username="acme")
    MembershipFactory(organization=org, user=user)
    model = ModelFactory(owner=org)
    prediction = PredictionFactory(version=VersionFactory(model=model), created_by=other_user)
    creator = runs.access(other_user, prediction)
    owner = runs.access(user, prediction)
    anonymous = runs.access(None, prediction)
    assert (creator.can_share, creator.can_cancel, creator.can_curate) == (True, True, False)
    assert (owner.can_share, owner.can_cancel, owner.can_curate) == (False, True, True)
    assert (anonymous.can_share, anonymous.can_cancel, anonymous.can_curate) == (
        False,
        False,
        False,
    )


@pytest.mark.django_db
def test_predictions_of_a_private_model_are_not_offered_for_sharing(user: Any) -> None:
    model = ModelFactory(owner=user.owner, visibility="private")
    prediction = PredictionFactory(version=VersionFactory(model=model), created_by=user)
    access = runs.access(user, prediction)
    assert access.is_creator and not access.can_share


# Showing an input --------------------------------------------------------------------------


def test_inputs_follow_the_schemas_order_with_unknown_ones_last() -> None:
    rows = runs.input_rows(
        cog_schema("hello"),
        {"extra": 1, "repeat": 2, "text": "Ada"},
        files={},
        base_url="http://v",
    )
    assert [(r.name, r.part.kind) for r in rows] == [
        ("text", "text"),
        ("repeat", "number"),
        ("extra", "number"),
    ]


@pytest.mark.django_db
def test_uploaded_inputs_get_their_name_their_kind_and_a_signed_link(user: Any) -> None:
    photo = files.file_create(owner=user, upload=upload("fox.png"))
    notes = files.file_create(
        owner=user, upload=SimpleUploadedFile("notes.txt", b"hi", content_type="text/plain")
    )
    value = {
        "image": f"http://v/v1/files/{photo.pk}",
        "mask": f"http://v/v1/files/{notes.pk}",
        "prompt": "https://example.com/not-a-vitrine-file.png",
    }
    found = selectors.files_by_id(runs.file_ids([value]))
    assert set(found) == {photo.pk, notes.pk}
    rows = {r.name: r.part for r in runs.input_rows(
        cog_schema("sdxl"), value, files=found, base_url="http://public"
    )}  # fmt: skip
    assert (rows["image"].kind, rows["image"].file_name) == ("image", "fox.png")
    assert (rows["mask"].kind, rows["mask"].file_name) == ("file", "notes.txt")
    link = urlparse(rows["image"].value)
    assert (link.netloc, link.path) == ("public", f"/v1/files/{photo.pk}/download")
    assert set(parse_qs(link.query)) == {"owner", "expiry", "signature"}
    assert rows["prompt"].kind == "text"


def test_file_ids_are_found_in_lists_too() -> None:
    value = {"a": ["http://v/v1/files/abcdefghij12", "http://v/v1/files/xyz"], "b": 3}
    assert runs.file_ids([value]) == {"abcdefghij12"}


# Liveness ----------------------------------------------------------------------------------


def test_live_parts_poll_fast_at_first_then_gently() -> None:
    now = timezone.now()
    assert runs.poll_every(now) == "500ms"
    assert runs.poll_every(now - timedelta(seconds=59)) == "500ms"
    assert runs.poll_every(now - timedelta(minutes=2)) == "2s"
