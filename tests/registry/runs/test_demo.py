"""The demo catalog that `make run` loads: every example model built through the real
build path and run for real, with its examples shown."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from registry.demo import EXAMPLES_DIR
from registry.models import Build, Collection, Example, MLModel, Prediction

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.cog]


def test_the_demo_catalog_publishes_and_runs_every_example_model(cog_live: Any) -> None:
    out = StringIO()
    call_command("load_demo", stdout=out)
    metas = [json.loads(p.read_text()) for p in sorted(EXAMPLES_DIR.glob("*/model.json"))]
    assert len(metas) >= 6
    for meta in metas:
        model = MLModel.objects.get(owner__username=meta["owner"], name=meta["name"])
        build = model.builds.get()
        assert build.status == "succeeded", f"{model}: {build.error}\n{build.logs[-2000:]}"
        assert model.latest_version is not None
        assert model.readme.startswith("#") and model.cover_image.name.endswith(".svg")
        examples = Prediction.objects.filter(
            pk__in=Example.objects.filter(model=model).values("prediction_id")
        )
        assert examples.count() == len(meta["examples"]), model
        assert all(p.status == "succeeded" and p.output is not None for p in examples)
        assert model.default_example_id in {p.pk for p in examples}
        assert model.run_count == len(meta["examples"])
        for slug in meta["collections"]:
            assert Collection.objects.get(slug=slug).items.filter(model=model).exists()
    kinds = {
        json.dumps(MLModel.objects.get(name=m["name"]).latest_version.output_schema.get("type"))
        for m in metas
    }
    assert len(kinds) >= 3  # text, objects, files, streams: several modalities

    # Loading again changes nothing: no new builds, no new runs.
    builds, runs = Build.objects.count(), Prediction.objects.count()
    call_command("load_demo", stdout=StringIO())
    assert (Build.objects.count(), Prediction.objects.count()) == (builds, runs)


def test_the_ocr_example_reads_its_sample(cog_live: Any) -> None:
    call_command("load_demo", "--only", "ocr", stdout=StringIO())
    default = MLModel.objects.get(name="ocr").default_example
    assert "VITRINE COFFEE HOUSE" in default.output["text"]
    assert default.input["image"].startswith(cog_live.url + "/v1/files/")
