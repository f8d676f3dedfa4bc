"""How results are ordered: text relevance blended with popularity and freshness.

The database backends compute, for each matching model,

    score = relevance + quality + EXACT_NAME_BONUS * (name is the query)
                                + SIGNATURE_BONUS * (signature is what the words ask for)

with relevance in [0, 1) and quality (precomputed per document, refreshed as runs come
in and daily) in [0, QUALITY_MAX]. An exact `owner/name` comes first outside the score.
Meilisearch ranks by its own relevance rules, then by the `popularity` bucket derived
from the same quality.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Final

# Log scales: 10^8 runs (the most run models anywhere) is full popularity, 10^6 runs in a
# week full trend; a version published today is fully fresh, one 90 days old half.
RUNS_FULL: Final = 1e8
RUNS_7D_FULL: Final = 1e6
FRESH_HALF_LIFE_DAYS: Final = 90.0

# Tuned with tests/registry/search/test_relevance.py: among models that match, people
# mostly want the ones others use, so popularity weighs as much as text relevance.
POPULARITY_WEIGHT: Final = 1.0
TREND_WEIGHT: Final = 0.3
FRESHNESS_WEIGHT: Final = 0.05
QUALITY_MAX: Final = POPULARITY_WEIGHT + TREND_WEIGHT + FRESHNESS_WEIGHT

# An exact match of the whole query on a model's name ("whisper", "stable diffusion" on
# stable-diffusion) is worth more than any popularity; an exact `owner/name` always
# comes first, outside the score.
EXACT_NAME_BONUS: Final = 1.0

# Words that ask for a signature ("speech to text": takes audio, returns text) favour
# models whose latest version has it, over models that only use the same words.
SIGNATURE_BONUS: Final = 0.5

# Text relevance: PostgreSQL's ts_rank (normalized by the log of the document's length,
# so that repeating words in a long README does not pay) with these weights for D, C, B,
# A (README, schema fields, summary, names), squashed by rank / (rank + RANK_HALF).
RANK_WEIGHTS: Final = (0.05, 0.4, 0.4, 1.0)
RANK_HALF: Final = 0.1


def quality(*, run_count: int, runs_7d: int, updated_at: datetime, now: datetime) -> float:
    popularity = min(1.0, math.log1p(max(run_count, 0)) / math.log1p(RUNS_FULL))
    trend = min(1.0, math.log1p(max(runs_7d, 0)) / math.log1p(RUNS_7D_FULL))
    age_days = max(0.0, (now - updated_at).total_seconds() / 86400)
    freshness = 1.0 / (1.0 + age_days / FRESH_HALF_LIFE_DAYS)
    return round(
        POPULARITY_WEIGHT * popularity + TREND_WEIGHT * trend + FRESHNESS_WEIGHT * freshness, 6
    )


def popularity_bucket(quality_value: float) -> int:
    """Quality in 0..20 steps: coarse enough that Meilisearch's relevance rules after it
    still separate models of similar popularity."""
    return round(20 * quality_value / QUALITY_MAX)
