"""A benchmark catalog written fast with PostgreSQL COPY (psycopg 3 `cursor.copy`).

Owners, models (names, descriptions, tags and Cog schemas from `registry.synthetic`),
several versions per model, predictions spread over the last 30 days with long-tailed
popularity, run counts and runs per day that are exactly the predictions' counts, a few
collections and featured models, then the search documents (the `reindex` path).

Rows are checked by construction, not by the database: foreign-key triggers are off
while copying (`session_replication_role = replica`, PostgreSQL superusers only), which
is what makes a million predictions take seconds rather than minutes. Run by
`manage.py bench_catalog`; `bench/bench_api.py` uses it.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import random
import time
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from registry import synthetic
from registry.models import (
    Collection,
    CollectionItem,
    MLModel,
    ModelRunDay,
    Owner,
    Prediction,
    Tag,
    Version,
)

# Tables emptied by `--replace` (CASCADE takes their dependants: tags, documents, runs…).
CATALOG_TABLES = ("registry_owner", "registry_tag", "registry_collection", "registry_searchterm")
COG_VERSION = "0.13.7"
PREDICTION_DAYS = 30


@dataclass
class CatalogTimings:
    """Seconds spent on each step, and how many rows were written."""

    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def copy_seconds(self) -> float:
        return sum(v for k, v in self.seconds.items() if k != "search")


@dataclass
class _Ids:
    """Explicit primary keys, continuing after what the tables already hold."""

    owner: int
    model: int
    tag: int
    model_tag: int
    run_day: int


def generate(
    *,
    models: int,
    versions: int,
    predictions: int,
    seed: int = 7,
    replace: bool = False,
    search: bool = True,
    log: Callable[[str], None] = lambda _: None,
) -> CatalogTimings:
    """Write the catalog into the default database (PostgreSQL) and return the timings."""
    if connection.vendor != "postgresql":
        raise RuntimeError("The benchmark catalog is written with PostgreSQL COPY.")
    if versions < models:
        raise ValueError("Every model needs a version: --versions must be at least --models.")
    timings = CatalogTimings()
    rng = random.Random(seed)
    user = _bench_user()
    if replace:
        with connection.cursor() as cursor:
            # Deferred foreign-key checks pending in this transaction would block TRUNCATE.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"TRUNCATE {', '.join(CATALOG_TABLES)} CASCADE")
    ids = _next_ids()
    items = list(synthetic.generate(models, seed=seed))
    now = timezone.now()

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        copier = _Copier(cursor.cursor, timings)
        owner_ids = _copy_owners(copier, items, ids, now)
        tag_ids = _copy_tags(copier, items, ids)
        model_ids = list(range(ids.model, ids.model + len(items)))
        per_model = _spread(versions, len(items))
        version_ids = [[_version_id(seed, m, n) for n in range(count)] for m, count in zip(
            model_ids, per_model, strict=True)]  # fmt: skip
        picks = _pick_predictions(rng, items, predictions)
        run_counts = Counter(m for m, _ in picks)
        _copy_models(copier, items, ids, owner_ids, version_ids, run_counts, now)
        _copy_model_tags(copier, items, ids, tag_ids)
        _copy_versions(copier, items, model_ids, version_ids, now)
        days = _copy_predictions(copier, rng, picks, model_ids, version_ids, user, now)
        _copy_run_days(copier, days, model_ids, ids, now)
        _reset_sequences(cursor.cursor)
        cursor.execute("SET LOCAL session_replication_role = origin")
    timings.seconds["copy"] = time.perf_counter() - started
    log(f"copied {sum(timings.rows.values())} rows in {timings.seconds['copy']:.1f} s")

    started = time.perf_counter()
    _collections(rng)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    timings.seconds["analyze"] = time.perf_counter() - started

    if search:
        from registry.search import documents

        started = time.perf_counter()
        documents.rebuild_all()
        # As autovacuum would soon (see bench_search._load); not possible in a transaction.
        with connection.cursor() as cursor:
            vacuum = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
            cursor.execute(f"{vacuum} registry_searchdocument")
        timings.seconds["search"] = time.perf_counter() - started
        log(f"search documents rebuilt in {timings.seconds['search']:.1f} s")
    return timings


class _Copier:
    def __init__(self, cursor: Any, timings: CatalogTimings) -> None:
        self.cursor = cursor
        self.timings = timings

    def copy(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        started = time.perf_counter()
        count = 0
        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with self.cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        self.timings.rows[table] = self.timings.rows.get(table, 0) + count
        self.timings.seconds[table] = time.perf_counter() - started


def _bench_user() -> User:
    user, _ = User.objects.get_or_create(username="bench-catalog")
    Owner.objects.get_or_create(username=user.username, defaults={"user": user})
    return user


def _next_ids() -> _Ids:
    def after(table: str) -> int:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")  # noqa: S608
            return int(cursor.fetchone()[0])

    return _Ids(
        owner=after("registry_owner"),
        model=after("registry_model"),
        tag=after("registry_tag"),
        model_tag=after("registry_model_tags"),
        run_day=after("registry_modelrunday"),
    )


def _spread(total: int, buckets: int) -> list[int]:
    base, extra = divmod(total, buckets)
    return [base + (1 if i < extra else 0) for i in range(buckets)]


def _version_id(seed: int, model_id: int, n: int) -> str:
    return hashlib.sha256(f"bench:{seed}:{model_id}:{n}".encode()).hexdigest()


def _prediction_id(rng: random.Random) -> str:
    return base64.b32encode(rng.getrandbits(128).to_bytes(16, "big")).decode().rstrip("=").lower()


def _copy_owners(
    copier: _Copier, items: list[synthetic.SyntheticModel], ids: _Ids, now: datetime
) -> dict[str, int]:
    existing = dict(Owner.objects.values_list("username", "id"))
    new = sorted({item.owner for item in items} - set(existing))
    owner_ids = existing | {name: ids.owner + n for n, name in enumerate(new)}
    columns = ["id", "username", "kind", "display_name", "bio", "github_url", "avatar_url",
               "webhook_secret", "created_at"]  # fmt: skip
    copier.copy(
        Owner._meta.db_table,
        columns,
        (
            (owner_ids[name], name, Owner.Kind.ORGANIZATION, "", "", "", "", "whsec_bench", now)
            for name in new
        ),
    )
    return owner_ids


def _copy_tags(copier: _Copier, items: list[synthetic.SyntheticModel], ids: _Ids) -> dict[str, int]:
    existing = dict(Tag.objects.values_list("name", "id"))
    new = sorted({tag for item in items for tag in item.tags} - set(existing))
    tag_ids = existing | {name: ids.tag + n for n, name in enumerate(new)}
    copier.copy(Tag._meta.db_table, ["id", "name"], ((tag_ids[name], name) for name in new))
    return tag_ids


def _published(item: synthetic.SyntheticModel, now: datetime) -> datetime:
    return now - timedelta(days=item.age_days)


def _version_times(item: synthetic.SyntheticModel, count: int, now: datetime) -> list[datetime]:
    """Versions a day apart, the newest at the model's publication date."""
    newest = _published(item, now)
    return [newest - timedelta(days=count - 1 - n) for n in range(count)]


def _copy_models(
    copier: _Copier,
    items: list[synthetic.SyntheticModel],
    ids: _Ids,
    owner_ids: dict[str, int],
    version_ids: list[list[str]],
    run_counts: Counter[int],
    now: datetime,
) -> None:
    columns = ["id", "owner_id", "name", "description", "visibility", "readme", "cover_image",
               "cover_image_url", "github_url", "paper_url", "license_url", "weights_url",
               "hardware_id", "featured", "run_count", "latest_version_id",
               "latest_version_created_at", "created_at", "updated_at"]  # fmt: skip

    def rows() -> Iterable[tuple[Any, ...]]:
        for n, item in enumerate(items):
            model_id = ids.model + n
            published = _published(item, now)
            first = published - timedelta(days=len(version_ids[n]) - 1)
            yield (model_id, owner_ids[item.owner], item.name, item.description,
                   item.visibility, item.readme, "", "", "", "", "", "", item.hardware, False,
                   run_counts[n], version_ids[n][-1], published, first, published)  # fmt: skip

    copier.copy(MLModel._meta.db_table, columns, rows())


def _copy_model_tags(
    copier: _Copier, items: list[synthetic.SyntheticModel], ids: _Ids, tag_ids: dict[str, int]
) -> None:
    pairs = ((ids.model + n, tag_ids[tag]) for n, item in enumerate(items) for tag in item.tags)
    copier.copy(
        MLModel.tags.through._meta.db_table,
        ["id", "mlmodel_id", "tag_id"],
        ((ids.model_tag + n, model, tag) for n, (model, tag) in enumerate(pairs)),
    )


def _copy_versions(
    copier: _Copier,
    items: list[synthetic.SyntheticModel],
    model_ids: list[int],
    version_ids: list[list[str]],
    now: datetime,
) -> None:
    columns = ["id", "model_id", "created_at", "cog_version", "openapi_schema", "status",
               "source", "source_sha256", "image", "cog_config", "cog_urls"]  # fmt: skip

    def rows() -> Iterable[tuple[Any, ...]]:
        for item, model_id, versions in zip(items, model_ids, version_ids, strict=True):
            schema = json.dumps(item.schema)  # one text per model: its versions share it
            for version_id, created in zip(
                versions, _version_times(item, len(versions), now), strict=True
            ):
                yield (version_id, model_id, created, COG_VERSION, schema,
                       Version.Status.READY, "", "", "", "{}", "[]")  # fmt: skip

    copier.copy(Version._meta.db_table, columns, rows())


def _pick_predictions(
    rng: random.Random, items: list[synthetic.SyntheticModel], count: int
) -> list[tuple[int, int]]:
    """(model index, days ago) per prediction, models drawn by their synthetic popularity."""
    cumulative = list(itertools.accumulate(max(1, item.run_count) for item in items))
    total = cumulative[-1]
    return [
        (bisect_left(cumulative, rng.random() * total), rng.randrange(PREDICTION_DAYS))
        for _ in range(count)
    ]


def _copy_predictions(
    copier: _Copier,
    rng: random.Random,
    picks: list[tuple[int, int]],
    model_ids: list[int],
    version_ids: list[list[str]],
    user: User,
    now: datetime,
) -> Counter[tuple[int, int]]:
    columns = ["id", "model_id", "version_id", "version_ref", "created_by_id", "source",
               "status", "input", "output", "logs", "metrics", "webhook",
               "webhook_events_filter", "stream", "data_removed", "dispatch_attempts",
               "webhook_events_sent", "shared", "created_at", "started_at",
               "completed_at"]  # fmt: skip
    days: Counter[tuple[int, int]] = Counter()

    def rows() -> Iterable[tuple[Any, ...]]:
        for n, (model, days_ago) in enumerate(picks):
            days[(model, days_ago)] += 1
            version = version_ids[model][-1]
            created = now - timedelta(days=days_ago, seconds=rng.randrange(86400))
            predict_time = rng.uniform(0.05, 3.0)
            yield (_prediction_id(rng), model_ids[model], version, version,
                   user.pk, Prediction.Source.API, Prediction.Status.SUCCEEDED,
                   f'{{"prompt": "benchmark prompt {n}"}}', '"done"', "",
                   f'{{"predict_time": {predict_time:.3f}}}', "", "[]", False, False, 1,
                   "[]", False, created, created + timedelta(seconds=0.01),
                   created + timedelta(seconds=predict_time))  # fmt: skip

    copier.copy(Prediction._meta.db_table, columns, rows())
    return days


def _copy_run_days(
    copier: _Copier,
    days: Counter[tuple[int, int]],
    model_ids: list[int],
    ids: _Ids,
    now: datetime,
) -> None:
    today = now.date()
    copier.copy(
        ModelRunDay._meta.db_table,
        ["id", "model_id", "day", "runs"],
        (
            (ids.run_day + n, model_ids[model], today - timedelta(days=days_ago), runs)
            for n, ((model, days_ago), runs) in enumerate(sorted(days.items()))
        ),
    )


def _reset_sequences(cursor: Any) -> None:
    for table in ("registry_owner", "registry_model", "registry_tag", "registry_model_tags",
                  "registry_modelrunday"):  # fmt: skip
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
            f"(SELECT coalesce(max(id), 1) FROM {table}))"
        )


def _collections(rng: random.Random, count: int = 6, size: int = 12) -> None:
    """A few collections and featured models, so the explore page has every row."""
    popular = list(
        MLModel.objects.filter(visibility=MLModel.Visibility.PUBLIC)
        .order_by("-run_count", "-id")
        .values_list("pk", flat=True)[: count * size * 4]
    )
    MLModel.objects.filter(pk__in=popular[:8]).update(featured=True)
    for n in range(count):
        collection, _ = Collection.objects.get_or_create(
            slug=f"bench-{n}", defaults={"name": f"Benchmark collection {n}", "position": n}
        )
        CollectionItem.objects.filter(collection=collection).delete()
        CollectionItem.objects.bulk_create(
            CollectionItem(collection=collection, model_id=model, position=p)
            for p, model in enumerate(rng.sample(popular, min(size, len(popular))))
        )
