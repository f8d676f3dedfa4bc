"""Words people use interchangeably when looking for models, where stemming does not
already join them ("transcribe" and "transcription" have different English stems).

Both backends use the same list: the database backend adds a word's synonyms to its
alternatives, Meilisearch gets them as its `synonyms` setting. Keep it short and about
what models do; one word per entry (the query is matched word by word).
"""

from __future__ import annotations

from typing import Final

SYNONYM_GROUPS: Final[tuple[frozenset[str], ...]] = (
    frozenset({"transcribe", "transcription", "transcriber", "transcript", "asr", "stt"}),
    frozenset({"bg", "background"}),
    frozenset({"img", "image"}),
    frozenset({"pic", "picture"}),
    frozenset({"vid", "video"}),
    frozenset({"llm", "llms"}),
    frozenset({"tts", "speech"}),
)
_BY_WORD: Final = {word: group for group in SYNONYM_GROUPS for word in group}


def synonyms_of(word: str) -> tuple[str, ...]:
    """The other words of the word's group, sorted; none if it has no group."""
    return tuple(sorted(_BY_WORD.get(word, frozenset()) - {word}))


def meili_synonyms() -> dict[str, list[str]]:
    return {word: list(synonyms_of(word)) for word in sorted(_BY_WORD)}
