"""Publishing over HTTP, end to end: a live Vitrine, real builds (uv environments, the
schema generator), real coglet servers for versions registered by URL."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.conf import settings

from registry import archives
from registry.inference import envs
from registry.models import Build, Instance, MLModel, Prediction, Version
from tests.conftest import COG_FIXTURES, publish
from tests.factories import ModelFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.cog]

# Helpers ------------------------------------------------------------------------------


def project_copy(tmp_path: Path, base: str = "hello", **files: str | None) -> Path:
    """A fixture project copied to tmp_path, with files replaced (or removed when None)."""
    root = tmp_path / f"project-{len(list(tmp_path.glob('project-*')))}"
    shutil.copytree(COG_FIXTURES / base, root)
    for name, text in files.items():
        path = root / name.replace("__", ".")
        if text is None:
            path.unlink()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    return root


def cog_yaml(**build: Any) -> str:
    """A cog.yaml for the hello predictor with these `build` keys."""
    keys = {"python_version": "3.11", **build}
    lines = ["build:", *(f"  {key}: {json.dumps(value)}" for key, value in keys.items())]
    return "\n".join([*lines, 'predict: "predict.py:Predictor"', ""])


def push(server: str, token: str | None, model: str, archive: bytes) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(
        f"{server}/v1/models/{model}/versions",
        files={"source": ("project.tar.gz", archive, "application/gzip")},
        headers=headers,
        timeout=300,
    )


def get(server: str, token: str, path: str) -> httpx.Response:
    return httpx.get(f"{server}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=30)


def finished_build(server: str, token: str, build_id: str) -> dict[str, Any]:
    """The build as GET /v1/builds/{id} shows it once it has ended."""
    deadline = time.monotonic() + 300
    while True:
        response = get(server, token, f"/v1/builds/{build_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["status"] in ("succeeded", "failed") or time.monotonic() > deadline:
            return body
        time.sleep(0.1)


def pushed_build(server: str, token: str, model: str, root: Path) -> dict[str, Any]:
    """Push a project and return its build once it has ended."""
    response = push(server, token, model, archives.pack(root))
    assert response.status_code == 202, response.text
    return finished_build(server, token, response.json()["id"])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running_cog_server(version: Version, workdir: Path) -> Iterator[str]:
    """A coglet server started by the test itself (as `docker run` would elsewhere), from a
    copy of a built version's project folder and environment; stopped on the way out."""
    shutil.copytree(Path(settings.DATA_DIR) / "versions" / version.id, workdir)
    env = Path(settings.VITRINE_ENVS_DIR) / version.cog_config["env"]
    port = free_port()
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "VITRINE_", "PYTHON"))
    }
    environment.update(
        # coglet starts its worker as `python` from PATH: the environment's must come first.
        PATH=f"{env / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        VIRTUAL_ENV=str(env),
        PORT=str(port),
        COG_PREDICT_TYPE_STUB="predict.py:Predictor",
        COG_MAX_CONCURRENCY="1",
    )
    log = (workdir.parent / f"coglet-{port}.log").open("wb")
    process = subprocess.Popen(
        [str(env / "bin" / "python"), "-m", "cog.server.http", "--host", "127.0.0.1"],
        cwd=workdir,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (workdir.parent / f"coglet-{port}.log").read_text()
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/health-check", timeout=1).json()["status"] == "READY":
                    break
            assert time.monotonic() < deadline, "coglet did not become ready"
            time.sleep(0.05)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


@pytest.fixture
def hello_model(user: Any) -> MLModel:
    return ModelFactory(owner=user.owner, name="greeter")


# Publishing a project ----------------------------------------------------------------


def test_publishing_answers_202_with_the_build_and_where_to_follow_it(
    cog_live: Any, token: str, hello_model: MLModel
) -> None:
    response = push(cog_live.url, token, "alice/greeter", archives.pack(COG_FIXTURES / "hello"))
    assert response.status_code == 202
    body = response.json()
    assert {"id", "status", "logs", "version", "urls"} <= set(body)
    assert body["model"] == "alice/greeter"
    assert body["kind"] == "source"
    assert response.headers["Location"] == f"{cog_live.url}/v1/builds/{body['id']}"
    assert body["urls"]["get"] == f"{cog_live.url}/v1/builds/{body['id']}"
    assert body["urls"]["stream"] == f"{cog_live.url}/v1/builds/{body['id']}/stream"


def test_a_finished_build_shows_its_logs_and_the_version_with_cogs_schema(
    cog_live: Any, token: str, hello_model: MLModel, tmp_path: Path, settings: Any
) -> None:
    settings.VITRINE_ENVS_DIR = tmp_path / "envs"  # a new environment, so uv really runs
    build = pushed_build(cog_live.url, token, "alice/greeter", COG_FIXTURES / "hello")
    assert build["status"] == "succeeded", build["logs"]
    assert build["error"] is None
    version_id = build["version"]
    assert version_id and len(version_id) == 64
    logs = build["logs"]
    assert "cog.yaml: Python 3.11, predict predict.py:Predictor" in logs
    assert re.search(r"^\$ \S*uv venv --relocatable --python ", logs, re.MULTILINE)
    assert re.search(r"^\$ \S*uv pip install --compile-bytecode .* cog==0\.23\.1", logs, re.M)
    assert re.search(r"^ \+ coglet==0\.23\.1$", logs, re.MULTILINE)  # uv's own output
    assert "Environment ready in" in logs
    assert "Reading the predictor's signature from predict.py:Predictor" in logs
    assert f"Published version {version_id}." in logs
    assert build["completed_at"] and build["metrics"]["build_time"] > 0
    assert build["urls"]["version"].endswith(f"/v1/models/alice/greeter/versions/{version_id}")

    version = get(cog_live.url, token, f"/v1/models/alice/greeter/versions/{version_id}").json()
    assert version["cog_version"] == "0.23.1"
    schema = version["openapi_schema"]
    assert schema["openapi"] == "3.0.2"
    properties = schema["components"]["schemas"]["Input"]["properties"]
    # PostgreSQL's jsonb keeps keys in its own order: x-order is what says the signature's.
    in_order = sorted(properties, key=lambda name: properties[name]["x-order"])
    assert in_order == ["text", "repeat", "style", "sleep"]
    assert sorted(p["x-order"] for p in properties.values()) == [0, 1, 2, 3]
    assert properties["text"] == {
        "description": "Who to greet",
        "title": "Text",
        "type": "string",
        "x-order": 0,
    }
    assert properties["repeat"]["minimum"] == 1 and properties["repeat"]["maximum"] == 5
    assert properties["style"]["allOf"] == [{"$ref": "#/components/schemas/style"}]
    assert schema["components"]["schemas"]["style"]["enum"] == ["plain", "shout"]
    assert schema["components"]["schemas"]["Input"]["required"] == ["text"]

    model = httpx.get(f"{cog_live.url}/v1/models/alice/greeter", timeout=30).json()
    assert model["latest_version"]["id"] == version_id
    # The build is listed for its model, newest first.
    listed = get(cog_live.url, token, "/v1/models/alice/greeter/builds").json()["results"]
    assert [b["id"] for b in listed] == [build["id"]]


def test_pushing_the_same_project_again_gives_the_same_version(
    cog_live: Any, token: str, hello_model: MLModel, tmp_path: Path
) -> None:
    first = pushed_build(cog_live.url, token, "alice/greeter", COG_FIXTURES / "hello")
    # The same files elsewhere, touched later: the archive and so the version are the same.
    again = project_copy(tmp_path)
    os.utime(again / "predict.py", (2_000_000_000, 2_000_000_000))
    second = pushed_build(cog_live.url, token, "alice/greeter", again)
    assert second["status"] == "succeeded"
    assert second["id"] != first["id"]
    assert second["version"] == first["version"]
    assert Version.objects.filter(model=hello_model).count() == 1


def test_a_changed_predictor_gives_a_new_latest_version(
    cog_live: Any, token: str, hello_model: MLModel, tmp_path: Path
) -> None:
    first = pushed_build(cog_live.url, token, "alice/greeter", COG_FIXTURES / "hello")
    changed = project_copy(tmp_path)
    text = (changed / "predict.py").read_text().replace("Who to greet", "Whom to greet")
    (changed / "predict.py").write_text(text)
    second = pushed_build(cog_live.url, token, "alice/greeter", changed)
    assert second["status"] == "succeeded"
    assert second["version"] != first["version"]
    hello_model.refresh_from_db()
    assert hello_model.latest_version_id == second["version"]
    schema = Version.objects.get(pk=second["version"]).openapi_schema
    assert schema["components"]["schemas"]["Input"]["properties"]["text"]["description"] == (
        "Whom to greet"
    )


def test_the_same_project_in_another_model_is_another_version(
    cog_live: Any, token: str, user: Any
) -> None:
    ModelFactory(owner=user.owner, name="one")
    ModelFactory(owner=user.owner, name="two")
    one = pushed_build(cog_live.url, token, "alice/one", COG_FIXTURES / "hello")
    two = pushed_build(cog_live.url, token, "alice/two", COG_FIXTURES / "hello")
    assert one["version"] != two["version"]


def sse_events(response: httpx.Response) -> list[tuple[str, str]]:
    events, name, data = [], "", []
    for line in response.iter_lines():
        if line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
        elif line == "" and name:
            events.append((name, "\n".join(data)))
            name, data = "", []
    return events


def test_the_build_stream_ends_with_done_carrying_the_version(
    cog_live: Any, token: str, hello_model: MLModel
) -> None:
    build = pushed_build(cog_live.url, token, "alice/greeter", COG_FIXTURES / "hello")
    with httpx.stream(
        "GET",
        build["urls"]["stream"],
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = sse_events(response)
    assert events[-1] == ("done", json.dumps({"status": "succeeded", "version": build["version"]}))
    logs = "\n".join(data for name, data in events if name == "logs")
    assert f"Published version {build['version']}." in logs
    assert "error" not in [name for name, _ in events]


def test_a_failed_builds_stream_says_why_before_done(
    cog_live: Any, token: str, hello_model: MLModel, tmp_path: Path
) -> None:
    root = project_copy(tmp_path, cog__yaml=cog_yaml(python_version="3.99"))
    build = pushed_build(cog_live.url, token, "alice/greeter", root)
    with httpx.stream(
        "GET", build["urls"]["stream"], headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as response:
        events = sse_events(response)
    assert [name for name, _ in events][-2:] == ["error", "done"]
    assert "Python 3.99" in json.loads(events[-2][1])["detail"]
    assert json.loads(events[-1][1]) == {"status": "failed", "version": None}


BROKEN_PREDICTORS = {
    "syntax": "from cog import BasePredictor\n\nclass Predictor(BasePredictor):\n"
    "    def predict(self, text: str) -> str\n        return text\n",
    "missing package": "import definitely_not_installed_pkg\nfrom cog import BasePredictor\n\n"
    "class Predictor(BasePredictor):\n    def predict(self, text: str) -> str:\n"
    "        return text\n",
}


@pytest.mark.parametrize(
    ("files", "reason"),
    [
        (
            {"predict.py": BROKEN_PREDICTORS["syntax"]},
            "The predictor does not import: SyntaxError: expected ':'",
        ),
        (
            {"predict.py": BROKEN_PREDICTORS["missing package"]},
            "No module named 'definitely_not_installed_pkg'",
        ),
        (
            {"cog.yaml": 'predict: "predict.py:Nope"\n'},
            "The predictor class is missing or is not a predictor: cog_schema: predictor not "
            "found: predict.Nope",
        ),
        ({"cog.yaml": cog_yaml(gpu=True)}, "build.gpu: true"),
        (
            {"cog.yaml": cog_yaml(system_packages=["definitely-not-a-package"])},
            "system packages that this host lacks: definitely-not-a-package",
        ),
        (
            {"cog.yaml": cog_yaml(python_version="3.99")},
            "Python 3.99 (build.python_version) is not installed on this host",
        ),
        ({"predict.py": None}, "predict names 'predict.py', which is not in the project"),
    ],
    ids=[
        "syntax-error",
        "missing-package",
        "missing-class",
        "gpu",
        "system-package",
        "python-version",
        "no-predict-py",
    ],
)
def test_a_broken_project_fails_its_build_with_the_reason_and_makes_no_version(
    cog_live: Any,
    token: str,
    hello_model: MLModel,
    tmp_path: Path,
    files: dict[str, str | None],
    reason: str,
    settings: Any,
) -> None:
    settings.VITRINE_GPU = False  # this host has none, whatever the environment says
    settings.VITRINE_APT_INSTALL = False
    root = project_copy(tmp_path, **{k.replace(".", "__"): v for k, v in files.items()})
    build = pushed_build(cog_live.url, token, "alice/greeter", root)
    assert build["status"] == "failed"
    assert reason in build["error"]
    assert f"Build failed: {build['error']}" in build["logs"]
    assert build["version"] is None
    assert not Version.objects.exists()
    # Its scratch folder is gone too.
    assert not list((Path(settings.DATA_DIR) / "builds").glob(f"build-{build['id']}-*"))
    hello_model.refresh_from_db()
    assert hello_model.latest_version_id is None


def test_a_python_too_old_for_cog_fails_with_a_reason_naming_the_python(
    cog_live: Any, token: str, hello_model: MLModel, tmp_path: Path
) -> None:
    # Where Python 3.7 exists (pyenv has it on CI machines) uv says cog 0.23 needs 3.10+;
    # elsewhere the build stops earlier, at finding the interpreter.
    root = project_copy(tmp_path, cog__yaml=cog_yaml(python_version="3.7"))
    build = pushed_build(cog_live.url, token, "alice/greeter", root)
    assert build["status"] == "failed"
    assert not Version.objects.exists()
    if envs.find_python("3.7"):
        assert "current Python version (3.7" in build["error"]
        assert "cog==0.23.1 depends on Python>=3.10" in build["error"]
    else:
        assert "Python 3.7 (build.python_version) is not installed" in build["error"]


def test_a_python_requirements_file_is_installed_into_the_model(
    cog_live: Any, token: str, user: Any, replicate_client: Any
) -> None:
    ModelFactory(owner=user.owner, name="sixer")
    build = pushed_build(cog_live.url, token, "alice/sixer", COG_FIXTURES / "requirements")
    assert build["status"] == "succeeded", build["logs"]
    output = replicate_client.run(f"alice/sixer:{build['version']}", input={"text": "hi"})
    assert output == "hi via six 1.17.0"


# Uploads refused before any build ----------------------------------------------------


def invalid_fields(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return {f["field"]: f["description"] for f in response.json()["invalid_fields"]}


# Unsafe archives and broken cog.yaml files are refused at upload, before any build:
# tests/registry/api/test_hostile_input.py.


def test_an_oversized_upload_is_a_413(
    cog_live: Any, token: str, hello_model: MLModel, settings: Any
) -> None:
    archive = archives.pack(COG_FIXTURES / "hello")
    settings.VITRINE_MAX_SOURCE_BYTES = len(archive) - 1
    response = push(cog_live.url, token, "alice/greeter", archive)
    assert response.status_code == 413
    assert response.json()["title"] == "Payload too large"
    assert f"the limit is {len(archive) - 1}" in response.json()["detail"]
    assert not Build.objects.exists()
    settings.VITRINE_MAX_SOURCE_BYTES = len(archive)
    assert push(cog_live.url, token, "alice/greeter", archive).status_code == 202


def test_publishing_needs_a_token(cog_live: Any, hello_model: MLModel) -> None:
    response = push(cog_live.url, None, "alice/greeter", archives.pack(COG_FIXTURES / "hello"))
    assert response.status_code == 401
    assert not Build.objects.exists()


def test_publishing_to_someone_elses_public_model_is_forbidden(
    cog_live: Any, make_token: Any, hello_model: MLModel
) -> None:
    mallory = make_token(UserFactory(username="mallory"))
    response = push(cog_live.url, mallory, "alice/greeter", archives.pack(COG_FIXTURES / "hello"))
    assert response.status_code == 403
    assert not Build.objects.exists()


def test_publishing_to_someone_elses_private_model_is_not_found(
    cog_live: Any, make_token: Any, user: Any
) -> None:
    ModelFactory(owner=user.owner, name="secret", visibility=MLModel.Visibility.PRIVATE)
    mallory = make_token(UserFactory(username="mallory"))
    response = push(cog_live.url, mallory, "alice/secret", archives.pack(COG_FIXTURES / "hello"))
    assert response.status_code == 404
    assert not Build.objects.exists()


def test_someone_elses_builds_are_not_found(
    cog_live: Any, token: str, make_token: Any, hello_model: MLModel
) -> None:
    build = pushed_build(cog_live.url, token, "alice/greeter", COG_FIXTURES / "hello")
    mallory = make_token(UserFactory(username="mallory"))
    assert get(cog_live.url, mallory, f"/v1/builds/{build['id']}").status_code == 404
    assert get(cog_live.url, mallory, f"/v1/builds/{build['id']}/stream").status_code == 404


def test_publishing_needs_a_source_or_a_cog_url(
    cog_live: Any, token: str, hello_model: MLModel
) -> None:
    response = httpx.post(
        f"{cog_live.url}/v1/models/alice/greeter/versions",
        json={},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert "either a .tar.gz project as `source` or `cog_url`" in invalid_fields(response)["source"]
    assert not Build.objects.exists()


# Registering a running Cog server ----------------------------------------------------


def register(server: str, token: str, model: str, **body: Any) -> dict[str, Any]:
    response = httpx.post(
        f"{server}/v1/models/{model}/versions",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    assert response.status_code == 202, response.text
    return finished_build(server, token, response.json()["id"])


def test_a_running_cog_server_registered_by_url_serves_predictions(
    cog_live: Any, token: str, user: Any, replicate_client: Any, tmp_path: Path
) -> None:
    built = publish(ModelFactory(owner=user.owner, name="hello"), "hello", user)
    ModelFactory(owner=user.owner, name="remote")
    with running_cog_server(built, tmp_path / "server") as url:
        build = register(cog_live.url, token, "alice/remote", cog_url=url)
        assert build["status"] == "succeeded", build["logs"]
        assert build["kind"] == "cog_url"
        assert f"Registering Cog server(s): {url}" in build["logs"]
        assert f"{url}: READY" in build["logs"]
        version = Version.objects.get(pk=build["version"])
        assert version.cog_urls == [url]
        assert version.openapi_schema == httpx.get(f"{url}/openapi.json").json()
        assert version.openapi_schema == built.openapi_schema
        assert version.cog_version == "0.23.1"

        output = replicate_client.run(
            f"alice/remote:{version.id}", input={"text": "Eve", "style": "shout"}
        )
        assert output == "HELLO EVE"
        prediction = Prediction.objects.get(version=version)
        assert prediction.status == "succeeded"
        assert "greeting Eve" in prediction.logs
        # It ran on the registered server: Vitrine started no process of its own for it.
        assert prediction.instance is not None and prediction.instance.url == url
        assert prediction.instance.kind == Instance.Kind.URL
        assert not Instance.objects.filter(version=version, kind=Instance.Kind.PROCESS).exists()

        again = register(cog_live.url, token, "alice/remote", cog_urls=[url + "/"])
        assert again["version"] == version.id  # same server, same schema: same version


def test_an_unreachable_cog_url_fails_the_build_with_the_reason(
    cog_live: Any, token: str, hello_model: MLModel
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    build = register(cog_live.url, token, "alice/greeter", cog_url=url)
    assert build["status"] == "failed"
    assert f"Could not read the Cog server at {url}" in build["error"]
    assert not Version.objects.exists()


@pytest.mark.parametrize("url", ["ftp://example.com", "not a url", "http://"])
def test_a_cog_url_must_be_an_http_url(
    cog_live: Any, token: str, hello_model: MLModel, url: str
) -> None:
    response = httpx.post(
        f"{cog_live.url}/v1/models/alice/greeter/versions",
        json={"cog_url": url},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert "cog_url" in invalid_fields(response)
    assert not Build.objects.exists()


def test_a_cog_url_may_name_a_compose_service(
    cog_live: Any, token: str, hello_model: MLModel
) -> None:
    response = httpx.post(
        f"{cog_live.url}/v1/models/alice/greeter/versions",
        json={"cog_url": "http://hello-model:5000"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    assert response.status_code == 202, response.text
