"""The pages that run models: playground submissions, live partials, prediction pages
(sharing, examples, cancel), publishing from the browser and build pages — what they show,
who may see them (the same 404 as a missing page for everyone else), and query counts."""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from registry import archives, files, predictions
from registry.models import Build, Example, File, MLModel, Prediction
from tests.conftest import COG_FIXTURES
from tests.factories import (
    ModelFactory,
    OrganizationFactory,
    PredictionFactory,
    VersionFactory,
    cog_schema,
)

pytestmark = pytest.mark.django_db


def without_csrf(html: bytes) -> bytes:
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]*"', b"", html)


def schema_model(owner: Any, name: str = "hello", schema: str = "hello", **kwargs: Any) -> MLModel:
    model = ModelFactory(owner=owner, name=name, **kwargs)
    VersionFactory(model=model, openapi_schema=cog_schema(schema))
    model.refresh_from_db()
    return model


def prediction_of(user: Any, model: MLModel | None = None, **kwargs: Any) -> Prediction:
    model = model or schema_model(user.owner)
    return PredictionFactory(version=model.latest_version, created_by=user, **kwargs)


def build_of(model: MLModel, user: Any, **kwargs: Any) -> Build:
    return Build.objects.create(model=model, created_by=user, kind="source", **kwargs)


@pytest.fixture
def signed_in(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


# The playground ---------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in_and_find_their_input_kept(
    client: Client, user: Any
) -> None:
    schema_model(user.owner)
    page = client.get("/alice/hello").content.decode()
    assert "Log in</a> to run this model" in page
    response = client.post("/alice/hello", {"text": "Bob", "repeat": "2"})
    assert response.status_code == 302
    assert response["Location"] == "/login?next=/alice/hello"
    assert not Prediction.objects.exists()
    client.force_login(user)
    back = client.get("/alice/hello").content.decode()
    assert 'value="Bob"' in back and "press Run to start it" in back
    assert 'value="Bob"' not in client.get("/alice/hello").content.decode()  # kept once


def test_secrets_are_never_kept_across_the_log_in(client: Client, user: Any) -> None:
    schema_model(user.owner, name="chat", schema="llm-stream")
    client.post("/alice/chat", {"prompt": "Hi", "api_key": "sk-secret"})
    kept = client.session["catalog:pending-run"]["data"]
    assert kept["prompt"] == ["Hi"]
    assert "api_key" not in kept and "csrfmiddlewaretoken" not in kept


def test_an_invalid_submission_is_answered_before_anyone_is_asked_to_log_in(
    client: Client, user: Any
) -> None:
    schema_model(user.owner)
    response = client.post("/alice/hello", {"text": "", "repeat": "9"})
    assert response.status_code == 422
    assert "Must be at most 5." in response.content.decode()


def test_a_file_over_the_limit_is_refused_next_to_its_field_and_nothing_is_stored(
    signed_in: Client, user: Any, settings: Any
) -> None:
    settings.VITRINE_MAX_FILE_BYTES = 10
    schema_model(user.owner, name="sdxl", schema="sdxl")
    page = signed_in.get("/alice/sdxl").content.decode()
    assert 'data-max-bytes="10"' in page and "Files up to 10 bytes." in page
    photo = SimpleUploadedFile("photo.png", b"x" * 20, content_type="image/png")
    response = signed_in.post("/alice/sdxl", {"prompt": "a fox", "image": photo})
    assert response.status_code == 422
    assert (
        "photo.png is too large (20 bytes): files up to 10 bytes can be sent."
        in response.content.decode()
    )
    assert not File.objects.exists() and not Prediction.objects.exists()


def test_the_uploads_of_a_refused_form_are_not_stored(signed_in: Client, user: Any) -> None:
    schema_model(user.owner, name="sdxl", schema="sdxl")
    photo = SimpleUploadedFile("photo.png", b"png", content_type="image/png")
    response = signed_in.post("/alice/sdxl", {"num_outputs": "9", "image": photo})
    assert response.status_code == 422 and "Must be at most 4." in response.content.decode()
    assert not File.objects.exists()


def test_a_refusal_by_the_registry_is_shown_next_to_the_fields_it_names(
    signed_in: Client, user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A stand-in for the registry: both sides validate against the same schema, so a
    # refusal after the catalog's own check cannot be produced for real.
    from catalog import views
    from registry.errors import InvalidInput

    def refuse(**kwargs: Any) -> None:
        raise InvalidInput({"input.text": ["Too rude."], "input": ["Too long overall."]})

    monkeypatch.setattr(views.predictions, "prediction_create", refuse)
    schema_model(user.owner)
    response = signed_in.post("/alice/hello", {"text": "Bob"})
    assert response.status_code == 422
    html = response.content.decode()
    assert '<p class="field__error">Too rude.</p>' in html
    assert "input: Too long overall." in html


def test_the_playground_shows_runs_of_its_own_model_only(
    signed_in: Client, user: Any, other_user: Any
) -> None:
    mine = prediction_of(user)
    elsewhere = prediction_of(user, schema_model(user.owner, name="other"))
    strangers = prediction_of(other_user, MLModel.objects.get(name="hello"))
    page = signed_in.get(f"/alice/hello?prediction={mine.pk}")
    assert page.status_code == 200
    assert f'id="prediction-{mine.pk}"' in page.content.decode()
    assert signed_in.get(f"/alice/hello?prediction={elsewhere.pk}").status_code == 404
    assert signed_in.get(f"/alice/hello?prediction={strangers.pk}").status_code == 404


def test_the_playground_is_filled_with_the_shown_runs_input(signed_in: Client, user: Any) -> None:
    run = prediction_of(user, input={"text": "Zed", "repeat": 3})
    html = signed_in.get(f"/alice/hello?prediction={run.pk}").content.decode()
    assert 'value="Zed"' in html and 'value="3"' in html
    assert f'href="/p/{run.pk}"' in html  # its page, to share it


@pytest.mark.cog
@pytest.mark.django_db(transaction=True)
def test_a_valid_submission_runs_on_cog_and_the_playground_follows_it(
    client: Client, hello_version: Any, user: Any
) -> None:
    client.force_login(user)
    response = client.post("/alice/hello", {"text": "Bob", "repeat": "2", "style": "plain"})
    assert response.status_code == 302
    prediction = Prediction.objects.get()
    assert response["Location"] == f"/alice/hello?prediction={prediction.pk}"
    assert (prediction.source, prediction.created_by, prediction.version) == (
        "web",
        user,
        hello_version,
    )
    predictions.wait(prediction, timeout=30)
    page = client.get(response["Location"]).content.decode()
    assert "hello Bob hello Bob" in page and "status--succeeded" in page
    status = client.get(f"/p/{prediction.pk}/status?from=playground").content.decode()
    assert "hello Bob hello Bob" in status and "hx-trigger" not in status


# The prediction page -------------------------------------------------------------------


def test_the_prediction_page_shows_input_output_timings_and_version(
    signed_in: Client, user: Any
) -> None:
    now = timezone.now()
    run = prediction_of(
        user,
        input={"text": "Ada", "repeat": 2},
        output="hello Ada hello Ada",
        logs="greeting Ada",
        created_at=now - timedelta(seconds=3),
        started_at=now - timedelta(seconds=2),
        completed_at=now,
        metrics={"predict_time": 1.5, "total_time": 3.0, "boot_time": 0.75},
    )
    html = signed_in.get(f"/p/{run.pk}").content.decode()
    assert "Prediction <code" in html and run.pk in html
    assert "<code>text</code>" in html and "Ada" in html
    assert "hello Ada hello Ada" in html and "greeting Ada" in html
    for timing in ("<dt>Predict time</dt><dd>1.5s</dd>", "<dt>Total time</dt><dd>3.0s</dd>",
                   "<dt>Boot time</dt><dd>0.75s</dd>"):  # fmt: skip
        assert timing in html
    assert f"/alice/hello/versions/{run.version_id}" in html
    assert "Tweak it in the playground" in html and "Only you can see this prediction" in html
    assert "hx-trigger" not in html


@pytest.mark.parametrize("suffix", ["", "/status"])
def test_a_prediction_is_the_same_404_as_a_missing_one_for_all_but_its_creator(
    client: Client, user: Any, other_user: Any, suffix: str
) -> None:
    run = prediction_of(user)
    for viewer in (other_user, None):
        client.logout()
        if viewer is not None:
            client.force_login(viewer)
        hidden = client.get(f"/p/{run.pk}{suffix}")
        missing = client.get(f"/p/{'x' * len(run.pk)}{suffix}")
        assert hidden.status_code == missing.status_code == 404
        # The same page, but for the path in its log-in link.
        same = without_csrf(hidden.content).replace(run.pk.encode(), b"x" * len(run.pk))
        assert same == without_csrf(missing.content)
    client.force_login(user)
    assert client.get(f"/p/{run.pk}{suffix}").status_code == 200


def test_sharing_opens_a_prediction_to_all_who_may_see_the_model_until_it_is_unshared(
    client: Client, user: Any, other_user: Any
) -> None:
    run = prediction_of(user)
    client.force_login(user)
    response = client.post(f"/p/{run.pk}/share", {"shared": "true", "next": f"/p/{run.pk}"})
    assert response.status_code == 302 and response["Location"] == f"/p/{run.pk}"
    page = client.get(f"/p/{run.pk}").content.decode()
    assert "anyone with the link" in page and f"http://testserver/p/{run.pk}" in page
    client.force_login(other_user)
    shown = client.get(f"/p/{run.pk}").content.decode()
    assert "hello Alice" in shown
    assert "Unshare" not in shown and "Add as example" not in shown  # look, don't touch
    assert client.post(f"/p/{run.pk}/share", {"shared": "false"}).status_code == 403
    client.logout()
    assert client.get(f"/p/{run.pk}").status_code == 200
    client.force_login(user)
    client.post(f"/p/{run.pk}/share", {"shared": "false"})
    client.logout()
    assert client.get(f"/p/{run.pk}").status_code == 404


def test_a_private_models_prediction_and_build_pages_are_404_for_others(
    client: Client, user: Any, other_user: Any
) -> None:
    model = schema_model(user.owner, name="secret", visibility="private")
    run = prediction_of(user, model)
    build = build_of(model, user)
    client.force_login(user)
    client.post(f"/p/{run.pk}/share", {"shared": "true"})
    run.refresh_from_db()
    assert not run.shared  # refused: "Predictions of a private model cannot be shared."
    assert "cannot be shared" in client.get(f"/p/{run.pk}").content.decode()
    Prediction.objects.filter(pk=run.pk).update(shared=True)  # even if it were shared
    urls = [f"/p/{run.pk}", f"/p/{run.pk}/status", f"/alice/secret/builds/{build.pk}",
            f"/alice/secret/builds/{build.pk}/status", "/alice/secret/versions/new"]  # fmt: skip
    for url in urls:
        assert client.get(url).status_code == 200, url
    for viewer in (other_user, None):
        client.logout()
        if viewer is not None:
            client.force_login(viewer)
        for url in urls:
            assert client.get(url).status_code in (404, 302), url  # 302: log in first
        assert client.get(f"/p/{run.pk}").status_code == 404


def test_model_owners_add_a_succeeded_prediction_to_the_examples(
    signed_in: Client, user: Any
) -> None:
    run = prediction_of(user)
    model = run.model
    page = signed_in.get(f"/p/{run.pk}").content.decode()
    assert "Add as example" in page and "Make default example" in page
    signed_in.post(f"/p/{run.pk}/example", {"action": "add"})
    run.refresh_from_db()
    model.refresh_from_db()
    assert Example.objects.filter(model=model, prediction=run).exists() and run.shared
    assert model.default_example_id == run.pk  # the first example is the default one
    other = prediction_of(user, model)
    signed_in.post(f"/p/{other.pk}/example", {"action": "default"})
    model.refresh_from_db()
    assert model.default_example_id == other.pk
    page = signed_in.get(f"/p/{other.pk}").content.decode()
    assert "default example" in page and "Make default example" not in page
    signed_in.post(f"/p/{other.pk}/example", {"action": "remove"})
    model.refresh_from_db()
    assert model.default_example_id == run.pk
    assert not Example.objects.filter(prediction=other).exists()


def test_nobody_else_touches_a_models_examples(client: Client, user: Any, other_user: Any) -> None:
    run = prediction_of(other_user, schema_model(user.owner), shared=True)
    client.force_login(other_user)
    assert "Add as example" not in client.get(f"/p/{run.pk}").content.decode()
    assert client.post(f"/p/{run.pk}/example", {"action": "add"}).status_code == 403
    assert not Example.objects.exists()


def test_a_failed_prediction_cannot_become_an_example(signed_in: Client, user: Any) -> None:
    run = prediction_of(user, status="failed", output=None, error="boom")
    assert "Add as example" not in signed_in.get(f"/p/{run.pk}").content.decode()
    response = signed_in.post(f"/p/{run.pk}/example", {"action": "add"}, follow=True)
    assert "Only a succeeded prediction can be an example." in response.content.decode()
    assert not Example.objects.exists()


def test_cancel_stops_a_run_and_goes_back_where_it_was_pressed(
    client: Client, user: Any, other_user: Any
) -> None:
    run = prediction_of(user, status="starting", output=None)
    client.force_login(other_user)
    assert client.post(f"/p/{run.pk}/cancel").status_code == 404
    client.force_login(user)
    assert client.get(f"/p/{run.pk}/cancel").status_code == 405
    back = f"/alice/hello?prediction={run.pk}"
    response = client.post(f"/p/{run.pk}/cancel", {"next": back})
    assert response.status_code == 302 and response["Location"] == back
    run.refresh_from_db()
    assert run.status == "canceled" and run.completed_at is not None


def test_cancel_from_htmx_answers_with_the_finished_state_and_its_actions(
    signed_in: Client, user: Any
) -> None:
    run = prediction_of(user, status="processing", output=None)
    html = signed_in.get(f"/alice/hello?prediction={run.pk}").content.decode()
    assert 'hx-post="/p/' in html and ">Cancel</button>" in html
    response = signed_in.post(f"/p/{run.pk}/cancel?from=playground", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "status--canceled" in html and "hx-trigger" not in html
    assert 'hx-swap-oob="true"' in html and ">Cancel</button>" not in html


def test_cancel_never_sends_anyone_to_another_site(signed_in: Client, user: Any) -> None:
    run = prediction_of(user, status="starting", output=None)
    response = signed_in.post(f"/p/{run.pk}/cancel", {"next": "https://evil.example/"})
    assert response["Location"] == f"/p/{run.pk}"


def test_the_status_partial_polls_while_running_and_brings_the_actions_when_done(
    signed_in: Client, user: Any
) -> None:
    run = prediction_of(user, status="processing", output=None, logs="step 1")
    html = signed_in.get(f"/p/{run.pk}/status?from=playground").content.decode()
    assert f'hx-get="/p/{run.pk}/status?from=playground" hx-trigger="every 500ms"' in html
    assert "step 1" in html and "hx-swap-oob" not in html
    Prediction.objects.filter(pk=run.pk).update(
        status="succeeded", output="hello Alice", completed_at=timezone.now()
    )
    html = signed_in.get(f"/p/{run.pk}/status?from=playground").content.decode()
    assert "hello Alice" in html and "hx-trigger" not in html
    assert 'id="prediction-actions-' in html and 'hx-swap-oob="true"' in html
    assert "Open prediction page" in html


def test_old_runs_are_polled_less_often(signed_in: Client, user: Any) -> None:
    run = prediction_of(
        user, status="processing", output=None, created_at=timezone.now() - timedelta(minutes=5)
    )
    assert 'hx-trigger="every 2s"' in signed_in.get(f"/p/{run.pk}/status").content.decode()


def test_uploaded_inputs_open_from_a_shared_page_through_a_signed_link(
    client: Client, user: Any
) -> None:
    model = schema_model(user.owner, name="sdxl", schema="sdxl")
    photo = files.file_create(
        owner=user, upload=SimpleUploadedFile("fox.png", b"png-bytes", content_type="image/png")
    )
    run = prediction_of(
        user, model, input={"prompt": "a fox", "image": f"http://testserver/v1/files/{photo.pk}"},
        output=["https://x/1.png"], shared=True,
    )  # fmt: skip
    html = client.get(f"/p/{run.pk}").content.decode()  # anonymous
    link = re.search(rf'src="http://testserver(/v1/files/{photo.pk}/download\?[^"]+)"', html)
    assert link, html
    download = client.get(link[1].replace("&amp;", "&"))
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"png-bytes"
    assert client.get(f"/v1/files/{photo.pk}/download").status_code == 404  # unsigned


def test_the_prediction_page_takes_the_same_queries_for_one_file_input_or_many(
    client: Client,
    user: Any,
    django_assert_max_num_queries: Callable[..., Any],
) -> None:
    org = OrganizationFactory(username="acme")
    from registry import services

    services.membership_add(organization=org, user=user, role="admin")
    model = schema_model(org, name="sdxl", schema="sdxl")

    def uploaded() -> str:
        upload = SimpleUploadedFile("a.png", b"png", content_type="image/png")
        return f"http://testserver/v1/files/{files.file_create(owner=user, upload=upload).pk}"

    one = prediction_of(user, model, input={"image": uploaded()}, output=["https://x/1.png"])
    many = prediction_of(
        user, model, input={"image": uploaded(), "mask": uploaded()}, output=["https://x/1.png"]
    )
    client.force_login(user)
    with django_assert_max_num_queries(6) as few:
        client.get(f"/p/{one.pk}")
    with django_assert_max_num_queries(len(few)):
        client.get(f"/p/{many.pk}")
    with django_assert_max_num_queries(len(few)):
        client.get(f"/p/{one.pk}/status")


# Publishing and builds -----------------------------------------------------------------


def test_the_publish_page_is_for_the_models_owners_and_says_how_to_push(
    client: Client, user: Any, other_user: Any
) -> None:
    schema_model(user.owner)
    assert client.get("/alice/hello/versions/new")["Location"].startswith("/login?next=")
    client.force_login(other_user)
    assert client.get("/alice/hello/versions/new").status_code == 403  # sees it, not theirs
    assert "Publish a version" not in client.get("/alice/hello/versions").content.decode()
    client.force_login(user)
    html = client.get("/alice/hello/versions/new").content.decode()
    assert 'type="file" name="source"' in html
    assert "export VITRINE_URL=http://testserver" in html
    assert "VITRINE_API_TOKEN" in html and "vitrine push alice/hello ./my-model" in html
    assert "Publish a version" in client.get("/alice/hello/versions").content.decode()


def test_an_upload_that_is_not_a_tar_gz_is_refused_next_to_the_field(
    signed_in: Client, user: Any
) -> None:
    schema_model(user.owner)
    upload = SimpleUploadedFile("predict.py", b"print('hi')", content_type="text/x-python")
    response = signed_in.post("/alice/hello/versions/new", {"source": upload})
    assert response.status_code == 422
    assert (
        "Must be a .tar.gz archive of a Cog project." in response.context["form"].errors["source"]
    )
    assert not Build.objects.exists()
    nothing = signed_in.post("/alice/hello/versions/new", {})
    assert nothing.status_code == 422
    assert nothing.context["form"].errors["source"] == ["This field is required."]


def test_an_archive_over_the_limit_is_refused(signed_in: Client, user: Any, settings: Any) -> None:
    settings.VITRINE_MAX_SOURCE_BYTES = 10
    schema_model(user.owner)
    upload = SimpleUploadedFile("big.tar.gz", gzip.compress(b"x" * 1000), "application/gzip")
    response = signed_in.post("/alice/hello/versions/new", {"source": upload})
    assert response.status_code == 422
    assert "the limit is 10" in " ".join(response.context["form"].errors["source"])


@pytest.mark.cog
@pytest.mark.django_db(transaction=True)
def test_an_uploaded_archive_is_built_into_a_version_shown_on_its_build_page(
    client: Client, cog_live: Any, user: Any
) -> None:
    ModelFactory(owner=user.owner, name="greeter")
    client.force_login(user)
    upload = SimpleUploadedFile(
        "greeter.tar.gz", archives.pack(COG_FIXTURES / "hello"), "application/gzip"
    )
    response = client.post("/alice/greeter/versions/new", {"source": upload})
    build = Build.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/alice/greeter/builds/{build.pk}"
    html = client.get(response["Location"]).content.decode()
    assert build.status == "succeeded" and build.version_id
    assert "Published version" in html and f"/alice/greeter/versions/{build.version_id}" in html
    assert "the model's latest version now" in html


def test_the_build_page_follows_a_running_build_then_links_its_version(
    signed_in: Client, user: Any
) -> None:
    model = schema_model(user.owner)
    build = build_of(model, user, status="processing", logs="Unpacked 2 files.\n")
    page = signed_in.get(f"/alice/hello/builds/{build.pk}").content.decode()
    status_url = f"/alice/hello/builds/{build.pk}/status"
    assert f'hx-get="{status_url}" hx-trigger="every 500ms"' in page
    assert "Unpacked 2 files." in page and "spinner" in page
    Build.objects.filter(pk=build.pk).update(
        status="succeeded", version=model.latest_version, completed_at=timezone.now()
    )
    done = signed_in.get(status_url).content.decode()
    assert "hx-trigger" not in done and "Published version" in done
    assert f"/alice/hello/versions/{model.latest_version_id}" in done


def test_a_failed_build_shows_its_error_and_logs(signed_in: Client, user: Any) -> None:
    model = schema_model(user.owner)
    build = build_of(
        model, user, status="failed", error="cog.yaml is missing", logs="Unpacked 0 files.\n"
    )
    html = signed_in.get(f"/alice/hello/builds/{build.pk}").content.decode()
    assert "The build failed." in html and "cog.yaml is missing" in html
    assert "Unpacked 0 files." in html and "hx-trigger" not in html


def test_build_pages_are_404_for_anyone_who_may_not_publish(
    client: Client, user: Any, other_user: Any
) -> None:
    model = schema_model(user.owner)
    other_model = schema_model(user.owner, name="other")
    build = build_of(model, user)
    for viewer in (other_user, None):
        client.logout()
        if viewer is not None:
            client.force_login(viewer)
        for suffix in ("", "/status"):
            hidden = client.get(f"/alice/hello/builds/{build.pk}{suffix}")
            assert hidden.status_code == 404
    client.force_login(user)
    assert client.get(f"/alice/other/builds/{build.pk}").status_code == 404  # not its model
    assert client.get(f"/alice/hello/builds/{build.pk}").status_code == 200
    assert other_model.pk


def test_the_build_page_takes_a_fixed_number_of_queries(
    signed_in: Client, user: Any, django_assert_max_num_queries: Callable[..., Any]
) -> None:
    model = schema_model(user.owner)
    build = build_of(model, user, status="succeeded", version=model.latest_version)
    for _ in range(5):
        build_of(model, user)
    with django_assert_max_num_queries(6):
        signed_in.get(f"/alice/hello/builds/{build.pk}")
    with django_assert_max_num_queries(4):
        signed_in.get(f"/alice/hello/builds/{build.pk}/status")


def test_the_versions_tab_lists_recent_builds_to_owners_only(
    client: Client, user: Any, other_user: Any
) -> None:
    model = schema_model(user.owner)
    build = build_of(model, user, status="failed", error="no cog.yaml")
    client.force_login(user)
    html = client.get("/alice/hello/versions").content.decode()
    assert "Recent builds" in html and f"/alice/hello/builds/{build.pk}" in html
    assert "no cog.yaml" in html
    client.force_login(other_user)
    assert "Recent builds" not in client.get("/alice/hello/versions").content.decode()


def test_a_model_being_built_says_so_to_everyone_and_links_logs_for_its_owner(
    client: Client, user: Any
) -> None:
    model = ModelFactory(owner=user.owner, name="coming")
    build = Build.objects.create(
        model=model, kind=Build.Kind.SOURCE, status=Build.Status.PROCESSING,
        started_at=timezone.now() - timedelta(seconds=40),
    )  # fmt: skip
    page = client.get("/alice/coming").content.decode()
    assert "A first version is being built" in page
    assert "Processing" in page and 'hx-trigger="every 3s"' in page
    assert f"/builds/{build.pk}" not in page  # logs are for those who may publish
    client.force_login(user)
    assert f"/alice/coming/builds/{build.pk}" in client.get("/alice/coming").content.decode()
    build.status = Build.Status.FAILED
    build.save()
    assert "No version yet" in client.get("/alice/coming").content.decode()
