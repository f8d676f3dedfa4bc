"""Running models from the catalog in a real browser, on the real Cog runtime: the
playground runs and follows a prediction live (text, files, images, streams, cancel,
failures), prediction pages and sharing, and publishing a version from the browser.
Screenshots land in test-artifacts/."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from registry import archives
from registry.models import Build, Prediction
from tests.catalog.browser.conftest import DESKTOP
from tests.conftest import COG_FIXTURES, publish
from tests.factories import ModelFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.cog, pytest.mark.django_db(transaction=True)]

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
RUN_TIMEOUT = 60_000  # a cold start boots coglet; the first image-filter run builds its env


def run(page: Any) -> None:
    """Press Run and wait for the playground to follow the new prediction."""
    page.click(".schema-form button[type=submit]")
    page.wait_for_url("**?prediction=*", timeout=RUN_TIMEOUT)


def status(page: Any) -> Any:
    return page.locator(".prediction .status")


def test_a_run_from_the_playground_shows_its_output_and_its_shareable_page(
    page: Any,
    browser: Any,
    hello_version: Any,
    user: Any,
    log_in: Callable[..., None],
    live_server: Any,
    screenshot: Callable[..., None],
) -> None:
    log_in(page, user)
    page.goto("/alice/hello")
    page.fill("#input-text", "Ada")
    page.fill("#input-repeat", "2")
    page.select_option("#input-style", "shout")
    run(page)
    expect(status(page)).to_have_text("Succeeded", timeout=RUN_TIMEOUT)
    expect(page.locator(".prediction .output__text")).to_have_text("HELLO ADA HELLO ADA")
    assert page.locator("#input-text").input_value() == "Ada"  # ready to tweak and run again
    prediction = Prediction.objects.get()
    assert (prediction.source, prediction.created_by) == ("web", user)
    assert prediction.input == {"text": "Ada", "repeat": 2, "style": "shout", "sleep": 0}
    page.locator(".prediction__logs summary").click()
    expect(page.locator(".prediction__logs .logs")).to_contain_text("greeting Ada")
    screenshot(page, "playground-run")

    page.click("text=Open prediction page")
    page.wait_for_url(f"**/p/{prediction.pk}")
    expect(page.locator("h1")).to_contain_text(prediction.pk)
    inputs = page.locator(".inputs").inner_text()
    assert "Ada" in inputs and "shout" in inputs
    expect(page.locator(".prediction .output__text")).to_have_text("HELLO ADA HELLO ADA")
    timings = page.locator(".timings").inner_text().upper()  # shown in small capitals
    for label in ("CREATED", "STARTED", "COMPLETED", "PREDICT TIME", "TOTAL TIME", "BOOT TIME"):
        assert label in timings
    expect(page.locator(".run-actions__state")).to_contain_text("Only you can see")
    screenshot(page, "prediction-page")

    # Someone else gets the same 404 as for a missing page, until it is shared.
    stranger = browser.new_context(viewport=DESKTOP, base_url=live_server.url)
    log_in(stranger_page := stranger.new_page(), UserFactory(username="mallory"))
    assert stranger_page.goto(f"/p/{prediction.pk}").status == 404
    assert stranger_page.goto("/p/no-such-prediction").status == 404
    page.click(".run-actions button:has-text('Share')")
    expect(page.locator(".message")).to_contain_text("Shared")
    expect(page.locator(".share-link code")).to_have_text(f"{live_server.url}/p/{prediction.pk}")
    assert stranger_page.goto(f"/p/{prediction.pk}").status == 200
    expect(stranger_page.locator(".prediction .output__text")).to_have_text("HELLO ADA HELLO ADA")
    assert stranger_page.locator(".run-actions button").count() == 0  # may look, not touch
    page.click(".run-actions button:has-text('Unshare')")
    assert stranger_page.goto(f"/p/{prediction.pk}").status == 404
    stranger.close()

    # The model's owner makes it the example the playground opens with.
    page.click("button:has-text('Make default example')")
    expect(page.locator(".message")).to_contain_text("the example the playground opens with")
    page.goto("/alice/hello/examples")
    expect(page.locator(".example__output .output__text")).to_have_text("HELLO ADA HELLO ADA")
    page.goto("/alice/hello")
    assert page.locator("#input-text").input_value() == "Ada"
    expect(page.locator(".playground__output .output__text")).to_have_text("HELLO ADA HELLO ADA")


def test_anonymous_visitors_are_asked_to_log_in_and_keep_their_input(
    page: Any, hello_version: Any, user: Any
) -> None:
    page.goto("/alice/hello")
    expect(page.locator("#login-to-run")).to_contain_text("Log in to run this model")
    page.fill("#input-text", "Grace")
    page.click(".schema-form button[type=submit]")
    page.wait_for_url("**/login?next=/alice/hello")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "pass-word-123")
    page.press("#id_password", "Enter")
    page.wait_for_url("**/alice/hello")
    assert page.locator("#input-text").input_value() == "Grace"
    expect(page.locator(".notice")).to_contain_text("press Run")
    assert not Prediction.objects.exists()
    run(page)
    expect(status(page)).to_have_text("Succeeded", timeout=RUN_TIMEOUT)
    expect(page.locator(".prediction .output__text")).to_have_text("hello Grace")


def test_an_uploaded_file_goes_in_and_the_output_file_downloads(
    page: Any, cog_live: Any, user: Any, log_in: Callable[..., None]
) -> None:
    publish(ModelFactory(owner=user.owner, name="files"), "files", user)
    log_in(page, user)
    page.goto("/alice/files")
    page.set_input_files(
        "#input-file",
        {"name": "note.txt", "mimeType": "text/plain", "buffer": b"hello vitrine"},
    )
    run(page)
    expect(status(page)).to_have_text("Succeeded", timeout=RUN_TIMEOUT)
    output = page.locator(".prediction .output__fields")
    expect(output).to_contain_text("13")
    with page.expect_download() as download:
        output.locator("a:has-text('Download reversed.txt')").click()
    assert Path(download.value.path()).read_bytes() == b"enirtiv olleh"
    stored = Prediction.objects.get().input["file"]
    assert stored.startswith(f"{cog_live.url}/v1/files/")  # a stored file, not a data: URL

    page.click("text=Open prediction page")
    with page.expect_download() as download:
        page.locator(".inputs a:has-text('Download note.txt')").click()
    assert Path(download.value.path()).read_bytes() == b"hello vitrine"


def test_an_uploaded_image_comes_back_filtered_as_an_image(
    page: Any,
    cog_live: Any,
    user: Any,
    log_in: Callable[..., None],
    screenshot: Callable[..., None],
) -> None:
    model = ModelFactory(
        owner=user.owner, name="image-filter", description="Classic photo filters with Pillow."
    )
    publish(model, EXAMPLES / "image-filter", user)
    log_in(page, user)
    page.goto("/alice/image-filter")
    assert page.locator("#input-image").get_attribute("accept") == "image/*"
    page.set_input_files("#input-image", str(EXAMPLES / "image-filter" / "sample.jpg"))
    page.select_option("#input-filter", "sepia")
    run(page)
    expect(status(page)).to_have_text("Succeeded", timeout=RUN_TIMEOUT)
    image = page.locator(".prediction .output--image img")
    expect(image).to_have_count(1)
    page.wait_for_function(
        "document.querySelector('.prediction .output--image img').naturalWidth > 0"
    )
    assert image.get_attribute("src").endswith("/sepia.png")
    screenshot(page, "playground-image")

    page.click("text=Open prediction page")
    page.wait_for_function(
        "[...document.querySelectorAll('.inputs img, .prediction img')]"
        ".every(img => img.complete && img.naturalWidth > 0)"
    )
    assert page.locator(".inputs img").count() == 1  # the uploaded photo, shown
    screenshot(page, "prediction-page-image")


def test_streamed_text_grows_while_the_model_runs(
    page: Any, cog_live: Any, user: Any, log_in: Callable[..., None]
) -> None:
    publish(ModelFactory(owner=user.owner, name="stream"), "stream", user)
    log_in(page, user)
    page.goto("/alice/stream")
    page.fill("#input-words", "12")
    page.fill("#input-delay", "0.3")
    run(page)
    stream = page.locator(".prediction .output__stream")
    seen = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        text = stream.inner_text() if stream.count() else ""
        if not seen or text != seen[-1]:
            seen.append(text)
        if "word11" in text:
            break
        page.wait_for_timeout(100)
    growing = [t for t in seen if t and "word11" not in t]
    assert len(growing) >= 2, seen  # seen part-way, more than once
    assert all(later.startswith(earlier) for earlier, later in itertools.pairwise(seen))
    expect(status(page)).to_have_text("Succeeded", timeout=RUN_TIMEOUT)
    assert stream.inner_text().split() == [f"word{i}" for i in range(12)]
    assert "is-streaming" not in (stream.get_attribute("class") or "")


def test_a_slow_run_can_be_canceled(
    page: Any,
    hello_version: Any,
    user: Any,
    log_in: Callable[..., None],
    screenshot: Callable[..., None],
) -> None:
    log_in(page, user)
    page.goto("/alice/hello")
    page.fill("#input-text", "Slow")
    page.fill("#input-sleep", "30")
    run(page)
    expect(status(page)).to_have_text("Processing", timeout=RUN_TIMEOUT)
    expect(page.locator(".prediction .logs")).to_contain_text("still working")
    screenshot(page, "playground-running", phone=False)
    started = time.monotonic()
    page.click(".run-actions button:has-text('Cancel')")
    expect(status(page)).to_have_text("Canceled", timeout=10_000)
    assert time.monotonic() - started < 10
    expect(page.locator(".prediction")).to_contain_text("This prediction was canceled")
    assert page.locator(".run-actions button:has-text('Cancel')").count() == 0
    assert Prediction.objects.get().status == "canceled"


def test_a_failing_model_shows_its_error_and_logs(
    page: Any, cog_live: Any, user: Any, log_in: Callable[..., None]
) -> None:
    publish(ModelFactory(owner=user.owner, name="broken"), "broken-setup", user)
    log_in(page, user)
    page.goto("/alice/broken")
    page.fill("#input-text", "x")
    run(page)
    expect(status(page)).to_have_text("Failed", timeout=RUN_TIMEOUT)
    expect(page.locator(".prediction__error")).to_contain_text("setup() failed")
    expect(page.locator(".prediction__logs")).to_have_attribute("open", "")
    expect(page.locator(".prediction__logs .logs")).to_contain_text("weights.bin not found")


def test_publishing_a_version_from_the_browser_follows_the_build_to_the_new_version(
    page: Any,
    cog_live: Any,
    user: Any,
    log_in: Callable[..., None],
    tmp_path: Path,
    screenshot: Callable[..., None],
) -> None:
    ModelFactory(owner=user.owner, name="greeter", description="Greets whoever you name.")
    archive = tmp_path / "greeter.tar.gz"
    archive.write_bytes(archives.pack(COG_FIXTURES / "hello"))
    log_in(page, user)
    page.goto("/alice/greeter")
    page.click("text=Publish a version")
    page.wait_for_url("**/alice/greeter/versions/new")
    expect(page.locator("#code-push")).to_contain_text("vitrine push alice/greeter ./my-model")
    expect(page.locator("#code-push")).to_contain_text("VITRINE_API_TOKEN")
    screenshot(page, "version-new")
    page.set_input_files("#id_source", str(archive))
    page.click("button:has-text('Upload and build')")
    page.wait_for_url("**/alice/greeter/builds/*", timeout=180_000)
    build = Build.objects.get()
    expect(page.locator(".build .status")).to_have_text("Succeeded", timeout=180_000)
    expect(page.locator(".build__result")).to_contain_text("Published version")
    expect(page.locator(".build .logs")).to_contain_text(f"Published version {build.version_id}")
    screenshot(page, "build-page")

    page.click(f"text=Open version {build.version_id[:12]}")
    page.wait_for_url(f"**/alice/greeter/versions/{build.version_id}")
    assert page.locator("#input-text").count() == 1  # its playground, from its schema
    page.goto("/alice/greeter/versions")
    expect(page.locator(".builds-table")).to_contain_text("Succeeded")
    screenshot(page, "model-versions-builds", phone=False)
