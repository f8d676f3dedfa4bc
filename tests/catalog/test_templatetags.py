"""Template filters: run counts, freshness, durations, covers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.templatetags import catalog_tags
from registry.models import MLModel, Owner


@pytest.mark.parametrize(
    ("count", "text"),
    [
        (0, "0 runs"),
        (1, "1 run"),
        (2, "2 runs"),
        (999, "999 runs"),
        (1000, "1K runs"),
        (1234, "1.2K runs"),
        (1299, "1.2K runs"),
        (12_345, "12.3K runs"),
        (123_456, "123K runs"),
        (999_999, "999K runs"),
        (1_000_000, "1M runs"),
        (1_250_000, "1.2M runs"),
        (3_400_000_000, "3.4B runs"),
        (None, "0 runs"),
        ("17", "17 runs"),
    ],
)
def test_run_counts_read_like_replicates(count: object, text: str) -> None:
    assert catalog_tags.runs(count) == text


def test_compact_numbers_keep_their_sign_and_ignore_junk() -> None:
    assert catalog_tags.compact_number(-1500) == "-1.5K"
    assert catalog_tags.compact_number("junk") == ""


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(seconds=5), "just now"),
        (timedelta(minutes=5, seconds=3), "5 minutes ago"),
        (timedelta(days=3, hours=4), "3 days ago"),
        (timedelta(days=400), "1 year ago"),
    ],
)
def test_freshness_names_the_largest_unit(delta: timedelta, text: str) -> None:
    # Django puts a no-break space between number and unit.
    assert catalog_tags.ago(timezone.now() - delta).replace("\xa0", " ") == text


def test_freshness_of_nothing_is_empty() -> None:
    assert catalog_tags.ago(None) == ""


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.4213, "0.42s"), (3.14, "3.1s"), (42, "42s"), (125, "2m 5s"), (7300, "2h 1m"), ("x", "")],
)
def test_durations_are_short(value: object, text: str) -> None:
    assert catalog_tags.seconds(value) == text


def test_a_model_without_cover_gets_its_own_placeholder_and_initials() -> None:
    owner = Owner(username="acme")
    first = MLModel(owner=owner, name="super-resolution")
    second = MLModel(owner=owner, name="whisper")
    assert catalog_tags.cover_url(first) == ""
    assert catalog_tags.placeholder_style(first) != catalog_tags.placeholder_style(second)
    assert catalog_tags.placeholder_style(first) == catalog_tags.placeholder_style(
        MLModel(owner=owner, name="super-resolution")
    )
    assert catalog_tags.initials(first) == "SR"
    assert catalog_tags.initials(second) == "W"


def test_an_external_cover_is_used_when_none_is_uploaded() -> None:
    model = MLModel(owner=Owner(username="a"), name="b", cover_image_url="https://x/c.png")
    assert catalog_tags.cover_url(model) == "https://x/c.png"
