# ruff: noqa: S608 - the SQL here interpolates only fixed identifiers; values are parameters.
"""Search in the database itself, over the `SearchDocument` rows: no extra service.

PostgreSQL: full-text search on the weighted `tsvector` column (GIN index), misspelled
words corrected against the catalog's vocabulary by trigram similarity (pg_trgm), the
last word matched as a prefix (search as you type), ranked by `ts_rank` blended with the
precomputed quality (popularity, trend, freshness).

SQLite (the embedded default): every word must occur in the document's text (LIKE),
weighted by where it occurs; misspellings are corrected with difflib against the same
vocabulary when nothing matches. Simpler, fine for a laptop-sized catalog.

Both build one SQL statement for a page of hits with the total, and one for all facet
counts. Facets are disjunctive: a facet's counts apply every filter but its own, so
that the other values of a facet you filter on still show what choosing them would add.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections

from registry.backends import Health
from registry.models import SearchDocument, SearchTerm
from registry.search import documents, ranking
from registry.search.base import (
    FACET_LIMIT,
    TOTAL_CAP,
    FacetValue,
    SearchBackend,
    SearchHits,
    SearchQuery,
)
from registry.search.synonyms import synonyms_of
from registry.signatures import kinds_mask

Fragment = tuple[str, list[Any]]

# facet -> (column, holds a JSON array)
FACET_COLUMNS: dict[str, tuple[str, bool]] = {
    "owner": ("owner_name", False),
    "tag": ("tags", True),
    "collection": ("collections", True),
    "hardware": ("hardware", False),
    "input": ("input_kinds", True),
    "output": ("output_kinds", True),
}
# Facets of a query matching TOTAL_CAP models or more are counted on a sample of about
# this many rows of the table (whole pages) and scaled up, as estimates.
FACET_SAMPLE_ROWS = 5000
# How alike (pg_trgm similarity) a catalog word must be to replace a misspelled one.
MIN_SIMILARITY = 0.3
# In a large catalog (BOUNDED_FROM) a query ranks only this many of its most popular (or,
# sorted otherwise, first) matches beyond the page, plus those named like the query and
# the most popular with the signature its words ask for. Text relevance adds less than 1
# to a score (under 0.7 in practice), so a model this far down the popularity order
# rarely makes the first page; tests/registry/search/test_relevance.py checks the cases.
CANDIDATES = 100
# Below this many documents every match is ranked: reading a few thousand rows in index
# order (the signature candidates) costs more than ranking a small catalog's matches.
BOUNDED_FROM = 20_000
# The popular documents (about 10,000 runs or more, or trending): a partial full-text
# index covers them (searchdoc_vector_top_gin, migration 0010, which holds this number).
TOP_QUALITY = 0.5
# How far down the popularity order the signature candidates of a broad query are looked
# for ("speech to text": the most popular that take audio and return text) when no
# popular document has the signature.
POPULAR_TIER = 3000
# On PostgreSQL, a filter on kinds reads their bits (the covering quality index has them).
KIND_MASKS = {"d.input_kinds": "d.input_mask", "d.output_kinds": "d.output_mask"}
SORT_COLUMNS = {
    "trending": ("runs_7d", "run_count"),
    "run_count": ("run_count",),
    "updated": ("updated_at",),
}


class DatabaseSearchBackend(SearchBackend):
    name = "database"

    def __init__(self, using: str = DEFAULT_DB_ALIAS) -> None:
        self.using = using

    def query(self, query: SearchQuery) -> SearchHits:
        connection = connections[self.using]
        builder: SqlSearch
        if connection.vendor == "postgresql":
            builder = PostgresSearch(self.using)
        else:
            builder = SqliteSearch(self.using)
        return builder.run(query)

    def health(self) -> Health:
        documents_count = SearchDocument.objects.using(self.using).count()
        return Health("ok", info={"backend": self.name, "documents": documents_count})


@dataclass(frozen=True)
class Candidates:
    """A WITH clause naming `candidates` (the matches to rank) and `popular` (the first
    `limit` matches in the order of an index)."""

    sql: str
    params: list[Any]
    limit: int


@dataclass(frozen=True)
class TextMatch:
    """The words to match: one group of alternatives per query word (the word itself,
    then corrections), all groups required (`any_group` False) or any."""

    groups: tuple[tuple[str, ...], ...]
    any_group: bool = False

    def loosened(self) -> TextMatch:
        return TextMatch(self.groups, any_group=True)


class SqlSearch:
    """One search as two SQL statements; subclasses say how words and arrays match."""

    vendor: ClassVar[str] = ""
    fence: ClassVar[str] = ""
    table = SearchDocument._meta.db_table

    def __init__(self, using: str) -> None:
        self.using = using

    # What subclasses provide ----------------------------------------------------------

    def text_match(self, words: list[str]) -> TextMatch:
        raise NotImplementedError

    def corrected(self, match: TextMatch) -> TextMatch | None:
        """A second try when nothing matched, or None."""
        return None

    def text_condition(self, match: TextMatch) -> Fragment:
        raise NotImplementedError

    def rank(self, match: TextMatch) -> Fragment:
        """An expression >= 0: how well the row's text matches (squashed into [0, 1) by
        rank / (rank + RANK_HALF))."""
        raise NotImplementedError

    def any_of(self, column: str, values: Sequence[str], array: bool) -> Fragment:
        raise NotImplementedError

    def elements(self, column: str) -> str:
        """FROM-clause items giving `v.value` for each element of a JSON array column."""
        raise NotImplementedError

    # The statements -------------------------------------------------------------------

    def run(self, query: SearchQuery) -> SearchHits:
        words = query.tokens
        match = self.text_match(words) if words else None
        hits = self.hits(query, match)
        # Nothing has every word: correct misspelled words, then accept any word.
        if match is not None and hits.total == 0:
            corrected = self.corrected(match)
            if corrected is not None:
                match = corrected
                hits = self.hits(query, match)
            if hits.total == 0 and len(match.groups) > 1 and not match.any_group:
                match = match.loosened()
                hits = self.hits(query, match)
        if query.facets:
            hits.facets, hits.facets_approximate = self.cached_facets(query, match, hits.total)
        return hits

    def cached_facets(
        self, query: SearchQuery, match: TextMatch | None, total: int
    ) -> tuple[dict[str, list[FacetValue]], bool]:
        """Facet counts and whether they are estimates, cached for
        SEARCH_FACETS_CACHE_SECONDS. The key holds the time of the latest document change,
        so a visibility change is never served stale."""
        seconds = int(getattr(settings, "SEARCH_FACETS_CACHE_SECONDS", 0))
        if seconds <= 0:
            return self.facets(query, match, total)
        latest = (
            SearchDocument.objects.using(self.using)
            .order_by("-indexed_at")
            .values_list("indexed_at", flat=True)
            .first()
        )
        key = (
            "vitrine:search:facets:"
            + hashlib.sha256(
                repr(
                    (
                        self.vendor,
                        latest,
                        match,
                        sorted(query.filters.items()),
                        query.owner_ids,
                        query.sees_everything,
                    )
                ).encode()
            ).hexdigest()
        )
        cached = cache.get(key)
        if cached is None:
            cached = self.facets(query, match, total)
            cache.set(key, cached, seconds)
        facets, approximate = cached
        return dict(facets), bool(approximate)

    def where(
        self, query: SearchQuery, match: TextMatch | None, *, filters: bool = True
    ) -> Fragment:
        params: list[Any]
        if query.sees_everything:
            parts, params = "1 = 1", []
        elif query.owner_ids:
            parts, params = self.visible_to(query.owner_ids)
        else:
            parts, params = "d.visibility = 'public'", []
        clauses, values = [parts], [*params]
        if match is not None:
            sql, p = self.text_condition(match)
            clauses.append(sql)
            values += p
        for facet, selected in query.filters.items() if filters else ():
            if facet not in FACET_COLUMNS:
                continue
            column, array = FACET_COLUMNS[facet]
            sql, p = self.any_of(f"d.{column}", selected, array)
            clauses.append(sql)
            values += p
        return " AND ".join(f"({c})" for c in clauses), values

    def visible_to(self, owner_ids: Sequence[int]) -> Fragment:
        marks = ", ".join(["%s"] * len(owner_ids))
        return f"d.visibility = 'public' OR d.owner_id IN ({marks})", list(owner_ids)

    def hits(self, query: SearchQuery, match: TextMatch | None) -> SearchHits:
        """Every match ranked (the total comes free), or only `candidates` (PostgreSQL, in
        a large catalog)."""
        if match is None:
            return self.ordered_hits(query)
        ranked = self.ranked(query, match, self.candidates(query, match))
        if ranked is None:  # a page past the last
            return SearchHits(ids=[], total=self.count(query, match))
        return ranked

    def candidates(self, query: SearchQuery, match: TextMatch) -> Candidates | None:
        """The matches to rank, when not all of them."""
        return None

    def ranked(
        self, query: SearchQuery, match: TextMatch, candidates: Candidates | None
    ) -> SearchHits | None:
        """One page of matches by score (or the sort), in one statement with the total.

        `candidates` ranks only those matches; when the `popular` ones fill its limit, the
        total is counted (up to TOTAL_CAP) by the same statement. None when the page is
        past the last match ranked.
        """
        where, where_params = self.where(query, match)
        rank_sql, rank_params = self.rank(match)
        intent_sql, intent_params = "0", list[Any]()
        if query.intent:
            intent, intent_params = self.intent(query.intent)
            intent_sql = f"CASE WHEN {intent} THEN 1 ELSE 0 END"
        prefix, prefix_params, source = "", list[Any](), ""
        counted, counted_params = "-1", list[Any]()
        if candidates is not None:
            prefix, prefix_params = f"WITH {candidates.sql} ", candidates.params
            source = " JOIN candidates c ON c.model_id = d.model_id"
            # An uncorrelated subquery runs only if its CASE branch is taken: the count
            # costs nothing when every match was a candidate.
            counted = (
                f"CASE WHEN (SELECT COUNT(*) FROM popular) < %s THEN -1 "
                f"ELSE ({self.capped_count(where)}) END"
            )
            counted_params = [candidates.limit, *where_params]
        # The fence (OFFSET 0 on PostgreSQL) keeps the planner from pulling the rank up past
        # the window: it is computed once per row ranked, and only narrow rows are counted.
        inner = (
            f"SELECT d.model_id, d.runs_7d, d.run_count, d.updated_at, d.quality, "
            f"{rank_sql} AS rank, "
            f"CASE WHEN d.name = %s THEN 1 ELSE 0 END AS exact_name, "
            f"CASE WHEN d.full_name = %s THEN 1 ELSE 0 END AS exact_full, "
            f"{intent_sql} AS intent "
            f"FROM {self.table} d{source} WHERE {where}{self.fence}"
        )
        params: list[Any] = [
            *prefix_params,
            *counted_params,
            *rank_params,
            "-".join(query.tokens),
            query.exact_full_name or "",
            *intent_params,
            *where_params,
        ]
        score = (
            f"rank / (rank + {ranking.RANK_HALF}) + quality"
            f" + {ranking.EXACT_NAME_BONUS} * exact_name + {ranking.SIGNATURE_BONUS} * intent"
        )
        if query.sort in SORT_COLUMNS:
            order = ", ".join(f"{c} DESC" for c in SORT_COLUMNS[query.sort])
        else:
            order = "exact_full DESC, score DESC"
        sql = (
            f"{prefix}SELECT model_id, score, COUNT(*) OVER () AS ranked, {counted} AS counted "
            f"FROM (SELECT r.*, {score} AS score FROM ({inner}) AS r) AS s "
            f"ORDER BY {order}, model_id DESC LIMIT %s OFFSET %s"
        )
        params += [query.limit, query.offset]
        with connections[self.using].cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if not rows:
            return None if query.offset else SearchHits(ids=[], total=0)
        total = int(rows[0][3]) if int(rows[0][3]) >= 0 else min(int(rows[0][2]), TOTAL_CAP)
        return SearchHits(
            ids=[int(r[0]) for r in rows],
            total=total,
            scores={int(r[0]): round(float(r[1]), 4) for r in rows},
        )

    def intent(self, kinds: tuple[str, str]) -> Fragment:
        """Takes the first kind and returns the second ("speech to text")."""
        takes, takes_params = self.any_of("d.input_kinds", [kinds[0]], True)
        gives, gives_params = self.any_of("d.output_kinds", [kinds[1]], True)
        return f"({takes}) AND ({gives})", [*takes_params, *gives_params]

    def ordered_hits(self, query: SearchQuery) -> SearchHits:
        """Without words: the order of an index (quality, trending, runs, updated), read
        only as far as the page; the total is counted separately."""
        where, params = self.where(query, None)
        columns = SORT_COLUMNS.get(query.sort, ("quality",))
        order = ", ".join(f"d.{c} DESC" for c in columns)
        sql = (
            f"SELECT d.model_id, d.quality FROM {self.table} d WHERE {where} "
            f"ORDER BY {order}, d.model_id DESC LIMIT %s OFFSET %s"
        )
        with connections[self.using].cursor() as cursor:
            cursor.execute(sql, [*params, query.limit, query.offset])
            rows = cursor.fetchall()
        return SearchHits(
            ids=[int(r[0]) for r in rows],
            total=self.count(query, None),
            scores={int(r[0]): round(float(r[1]), 4) for r in rows},
        )

    def count(self, query: SearchQuery, match: TextMatch | None) -> int:
        """How many match, counted up to TOTAL_CAP."""
        where, params = self.where(query, match)
        with connections[self.using].cursor() as cursor:
            cursor.execute(self.capped_count(where), params)
            return int(cursor.fetchone()[0])

    def capped_count(self, where: str) -> str:
        """A query counting the rows that meet `where`, up to TOTAL_CAP."""
        return (
            f"SELECT COUNT(*) FROM (SELECT 1 FROM {self.table} d WHERE {where} "
            f"LIMIT {TOTAL_CAP}) AS m"
        )

    def sample_percent(self, total: int) -> float | None:
        """The share of the table (in %) to count facets on, or None to count them all."""
        return None

    def facets(
        self, query: SearchQuery, match: TextMatch | None, total: int
    ) -> tuple[dict[str, list[FacetValue]], bool]:
        """Counts of each facet's values, exact, or estimated from a sample of the table
        when at least TOTAL_CAP models match (then True)."""
        percent = self.sample_percent(total)
        source, source_params = f"{self.table} d", []
        if percent is not None:
            # Whole pages, the same ones every time (REPEATABLE): counts do not jump
            # between two loads of a page.
            source = f"{self.table} d TABLESAMPLE SYSTEM (%s) REPEATABLE (0)"
            source_params = [percent]
        active = [f for f in FACET_COLUMNS if query.filters.get(f)]
        flags, flag_params = [], []
        for facet in active:
            column, array = FACET_COLUMNS[facet]
            sql, p = self.any_of(f"d.{column}", query.filters[facet], array)
            flags.append(f"CASE WHEN {sql} THEN 1 ELSE 0 END AS f_{facet}")
            flag_params += p
        where, where_params = self.where(query, match, filters=False)
        columns = "d.owner_name, d.hardware, d.tags, d.collections, d.input_kinds, d.output_kinds"
        base = f"SELECT {', '.join([columns, *flags])} FROM {source} WHERE {where}"
        branches = []
        for position, (facet, (column, array)) in enumerate(FACET_COLUMNS.items()):
            others = [f"b.f_{f} = 1" for f in active if f != facet]
            condition = f"WHERE {' AND '.join(others)}" if others else ""
            if array:
                source, value = f"base b, {self.elements(f'b.{column}')}", "v.value"
            else:
                source, value = "base b", f"b.{column}"
            branches.append(
                f"SELECT facet, value, n FROM (SELECT '{facet}' AS facet, {value} AS value, "
                f"COUNT(*) AS n FROM {source} {condition} GROUP BY {value} "
                f"ORDER BY n DESC, value LIMIT {FACET_LIMIT}) AS f{position}"
            )
        sql = f"WITH base AS ({base}) " + " UNION ALL ".join(branches)
        result: dict[str, list[FacetValue]] = {facet: [] for facet in FACET_COLUMNS}
        scale = 100 / percent if percent is not None else 1.0
        with connections[self.using].cursor() as cursor:
            cursor.execute(sql, [*flag_params, *source_params, *where_params])
            for facet, value, count in cursor.fetchall():
                n = estimate(int(count) * scale) if percent is not None else int(count)
                result[facet].append(FacetValue(str(value), n))
        return result, percent is not None


class PostgresSearch(SqlSearch):
    vendor = "postgresql"
    fence = " OFFSET 0"

    # The table's size by its statistics (-1 before the first ANALYZE).
    ROWS = "COALESCE((SELECT reltuples FROM pg_class WHERE oid = %s::regclass), -1)"

    def __init__(self, using: str) -> None:
        super().__init__(using)
        self.rows: float | None = None

    def text_match(self, words: list[str]) -> TextMatch:
        # The last word may be still being typed: it matches as a prefix, unless it is
        # already a catalog word ("text" should not also find "texture").
        last = words[-1]
        with connections[self.using].cursor() as cursor:
            cursor.execute(
                f"SELECT EXISTS (SELECT 1 FROM {SearchTerm._meta.db_table} WHERE term = %s), "
                f"{self.ROWS}",
                [last, self.table],
            )
            known, rows = cursor.fetchone()
        self.rows = float(rows)
        groups = []
        for position, word in enumerate(words):
            first = f"{word}:*" if position == len(words) - 1 and not known else word
            groups.append((first, *synonyms_of(word)))
        return TextMatch(tuple(groups))

    def corrected(self, match: TextMatch) -> TextMatch | None:
        words = [group[0].removesuffix(":*") for group in match.groups]
        corrections = self.corrections(words)
        if not corrections:
            return None
        groups = tuple(
            (*group, *corrections.get(word, ()))
            for group, word in zip(match.groups, words, strict=True)
        )
        return TextMatch(groups, match.any_group)

    def corrections(self, words: list[str]) -> dict[str, tuple[str, ...]]:
        """Up to two catalog words like each query word that is not a catalog word."""
        candidates = [w for w in dict.fromkeys(words) if len(w) >= 3 and not w.isdigit()]
        if not candidates:
            return {}
        terms = SearchTerm._meta.db_table
        # Catalog words with the same first letter and about the same length (found by
        # searchterm_shape_idx), by trigram similarity (pg_trgm): a few hundred
        # comparisons per word. The fence (OFFSET 0) keeps similarity() off the rows of
        # other lengths: computed on every term of the letter, it took 12 ms at 34k terms
        # instead of 1. (A trigram index and `%` were tried: slower, as short words share
        # common trigrams.)
        sql = (
            f"SELECT t.word, s.term FROM unnest(%s::text[]) AS t(word) "
            f"CROSS JOIN LATERAL (SELECT term FROM (SELECT term, frequency FROM {terms} "
            f"WHERE left(term, 1) = left(t.word, 1) "
            f"AND length(term) BETWEEN length(t.word) - 2 AND length(t.word) + 2 OFFSET 0) n "
            f"WHERE similarity(term, t.word) >= {MIN_SIMILARITY} "
            f"ORDER BY similarity(term, t.word) DESC, frequency DESC, term LIMIT 2) s "
            f"WHERE NOT EXISTS (SELECT 1 FROM {terms} k WHERE k.term = t.word)"
        )
        found: dict[str, tuple[str, ...]] = {}
        with connections[self.using].cursor() as cursor:
            cursor.execute(sql, [candidates])
            for word, term in cursor.fetchall():
                found[word] = (*found.get(word, ()), term)
        return found

    def candidates(self, query: SearchQuery, match: TextMatch) -> Candidates | None:
        """In a large catalog, only the CANDIDATES most popular matches (or first by the
        sort) beyond the page are ranked, with those named like the query and the most
        popular with the signature its words ask for; when there are more, they are
        counted up to TOTAL_CAP without being read."""
        if not self.ranks_candidates():
            return None
        limit = CANDIDATES + query.offset + query.limit
        where, params = self.where(query, match)
        ctes: list[Fragment] = []
        if query.sort in SORT_COLUMNS:
            order = ", ".join(f"d.{c} DESC" for c in SORT_COLUMNS[query.sort])
            popular = (
                f"SELECT d.model_id FROM {self.table} d WHERE {where} "
                f"ORDER BY {order}, d.model_id DESC LIMIT %s"
            )
            ctes.append((f"popular AS MATERIALIZED ({popular})", [*params, limit]))
        else:
            # The popular documents first: when they hold `limit` matches (a broad query),
            # those are the most popular of all, found by searchdoc_vector_top_gin without
            # reading every match; the rest is read only when they do not.
            top, rest = (
                f"(SELECT d.model_id FROM {self.table} d WHERE {where} AND d.quality {op} "
                f"{TOP_QUALITY} ORDER BY d.quality DESC, d.model_id DESC LIMIT %s)"
                for op in (">=", "<")
            )
            ctes.append(
                (
                    f"popular AS MATERIALIZED (SELECT model_id FROM ({top} UNION ALL {rest}) "
                    f"AS p LIMIT %s)",
                    [*params, limit, *params, limit, limit],
                )
            )
        branches: list[Fragment] = [
            ("SELECT model_id FROM popular", []),
            (
                f"SELECT d.model_id FROM {self.table} d WHERE d.name = %s AND {where}",
                ["-".join(query.tokens), *params],
            ),
            (
                f"SELECT d.model_id FROM {self.table} d WHERE d.full_name = %s AND {where}",
                [query.exact_full_name or "", *params],
            ),
        ]
        if query.intent and query.sort not in SORT_COLUMNS:
            intent, intent_params = self.intent(query.intent)
            condition, condition_params = f"{intent} AND {where}", [*intent_params, *params]
            # Both conditions are broad yet their overlap can be small: looked for among the
            # popular documents, or, when none of those has the signature, among the
            # POPULAR_TIER most popular (the second branch runs only then).
            ctes.append(
                (
                    f"intent AS MATERIALIZED (SELECT d.model_id FROM {self.table} d "
                    f"WHERE {condition} AND d.quality >= {TOP_QUALITY} "
                    f"ORDER BY d.quality DESC, d.model_id DESC LIMIT %s)",
                    [*condition_params, limit],
                )
            )
            branches.append(("SELECT model_id FROM intent", []))
            branches.append(
                (
                    f"(SELECT d.model_id FROM (SELECT * FROM {self.table} "
                    f"ORDER BY quality DESC, model_id DESC LIMIT {POPULAR_TIER}) d "
                    f"WHERE {condition} AND NOT EXISTS (SELECT 1 FROM intent) "
                    f"ORDER BY d.quality DESC, d.model_id DESC LIMIT %s)",
                    [*condition_params, limit],
                )
            )
        ctes.append(
            (
                f"candidates AS ({' UNION '.join(sql for sql, _ in branches)})",
                [value for _, values in branches for value in values],
            )
        )
        return Candidates(
            ", ".join(sql for sql, _ in ctes), [v for _, values in ctes for v in values], limit
        )

    def ranks_candidates(self) -> bool:
        return self.table_rows() >= BOUNDED_FROM

    def table_rows(self) -> float:
        """About how many rows the search table has (as of its last ANALYZE; -1 before),
        asked once per search (`text_match` brings it along)."""
        if self.rows is None:
            with connections[self.using].cursor() as cursor:
                cursor.execute(f"SELECT {self.ROWS}", [self.table])
                self.rows = float(cursor.fetchone()[0])
        return self.rows

    def sample_percent(self, total: int) -> float | None:
        if total < TOTAL_CAP:
            return None
        rows = self.table_rows()
        if rows <= FACET_SAMPLE_ROWS:  # small, or never analyzed (-1)
            return None
        return round(100 * FACET_SAMPLE_ROWS / rows, 3)

    def tsquery(self, match: TextMatch) -> str:
        joiner = " | " if match.any_group else " & "
        return joiner.join("(" + " | ".join(group) + ")" for group in match.groups)

    def text_condition(self, match: TextMatch) -> Fragment:
        return "d.vector @@ to_tsquery(%s::regconfig, %s)", [
            documents.text_config(),
            self.tsquery(match),
        ]

    def rank(self, match: TextMatch) -> Fragment:
        rank = "ts_rank(%s::float4[], d.vector, to_tsquery(%s::regconfig, %s), 1)"
        return rank, [list(ranking.RANK_WEIGHTS), documents.text_config(), self.tsquery(match)]

    def any_of(self, column: str, values: Sequence[str], array: bool) -> Fragment:
        if column in KIND_MASKS:
            return f"({KIND_MASKS[column]} & %s) <> 0", [kinds_mask(values)]
        if array:
            return f"{column} ?| %s::text[]", [list(values)]
        return f"{column} = ANY(%s::text[])", [list(values)]

    def visible_to(self, owner_ids: Sequence[int]) -> Fragment:
        return "d.visibility = 'public' OR d.owner_id = ANY(%s::bigint[])", [list(owner_ids)]

    def elements(self, column: str) -> str:
        return f"jsonb_array_elements_text({column}) AS v(value)"


class SqliteSearch(SqlSearch):
    vendor = "sqlite"
    FIELDS = (
        ("names_text", 4.0),
        ("summary_text", 2.0),
        ("schema_text", 1.0),
        ("readme_text", 0.5),
    )

    def text_match(self, words: list[str]) -> TextMatch:
        return TextMatch(tuple((word, *synonyms_of(word)) for word in words))

    def corrected(self, match: TextMatch) -> TextMatch | None:
        groups = []
        changed = False
        for group in match.groups:
            word = group[0]
            if len(word) < 3 or word.isdigit():
                groups.append(group)
                continue
            nearby = SearchTerm.objects.using(self.using).filter(term__startswith=word[0])
            terms = list(nearby.values_list("term", flat=True)[:50000])
            close = [
                t for t in difflib.get_close_matches(word, terms, n=2, cutoff=0.75) if t != word
            ]
            changed = changed or bool(close)
            groups.append((*group, *close))
        return TextMatch(tuple(groups), match.any_group) if changed else None

    def _group(self, column: str, group: tuple[str, ...]) -> Fragment:
        return " OR ".join([f"{column} LIKE %s"] * len(group)), [f"%{w}%" for w in group]

    def text_condition(self, match: TextMatch) -> Fragment:
        everything = " || ' ' || ".join(f"d.{field}" for field, _ in self.FIELDS)
        parts, params = [], []
        for group in match.groups:
            sql, p = self._group(f"({everything})", group)
            parts.append(f"({sql})")
            params += p
        return (" OR " if match.any_group else " AND ").join(parts), params

    def rank(self, match: TextMatch) -> Fragment:
        terms, params = [], []
        for group in match.groups:
            for field, weight in self.FIELDS:
                sql, p = self._group(f"d.{field}", group)
                terms.append(f"CASE WHEN {sql} THEN {weight} ELSE 0 END")
                params += p
        most = sum(weight for _, weight in self.FIELDS) * len(match.groups)
        # The share of the best possible match, in [0, 1] like a (normalized) ts_rank.
        return f"({' + '.join(terms)}) / {most}", params

    def any_of(self, column: str, values: Sequence[str], array: bool) -> Fragment:
        marks = ", ".join(["%s"] * len(values))
        if array:
            exists = f"EXISTS (SELECT 1 FROM json_each({column}) e WHERE e.value IN ({marks}))"
            return exists, list(values)
        return f"{column} IN ({marks})", list(values)

    def elements(self, column: str) -> str:
        return f"json_each({column}) AS v"


def estimate(value: float) -> int:
    """A count as exact as it is, to two significant digits when scaled from a sample."""
    count = round(value)
    if count < 100:
        return count
    digits = len(str(count)) - 2
    return round(count, -digits)
