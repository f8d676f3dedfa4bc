"""The benchmark catalog (bench/catalog.py): COPY writes rows that hang together — run
counts and runs per day are exactly the predictions, every model has its versions and the
latest is the newest, search finds the models."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, Max, Sum

from registry.models import MLModel, ModelRunDay, Prediction, SearchDocument, Version
from registry.search.service import search_models

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the benchmark catalog is written with COPY"
    ),
]


def test_run_counts_and_runs_per_day_are_exactly_the_predictions() -> None:
    call_command("bench_catalog", "--models", "40", "--versions", "100", "--predictions", "900")

    assert MLModel.objects.count() == 40
    assert Version.objects.count() == 100
    assert Prediction.objects.count() == 900
    stored = dict(Prediction.objects.values_list("model").annotate(n=Count("id")))
    per_day = dict(ModelRunDay.objects.values_list("model").annotate(n=Sum("runs")))
    for model in MLModel.objects.all():
        assert model.run_count == stored.get(model.pk, 0) == per_day.get(model.pk, 0)
    assert sum(stored.values()) == 900


def test_every_model_has_its_versions_and_the_newest_is_the_latest() -> None:
    call_command("bench_catalog", "--models", "30", "--versions", "75", "--predictions", "0")

    newest: dict[int, Any] = dict(
        Version.objects.values_list("model").annotate(at=Max("created_at"))
    )
    for model in MLModel.objects.select_related("latest_version"):
        assert model.latest_version is not None
        assert model.latest_version.created_at == newest[model.pk]
        assert model.latest_version_created_at == newest[model.pk]
        assert 2 <= model.versions.count() <= 3
        assert model.latest_version.input_schema["properties"]


def test_a_second_catalog_replaces_the_first_and_search_finds_it() -> None:
    call_command("bench_catalog", "--models", "25", "--predictions", "50")
    call_command("bench_catalog", "--models", "30", "--predictions", "60", "--replace")

    assert MLModel.objects.count() == SearchDocument.objects.count() == 30
    assert Prediction.objects.count() == 60
    landmark = MLModel.objects.select_related("owner").order_by("id").first()
    assert landmark is not None
    found = search_models(user=None, text=landmark.name, limit=5)
    assert landmark.pk in [m.pk for m in found.models]


def test_the_foreign_keys_are_checked_again_after_copying() -> None:
    call_command("bench_catalog", "--models", "5", "--predictions", "5")

    with connection.cursor() as cursor:
        cursor.execute("SHOW session_replication_role")
        assert cursor.fetchone()[0] == "origin"
