"""The `vitrine` console script, run as its own process against a live Vitrine."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.conf import settings

from registry.models import Build, MLModel, Version
from tests.conftest import COG_FIXTURES, publish
from tests.factories import ModelFactory
from tests.registry.runs.test_publishing import (
    cog_yaml,
    free_port,
    project_copy,
    running_cog_server,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.cog]

VITRINE = Path(sys.executable).with_name("vitrine")  # the installed console script


def vitrine(*args: str | Path, server: str, token: str | None) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("VITRINE_API_TOKEN", "REPLICATE_API_TOKEN", "VITRINE_URL")
    }
    env["VITRINE_URL"] = server
    if token is not None:
        env["VITRINE_API_TOKEN"] = token
    return subprocess.run(
        [str(VITRINE), *map(str, args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def published_id(stdout: str, model: str) -> str:
    found = re.search(rf"^Published {model}:([0-9a-f]{{64}})$", stdout, re.MULTILINE)
    assert found, stdout
    return found.group(1)


def test_push_creates_the_model_and_publishes_a_version(cog_live: Any, token: str) -> None:
    result = vitrine(
        "push", "alice/cli-hello", COG_FIXTURES / "hello", "--create", "--json",
        server=cog_live.url, token=token,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    version_id = published_id(result.stdout, "alice/cli-hello")
    page = f"{cog_live.url}/alice/cli-hello/versions/{version_id}"
    assert page in result.stdout.splitlines()
    assert re.search(r"^Build \w+ queued$", result.stdout, re.MULTILINE)
    # The build's logs were followed as they came.
    assert f"Published version {version_id}." in result.stdout
    final = json.loads(result.stdout.strip().splitlines()[-1])
    assert (final["status"], final["version"]) == ("succeeded", version_id)

    model = MLModel.objects.get(owner__username="alice", name="cli-hello")
    assert model.visibility == MLModel.Visibility.PUBLIC
    assert model.latest_version_id == version_id
    assert Version.objects.get(pk=version_id).model == model
    assert httpx.get(page, timeout=30).status_code == 200


def test_pushing_again_gives_the_same_version(cog_live: Any, token: str) -> None:
    args = ("push", "alice/twice", COG_FIXTURES / "hello", "--create")
    first = vitrine(*args, server=cog_live.url, token=token)
    second = vitrine(*args, server=f"{cog_live.url}/", token=token)  # a trailing slash is fine
    assert second.returncode == 0, second.stderr
    version_id = published_id(first.stdout, "alice/twice")
    assert published_id(second.stdout, "alice/twice") == version_id
    assert f"{cog_live.url}/alice/twice/versions/{version_id}" in second.stdout.splitlines()
    assert Build.objects.count() == 2 and Version.objects.count() == 1


def test_push_to_a_missing_model_without_create_stops(cog_live: Any, token: str) -> None:
    result = vitrine(
        "push", "alice/nowhere", COG_FIXTURES / "hello", server=cog_live.url, token=token
    )
    assert result.returncode == 2
    assert "vitrine: alice/nowhere does not exist (use --create to make it)." in result.stderr
    assert not MLModel.objects.filter(name="nowhere").exists()


def test_a_broken_project_exits_non_zero_with_the_reason(
    cog_live: Any, token: str, user: Any, tmp_path: Path
) -> None:
    ModelFactory(owner=user.owner, name="broken")
    root = project_copy(tmp_path, cog__yaml=cog_yaml(python_version="3.99"))
    result = vitrine("push", "alice/broken", root, server=cog_live.url, token=token)
    assert result.returncode == 1
    assert "Build failed: Python 3.99 (build.python_version) is not installed" in result.stderr
    assert "Published" not in result.stdout
    assert not Version.objects.exists()


def test_an_unsafe_upload_is_refused_with_the_servers_reason(
    cog_live: Any, token: str, user: Any, tmp_path: Path, settings: Any
) -> None:
    ModelFactory(owner=user.owner, name="big")
    settings.VITRINE_MAX_SOURCE_BYTES = 100
    result = vitrine("push", "alice/big", COG_FIXTURES / "hello", server=cog_live.url, token=token)
    assert result.returncode == 2
    assert "vitrine: Upload refused: HTTP 413:" in result.stderr
    assert "the limit is 100" in result.stderr
    assert not Build.objects.exists()


def test_a_running_cog_server_is_registered_with_url(
    cog_live: Any, token: str, user: Any, tmp_path: Path
) -> None:
    built = publish(ModelFactory(owner=user.owner, name="hello"), "hello", user)
    with running_cog_server(built, tmp_path / "server") as url:
        result = vitrine(
            "push", "alice/remote", "--url", url, "--create", server=cog_live.url, token=token
        )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Registering {url} as a new version of alice/remote" in result.stdout
    version = Version.objects.get(pk=published_id(result.stdout, "alice/remote"))
    assert version.cog_urls == [url]
    assert version.openapi_schema == built.openapi_schema


def test_an_unreachable_cog_url_fails_the_push(cog_live: Any, token: str, user: Any) -> None:
    ModelFactory(owner=user.owner, name="remote")
    url = f"http://127.0.0.1:{free_port()}"
    result = vitrine("push", "alice/remote", "--url", url, server=cog_live.url, token=token)
    assert result.returncode == 1
    assert f"Build failed: Could not read the Cog server at {url}" in result.stderr


def test_without_a_token_it_exits_2_and_says_how_to_give_one(cog_live: Any, user: Any) -> None:
    result = vitrine(
        "push", "alice/hello", COG_FIXTURES / "hello", "--create", server=cog_live.url, token=None
    )
    assert result.returncode == 2
    assert (
        result.stderr
        == "vitrine: Set VITRINE_API_TOKEN (or REPLICATE_API_TOKEN) to an API token.\n"
    )
    assert not MLModel.objects.exists()


def test_a_replicate_api_token_works_too(cog_live: Any, token: str) -> None:
    env = {**os.environ, "VITRINE_URL": cog_live.url, "REPLICATE_API_TOKEN": token}
    env.pop("VITRINE_API_TOKEN", None)
    result = subprocess.run(
        [str(VITRINE), "push", "alice/rep", str(COG_FIXTURES / "hello"), "--create"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    published_id(result.stdout, "alice/rep")


def test_a_bad_token_is_refused(cog_live: Any, user: Any) -> None:
    result = vitrine(
        "push", "alice/hello", COG_FIXTURES / "hello", "--create",
        server=cog_live.url, token="r8_not-a-real-token",
    )  # fmt: skip
    assert result.returncode == 2
    assert "HTTP 401" in result.stderr
    assert not MLModel.objects.exists()


@pytest.mark.parametrize("model", ["alice", "alice/", "/hello"])
def test_the_model_must_be_owner_slash_name(cog_live: Any, token: str, model: str) -> None:
    result = vitrine("push", model, COG_FIXTURES / "hello", server=cog_live.url, token=token)
    assert result.returncode == 2
    assert "vitrine: The model must be given as owner/name." in result.stderr


def test_a_folder_without_cog_yaml_is_refused_before_uploading(
    cog_live: Any, token: str, tmp_path: Path
) -> None:
    result = vitrine("push", "alice/x", tmp_path, "--create", server=cog_live.url, token=token)
    assert result.returncode == 2
    assert f"vitrine: {tmp_path} has no cog.yaml." in result.stderr
    assert not Build.objects.exists()


def test_an_unreachable_vitrine_is_a_clear_error(token: str) -> None:
    server = f"http://127.0.0.1:{free_port()}"
    result = vitrine("push", "alice/x", COG_FIXTURES / "hello", server=server, token=token)
    assert result.returncode == 2
    assert f"vitrine: Cannot reach {server}:" in result.stderr


def test_dockerignore_and_cogignore_are_honoured(cog_live: Any, token: str, tmp_path: Path) -> None:
    root = project_copy(
        tmp_path,
        __dockerignore="secret.env\n*.ckpt\n!tiny.ckpt\n",
        __cogignore="data/\n",
        secret__env="TOKEN=hunter2",
        weights__ckpt="big",
        tiny__ckpt="small",
        **{"data/train.csv": "a,b"},
        **{"lib/helper.py": "X = 1\n"},
    )
    assert (root / ".dockerignore").is_file() and (root / "secret.env").is_file()
    result = vitrine("push", "alice/ignoring", root, "--create", server=cog_live.url, token=token)
    assert result.returncode == 0, result.stdout + result.stderr
    version_id = published_id(result.stdout, "alice/ignoring")
    stored = Path(settings.DATA_DIR) / "versions" / version_id
    files = {
        p.relative_to(stored).as_posix()
        for p in stored.rglob("*")
        if p.is_file() and ".cog" not in p.parts
    }
    assert files == {
        ".cogignore",
        ".dockerignore",
        ".vitrine-ready",
        "cog.yaml",
        "lib/helper.py",
        "predict.py",
        "tiny.ckpt",
    }
