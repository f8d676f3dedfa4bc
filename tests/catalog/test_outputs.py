"""Outputs shaped by the Output schema, and the partials that render them and a prediction's
state (rendered here with factory-made predictions, since nothing runs models yet)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.template.loader import render_to_string
from django.utils import timezone

from catalog.outputs import output_parts
from registry.models import Prediction
from tests.factories import PredictionFactory, VersionFactory, cog_schema


def schema_with_output(output: dict[str, Any]) -> dict[str, Any]:
    schema = cog_schema("hello")
    schema["components"]["schemas"]["Output"] = {"title": "Output", **output}
    return schema


def render_output(schema: dict[str, Any] | None, output: Any, **kwargs: Any) -> str:
    return render_to_string(
        "catalog/partials/output.html", {"part": output_parts(schema, output, **kwargs)}
    )


def test_text_output_is_escaped_text() -> None:
    html = render_output(cog_schema("hello"), "hello <b>Alice</b>\nbye")
    assert 'class="output__text"' in html
    assert "hello &lt;b&gt;Alice&lt;/b&gt;<br>bye" in html


def test_numbers_and_booleans_are_shown_as_they_are() -> None:
    assert '<p class="output__number">0.25</p>' in render_output(
        schema_with_output({"type": "number"}), 0.25
    )
    assert "true" in render_output(schema_with_output({"type": "boolean"}), True)


def test_an_untyped_object_is_pretty_json() -> None:
    html = render_output(schema_with_output({"type": "object"}), {"a": [1, 2], "b": "<x>"})
    assert '<pre class="output__json">' in html
    assert "&quot;a&quot;: [\n    1," in html
    assert "&lt;x&gt;" in html


def test_an_object_with_properties_lists_each_field_rendered_by_its_own_schema() -> None:
    schema = schema_with_output(
        {
            "type": "object",
            "properties": {
                "caption": {"title": "Caption", "type": "string"},
                "image": {"title": "Image", "type": "string", "format": "uri"},
            },
        }
    )
    part = output_parts(schema, {"caption": "a cat", "image": "https://x/cat"})
    assert part.kind == "object"
    assert [(name, p.kind) for name, p in part.fields] == [("Caption", "text"), ("Image", "image")]


@pytest.mark.parametrize(
    ("url", "tag"),
    [
        ("https://files.example/out.png", '<img src="https://files.example/out.png"'),
        ("https://files.example/out.webp?sig=1", "<img"),
        ("https://files.example/out.wav", '<audio class="output__media" controls'),
        ("https://files.example/out.mp4", '<video class="output__media" controls'),
        ("data:image/png;base64,AAAA", "<img"),
        ("data:audio/wav;base64,AAAA", "<audio"),
        ("https://files.example/weights.safetensors", 'download="weights.safetensors"'),
        ("data:application/zip;base64,AAAA", 'download="output.zip"'),
    ],
)
def test_file_outputs_become_images_players_or_download_links(url: str, tag: str) -> None:
    assert tag in render_output(schema_with_output({"type": "string", "format": "uri"}), url)


def test_a_file_without_extension_is_told_by_the_models_description() -> None:
    schema = schema_with_output({"type": "string", "format": "uri"})
    assert "<audio" in render_output(schema, "https://x/out", hint="Text to speech")
    assert "Download" in render_output(schema, "https://x/out", hint="Zips a folder")


def test_a_list_of_images_is_a_list_of_img_tags() -> None:
    html = render_output(cog_schema("sdxl"), ["https://x/1.png", "https://x/2.png"])
    assert '<ol class="output__list">' in html
    assert html.count("<img") == 2


def test_a_concatenated_iterator_is_one_growing_text() -> None:
    schema = cog_schema("llm-stream")
    done = render_output(schema, ["Hel", "lo", " world"])
    assert "Hello world" in done and "is-streaming" not in done
    running = render_output(schema, ["Hel"], streaming=True)
    assert "is-streaming" in running


def test_a_plain_iterator_of_files_is_a_list() -> None:
    part = output_parts(cog_schema("progressive"), ["https://x/1.png", "https://x/2.png"])
    assert part.kind == "list"
    assert [p.kind for p in part.items] == ["image", "image"]


def test_no_output_says_so() -> None:
    assert "No output." in render_output(cog_schema("hello"), None)


def test_a_file_stored_under_its_digest_is_offered_under_its_outputs_name() -> None:
    document = {"components": {"schemas": {"Output": {
        "type": "object",
        "properties": {"reversed": {"type": "string", "format": "uri"}},
    }}}}  # fmt: skip
    stored = "http://v/media/outputs/a9/b33517a64fdcca540c24062c74c143b0_eUWumlH.txt"
    part = output_parts(document, {"reversed": stored})
    assert part.fields[0][1].file_name == "reversed.txt"
    assert (
        output_parts(document, {"reversed": "http://v/o/x/sepia.png"}).fields[0][1].file_name
        == "sepia.png"
    )


def test_without_a_schema_files_still_look_like_files() -> None:
    assert output_parts(None, "https://x/a.png").kind == "image"
    assert output_parts(None, "just text").kind == "text"
    assert output_parts(None, {"a": 1}).kind == "json"


# The prediction partial in each state ---------------------------------------------------


def render_prediction(prediction: Prediction, poll_url: str = "", where: str = "page") -> str:
    return render_to_string(
        "catalog/partials/prediction_status.html",
        {
            "prediction": prediction,
            "poll_url": poll_url,
            "poll_every": "500ms",
            "document": None,
            "where": where,
        },
    )


@pytest.mark.django_db
def test_a_starting_prediction_waits_and_polls() -> None:
    prediction = PredictionFactory(status="starting", output=None, logs="")
    html = render_prediction(prediction, poll_url="/p/x/status")
    assert "status--starting" in html and "Starting" in html
    assert "Waiting for the model to start" in html
    assert 'hx-get="/p/x/status" hx-trigger="every 500ms"' in html
    assert "spinner" in html


@pytest.mark.django_db
def test_a_processing_prediction_shows_logs_partial_output_and_elapsed_time() -> None:
    now = timezone.now()
    prediction = PredictionFactory(
        version=VersionFactory(openapi_schema=cog_schema("llm-stream")),
        status="processing",
        output=["Once", " upon"],
        logs="loading weights\nstep 1/10",
        started_at=now - timedelta(seconds=3),
    )
    html = render_prediction(prediction, poll_url="/p/x/status")
    # At least the 3 s it had run before rendering, at most what has passed since.
    upper = (timezone.now() - prediction.started_at).total_seconds()
    assert "Processing" in html
    assert "Once upon" in html and "is-streaming" in html
    assert "step 1/10" in html and '<pre class="logs" data-follow>' in html  # kept at its end
    shown = [float(s) for s in re.findall(r"\b(\d+\.\d)s\b", html)]
    assert any(3.0 <= value <= upper + 0.05 for value in shown), shown
    assert "hx-trigger" in html


@pytest.mark.django_db
def test_a_succeeded_prediction_shows_its_output_and_stops_polling() -> None:
    now = timezone.now()
    prediction = PredictionFactory(
        status="succeeded",
        output="hello Alice",
        started_at=now - timedelta(seconds=2),
        completed_at=now - timedelta(seconds=1),
        metrics={"predict_time": 0.8},
    )
    html = render_prediction(prediction, poll_url="/p/x/status")
    assert "status--succeeded" in html
    assert "hello Alice" in html
    assert "1.0s" in html and "predict time 0.80s" in html
    assert "hx-trigger" not in html and "spinner" not in html
    assert "<dt>Predict time</dt><dd>0.80s</dd>" in html  # the page's timings
    assert "Boot time" not in html  # a warm run


@pytest.mark.django_db
def test_the_playground_folds_finished_logs_away_unless_the_run_failed() -> None:
    succeeded = PredictionFactory(status="succeeded", logs="all good")
    failed = PredictionFactory(status="failed", output=None, error="boom", logs="Traceback")
    assert '<details class="prediction__logs">' in render_prediction(succeeded, where="playground")
    assert '<details class="prediction__logs" open>' in render_prediction(
        failed, where="playground"
    )
    assert "Timings" not in render_prediction(succeeded, where="playground")


@pytest.mark.django_db
def test_a_failed_prediction_shows_its_error() -> None:
    prediction = PredictionFactory(
        status="failed", output=None, error="CUDA out of <memory>", logs="Traceback …"
    )
    html = render_prediction(prediction)
    assert "status--failed" in html
    assert 'role="alert"' in html and "CUDA out of &lt;memory&gt;" in html
    assert "Traceback" in html


@pytest.mark.django_db
def test_a_canceled_prediction_says_so() -> None:
    html = render_prediction(PredictionFactory(status="canceled", output=None))
    assert "status--canceled" in html and "was canceled before it returned anything" in html
