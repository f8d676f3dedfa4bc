"""Search and browse: text, filters, sorts, visibility — and the explore rows."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.http import QueryDict
from django.utils import timezone

from catalog.browse import BrowseQuery, browse, explore
from registry import search
from registry.models import SearchDocument, Tag
from registry.search import sync
from tests.factories import (
    CollectionFactory,
    ModelFactory,
    VersionFactory,
    add_to_collection,
    cog_schema,
)

pytestmark = pytest.mark.django_db


def names(query: BrowseQuery, user: Any = None) -> list[str]:
    return [m.name for m in browse(query, user=user).models]


def params(text: str) -> BrowseQuery:
    return BrowseQuery.from_params(QueryDict(text))


def test_the_query_reads_every_filter_from_the_url_and_writes_it_back() -> None:
    query = params(
        "q=cat&owner=acme&tag=vision&collection=c&input=image&output=text&hardware=cpu&sort=runs"
    )
    assert query.as_dict() == {
        "q": "cat", "owner": "acme", "tag": "vision", "collection": "c", "input": "image",
        "output": "text", "hardware": "cpu", "sort": "runs",
    }  # fmt: skip
    assert params(query.params()) == query
    assert "tag" not in query.params(tag="")


def test_unknown_sorts_and_kinds_fall_back_to_defaults() -> None:
    assert params("sort=stars").sort == "trending"
    assert params("q=x&sort=stars").sort == "relevance"
    assert params("sort=relevance").sort == "trending"  # nothing to be relevant to
    assert params("input=hologram").input == ""


def test_active_filters_link_to_the_same_search_without_them() -> None:
    query = params("q=cat&tag=vision&owner=acme")
    labels = [(label, value) for label, value, _ in query.active_filters]
    assert labels == [("Owner", "acme"), ("Tag", "vision")]
    assert params(query.active_filters[1][2]) == params("q=cat&owner=acme")


def test_text_search_uses_the_search_backend_and_filters_narrow_it(user: Any) -> None:
    cat = ModelFactory(name="cat-detector", owner=user.owner, hardware_id="gpu-t4")
    ModelFactory(name="cat-painter")
    ModelFactory(name="dog-detector")
    assert sorted(names(params("q=cat"))) == ["cat-detector", "cat-painter"]
    assert names(params("q=cat&owner=alice")) == ["cat-detector"]
    assert names(params("q=cat&hardware=gpu-t4")) == [cat.name]


def test_tag_and_collection_filters(user: Any) -> None:
    tagged = ModelFactory(name="tagged")
    tagged.tags.add(Tag.objects.create(name="vision"))
    collected = ModelFactory(name="collected")
    add_to_collection(CollectionFactory(slug="picks"), collected)
    ModelFactory(name="plain")
    assert names(params("tag=Vision")) == ["tagged"]
    assert names(params("collection=picks")) == ["collected"]


def test_input_and_output_kinds_come_from_the_latest_schema() -> None:
    VersionFactory(model=ModelFactory(name="greeter"), openapi_schema=cog_schema("hello"))
    VersionFactory(model=ModelFactory(name="listener"), openapi_schema=cog_schema("whisper"))
    VersionFactory(
        model=ModelFactory(name="painter", description="Text to image"),
        openapi_schema=cog_schema("sdxl"),
    )
    ModelFactory(name="versionless")
    assert names(params("input=audio")) == ["listener"]
    assert names(params("output=image")) == ["painter"]
    # Whisper also takes text (an optional prompt) and returns text among its fields.
    assert sorted(names(params("input=text&output=text"))) == ["greeter", "listener"]
    assert names(params("input=audio&output=text")) == ["listener"]
    assert sorted(names(params("input=number"))) == ["greeter", "listener", "painter"]


def test_sorts_by_runs_freshness_and_trending() -> None:
    now = timezone.now()
    old_hit = ModelFactory(name="old-hit", run_count=1000)
    old_hit.latest_version_created_at = now - timedelta(days=300)
    old_hit.save()
    fresh = ModelFactory(name="fresh", run_count=5)
    fresh.latest_version_created_at = now - timedelta(hours=1)
    fresh.save()
    warm = ModelFactory(name="warm", run_count=50)
    warm.latest_version_created_at = now - timedelta(days=2)
    warm.save()
    # Saved behind the services' back: tell search, as the admin does.
    search.index_models([old_hit.pk, fresh.pk, warm.pk])
    assert names(params("sort=runs")) == ["old-hit", "warm", "fresh"]
    assert names(params("sort=updated")) == ["fresh", "warm", "old-hit"]
    # Trending: runs in the last 7 days, whatever the all-time count.
    for _ in range(3):
        search.record_run(warm.pk)
    search.record_run(fresh.pk)
    search.record_run(old_hit.pk, when=now - timedelta(days=30))
    sync.refresh_popularity()
    assert names(params("sort=trending"))[:2] == ["warm", "fresh"]


def test_explore_trending_is_last_weeks_runs_then_all_time_runs_and_never_private(
    user: Any,
) -> None:
    now = timezone.now()
    old_hit = ModelFactory(name="old-hit", run_count=1000)
    warm = ModelFactory(name="warm", run_count=50)
    fresh = ModelFactory(name="fresh", run_count=5)
    secret = ModelFactory(name="secret", owner=user.owner, visibility="private", run_count=9)
    search.index_models([old_hit.pk, warm.pk, fresh.pk, secret.pk])
    unindexed = ModelFactory(name="unindexed", run_count=20)  # the newest
    SearchDocument.objects.filter(pk=unindexed.pk).delete()  # not indexed yet
    for _ in range(3):
        search.record_run(warm.pk)
    search.record_run(fresh.pk)
    for _ in range(5):
        search.record_run(secret.pk)
    search.record_run(old_hit.pk, when=now - timedelta(days=30))
    sync.refresh_popularity()

    anonymous = [m.name for m in explore(user=None, per_row=4).trending]
    assert anonymous == ["warm", "fresh", "old-hit", "unindexed"]
    assert [m.name for m in explore(user=user, per_row=2).trending] == ["secret", "warm"]


def test_relevance_keeps_the_search_backends_order() -> None:
    ModelFactory(name="llama-small", run_count=1)
    ModelFactory(name="llama-large", run_count=99)
    assert names(params("q=llama")) == ["llama-large", "llama-small"]


def test_private_models_are_found_only_by_their_owners(user: Any, other_user: Any) -> None:
    ModelFactory(name="secret-cat", owner=user.owner, visibility="private")
    ModelFactory(name="public-cat")
    assert names(params("q=cat"), other_user) == ["public-cat"]
    assert names(params("q=cat")) == ["public-cat"]
    assert sorted(names(params("q=cat"), user)) == ["public-cat", "secret-cat"]
    assert names(params("owner=alice"), other_user) == []


def test_explore_rows_hold_featured_collections_trending_and_recent(user: Any) -> None:
    featured = ModelFactory(name="star", featured=True)
    shelf = CollectionFactory(slug="shelf", name="Shelf")
    models = [ModelFactory(name=f"m{i}") for i in range(10)]
    add_to_collection(shelf, *models)
    CollectionFactory(slug="empty-shelf")
    secret = ModelFactory(name="secret", owner=user.owner, visibility="private", featured=True)
    page = explore(user=None, per_row=8)
    assert [m.name for m in page.featured] == ["star"]
    assert [row.collection.slug for row in page.collections] == ["shelf"]
    assert [m.name for m in page.collections[0].models] == [f"m{i}" for i in range(8)]
    assert len(page.trending) == 8 and len(page.recent) == 8
    assert secret not in explore(user=None).featured
    assert secret in explore(user=user).featured
    assert featured in explore(user=user).featured


def test_filter_menus_mark_estimated_counts() -> None:
    from catalog.browse import _menus

    counts = {"input": [("image", 1200)]}
    assert ("image", "image (~1200)") in _menus(counts, approximate=True)["input"]
    assert ("image", "image (1200)") in _menus(counts)["input"]


@pytest.mark.parametrize("path", ["/search?q=detector", "/models?input=image"])
def test_the_search_page_takes_as_many_queries_for_many_cards_as_for_one(
    client: Any, django_assert_max_num_queries: Any, path: str
) -> None:
    """Cards load only the columns they show (registry.selectors.CARD_COLUMNS): a
    field read beyond them would be a query per card."""

    def card(i: int) -> None:
        model = ModelFactory(name=f"detector-{i}", cover_image_url=f"https://x.test/{i}.png")
        VersionFactory(model=model, openapi_schema=cog_schema("sdxl"))
        search.index_models([model.pk])

    card(0)
    with django_assert_max_num_queries(50) as one:
        assert client.get(path).status_code == 200
    for i in range(1, 6):
        card(i)
    with django_assert_max_num_queries(len(one)):
        page = client.get(path).content.decode()
    assert page.count('class="card"') == 6 and "https://x.test/5.png" in page
