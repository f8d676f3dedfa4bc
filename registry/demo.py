"""The demo catalog (`make run`): the example models under `examples/`, published through
the same build path as `vitrine push`, each with examples made by really running it.

Loading is idempotent: an unchanged example is not built again, and a model that already
has examples from its current version is not run again.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from registry import archives, builds, files, links, predictions, services
from registry.models import Build, Collection, CollectionItem, Example, MLModel, Owner, Prediction

logger = logging.getLogger(__name__)

EXAMPLES_DIR = Path(settings.BASE_DIR) / "examples"
DEMO_USER = "demo"


@dataclass(frozen=True)
class DemoModel:
    folder: Path
    meta: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.meta["name"])


def demo_models(only: set[str] | None = None) -> list[DemoModel]:
    found = []
    for meta_path in sorted(EXAMPLES_DIR.glob("*/model.json")):
        meta = json.loads(meta_path.read_text())
        if only and meta["name"] not in only:
            continue
        found.append(DemoModel(meta_path.parent, meta))
    return found


def demo_user() -> User:
    user = User.objects.filter(username=DEMO_USER).first()
    if user is None:
        user = services.user_create(username=DEMO_USER)
    return user


@transaction.atomic
def _ensure_model(demo: DemoModel, user: User) -> MLModel:
    meta = demo.meta
    owner, _ = Owner.objects.get_or_create(
        username=meta["owner"],
        defaults={
            "kind": Owner.Kind.ORGANIZATION,
            "display_name": meta["owner"].replace("-", " ").title(),
        },
    )
    if owner.is_organization:
        services.membership_add(organization=owner, user=user, role="admin")
    model = MLModel.objects.filter(owner=owner, name=meta["name"]).first()
    readme = demo.folder / "README.md"
    if model is None:
        model = services.model_create(
            actor=user,
            owner=owner.username,
            name=meta["name"],
            description=meta.get("description", ""),
            readme=readme.read_text() if readme.exists() else "",
            github_url=meta.get("github_url") or "",
            paper_url=meta.get("paper_url") or "",
            license_url=meta.get("license_url") or "",
            hardware=meta.get("hardware", "cpu"),
            tags=meta.get("tags", []),
            featured=bool(meta.get("featured")),
        )
    cover = demo.folder / "cover.svg"
    if not model.cover_image and cover.exists():
        model.cover_image.save(f"{model.name}.svg", ContentFile(cover.read_bytes()), save=True)
    for slug in meta.get("collections", []):
        collection = Collection.objects.filter(slug=slug).first()
        if collection is not None:
            CollectionItem.objects.get_or_create(
                collection=collection, model=model, defaults={"position": collection.items.count()}
            )
    return model


def _ensure_collections() -> None:
    path = EXAMPLES_DIR / "collections.json"
    for position, data in enumerate(json.loads(path.read_text()) if path.exists() else []):
        Collection.objects.update_or_create(
            slug=data["slug"],
            defaults={
                "name": data["name"],
                "description": data["description"],
                "position": position,
            },
        )


def load(*, only: set[str] | None = None, log: Any = print) -> list[str]:
    """Create the demo catalog and queue the builds it needs; returns the queued build ids."""
    from registry import tasks

    services.hardware_ensure_defaults()
    _ensure_collections()
    user = demo_user()
    queued = []
    for demo in demo_models(only):
        model = _ensure_model(demo, user)
        archive = archives.pack(demo.folder)
        sha256 = hashlib.sha256(archive).hexdigest()
        published = model.versions.filter(source_sha256=sha256).exists()
        building = model.builds.filter(
            source_sha256=sha256, status__in=(Build.Status.STARTING, Build.Status.PROCESSING)
        ).exists()
        if published or building:
            log(f"{model.full_name}: up to date" if published else f"{model.full_name}: building")
        else:
            upload = SimpleUploadedFile("project.tar.gz", archive, "application/gzip")
            build = builds.build_create_from_archive(actor=user, model=model, upload=upload)
            queued.append(build.pk)
            log(f"{model.full_name}: build {build.pk} queued")
        transaction.on_commit(
            partial(tasks.run_demo_examples.enqueue, model.pk, demo.folder.name, sha256)
        )
    return queued


def run_examples(*, model_id: int, folder: str, source_sha256: str) -> str:
    """Run a demo model's examples once its build is done, and show them on its page."""
    from registry import tasks

    model = MLModel.objects.select_related("owner").get(pk=model_id)
    build = model.builds.filter(source_sha256=source_sha256).order_by("-created_at").first()
    version = model.versions.filter(source_sha256=source_sha256).first()
    if version is None:
        if build is not None and not build.is_terminal:
            tasks.enqueue_later(tasks.run_demo_examples, 2.0, model_id, folder, source_sha256)
            return "waiting for the build"
        return "no version"
    done = Example.objects.filter(model=model, prediction__version=version).exists()
    if done:
        return "examples exist"
    meta = json.loads((EXAMPLES_DIR / folder / "model.json").read_text())
    user = demo_user()
    made = 0
    for example in meta.get("examples", []):
        prediction = predictions.prediction_create(
            actor=user,
            version=version,
            input=_example_input(example["input"], EXAMPLES_DIR / folder, user),
            source=Prediction.Source.WEB,
        )
        prediction = predictions.wait(prediction, timeout=300)
        if prediction.status != Prediction.Status.SUCCEEDED:
            logger.warning(
                "Demo example of %s ended %s: %s", model, prediction.status, prediction.error
            )
            continue
        default = bool(example.get("default"))
        services.example_add(actor=user, model=model, prediction=prediction, make_default=default)
        made += 1
    return f"{made} example(s)"


def _example_input(raw: dict[str, Any], folder: Path, user: User) -> dict[str, Any]:
    """`"@sample.png"` means the file beside model.json, uploaded as a Files API file."""
    result = {}
    for key, value in raw.items():
        if isinstance(value, str) and value.startswith("@"):
            path = folder / value[1:]
            upload = SimpleUploadedFile(path.name, path.read_bytes())
            file = files.file_create(owner=user, upload=upload)
            value = links.absolute(f"/v1/files/{file.pk}")
        result[key] = value
    return result
