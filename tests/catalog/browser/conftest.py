"""Real Chromium (Debian's, never a downloaded build) driven by Playwright against
pytest-django's live server."""

from __future__ import annotations

import base64
import os
import struct
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# around it are still plain synchronous calls.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make browsers)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=DESKTOP, base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def log_in(live_server: Any) -> Callable[[Any, Any], None]:
    """Sign a Playwright page in as `user` by handing it a real session cookie."""

    def log_in(page: Any, user: Any) -> None:
        client = Client()
        client.force_login(user)
        page.context.add_cookies(
            [
                {
                    "name": "sessionid",
                    "value": client.cookies["sessionid"].value,
                    "url": live_server.url,
                }
            ]
        )

    return log_in


@pytest.fixture
def screenshot() -> Callable[..., None]:
    """Save the page as test-artifacts/<name>.png, at desktop and, with phone=True, 390 px."""

    def take(page: Any, name: str, *, phone: bool = True) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        page.evaluate("window.scrollTo(0, 0)")  # a sticky header would be drawn mid-page
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        if phone:
            page.set_viewport_size(PHONE)
            page.screenshot(path=str(ARTIFACTS / f"{name}-390.png"), full_page=True)
            page.set_viewport_size(DESKTOP)

    return take


def png_data_url(width: int, height: int, hue: int) -> str:
    """A small gradient PNG made here, so that example outputs need no network."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(
        b"\x00"
        + bytes(
            channel
            for x in range(width)
            for channel in (
                (hue + x * 2) % 256,
                (120 + y * 2) % 256,
                (200 + (x + y)) % 256,
            )
        )
        for y in range(height)
    )
    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    return "data:image/png;base64," + base64.b64encode(png).decode()
