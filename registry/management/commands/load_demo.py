"""`python manage.py load_demo`: the demo catalog, loaded idempotently (safe to run twice)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from registry import search, services
from registry.demo import synthetic
from registry.models import Collection, CollectionItem, MLModel, Owner, Version

CATALOG = Path(__file__).resolve().parents[2] / "demo" / "catalog.json"


class Command(BaseCommand):
    help = "Load the demo catalog (owners, collections, models with versions)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--synthetic",
            type=int,
            default=0,
            metavar="N",
            help="Also load N generated models shaped like Replicate's catalog (for search).",
        )

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        services.hardware_ensure_defaults()
        catalog = json.loads(CATALOG.read_text())
        for owner in catalog["owners"]:
            Owner.objects.get_or_create(
                username=owner["username"],
                defaults={"kind": owner["kind"], "display_name": owner["display_name"]},
            )
        for position, data in enumerate(catalog["collections"]):
            Collection.objects.update_or_create(
                slug=data["slug"],
                defaults={
                    "name": data["name"],
                    "description": data["description"],
                    "position": position,
                },
            )
        for data in catalog["models"]:
            model, created = MLModel.objects.get_or_create(
                owner=Owner.objects.get(username=data["owner"]),
                name=data["name"],
                defaults={
                    "description": data["description"],
                    "featured": data.get("featured", False),
                },
            )
            if created:
                services.tags_set(model=model, names=data["tags"])
            schema = data["schema"]
            version_id = hashlib.sha256(
                (model.full_name + json.dumps(schema, sort_keys=True)).encode()
            ).hexdigest()
            if not Version.objects.filter(pk=version_id).exists():
                Version.objects.create(
                    id=version_id, model=model, cog_version="0.23.1", openapi_schema=schema
                )
                services.model_refresh_latest_version(model=model)
            for slug in data.get("collections", []):
                collection = Collection.objects.get(slug=slug)
                CollectionItem.objects.get_or_create(
                    collection=collection,
                    model=model,
                    defaults={"position": collection.items.count()},
                )
        if options["synthetic"]:
            existing = {
                f"{owner}/{name}"
                for owner, name in MLModel.objects.values_list("owner__username", "name")
            }
            synthetic.load(
                m
                for m in synthetic.generate(options["synthetic"])
                if f"{m.owner}/{m.name}" not in existing
            )
        search.index_models(MLModel.objects.values_list("pk", flat=True))
        self.stdout.write(f"Demo catalog ready: {MLModel.objects.count()} models.")
