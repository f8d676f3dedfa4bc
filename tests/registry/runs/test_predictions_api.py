"""Predictions end to end: the real replicate client, a live Vitrine, real coglet processes."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import replicate
from replicate.exceptions import ModelError, ReplicateError

from registry.models import MLModel, Prediction
from tests.conftest import publish
from tests.factories import ModelFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.cog]


def test_replicate_run_returns_the_models_output(hello_version: Any, replicate_client: Any) -> None:
    output = replicate_client.run(
        f"alice/hello:{hello_version.id}", input={"text": "Ada", "repeat": 2, "style": "shout"}
    )
    assert output == "HELLO ADA HELLO ADA"
    prediction = Prediction.objects.get()
    assert prediction.status == "succeeded"
    assert prediction.input == {"text": "Ada", "repeat": 2, "style": "shout"}
    assert "greeting Ada" in prediction.logs
    assert prediction.started_at and prediction.completed_at
    assert prediction.metrics["predict_time"] > 0
    assert prediction.metrics["total_time"] >= prediction.metrics["predict_time"]
    assert "boot_time" in prediction.metrics  # the first run started the model


def test_run_by_model_name_uses_the_latest_version(
    hello_version: Any, replicate_client: Any
) -> None:
    assert replicate_client.run("alice/hello", input={"text": "Bo"}) == "hello Bo"
    assert Prediction.objects.get().version_id == hello_version.id


def test_a_warm_run_has_no_boot_time(hello_version: Any, replicate_client: Any) -> None:
    replicate_client.run(f"alice/hello:{hello_version.id}", input={"text": "one"})
    replicate_client.run(f"alice/hello:{hello_version.id}", input={"text": "two"})
    second = Prediction.objects.order_by("created_at").last()
    assert "boot_time" not in second.metrics


def test_create_then_wait_polls_to_the_end(hello_version: Any, replicate_client: Any) -> None:
    prediction = replicate_client.predictions.create(
        version=hello_version.id, input={"text": "Cy", "sleep": 0.5}
    )
    assert prediction.status in ("starting", "processing")
    assert prediction.urls["get"].endswith(f"/v1/predictions/{prediction.id}")
    prediction.wait()
    assert (prediction.status, prediction.output) == ("succeeded", "hello Cy")
    assert "still working" in prediction.logs


def test_logs_are_visible_while_it_runs(hello_version: Any, replicate_client: Any) -> None:
    prediction = replicate_client.predictions.create(
        version=hello_version.id, input={"text": "slow", "sleep": 3}
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        prediction.reload()
        if prediction.status == "processing" and "still working" in (prediction.logs or ""):
            break
        time.sleep(0.1)
    assert prediction.status == "processing"
    assert "still working" in prediction.logs
    prediction.cancel()


def test_cancel_stops_the_run_on_cog_and_returns_the_prediction(
    hello_version: Any, replicate_client: Any
) -> None:
    prediction = replicate_client.predictions.create(
        version=hello_version.id, input={"text": "late", "sleep": 30}
    )
    deadline = time.monotonic() + 10
    while prediction.status != "processing" and time.monotonic() < deadline:
        time.sleep(0.05)
        prediction.reload()
    started = time.monotonic()
    prediction.cancel()
    assert prediction.status == "canceled"
    assert time.monotonic() - started < 5
    stored = Prediction.objects.get(pk=prediction.id)
    assert stored.completed_at is not None and stored.error is None
    # The slot is free again: the next run goes through at once.
    assert (
        replicate_client.run(f"alice/hello:{hello_version.id}", input={"text": "next"})
        == "hello next"
    )


def test_bad_input_is_a_422_naming_every_field_and_runs_nothing(
    hello_version: Any, replicate_client: Any
) -> None:
    with pytest.raises(ReplicateError) as error:
        replicate_client.predictions.create(
            version=hello_version.id, input={"repeat": 9, "style": "loud"}
        )
    assert error.value.status == 422
    assert error.value.title == "Input validation failed"
    for field in ("input.text", "input.repeat", "input.style"):
        assert field in error.value.detail
    assert not Prediction.objects.exists()
    assert MLModel.objects.get(name="hello").run_count == 0


def test_unknown_input_fields_are_dropped_as_cog_does(
    hello_version: Any, replicate_client: Any
) -> None:
    output = replicate_client.run(
        f"alice/hello:{hello_version.id}", input={"text": "Di", "temperature": 0.7}
    )
    assert output == "hello Di"
    assert Prediction.objects.get().input == {"text": "Di"}


def test_run_counts_are_exact(hello_version: Any, replicate_client: Any) -> None:
    for i in range(3):
        replicate_client.run(f"alice/hello:{hello_version.id}", input={"text": str(i)})
    with pytest.raises(ReplicateError):
        replicate_client.predictions.create(version=hello_version.id, input={})
    assert MLModel.objects.get(name="hello").run_count == 3


def test_prefer_wait_answers_starting_when_the_wait_runs_out(
    hello_version: Any, token: str, cog_live: Any
) -> None:
    started = time.monotonic()
    response = httpx.post(
        f"{cog_live.url}/v1/predictions",
        json={"version": hello_version.id, "input": {"text": "x", "sleep": 5}},
        headers={"Authorization": f"Bearer {token}", "Prefer": "wait=1"},
        timeout=30,
    )
    elapsed = time.monotonic() - started
    assert response.status_code == 201
    assert response.headers["Preference-Applied"] == "wait=1"
    assert response.json()["status"] == "starting"
    assert elapsed < 4  # 1 s of waiting plus the cold start
    assert Prediction.objects.get().status in ("processing", "starting")


def test_a_bad_prefer_header_is_a_422(hello_version: Any, token: str, cog_live: Any) -> None:
    response = httpx.post(
        f"{cog_live.url}/v1/predictions",
        json={"version": hello_version.id, "input": {"text": "x"}},
        headers={"Authorization": f"Bearer {token}", "Prefer": "wait=600"},
    )
    assert response.status_code == 422
    assert "Prefer" in response.json()["detail"]


def test_version_references_in_every_form(hello_version: Any, auth_client: Any) -> None:
    for ref in (hello_version.id, f"alice/hello:{hello_version.id}", "alice/hello"):
        prediction = auth_client.predictions.create(version=ref, input={"text": "ref"})
        assert prediction.version == hello_version.id
    with pytest.raises(ReplicateError) as error:
        auth_client.predictions.create(version="alice/nothing", input={})
    assert error.value.status == 404
    with pytest.raises(ReplicateError) as error:
        auth_client.predictions.create(version="0" * 64, input={})
    assert error.value.status == 422


def test_the_model_predictions_endpoint_runs_the_latest_version(
    hello_version: Any, replicate_client: Any
) -> None:
    prediction = replicate_client.models.predictions.create(
        model="alice/hello", input={"text": "M"}
    )
    prediction.wait()
    assert prediction.output == "hello M"


def test_predictions_are_listed_newest_first_and_private_to_their_creator(
    hello_version: Any, replicate_client: Any, live_server: Any, make_token: Any, other_user: Any
) -> None:
    first = replicate_client.predictions.create(version=hello_version.id, input={"text": "1"})
    second = replicate_client.predictions.create(version=hello_version.id, input={"text": "2"})
    page = replicate_client.predictions.list()
    assert [p.id for p in page.results[:2]] == [second.id, first.id]
    stranger = replicate.Client(api_token=make_token(other_user), base_url=live_server.url)
    assert stranger.predictions.list().results == []
    with pytest.raises(ReplicateError) as error:
        stranger.predictions.get(first.id)
    assert error.value.status == 404


def test_a_failing_model_fails_the_prediction_with_its_error(
    cog_live: Any, user: Any, replicate_client: Any
) -> None:
    version = publish(ModelFactory(owner=user.owner, name="broken"), "broken-setup", user)
    with pytest.raises(ModelError) as error:
        replicate_client.run(f"alice/broken:{version.id}", input={"text": "x"})
    prediction = error.value.prediction
    assert prediction.status == "failed"
    assert "setup() failed" in prediction.error
    assert "weights.bin not found" in prediction.logs


def test_file_input_and_output(
    cog_live: Any, user: Any, replicate_client: Any, tmp_path: Path
) -> None:
    version = publish(ModelFactory(owner=user.owner, name="files"), "files", user)
    source = tmp_path / "note.txt"
    source.write_bytes(b"abcdef")
    output = replicate_client.run(
        f"alice/files:{version.id}", input={"file": source.open("rb")}, use_file_output=False
    )
    assert output["size"] == 6
    assert output["reversed"].startswith(cog_live.url + "/media/outputs/")
    assert httpx.get(output["reversed"]).content == b"fedcba"
    prediction = Prediction.objects.get()
    assert prediction.input["file"].startswith(cog_live.url + "/v1/files/")


def test_data_uri_inputs_reach_the_model(cog_live: Any, user: Any, replicate_client: Any) -> None:
    version = publish(ModelFactory(owner=user.owner, name="files"), "files", user)
    output = replicate_client.run(
        f"alice/files:{version.id}",
        input={"file": "data:text/plain;base64,eHl6"},
        use_file_output=False,
    )
    assert output["size"] == 3
    assert httpx.get(output["reversed"]).content == b"zyx"


def test_streaming_output_arrives_as_server_sent_events(
    cog_live: Any, user: Any, replicate_client: Any
) -> None:
    version = publish(ModelFactory(owner=user.owner, name="stream"), "stream", user)
    events = list(
        replicate_client.stream(f"alice/stream:{version.id}", input={"words": 4, "delay": 0.1})
    )
    assert "".join(str(e) for e in events) == "word0 word1 word2 word3 "
    assert [e.event.value for e in events if e.event.value != "logs"] == ["output"] * 4 + ["done"]
    assert len({e.id for e in events}) == len(events)


def test_run_of_an_iterator_model_yields_items(
    cog_live: Any, user: Any, replicate_client: Any
) -> None:
    version = publish(ModelFactory(owner=user.owner, name="stream"), "stream", user)
    output = replicate_client.run(f"alice/stream:{version.id}", input={"words": 3, "delay": 0})
    assert list(output) == ["word0 ", "word1 ", "word2 "]


@pytest.fixture
def auth_client(replicate_client: Any) -> Any:
    return replicate_client


def test_another_users_uploaded_file_cannot_be_used_by_guessing_its_id(
    cog_live: Any,
    user: Any,
    other_user: Any,
    make_token: Any,
    replicate_client: Any,
    tmp_path: Path,
) -> None:
    version = publish(ModelFactory(owner=user.owner, name="files"), "files", user)
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"private words")
    mine = replicate_client.files.create(secret)
    stranger = replicate.Client(api_token=make_token(other_user), base_url=cog_live.url)
    with pytest.raises(ReplicateError) as error:
        stranger.predictions.create(version=version.id, input={"file": mine.urls["get"]})
    assert error.value.status == 422
    assert "input.file" in error.value.detail
    # Once a prediction that used it is shared (an example), others may run it again.
    prediction = replicate_client.predictions.create(
        version=version.id, input={"file": mine.urls["get"]}
    )
    prediction.wait()
    from registry import services

    services.example_add(
        actor=user, model=version.model, prediction=Prediction.objects.get(pk=prediction.id)
    )
    rerun = stranger.predictions.create(version=version.id, input={"file": mine.urls["get"]})
    rerun.wait()
    assert rerun.status == "succeeded" and rerun.output["size"] == len(b"private words")


def test_file_outputs_inside_objects_keep_their_field_names(
    cog_live: Any, user: Any, replicate_client: Any
) -> None:
    version = publish(ModelFactory(owner=user.owner, name="files"), "files", user)
    output = replicate_client.run(
        f"alice/files:{version.id}",
        input={"file": "data:text/plain;base64,YWJj"},
        use_file_output=False,
    )
    assert output["reversed"].endswith("/reversed.txt")


def test_short_runs_that_are_waited_for_take_the_synchronous_fast_path(
    hello_version: Any, replicate_client: Any, settings: Any
) -> None:
    replicate_client.run(f"alice/hello:{hello_version.id}", input={"text": "warm"})
    hello_version.refresh_from_db()
    assert 0 < hello_version.predict_time_ewma < 1  # learned from the first run
    # With Cog unable to reach us, only a run whose answer comes back on the same
    # connection can finish: the fast path needs no webhook.
    settings.VITRINE_INTERNAL_URL = "http://127.0.0.1:9"
    assert replicate_client.run(f"alice/hello:{hello_version.id}", input={"text": "fast"}) == (
        "hello fast"
    )
    fast = Prediction.objects.get(input={"text": "fast"})
    assert fast.started_at and fast.completed_at and fast.started_at <= fast.completed_at
    assert fast.metrics["predict_time"] > 0


def test_the_fast_path_can_be_turned_off(
    hello_version: Any, replicate_client: Any, settings: Any
) -> None:
    settings.VITRINE_SYNC_DISPATCH_BELOW = 0
    replicate_client.run(f"alice/hello:{hello_version.id}", input={"text": "warm"})
    settings.VITRINE_INTERNAL_URL = "http://127.0.0.1:9"
    prediction = replicate_client.predictions.create(
        version=hello_version.id, input={"text": "slow path"}, wait=2
    )
    assert prediction.status == "starting"  # Cog's webhooks cannot reach us
