"""Unsupervised keyword extraction with YAKE!.

YAKE! ranks candidate words and phrases using statistics of the text itself
(casing, position, frequency, context spread), so it needs no training data
and no model download. Stop-word lists for the supported languages ship
inside the `yake` package.
"""

from difflib import SequenceMatcher

import yake
from cog import BasePredictor, Input

# Input language codes (ISO 639-1) mapped to the stop-word lists bundled with
# yake. yake names Czech "cz"; everything else matches the ISO code.
LANGUAGES = {
    "en": "en",
    "de": "de",
    "fr": "fr",
    "es": "es",
    "it": "it",
    "pt": "pt",
    "nl": "nl",
    "da": "da",
    "sv": "sv",
    "no": "no",
    "fi": "fi",
    "pl": "pl",
    "cs": "cz",
    "sk": "sk",
    "ro": "ro",
    "hu": "hu",
    "ru": "ru",
    "uk": "uk",
    "bg": "bg",
    "el": "el",
    "tr": "tr",
    "ar": "ar",
    "fa": "fa",
    "hi": "hi",
}

# Cog reads `choices` without running this file (cog build parses it statically), so
# they must be literal lists; the check below keeps them in step with the tables.
LANGUAGE_CHOICES = [
    "en", "de", "fr", "es", "it", "pt", "nl", "da", "sv", "no", "fi", "pl", "cs", "sk",
    "ro", "hu", "ru", "uk", "bg", "el", "tr", "ar", "fa", "hi",
]
assert LANGUAGE_CHOICES == list(LANGUAGES)

# One literal: cog build reads defaults statically and cannot join implicit concatenations.
DEFAULT_TEXT = "Cog is an open-source tool that packages machine learning models in a standard, production-ready container. It generates an HTTP prediction server from the type annotations of a Python predictor, so every model exposes the same API. Vitrine builds on Cog to offer a self-hosted model registry: you push a Cog model, and Vitrine gives it a web page, an input form generated from its schema, and a Replicate-compatible API."


def _sequence_similarity(a: str, b: str) -> float:
    return SequenceMatcher(None, a, b).ratio()


class Predictor(BasePredictor):
    def setup(self) -> None:
        # Stop-word lists are small and extractors are cheap to build, so we
        # create one per request (see predict) rather than caching them.
        pass

    def predict(
        self,
        text: str = Input(
            default=DEFAULT_TEXT,
            description="Document to extract keywords from. Works best on a paragraph to a few pages of prose.",
        ),
        language: str = Input(
            default="en",
            choices=LANGUAGE_CHOICES,
            description="Language of the text (ISO 639-1 code); selects the stop-word list.",
        ),
        max_keywords: int = Input(
            default=10,
            ge=1,
            le=50,
            description="Maximum number of keywords to return.",
        ),
        max_ngram_size: int = Input(
            default=3,
            ge=1,
            le=5,
            description="Longest keyphrase to consider, in words (1 = single words only).",
        ),
        deduplication_threshold: float = Input(
            default=0.7,
            ge=0.1,
            le=0.95,
            description="Drop a candidate whose similarity to a better-ranked keyword is above this value (0-1, character-sequence similarity). Lower values give more varied keywords; higher values keep near-duplicates such as 'machine learning' and 'machine learning models'.",
        ),
    ) -> list[dict]:
        extractor = yake.KeywordExtractor(
            lan=LANGUAGES[language],
            n=max_ngram_size,
            top=max_keywords,
            dedup_lim=deduplication_threshold,
            window_size=1,
        )
        # yake 0.7.x replaced its "seqm" similarity with a fast heuristic that
        # returns 0.0 unless two phrases share their first and last characters,
        # so overlapping phrases were never deduplicated. Restore the classic
        # behaviour (a SequenceMatcher ratio, as in YAKE! <= 0.6) on the instance.
        extractor.dedup_function = _sequence_similarity
        # YAKE! scores are "lower is more relevant"; results come sorted best first.
        # Scores are numpy floats, so convert them to plain floats for JSON.
        return [
            {"keyword": keyword, "score": round(float(score), 6)}
            for keyword, score in extractor.extract_keywords(text)
        ]
