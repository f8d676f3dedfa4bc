from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry import search
from tests.factories import CollectionFactory, add_to_collection
from tests.registry.search.helpers import MakeModel

pytestmark = pytest.mark.django_db


def query(api: Any, text: str, path: str = "/v1/models", **extra: Any) -> Any:
    return api.generic("QUERY", path, text.encode(), content_type="text/plain", **extra)


# QUERY /v1/models ---------------------------------------------------------------------


def test_query_models_answers_a_page_of_models_like_the_list(
    api: Any, make_model: MakeModel
) -> None:
    make_model("openai/whisper", "Speech recognition", signature="audio-to-text")
    make_model("stability-ai/sdxl", "Text to image")
    response = query(api, "speech to text")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"next", "previous", "results"}
    assert (body["next"], body["previous"]) == (None, None)
    [model] = body["results"]
    assert (model["owner"], model["name"]) == ("openai", "whisper")
    assert model["latest_version"]["openapi_schema"]["components"]
    assert model["url"] == "http://testserver/openai/whisper"


def test_query_models_pages_with_cursors_to_query_again(api: Any, make_model: MakeModel) -> None:
    for i in range(5):
        make_model(f"a/tool-{i}", "A handy tool", runs=i)
    first = query(api, "tool", "/v1/models?page_size=2").json()
    assert len(first["results"]) == 2 and first["previous"] is None
    assert first["next"].startswith("http://testserver/v1/models?")
    second = query(api, "tool", first["next"]).json()
    third = query(api, "tool", second["next"]).json()
    assert third["next"] is None
    assert second["previous"] == "http://testserver/v1/models?page_size=2"
    seen = [m["name"] for page in (first, second, third) for m in page["results"]]
    assert sorted(seen) == [f"tool-{i}" for i in range(5)]
    assert seen[0] == "tool-4"  # most run first among equals


def test_query_models_takes_filters_in_the_text(api: Any, make_model: MakeModel) -> None:
    make_model("a/caption", "Describe", signature="image-to-text")
    make_model("a/paint", "Draw", signature="text-to-image")
    names = [m["name"] for m in query(api, "input:image output:text").json()["results"]]
    assert names == ["caption"]


def test_query_models_hides_private_models_from_others(
    api: Any, make_model: MakeModel, user: Any, token: str
) -> None:
    make_model("alice/secret-notes", visibility="private")
    assert query(api, "notes").json()["results"] == []
    mine = query(api, "notes", HTTP_AUTHORIZATION=f"Bearer {token}").json()["results"]
    assert [m["name"] for m in mine] == ["secret-notes"]


def test_query_models_rejects_a_bad_cursor_and_an_unknown_kind(api: Any) -> None:
    bad_cursor = query(api, "x", "/v1/models?cursor=nonsense!")
    assert bad_cursor.status_code == 422
    assert bad_cursor["Content-Type"] == "application/problem+json"
    unknown = query(api, "input:picture")
    assert unknown.status_code == 422
    assert unknown.json()["invalid_fields"][0]["field"] == "input"


def test_query_models_takes_the_same_number_of_queries_for_2_and_20_results(
    api: Any, make_model: MakeModel, token: str
) -> None:
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = query(api, "tool", HTTP_AUTHORIZATION=f"Bearer {token}")
            assert response.status_code == 200
        return len(ctx.captured_queries)

    for i in range(2):
        make_model(f"a/tool-{i}", "A tool", tags=["util"])
    count()
    few = count()
    for i in range(2, 20):
        make_model(f"a/tool-{i}", "A tool", tags=["util"])
    assert count() == few
    # token, owners of the viewer, known word?, table size, hits, models, tags
    assert few <= 7


# GET /v1/search -----------------------------------------------------------------------


def test_search_answers_in_replicates_shape_with_metadata(api: Any, make_model: MakeModel) -> None:
    model = make_model(
        "openai/whisper", "Speech recognition", tags=["audio"], signature="audio-to-text"
    )
    add_to_collection(CollectionFactory(slug="speech", name="Speech tools"), model)
    search.index_model(model.pk)
    body = api.get("/v1/search", {"query": "speech"}).json()
    assert body["query"] == "speech"
    [hit] = body["models"]
    assert hit["model"]["owner"] == "openai" and hit["model"]["name"] == "whisper"
    assert hit["metadata"]["score"] > 0
    assert hit["metadata"]["tags"] == ["audio"]
    assert (hit["metadata"]["input_kinds"], hit["metadata"]["output_kinds"]) == (
        ["audio"],
        ["text"],
    )
    assert body["collections"] == [
        {
            "name": "Speech tools",
            "slug": "speech",
            "description": "Models about Speech tools",
            "models": ["openai/whisper"],
        }
    ]
    assert body["pages"] == []
    assert body["total"] == 1
    assert body["facets"]["tag"] == [{"value": "audio", "count": 1}]
    assert body["facets"]["input"] == [{"value": "audio", "count": 1}]
    assert body["facets_approximate"] is False  # one match: counted exactly
    assert body["sort"] == "relevance" and body["next"] is None


def test_search_takes_repeatable_filters_and_a_sort(api: Any, make_model: MakeModel) -> None:
    make_model("a/one", tags=["vision"], runs=5)
    make_model("b/two", tags=["audio"], runs=50)
    make_model("c/three", tags=["llm"], runs=500)
    response = api.get("/v1/search?tag=vision&tag=audio&sort=run_count")
    body = response.json()
    assert [m["model"]["name"] for m in body["models"]] == ["two", "one"]
    assert body["filters"] == {"tag": ["vision", "audio"]}
    assert {f["value"] for f in body["facets"]["tag"]} == {"vision", "audio", "llm"}


def test_search_pages_with_limit_and_offset(api: Any, make_model: MakeModel) -> None:
    for i in range(3):
        make_model(f"a/tool-{i}", "A handy tool")
    first = api.get("/v1/search", {"query": "tool", "limit": 2}).json()
    assert len(first["models"]) == 2 and first["total"] == 3
    rest = api.get(first["next"]).json()
    assert len(rest["models"]) == 1 and rest["next"] is None


def test_search_rejects_bad_parameters_with_a_problem(api: Any) -> None:
    for params, field in [
        ({"limit": 0}, "limit"),
        ({"sort": "stars"}, "sort"),
        ({"output": "picture"}, "output"),
    ]:
        response = api.get("/v1/search", params)
        assert response.status_code == 422, params
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["invalid_fields"][0]["field"] == field


def test_search_counts_never_include_private_models_of_others(
    api: Any, make_model: MakeModel, other_user: Any, make_token: Any
) -> None:
    make_model("acme/hidden", "A tool", tags=["secret"], visibility="private")
    make_model("a/open", "A tool", tags=["util"])
    body = api.get(
        "/v1/search",
        {"query": "tool"},
        HTTP_AUTHORIZATION=f"Bearer {make_token(other_user)}",
    ).json()
    assert body["total"] == 1
    assert body["facets"]["tag"] == [{"value": "util", "count": 1}]
    assert [f["value"] for f in body["facets"]["owner"]] == ["a"]


def test_search_takes_the_same_number_of_queries_for_2_and_20_results(
    api: Any, make_model: MakeModel
) -> None:
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert api.get("/v1/search", {"query": "tool"}).status_code == 200
        return len(ctx.captured_queries)

    collection = CollectionFactory(slug="tool-box", name="Tool box")
    for i in range(2):
        add_to_collection(collection, make_model(f"a/tool-{i}", "A tool", tags=["util"]))
    few = count()
    for i in range(2, 20):
        make_model(f"a/tool-{i}", "A tool", tags=["util"])
    assert count() == few
    # known word?, table size, hits, facets (+ cache key), models, tags, collections,
    # their models
    assert few <= 9


def test_the_replicate_client_searches_with_query(
    replicate_client: Any, make_model: MakeModel
) -> None:
    make_model("openai/whisper", "Speech recognition", signature="audio-to-text")
    page = replicate_client.models.search("speech to text")
    assert [(m.owner, m.name) for m in page.results] == [("openai", "whisper")]
    assert page.results[0].latest_version.openapi_schema["components"]


def test_the_openapi_document_describes_search(api: Any) -> None:
    document = api.get("/v1/openapi.json").json()
    assert "/v1/search" in document["paths"]
    assert "query" not in document["paths"]["/v1/models"]
