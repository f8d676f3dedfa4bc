"""Running models from the pages: the uploads of a playground submission (held until the
input is known to be valid, then stored as files), input kept across a log-in, what a
viewer may do with a prediction, how its input is shown, and how often live parts poll.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.sessions.backends.base import SessionBase
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.datastructures import MultiValueDict

from catalog.outputs import OutputPart, value_part
from catalog.schemas import JSON, input_properties
from registry import selectors
from registry.files import FILE_URL, file_references
from registry.inference import internal
from registry.models import File, Prediction
from registry.selectors import Actor

PENDING_KEY = "catalog:pending-run"
FAST_POLL_SECONDS = 60


class HeldUploads:
    """`store_file` for `schema_forms.submit` that stores nothing yet: each upload gets a
    placeholder URL, so that the input can be validated first and a refused form leaves
    no stored files behind. `store` then saves them and puts their URLs in."""

    def __init__(self) -> None:
        self._nonce = secrets.token_hex(8)
        self._held: dict[str, UploadedFile] = {}

    def __call__(self, upload: UploadedFile) -> str:
        placeholder = f"https://uploads.invalid/{self._nonce}/{len(self._held)}"
        self._held[placeholder] = upload
        return placeholder

    def __bool__(self) -> bool:
        return bool(self._held)

    def store(self, value: JSON, save: Callable[[UploadedFile], str]) -> JSON:
        stored = {placeholder: save(upload) for placeholder, upload in self._held.items()}

        def swap(item: Any) -> Any:
            if isinstance(item, str):
                return stored.get(item, item)
            if isinstance(item, list):
                return [swap(i) for i in item]
            return item

        return {name: swap(item) for name, item in value.items()}


# Input kept across a log-in -----------------------------------------------------------


def keep_for_login(
    session: SessionBase,
    *,
    path: str,
    data: MultiValueDict[str, Any],
    secret_names: Iterable[str],
) -> None:
    """Remember a visitor's submitted form (never its secrets) until they are back."""
    skip = {"csrfmiddlewaretoken", *secret_names}
    session[PENDING_KEY] = {
        "path": path,
        "data": {name: values for name, values in data.lists() if name not in skip},
    }


def take_kept(session: SessionBase, *, path: str) -> MultiValueDict[str, Any] | None:
    """The form kept for this page, once."""
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict) or pending.get("path") != path:
        return None
    del session[PENDING_KEY]
    data = pending.get("data")
    return MultiValueDict(data) if isinstance(data, dict) else None


# Who may do what ------------------------------------------------------------------------


@dataclass(frozen=True)
class PredictionAccess:
    """What the viewer of a prediction may do with it (they may already see it)."""

    is_creator: bool
    owns_model: bool
    model_is_public: bool

    @property
    def can_cancel(self) -> bool:
        return self.is_creator or self.owns_model

    @property
    def can_share(self) -> bool:
        return self.is_creator and self.model_is_public

    @property
    def can_curate(self) -> bool:
        """May add it to the model's examples."""
        return self.owns_model


def access(user: Actor, prediction: Prediction) -> PredictionAccess:
    signed_in = selectors.signed_in(user)
    return PredictionAccess(
        is_creator=signed_in is not None and prediction.created_by_id == signed_in.pk,
        owns_model=selectors.can_write_owner(user, prediction.model.owner),
        model_is_public=prediction.model.is_public,
    )


# Showing an input ---------------------------------------------------------------------


@dataclass(frozen=True)
class InputRow:
    name: str
    label: str
    part: OutputPart


def file_ids(inputs: Iterable[JSON]) -> set[str]:
    """Ids of the Vitrine files that these inputs point at."""
    return {file_id for value in inputs for _, file_id in file_references(value, "input")}


def input_rows(
    document: JSON | None,
    value: JSON,
    *,
    files: dict[str, File],
    base_url: str,
    hint: str = "",
) -> list[InputRow]:
    """A prediction's input in the schema's order, each value shaped for display. Files
    uploaded to Vitrine get a signed download link: whoever may see the prediction may
    see what went into it, and the plain file URL answers only to the file's owner."""
    properties = {p.name: p for p in input_properties(document)}
    names = [n for n in properties if n in value] + [n for n in value if n not in properties]
    rows = []
    for name in names:
        prop = properties.get(name)
        schema = prop.schema if prop else {}
        part = _file_part(value[name], files, base_url) or value_part(
            document, schema, value[name], name=name, hint=hint
        )
        rows.append(InputRow(name=name, label=prop.title if prop else name, part=part))
    return rows


def _file_part(value: Any, files: dict[str, File], base_url: str) -> OutputPart | None:
    if isinstance(value, list):
        items = [_file_part(item, files, base_url) for item in value]
        if value and all(items):
            return OutputPart("list", items=[i for i in items if i is not None])
        return None
    match = FILE_URL.match(value) if isinstance(value, str) else None
    file = files.get(match["id"]) if match else None
    if file is None:
        return None
    url = internal.file_download_url(file.owner.username, file.pk, root=base_url)
    major = file.content_type.split("/")[0]
    kind = major if major in ("image", "audio", "video") else "file"
    return OutputPart(kind, url, filename=file.name)  # type: ignore[arg-type]


# Liveness -----------------------------------------------------------------------------


def poll_every(since: datetime | None) -> str:
    """How often a live partial asks again: twice a second at first, gentler later."""
    if since is None or timezone.now() - since < timedelta(seconds=FAST_POLL_SECONDS):
        return "500ms"
    return "2s"
