"""Building the search documents (`SearchDocument` rows) from the registry's tables.

One row per model, with what every search backend needs: the text by weight, the facet
values, the input/output kinds of the latest version, run counts and a quality score.
Rows are written in batches; on PostgreSQL the weighted `tsvector` is computed from the
text columns in the same pass, and new words go into the `SearchTerm` vocabulary used to
correct misspellings.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import timedelta
from typing import Any, Final

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone
from psycopg.types.json import Jsonb

from registry.models import (
    CollectionItem,
    MLModel,
    ModelRunDay,
    SearchDocument,
    SearchTerm,
)
from registry.search import ranking
from registry.signatures import MEDIA_KINDS, derive_signature, kinds_mask

WORD_KINDS: Final = frozenset({"text", *MEDIA_KINDS})

BATCH_SIZE: Final = 500
README_CHARS: Final = 2000
# Vocabulary words: start with a letter, 3 to 32 characters.
_TERM = re.compile(r"\b[a-z][a-z0-9]{2,31}\b")
# Code, images and link targets are dropped from README text; markup characters too.
_MARKDOWN = re.compile(
    r"```.*?```|`[^`]*`|!\[[^\]]*\]\([^)]*\)|\([^)]*://[^)]*\)|[#*_>|~\[\]]+", re.S
)
_SEPARATORS = re.compile(r"[-_.]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")

UPDATE_FIELDS: Final = [
    "owner",
    "owner_name",
    "name",
    "full_name",
    "visibility",
    "hardware",
    "tags",
    "collections",
    "input_kinds",
    "output_kinds",
    "input_mask",
    "output_mask",
    "names_text",
    "summary_text",
    "schema_text",
    "readme_text",
    "run_count",
    "runs_7d",
    "quality",
    "updated_at",
    "indexed_at",
]


def text_config() -> str:
    return str(getattr(settings, "SEARCH_TEXT_CONFIG", "english"))


def recent_since() -> Any:
    """The first day counted as "the last 7 days" (today and the six before it, UTC)."""
    return timezone.now().date() - timedelta(days=6)


def refresh(model_ids: Iterable[int]) -> None:
    """Rebuild these models' rows now, in the caller's transaction. Missing models are
    skipped (their rows went with them)."""
    ids = sorted(set(model_ids))
    for start in range(0, len(ids), BATCH_SIZE):
        write(build(ids[start : start + BATCH_SIZE]))


def rebuild_all(*, progress: Callable[[int, int], None] | None = None) -> int:
    """Rebuild every row and the vocabulary (what `manage.py reindex` does first)."""
    ids = list(MLModel.objects.order_by("pk").values_list("pk", flat=True))
    words: Counter[str] = Counter()
    for start in range(0, len(ids), BATCH_SIZE):
        rows = build(ids[start : start + BATCH_SIZE])
        write(rows, add_terms=False)
        for row in rows:
            words.update(set(public_terms_of(row)))
        if progress:
            progress(min(start + BATCH_SIZE, len(ids)), len(ids))
    SearchDocument.objects.exclude(model_id__in=MLModel.objects.values("pk")).delete()
    _replace_vocabulary(words)
    return len(ids)


def build(model_ids: Sequence[int]) -> list[SearchDocument]:
    """Unsaved rows for these models: four queries whatever the batch size."""
    models = list(
        MLModel.objects.filter(pk__in=model_ids)
        .select_related("owner", "latest_version")
        .only(
            "id",
            "name",
            "description",
            "readme",
            "visibility",
            "hardware_id",
            "run_count",
            "latest_version_created_at",
            "owner__id",
            "owner__username",
            "owner__display_name",
            "latest_version__openapi_schema",
        )
    )
    tags: dict[int, list[str]] = defaultdict(list)
    through = MLModel.tags.through
    for model_id, tag in (
        through.objects.filter(mlmodel_id__in=model_ids)
        .order_by("tag__name")
        .values_list("mlmodel_id", "tag__name")
    ):
        tags[model_id].append(tag)
    collections: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for model_id, slug, name in (
        CollectionItem.objects.filter(model_id__in=model_ids)
        .order_by("collection__slug")
        .values_list("model_id", "collection__slug", "collection__name")
    ):
        collections[model_id].append((slug, name))
    recent = dict(
        ModelRunDay.objects.filter(model_id__in=model_ids, day__gte=recent_since())
        .values("model_id")
        .annotate(runs=Sum("runs"))
        .values_list("model_id", "runs")
    )
    now = timezone.now()
    return [
        document_for(model, tags[model.pk], collections[model.pk], recent.get(model.pk, 0), now)
        for model in models
    ]


def document_for(
    model: MLModel,
    tags: list[str],
    collections: list[tuple[str, str]],
    runs_7d: int,
    now: Any,
) -> SearchDocument:
    owner = model.owner
    schema = model.latest_version.openapi_schema if model.latest_version else None
    context = " ".join([model.name.replace("-", " "), model.description, *tags])
    signature = derive_signature(schema, context=context)
    # PostgreSQL's parser splits hyphenated words into their parts already; spelling
    # names out again would count their words twice.
    names = [
        owner.username,
        owner.display_name,
        model.name,
        _SEPARATORS.sub("", model.name),  # "realesrgan" finds real-esrgan
        *tags,
    ]
    if connection.vendor != "postgresql":
        names += [_SEPARATORS.sub(" ", owner.username), _SEPARATORS.sub(" ", model.name)]
        names += [_SEPARATORS.sub(" ", tag) for tag in tags]
    summary = [model.description, *(name for _, name in collections)]
    # What it takes and returns, in words: "speech to text" finds audio-in, text-out.
    kinds = [k for k in (*signature.inputs, *signature.outputs) if k in WORD_KINDS]
    fields = [*schema_words(schema), *dict.fromkeys(kinds)]
    return SearchDocument(
        model_id=model.pk,
        owner_id=owner.pk,
        owner_name=owner.username,
        name=model.name,
        full_name=f"{owner.username}/{model.name}".lower(),
        visibility=model.visibility,
        hardware=str(model.hardware_id),
        tags=tags,
        collections=[slug for slug, _ in collections],
        input_kinds=list(signature.inputs),
        output_kinds=list(signature.outputs),
        input_mask=kinds_mask(signature.inputs),
        output_mask=kinds_mask(signature.outputs),
        names_text=" ".join(dict.fromkeys(n for n in names if n)),
        summary_text=" ".join(s for s in summary if s),
        schema_text=" ".join(fields),
        readme_text=readme_excerpt(model.readme),
        run_count=model.run_count,
        runs_7d=runs_7d,
        quality=ranking.quality(
            run_count=model.run_count,
            runs_7d=runs_7d,
            updated_at=model.latest_version_created_at,
            now=now,
        ),
        updated_at=model.latest_version_created_at,
        indexed_at=now,
    )


def schema_words(schema: Any) -> list[str]:
    """Names, titles and descriptions of the Input and Output fields of a Cog schema."""
    if not isinstance(schema, dict):
        return []
    components = schema.get("components", {})
    schemas = components.get("schemas", {}) if isinstance(components, dict) else {}
    if not isinstance(schemas, dict):
        return []
    words: list[str] = []
    for part in ("Input", "Output"):
        node = schemas.get(part)
        if not isinstance(node, dict):
            continue
        props = node.get("properties")
        for name, prop in (props if isinstance(props, dict) else {}).items():
            words.append(_SEPARATORS.sub(" ", _CAMEL.sub(" ", str(name))).lower())
            if isinstance(prop, dict):
                description = prop.get("description")
                if isinstance(description, str):
                    words.append(description)
        if part == "Output" and isinstance(node.get("description"), str):
            words.append(node["description"])
    return words


def readme_excerpt(readme: str) -> str:
    return " ".join(_MARKDOWN.sub(" ", readme[: README_CHARS * 2]).split())[:README_CHARS]


def terms_of(row: SearchDocument) -> Iterator[str]:
    for text in (row.names_text, row.summary_text, row.schema_text):
        yield from _TERM.findall(text.lower())


def public_terms_of(row: SearchDocument) -> Iterator[str]:
    """The words a row adds to the vocabulary: none for a private model. Corrections and
    the prefix rule read the vocabulary for every viewer, so a private model's words
    would show through them (a misspelling corrected to a word only it has)."""
    if row.visibility == MLModel.Visibility.PUBLIC:
        yield from terms_of(row)


def write(rows: list[SearchDocument], *, add_terms: bool = True) -> None:
    if not rows:
        return
    if add_terms:
        _forget_words_of_models_made_private(rows)
    if connection.vendor == "postgresql":
        upsert_postgres(rows)
    else:
        SearchDocument.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["model"], update_fields=UPDATE_FIELDS
        )
    if add_terms:
        terms = {term for row in rows for term in public_terms_of(row)}
        SearchTerm.objects.bulk_create(
            [SearchTerm(term=term) for term in sorted(terms)], ignore_conflicts=True
        )


def _forget_words_of_models_made_private(rows: list[SearchDocument]) -> None:
    """A public model made private takes its words out of the vocabulary: the vocabulary
    is rebuilt from the public rows by the `search` task after commit (a word may be
    shared with public models, so only a recount tells which ones go)."""
    public = MLModel.Visibility.PUBLIC
    hidden = [row.pk for row in rows if row.visibility != public]
    if hidden and SearchDocument.objects.filter(pk__in=hidden, visibility=public).exists():
        transaction.on_commit(_enqueue_vocabulary_rebuild, robust=True)


def _enqueue_vocabulary_rebuild() -> None:
    from registry.search.tasks import rebuild_search_vocabulary

    rebuild_search_vocabulary.enqueue()


def rebuild_vocabulary() -> int:
    """The vocabulary again from the words of public models; returns how many words."""
    words: Counter[str] = Counter()
    rows = SearchDocument.objects.filter(visibility=MLModel.Visibility.PUBLIC).only(
        "model_id", "names_text", "summary_text", "schema_text"
    )
    for row in rows.iterator(chunk_size=2000):
        words.update(set(terms_of(row)))
    _replace_vocabulary(words)
    return len(words)


def _replace_vocabulary(words: Counter[str]) -> None:
    with transaction.atomic():
        SearchTerm.objects.all().delete()
        terms = [SearchTerm(term=term, frequency=count) for term, count in words.items()]
        SearchTerm.objects.bulk_create(terms, batch_size=2000)


# Column -> the array type its values are sent as (one array per column, unnested).
_ARRAYS: Final = {
    "model_id": "bigint[]",
    "owner_id": "bigint[]",
    "owner_name": "text[]",
    "name": "text[]",
    "full_name": "text[]",
    "visibility": "text[]",
    "hardware": "text[]",
    "tags": "jsonb[]",
    "collections": "jsonb[]",
    "input_kinds": "jsonb[]",
    "output_kinds": "jsonb[]",
    "input_mask": "integer[]",
    "output_mask": "integer[]",
    "names_text": "text[]",
    "summary_text": "text[]",
    "schema_text": "text[]",
    "readme_text": "text[]",
    "run_count": "bigint[]",
    "runs_7d": "bigint[]",
    "quality": "float8[]",
    "updated_at": "timestamptz[]",
    "indexed_at": "timestamptz[]",
}
# The weighted tsvector, computed by PostgreSQL from the text columns of the same row.
_VECTOR: Final = " || ".join(
    f"setweight(to_tsvector(%s::regconfig, coalesce(v.{column}, '')), '{weight}')"
    for column, weight in (
        ("names_text", "A"),
        ("summary_text", "B"),
        ("schema_text", "C"),
        ("readme_text", "D"),
    )
)


def upsert_postgres(rows: list[SearchDocument]) -> None:
    """Insert or update rows in one statement: each column sent as one array and the
    vector computed in the same INSERT ... SELECT (no per-row SQL to build)."""
    columns = list(_ARRAYS)
    sources = ", ".join(f"%s::{kind}" for kind in _ARRAYS.values())
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in [*columns[1:], "vector"])
    table = SearchDocument._meta.db_table
    # Only fixed identifiers are interpolated; every value is a parameter.
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}, vector) "  # noqa: S608
        f"SELECT v.*, {_VECTOR} FROM unnest({sources}) AS v({', '.join(columns)}) "
        f"ON CONFLICT (model_id) DO UPDATE SET {updates}"
    )
    values: list[Any] = []
    for column, kind in _ARRAYS.items():
        cells = [getattr(row, column) for row in rows]
        if kind == "jsonb[]":
            cells = [Jsonb(cell) for cell in cells]
        values.append(cells)
    config = text_config()
    with connection.cursor() as cursor:
        cursor.execute(sql, [config, config, config, config, *values])
