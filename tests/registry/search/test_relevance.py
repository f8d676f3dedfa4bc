"""Relevance: in a generated catalog of a few thousand models shaped like Replicate's
(well-known models among fine-tunes and community models that reuse their words), the
model people mean must come in the top 3.

Runs on the suite's database; the catalog is loaded once for the module, inside a
transaction rolled back at the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection, transaction

from registry import synthetic
from registry.models import MLModel
from registry.search import documents
from registry.search.base import TOTAL_CAP
from registry.search.service import search_models

CATALOG_SIZE = 3000

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="relevance is tuned for the PostgreSQL backend; SQLite matches more simply",
    ),
]

# (query, model that must be in the top 3)
CASES = [
    ("whisper", "openai/whisper"),
    ("speech to text", "openai/whisper"),
    ("transcribe audio", "openai/whisper"),
    ("stable diffusion", "stability-ai/stable-diffusion"),
    ("sdxl", "stability-ai/sdxl"),
    ("flux", "black-forest-labs/flux-schnell"),
    ("upscale images", "nightmareai/real-esrgan"),
    ("upscaler", "nightmareai/real-esrgan"),
    ("face restoration", "tencentarc/gfpgan"),
    ("restore old photos", "tencentarc/gfpgan"),
    ("remove background", "cjwbw/rembg"),
    ("image captioning", "salesforce/blip"),
    ("llama", "meta/meta-llama-3-8b-instruct"),
    ("mixtral", "mistralai/mixtral-8x7b-instruct-v0.1"),
    ("music generation", "meta/musicgen"),
    ("text to speech", "suno-ai/bark"),
    ("voice cloning", "lucataco/xtts-v2"),
    ("text to video", "anotherjesse/zeroscope-v2-xl"),
    ("image to video", "stability-ai/stable-video-diffusion"),
    ("inpainting", "stability-ai/stable-diffusion-inpainting"),
    ("ocr", "abiruyt/text-extract-ocr"),
    ("separate vocals", "cjwbw/demucs"),
    ("sentence embeddings", "replicate/all-mpnet-base-v2"),
    ("detect objects", "adirik/grounding-dino"),
    ("translate text", "cjwbw/seamless-communication"),
    ("codeformer", "sczhou/codeformer"),
    ("llava", "yorickvp/llava-13b"),
    ("lightning", "bytedance/sdxl-lightning-4step"),
    ("frame interpolation", "google-research/frame-interpolation"),
    # what it takes and returns, in words
    ("text to image", "bytedance/sdxl-lightning-4step"),
    ("image to text", "salesforce/blip"),
    # owners
    ("meta", "meta/meta-llama-3-8b-instruct"),
    ("stability-ai", "stability-ai/stable-diffusion"),
    ("black forest labs", "black-forest-labs/flux-schnell"),
    # misspellings
    ("wisper", "openai/whisper"),
    ("stabel difusion", "stability-ai/stable-diffusion"),
    ("gfpgn", "tencentarc/gfpgan"),
    ("upscalr", "nightmareai/real-esrgan"),
    ("musicgne", "meta/musicgen"),
    ("realesrgan", "nightmareai/real-esrgan"),
    # prefixes, as typed
    ("whisp", "openai/whisper"),
    ("stable diff", "stability-ai/stable-diffusion"),
    # signature filters
    ("input:image output:text", "salesforce/blip"),
    ("input:audio output:text", "openai/whisper"),
    ("output:video", "stability-ai/stable-video-diffusion"),
    ("output:audio input:text", "suno-ai/bark"),
    ("transcription input:audio", "openai/whisper"),
    ("output:stream input:image", "yorickvp/llava-13b"),
]
# Specific words find the models named after them before popular models that only
# mention them.
SPECIFIC = ["pixar", "tarot", "wav2vec2", "watercolor", "distil-whisper"]
# An exact owner/name is always first, however unpopular.
EXACT = ["stability-ai/sdxl", "cjwbw/demucs", "google-research/frame-interpolation"]


@pytest.fixture(scope="module")
def catalog(django_db_setup: Any, django_db_blocker: Any) -> Iterator[dict[str, float]]:
    with django_db_blocker.unblock(), transaction.atomic():
        synthetic.load(synthetic.generate(CATALOG_SIZE, seed=11))
        documents.rebuild_all()
        yield {}
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def bounded_ranking(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rank as a large catalog does (only the candidates of broad queries), so that the
    cases check what 100k models get; a catalog this small would rank every match."""
    from registry.search import database

    monkeypatch.setattr(database.PostgresSearch, "ranks_candidates", lambda self: True)


def top(text: str, n: int = 3) -> list[str]:
    return [model.full_name for model in search_models(user=None, text=text, limit=n).models]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_the_intended_model_is_in_the_top_3(
    catalog: dict[str, float], text: str, expected: str
) -> None:
    assert expected in top(text), f"{text!r}: {top(text, 10)}"


@pytest.mark.parametrize("word", SPECIFIC)
def test_a_specific_word_finds_a_model_named_after_it_first(
    catalog: dict[str, float], word: str
) -> None:
    assert word in top(word.replace("-", " "))[0].split("/")[1], top(word, 5)


@pytest.mark.parametrize("full_name", EXACT)
def test_an_exact_owner_slash_name_is_first(catalog: dict[str, float], full_name: str) -> None:
    assert top(full_name)[0] == full_name


def test_private_models_of_the_catalog_never_show_to_anonymous_people(
    catalog: dict[str, float],
) -> None:
    result = search_models(user=None, text="", limit=100)
    assert all(model.visibility == "public" for model in result.models)
    public = MLModel.objects.filter(visibility="public").count()
    assert result.total == min(public, TOTAL_CAP)  # totals stop counting at the cap
    assert sum(v.count for v in result.facets["hardware"]) == public  # facets do not
