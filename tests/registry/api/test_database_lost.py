"""The database connection dropped mid-request: a real Vitrine web process talks to
PostgreSQL through a TCP proxy (tests/dbproxy.py) that the test cuts at a chosen statement
of a write. The API answers 503 problem+json, pages a 503 page, and nothing half-written
stays behind: no rows, no stored files. When the database is back, so is the service."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.conf import settings
from django.db import OperationalError, connection

from registry import builds
from registry.inference.base import BuiltVersion
from registry.models import Build, File, MLModel, ModelRunDay, Prediction, SearchDocument, Version
from tests import processes
from tests.dbproxy import DatabaseProxy, database_proxy
from tests.factories import ModelFactory, VersionFactory, cog_schema

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def proxy(django_db_setup: Any, django_db_blocker: Any) -> Iterator[DatabaseProxy]:
    if connection.vendor != "postgresql":
        pytest.skip("the fault is a cut PostgreSQL connection; this run is on SQLite")
    with database_proxy() as running:
        yield running


@pytest.fixture(scope="module")
def server(proxy: DatabaseProxy, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real web process whose database connections all go through the proxy."""
    db = connection.settings_dict
    port = processes.free_port()
    url = f"http://127.0.0.1:{port}"
    env = processes.environment(
        url,
        DATABASE_URL=f"postgres://{db['USER'] or 'postgres'}@127.0.0.1:{proxy.port}/{db['NAME']}",
        DATABASE_CONN_MAX_AGE="60",  # persistent connections, as in production
    )
    web = processes.web(port, env, tmp_path_factory.mktemp("web") / "web.log").start()
    try:
        processes.wait_until_serving(url, timeout=60)
        yield url
    finally:
        web.stop()


@pytest.fixture(autouse=True)
def _database_back(proxy: DatabaseProxy) -> Iterator[None]:
    yield
    proxy.cut_at(b"\0never")
    proxy.up()


def call(server: str, token: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.request(method, f"{server}{path}", headers=headers, timeout=30, **kwargs)


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "5"
    body = response.json()
    assert body["title"] == "Service unavailable"
    assert "database is unavailable" in body["detail"]


def stored_files() -> list[str]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def everything() -> dict[str, int]:
    return {
        "models": MLModel.objects.count(),
        "documents": SearchDocument.objects.count(),
        "versions": Version.objects.count(),
        "builds": Build.objects.count(),
        "predictions": Prediction.objects.count(),
        "files": File.objects.count(),
        "run days": ModelRunDay.objects.count(),
        "runs": sum(MLModel.objects.values_list("run_count", flat=True)),
    }


def source_archive() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in ((b"cog.yaml", b'predict: "predict.py:P"\n'), (b"predict.py", b"")):
            info = tarfile.TarInfo(name.decode())
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


NEW_MODEL = {"owner": "alice", "name": "fresh", "visibility": "public", "hardware": "cpu"}
WRITES = {
    # (method, path, body, the statement cut at, cut once the server ran it)
    "model create, after its row": (
        "POST",
        "/v1/models",
        {"json": NEW_MODEL},
        b'INSERT INTO "registry_model" ',
        True,
    ),
    "model create, at its search document": (
        "POST",
        "/v1/models",
        {"json": NEW_MODEL},
        b"registry_searchdocument",
        False,
    ),
    "prediction create, after its row": (
        "POST",
        "/v1/predictions",
        {"json": {"version": "alice/hello", "input": {"text": "Alice"}}},
        b'INSERT INTO "registry_prediction" ',
        True,
    ),
    # The run counters are one statement on PostgreSQL (the model's, per day, search's).
    "prediction create, at the run counts": (
        "POST",
        "/v1/predictions",
        {"json": {"version": "alice/hello", "input": {"text": "Alice"}}},
        b"registry_modelrunday",
        False,
    ),
    "prediction create, after the run counts": (
        "POST",
        "/v1/predictions",
        {"json": {"version": "alice/hello", "input": {"text": "Alice"}}},
        b"registry_modelrunday",
        True,
    ),
    "version publish, at the build row": (
        "POST",
        "/v1/models/alice/hello/versions",
        {"files": {"source": ("p.tar.gz", source_archive(), "application/gzip")}},
        b'INSERT INTO "registry_build" ',
        False,
    ),
    "file upload, after its row": (
        "POST",
        "/v1/files",
        {"files": {"content": ("a.txt", b"some bytes", "text/plain")}},
        b'INSERT INTO "registry_file" ',
        True,
    ),
}


@pytest.mark.parametrize(
    ("method", "path", "body", "statement", "after"), WRITES.values(), ids=list(WRITES)
)
def test_a_write_cut_off_from_the_database_is_a_503_and_leaves_nothing_behind(
    server: str,
    proxy: DatabaseProxy,
    user: Any,
    token: str,
    method: str,
    path: str,
    body: dict[str, Any],
    statement: bytes,
    after: bool,
) -> None:
    VersionFactory(model=ModelFactory(owner=user.owner, name="hello"))
    before, files_before = everything(), stored_files()

    proxy.cut_at(statement, after=after)
    response = call(server, token, method, path, **body)
    assert proxy.cuts == [statement], "the write never reached the statement to cut at"
    proxy.cuts.clear()
    assert_unavailable(response)
    assert everything() == before
    assert stored_files() == files_before

    # The connection comes back by itself: the same request now goes through.
    again = call(server, token, method, path, **body)
    assert again.status_code in (201, 202), again.text
    assert everything() != before


def test_with_the_database_down_the_api_and_the_pages_say_503_and_recover(
    server: str, proxy: DatabaseProxy, user: Any, token: str
) -> None:
    ModelFactory(owner=user.owner, name="hello")
    assert httpx.get(f"{server}/alice/hello", timeout=30).status_code == 200
    proxy.down()

    assert_unavailable(call(server, token, "GET", "/v1/models"))
    assert_unavailable(call(server, token, "POST", "/v1/models", json={**NEW_MODEL, "name": "x"}))
    page = httpx.get(f"{server}/alice/hello", timeout=30)
    assert page.status_code == 503
    assert page.headers["content-type"].startswith("text/html")
    assert "Temporarily unavailable" in page.text
    assert "nothing you sent was saved" in page.text
    assert httpx.get(f"{server}/", timeout=30).status_code == 503
    assert httpx.get(f"{server}/healthz", timeout=30).status_code == 503

    proxy.up()
    assert call(server, token, "GET", "/v1/models").status_code == 200
    assert httpx.get(f"{server}/alice/hello", timeout=30).status_code == 200
    assert MLModel.objects.filter(name="x").count() == 0


def test_a_version_publish_cut_between_its_statements_leaves_no_version(
    proxy: DatabaseProxy, user: Any
) -> None:
    """Publishing happens in the build worker: here this process's own connection goes
    through the proxy, and is cut after the version row, before the model points at it."""
    model = ModelFactory(owner=user.owner, name="hello")
    build = Build.objects.create(
        model=model, created_by=user, kind=Build.Kind.COG_URL, cog_urls=["http://cog:5000"]
    )
    built = BuiltVersion(openapi_schema=cog_schema(), cog_version="0.23.1")
    direct_port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = proxy.port
    try:
        proxy.cut_at(b'UPDATE "registry_model" SET "latest_version_id"')
        with pytest.raises(OperationalError):
            builds.version_publish(build=build, built=built)
        assert proxy.cuts
    finally:
        connection.close()
        connection.settings_dict["PORT"] = direct_port
    assert not Version.objects.exists()
    model.refresh_from_db()
    assert model.latest_version_id is None
    # With the database back, the same publish makes the version.
    version = builds.version_publish(build=build, built=built)
    model.refresh_from_db()
    assert model.latest_version_id == version.id
