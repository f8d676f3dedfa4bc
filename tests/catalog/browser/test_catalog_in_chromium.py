"""The catalog in a real browser: explore, search, model pages and the playground form,
accounts, tokens, privacy. Screenshots of the main pages land in test-artifacts/."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from registry import services
from registry.models import MLModel
from tests.catalog.browser.conftest import png_data_url
from tests.factories import (
    CollectionFactory,
    OrganizationFactory,
    PredictionFactory,
    UserFactory,
    VersionFactory,
    add_to_collection,
    cog_schema,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

README = """# SDXL lite

A small text-to-image model. Give it a **prompt**; get images back.

| input | what it does |
|---|---|
| `prompt` | what to draw |
| `num_outputs` | how many images |

```python
output = client.run("vitrine/sdxl-lite:…", input={"prompt": "a fox"})
```
"""


@pytest.fixture
def catalog(user: Any) -> dict[str, MLModel]:
    """A small catalog that looks like a real one."""
    org = OrganizationFactory(username="vitrine", display_name="Vitrine")
    services.membership_add(organization=org, user=user, role="admin")

    def model(name: str, schema: str, description: str, **kwargs: Any) -> MLModel:
        tags = kwargs.pop("tags", [])
        created = services.model_create(
            actor=user, owner=kwargs.pop("owner", "vitrine"), name=name, description=description,
            tags=tags, **kwargs,
        )  # fmt: skip
        VersionFactory(model=created, openapi_schema=cog_schema(schema))
        created.refresh_from_db()
        return created

    sdxl = model(
        "sdxl-lite", "sdxl", "Text to image: a small SDXL that draws what you describe.",
        readme=README, tags=["image", "text-to-image"], featured=True, hardware="gpu-t4",
        github_url="https://github.com/example/sdxl-lite",
    )  # fmt: skip
    whisper = model("whisper", "whisper", "Speech to text in five languages.", featured=True)
    chat = model("chat", "llm-stream", "A chatty language model that streams its answer.")
    hello = model("hello", "hello", "Greets whoever you name.", tags=["demo"])
    speak = model("speak", "tts", "Text to speech with a calm voice.", owner="alice")
    MLModel.objects.filter(pk=sdxl.pk).update(run_count=12_345)
    MLModel.objects.filter(pk=whisper.pk).update(run_count=2_048)
    MLModel.objects.filter(pk=chat.pk).update(run_count=980)
    prediction = PredictionFactory(
        version=sdxl.latest_version,
        input={"prompt": "a red fox in the snow, watercolor", "num_outputs": 2},
        output=[png_data_url(96, 96, 10), png_data_url(96, 96, 140)],
        metrics={"predict_time": 3.2},
    )
    services.example_add(actor=user, model=sdxl, prediction=prediction)
    images = CollectionFactory(slug="image-generation", name="Image generation",
                               description="Draw from a description.")  # fmt: skip
    audio = CollectionFactory(slug="audio", name="Audio", description="Hear and speak.")
    add_to_collection(images, sdxl)
    add_to_collection(audio, whisper, speak)
    return {"sdxl": sdxl, "whisper": whisper, "chat": chat, "hello": hello, "speak": speak}


def test_explore_search_and_open_a_model_with_its_generated_form(
    page: Any, catalog: dict[str, MLModel], screenshot: Callable[..., None]
) -> None:
    page.goto("/")
    assert page.locator("h2", has_text="Featured").is_visible()
    assert page.locator("h2", has_text="Image generation").is_visible()
    card = page.locator(".card", has_text="sdxl-lite").first
    assert "12.3K runs" in card.inner_text()
    assert "image, text → image" in card.inner_text()
    screenshot(page, "explore")

    page.goto("/models")
    page.fill("#q", "whisper")  # search as you type (htmx swaps the results)
    page.wait_for_function("document.querySelector('#results h1').textContent.includes('whisper')")
    assert page.locator("#results .card").count() == 1
    assert "q=whisper" in page.url  # the URL is shareable
    page.select_option("#f-input", "text")
    page.wait_for_url("**input=text**")
    assert page.locator("#results .card").count() == 1
    page.goto("/search?q=&sort=runs")
    assert page.locator("#results .card__title").first.inner_text() == "vitrine/sdxl-lite"
    screenshot(page, "search")

    page.click("text=vitrine/sdxl-lite")
    page.wait_for_url("**/vitrine/sdxl-lite")
    form = page.locator("form.schema-form")
    assert (
        form.locator("textarea[name=prompt]").input_value() == "a red fox in the snow, watercolor"
    )
    assert form.locator("input[type=range]#input-num_outputs-range").count() == 1
    assert form.locator("input[type=number][name=num_outputs]").get_attribute("max") == "4"
    assert form.locator("select[name=scheduler] option").count() == 7
    assert form.locator("input[type=checkbox][name=apply_watermark]").is_checked()
    assert form.locator("input[type=file][name=image]").get_attribute("accept") == "image/*"
    assert form.locator("input[type=url][name=image__url]").count() == 1
    assert form.locator("input[type=number][name=seed]").get_attribute("step") == "1"
    page.fill("#input-num_outputs", "3")
    page.locator("#input-num_outputs").dispatch_event("input")
    assert page.locator("#input-num_outputs-range").input_value() == "3"
    assert page.locator(".playground__output img").count() == 2
    screenshot(page, "model-playground")

    for tab, name in (("Examples", "examples"), ("README", "readme"), ("API", "api"),
                      ("Versions", "versions")):  # fmt: skip
        page.click(f"nav.tabs >> text={tab}")
        page.wait_for_url(f"**/vitrine/sdxl-lite/{name}")
        assert page.locator("nav.tabs [aria-current=page]").inner_text() == tab
        screenshot(page, f"model-{name}")
    page.click("text=README")
    assert page.locator(".prose table").count() == 1


def test_the_api_tab_has_copy_ready_snippets(
    page: Any, catalog: dict[str, MLModel], live_server: Any
) -> None:
    page.goto("/vitrine/hello/api")
    python = page.locator("#code-python").inner_text()
    assert f'base_url="{live_server.url}"' in python
    assert f'"vitrine/hello:{catalog["hello"].latest_version_id}"' in python
    assert '"text": "Hello, world"' in python
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.click("[data-copy='#code-curl']")
    expect(page.locator("[data-copy='#code-curl']")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()").startswith("curl -s -X POST")


def test_a_schema_invalid_value_gets_the_servers_message_next_to_its_field(
    page: Any, catalog: dict[str, MLModel], screenshot: Callable[..., None]
) -> None:
    page.goto("/vitrine/hello")
    # Switch off the browser's own checks: this is about the server's.
    page.evaluate("document.querySelector('form.schema-form').noValidate = true")
    page.fill("#input-text", "")
    page.fill("#input-repeat", "9")
    page.click("button:has-text('Run')")
    repeat = page.locator("[data-field=repeat] .field__error")
    assert repeat.inner_text() == "Must be at most 5."
    assert page.locator("[data-field=text] .field__error").inner_text() == "This field is required."
    assert page.locator("#input-repeat").get_attribute("aria-invalid") == "true"
    assert page.locator("#input-repeat").input_value() == "9"
    screenshot(page, "model-playground-errors", phone=False)

    page.fill("#input-text", "Ada")
    page.fill("#input-repeat", "2")
    page.select_option("#input-style", "shout")
    page.click("button:has-text('Run')")
    # Valid now; running needs an account (tests/catalog/browser/test_runs_in_chromium.py).
    page.wait_for_url("**/login?next=/vitrine/hello")


def test_the_browser_checks_what_html_can_before_sending(
    page: Any, catalog: dict[str, MLModel]
) -> None:
    page.goto("/vitrine/whisper")
    assert page.locator("select[name=language] option").first.inner_text() == "—"
    page.goto("/vitrine/chat")
    assert page.locator("input[type=password][name=api_key]").get_attribute("required") == ""
    page.click("button:has-text('Run')")  # the required prompt is empty: nothing is sent
    assert page.evaluate("document.querySelector('#input-prompt').validity.valueMissing")
    assert page.locator(".notice").count() == 0


def test_the_tokens_page_creates_and_revokes_a_token(
    page: Any, user: Any, log_in: Callable[..., None], screenshot: Callable[..., None]
) -> None:
    log_in(page, user)
    page.goto("/account/tokens")
    page.fill("input[name=name]", "laptop")
    page.click("button:has-text('Create token')")
    token = page.locator("#new-token").inner_text()
    assert token.startswith("vt_")
    assert page.locator(".tokens-table", has_text="laptop").is_visible()
    screenshot(page, "tokens")
    page.goto("/account/tokens")  # shown once: coming back does not show it again
    assert page.locator("#new-token").count() == 0
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button[aria-label='Revoke token laptop']")
    assert "revoked" in page.locator(".message").inner_text()
    assert page.locator(".tokens-table").count() == 0
    from registry import services as registry_services

    assert registry_services.token_authenticate(plaintext=token) is None


def test_a_private_model_is_invisible_to_another_user(
    page: Any, user: Any, log_in: Callable[..., None]
) -> None:
    services.model_create(actor=user, owner="alice", name="secret-sauce", visibility="private",
                          description="Top secret")  # fmt: skip
    log_in(page, UserFactory(username="mallory"))
    assert page.goto("/alice/secret-sauce").status == 404
    assert page.locator("h1").inner_text() == "Nothing here"
    page.goto("/search?q=secret")
    assert page.locator("#results .card").count() == 0
    page.goto("/alice")
    assert "secret-sauce" not in page.content()
    log_in(page, user)
    assert page.goto("/alice/secret-sauce").status == 200
    page.goto("/search?q=secret")
    assert page.locator("#results .card .badge--private").count() == 1


def test_signing_up_then_logging_out_and_in(page: Any, screenshot: Callable[..., None]) -> None:
    page.goto("/")
    page.click("text=Sign up")
    page.fill("#id_username", "Zoe")
    page.fill("#id_password1", "tulip-river-42")
    page.fill("#id_password2", "tulip-river-42")
    page.click("button:has-text('Sign up')")
    assert "may contain only lowercase letters" in page.locator(".field__error").inner_text()
    page.fill("#id_username", "zoe")
    page.fill("#id_password1", "tulip-river-42")
    page.fill("#id_password2", "tulip-river-42")
    page.click("button:has-text('Sign up')")
    page.wait_for_url("**/zoe")
    assert "Welcome to Vitrine, zoe." in page.locator(".message").inner_text()
    page.click(".menu summary")
    page.click("text=Log out")
    assert page.locator("text=Log in").first.is_visible()
    page.click("text=Log in")
    screenshot(page, "login", phone=False)
    page.fill("#id_username", "zoe")
    page.fill("#id_password", "tulip-river-42")
    page.press("#id_password", "Enter")
    page.wait_for_url("**/")
    assert page.locator(".menu__name").inner_text() == "zoe"


def test_creating_a_model_from_the_browser(
    page: Any, user: Any, log_in: Callable[..., None], screenshot: Callable[..., None]
) -> None:
    log_in(page, user)
    page.goto("/new")
    page.fill("#id_name", "Bad Name")
    page.click("button:has-text('Create model')")
    assert "may contain only lowercase letters" in page.locator(".field__error").inner_text()
    page.fill("#id_name", "upscaler")
    page.fill("#id_description", "Makes small images big.")
    page.check("#id_visibility_1")  # private
    page.select_option("#id_hardware", "gpu-t4")
    page.fill("#id_tags", "image, upscaling")
    screenshot(page, "model-new", phone=False)
    page.click("button:has-text('Create model')")
    page.wait_for_url("**/alice/upscaler")
    assert "Makes small images big." in page.locator(".model-head").inner_text()
    assert page.locator(".model-head .badge--private").is_visible()
    assert "No version yet" in page.locator(".tab-panel").inner_text()
