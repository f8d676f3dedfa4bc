"""Schemathesis against `/v1/openapi.json` on a live server: every documented operation is
called with generated input (valid and invalid), and every answer must be a non-5xx that the
document describes (status code, content type, body).

The catalog is real rows (public and private models, versions with real Cog schemas,
predictions, builds, files, collections) and the requests carry a real API token. Path
parameters are sometimes generated and sometimes the ids of those rows, so the fuzzer
reaches past the 404s.

Nothing is built or run: task workers are not started, so builds and predictions the
fuzzer creates are stored and queued (`TASK_BACKEND=database`) and stay there.

`VITRINE_FUZZ_EXAMPLES` sets the examples per operation (`make fuzz` runs many more).
One test drives Hypothesis per operation itself: schemathesis' `from_fixture(...).parametrize()`
reads `Node._nodeid`, which pytest 9.2 no longer has (schemathesis 4.32.5).
"""

from __future__ import annotations

import os
import time
from base64 import urlsafe_b64encode
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from registry import files, search, services, synthetic
from registry.models import Build, Collection, File, MLModel, Prediction, Version
from tests.factories import (
    CollectionFactory,
    MembershipFactory,
    ModelFactory,
    OrganizationFactory,
    PredictionFactory,
    UserFactory,
    VersionFactory,
    add_to_collection,
    cog_schema,
)

EXAMPLES = int(os.environ.get("VITRINE_FUZZ_EXAMPLES", "75"))
MIN_CASES = 2000 if "VITRINE_FUZZ_EXAMPLES" not in os.environ else 0

DATABASE_TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "builds", "predictions", "webhooks", "search"],
    }
}

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@dataclass
class Catalog:
    """The token's owner (alice) and what path parameters can name."""

    token: str
    models: list[tuple[str, str]] = field(default_factory=list)
    versions: list[tuple[str, str, str]] = field(default_factory=list)
    predictions: list[str] = field(default_factory=list)
    builds: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    collections: list[str] = field(default_factory=list)


def make_catalog() -> Catalog:
    """alice (a member of acme) and mallory with public, private and version-less models,
    40 synthetic models (a fifth private), predictions, builds, files and collections."""
    alice = UserFactory(username="alice")
    mallory = UserFactory(username="mallory")
    acme = OrganizationFactory(username="acme")
    MembershipFactory(organization=acme, user=alice)
    token = services.token_create(user=alice, name="fuzz")[1]

    made: list[MLModel] = []
    for owner, name, schema, visibility in [
        (alice.owner, "hello", "hello", "public"),
        (alice.owner, "sdxl", "sdxl", "public"),
        (alice.owner, "secret", "constraints", "private"),
        (acme, "whisper", "whisper", "public"),
        (acme, "llm", "llm-stream", "private"),
        (mallory.owner, "tts", "tts", "public"),
        (mallory.owner, "hidden", "video", "private"),
    ]:
        model = ModelFactory(
            owner=owner, name=name, visibility=visibility, readme=f"# {name}\n\nIt works."
        )
        VersionFactory(model=model, openapi_schema=cog_schema(schema))
        made.append(model)
    made.append(ModelFactory(owner=alice.owner, name="empty"))
    synthetic.load(synthetic.generate(40, private_share=0.2))
    search.documents.rebuild_all()

    hello = made[0]
    example = PredictionFactory(version=hello.latest_version, created_by=alice, shared=True)
    hello.default_example = example
    hello.save(update_fields=["default_example"])
    for status in (Prediction.Status.FAILED, Prediction.Status.CANCELED):
        PredictionFactory(version=hello.latest_version, created_by=alice, status=status)
    PredictionFactory(version=made[5].latest_version, created_by=mallory)

    for status in (Build.Status.SUCCEEDED, Build.Status.FAILED):
        Build.objects.create(
            model=hello,
            created_by=alice,
            kind=Build.Kind.COG_URL,
            status=status,
            version=hello.latest_version if status == Build.Status.SUCCEEDED else None,
            logs="step 1\nstep 2\n",
            error=None if status == Build.Status.SUCCEEDED else "It broke.",
        )
    Build.objects.create(
        model=made[6], created_by=mallory, kind=Build.Kind.COG_URL, status=Build.Status.FAILED
    )
    for owner in (alice, mallory):
        upload = SimpleUploadedFile("photo.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64, "image/png")
        files.file_create(owner=owner, upload=upload, metadata={"a": 1})

    featured = CollectionFactory(slug="featured")
    add_to_collection(featured, *made[:5])
    CollectionFactory(slug="empty-collection")

    catalog = Catalog(token=token)
    for model in MLModel.objects.select_related("owner").order_by("pk"):
        catalog.models.append((model.owner.username, model.name))
    for version in Version.objects.select_related("model__owner").order_by("pk"):
        catalog.versions.append((version.model.owner.username, version.model.name, version.id))
    catalog.predictions = list(Prediction.objects.values_list("pk", flat=True))
    catalog.builds = list(Build.objects.values_list("pk", flat=True))
    catalog.files = list(File.objects.values_list("pk", flat=True))
    catalog.collections = list(Collection.objects.values_list("slug", flat=True))
    return catalog


def known_path_parameters(catalog: Catalog, names: frozenset[str]) -> list[dict[str, str]]:
    """Path parameters that name rows of the catalog, for an operation taking `names`."""
    if names == {"owner", "name", "version_id"}:
        return [{"owner": o, "name": n, "version_id": v} for o, n, v in catalog.versions]
    if names == {"owner", "name"}:
        return [{"owner": o, "name": n} for o, n in catalog.models]
    (name,) = names
    values = {
        "prediction_id": catalog.predictions,
        "build_id": catalog.builds,
        "file_id": catalog.files,
        "slug": catalog.collections,
    }[name]
    return [{name: value} for value in values]


def cases_of(operation: APIOperation, catalog: Catalog) -> st.SearchStrategy[Case]:
    """Valid and invalid requests, with path parameters generated or naming real rows."""
    strategies = [
        operation.as_strategy(generation_mode=mode)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    ]
    names = frozenset(parameter.name for parameter in operation.path_parameters)
    if names:
        # First: Hypothesis leans to the first strategy, and real rows are where bugs hide.
        strategies.insert(
            0,
            st.sampled_from(known_path_parameters(catalog, names)).flatmap(
                lambda values: operation.as_strategy(path_parameters=values)
            ),
        )
    return st.one_of(strategies)


def query_cases(schema: Any) -> st.SearchStrategy[Case]:
    """`QUERY /v1/models` (what `replicate.models.search()` sends) is not in the document:
    OpenAPI 3.0 has no QUERY method. Its answers must be those of `GET /v1/models`."""
    listing = schema["/v1/models"]["GET"]
    words = st.sampled_from(
        ["", "hello", "alice/hello", "speech to text", "input:image output:text", "tag:llm,chat"]
    )
    cursor = st.one_of(
        st.text(max_size=24),
        st.integers(-10, 10**12).map(lambda n: urlsafe_b64encode(f"o={n}".encode()).decode()),
    )
    page_size = st.one_of(st.integers(-5, 500).map(str), st.text(max_size=4))
    return st.builds(
        lambda body, query: schema.make_case(
            operation=listing,
            method="QUERY",
            body=body,
            query=query,
            media_type="text/plain",
        ),
        body=st.one_of(words, st.text(max_size=200)),
        query=st.fixed_dictionaries({}, optional={"cursor": cursor, "page_size": page_size}),
    )


@pytest.mark.django_db(transaction=True)
def test_the_api_answers_generated_requests_as_documented(live_server: Any, settings: Any) -> None:
    settings.TASKS = DATABASE_TASKS
    catalog = make_catalog()
    schema = schemathesis.openapi.from_url(f"{live_server.url}/v1/openapi.json")
    headers = {"Authorization": f"Bearer {catalog.token}"}
    # A new connection per request, to 127.0.0.1: keep-alive to the test server stalls on
    # delayed ACKs (~40 ms a request), and `localhost` tries ::1 first.
    base_url = live_server.url.replace("localhost", "127.0.0.1")
    counts: dict[str, Counter[int]] = {}  # operation → answers by status code
    failures: list[str] = []

    def fuzz(label: str, cases: st.SearchStrategy[Case]) -> None:
        @given(case=cases)
        @hypothesis_settings(
            max_examples=EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Case) -> None:
            response = case.call(base_url=base_url, headers=headers)
            counts.setdefault(label, Counter())[response.status_code] += 1
            case.validate_response(response, checks=CHECKS, headers=headers)

        try:
            run()
        except (Exception, BaseExceptionGroup) as e:
            failures.append(f"{label}: {e}")

    started = time.monotonic()
    operations = [result.ok() for result in schema.get_all_operations()]
    # Deletes last, so that the other operations see the whole catalog.
    operations.sort(key=lambda op: (op.method.upper() == "DELETE", op.path, op.method))
    for operation in operations:
        fuzz(operation.label, cases_of(operation, catalog))
    fuzz("QUERY /v1/models", query_cases(schema))
    elapsed = time.monotonic() - started

    total = sum(n for answers in counts.values() for n in answers.values())
    print(f"\nschemathesis: {total} cases, {len(counts)} operations, {elapsed:.1f} s")
    for label, answers in sorted(counts.items()):
        by_code = " ".join(f"{code}:{n}" for code, n in sorted(answers.items()))
        print(f"  {sum(answers.values()):5d}  {label:55s} {by_code}")
    assert not failures, "\n\n".join(failures)
    assert total >= MIN_CASES, f"only {total} cases"
