"""The API tab's code: real input names, example values, this server's URL."""

from __future__ import annotations

import ast
import json
import shlex

from catalog import snippets
from tests.factories import cog_schema


def test_the_example_input_has_required_inputs_and_what_the_example_sets() -> None:
    sample = snippets.example_input(cog_schema("hello"), {"repeat": 3})
    assert sample == {"text": "Hello, world", "repeat": 3}
    assert snippets.example_input(cog_schema("hello")) == {"text": "Hello, world"}


def test_files_and_secrets_get_sample_values_and_long_uploads_are_not_inlined() -> None:
    sample = snippets.example_input(cog_schema("llm-stream"))
    assert sample == {
        "prompt": "a photo of an astronaut riding a horse on the moon",
        "api_key": "your-secret",
    }
    whisper = snippets.example_input(
        cog_schema("whisper"), {"audio": "data:audio/wav;base64," + "A" * 500}
    )
    assert whisper == {"audio": "https://example.com/input.wav"}


def test_a_model_without_required_inputs_still_shows_one() -> None:
    assert snippets.example_input(cog_schema("sdxl")) == {
        "prompt": "An astronaut riding a rainbow unicorn"
    }


def test_the_curl_snippet_is_one_valid_shell_command_with_the_version_and_input() -> None:
    code = snippets.curl("http://vitrine.test", "abc123", {"text": "it's <ok>"})
    words = shlex.split(code.replace("\\\n", " "))
    assert words[:4] == ["curl", "-s", "-X", "POST"]
    assert words[-1] == "http://vitrine.test/v1/predictions"
    body = json.loads(words[words.index("-d") + 1])
    assert body == {"version": "abc123", "input": {"text": "it's <ok>"}}
    assert "Bearer $VITRINE_API_TOKEN" in code


def test_the_python_snippet_is_valid_python_using_the_replicate_client() -> None:
    code = snippets.python(
        "http://vitrine.test", "acme/hello", "abc", {"text": "hi", "flag": True, "n": None}
    )
    tree = ast.parse(code)
    assert 'base_url="http://vitrine.test"' in code
    assert '"acme/hello:abc"' in code
    call = next(
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "run"
    )
    assert ast.literal_eval(call.keywords[0].value) == {"text": "hi", "flag": True, "n": None}


def test_the_javascript_snippet_points_the_client_at_v1() -> None:
    code = snippets.javascript("http://vitrine.test", "acme/hello", "abc", {"text": "hi"})
    assert 'baseUrl: "http://vitrine.test/v1"' in code
    assert 'replicate.run("acme/hello:abc"' in code
    assert '"text": "hi"' in code
