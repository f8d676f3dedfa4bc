"""The embedded default really runs on SQLite.

When the suite runs on PostgreSQL (CI), the first test runs the database backend's tests
again in a child pytest whose DATABASE_URL is a SQLite file; on SQLite the tests below
run directly (and the child is not needed).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from registry.search import database
from registry.search.service import search_models
from tests.registry.search.helpers import MakeModel, names

ON_SQLITE = connection.vendor == "sqlite"
sqlite_only = pytest.mark.skipif(not ON_SQLITE, reason="runs in the SQLite child run")


@pytest.mark.skipif(ON_SQLITE, reason="already running on SQLite")
def test_the_database_backend_passes_its_tests_on_sqlite(tmp_path: Path) -> None:
    here = Path(__file__).parent
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'search.sqlite3'}"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-rs",
            "-p",
            "no:cacheprovider",
            str(here / "test_database.py"),
            str(here / "test_sqlite.py"),
        ],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
    # The child really was on SQLite: the SQLite-only tests ran, PostgreSQL-only ones not.
    assert "runs in the SQLite child run" not in result.stdout
    assert "need PostgreSQL" in result.stdout


@sqlite_only
@pytest.mark.django_db
def test_it_runs_the_sqlite_query_builder(make_model: MakeModel, monkeypatch: Any) -> None:
    used = []
    original = database.SqliteSearch.run

    def spy(self: database.SqliteSearch, query: Any) -> Any:
        used.append(type(self).__name__)
        return original(self, query)

    monkeypatch.setattr(database.SqliteSearch, "run", spy)
    make_model("openai/whisper", "Speech recognition")
    assert names(search_models(user=None, text="speech")) == ["openai/whisper"]
    assert used == ["SqliteSearch"]


@sqlite_only
@pytest.mark.django_db
def test_on_sqlite_misspellings_are_corrected_when_nothing_matches(make_model: MakeModel) -> None:
    make_model("stability-ai/stable-diffusion", "A latent text-to-image diffusion model")
    make_model("openai/whisper", "Speech recognition")
    assert names(search_models(user=None, text="stable difusion")) == [
        "stability-ai/stable-diffusion"
    ]
    assert names(search_models(user=None, text="wisper")) == ["openai/whisper"]


@sqlite_only
@pytest.mark.django_db
def test_on_sqlite_name_matches_rank_above_description_matches(make_model: MakeModel) -> None:
    make_model("a/notes", "Uses whisper internally")
    make_model("openai/whisper", "Speech recognition")
    assert names(search_models(user=None, text="whisper")) == ["openai/whisper", "a/notes"]
