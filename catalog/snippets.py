"""Copy-ready code for a model's API tab: cURL, Python (`replicate`) and JavaScript,
filled with the model's real input names, example values and this server's base URL."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from catalog.modality import media_kind
from catalog.schemas import JSON, Property, input_properties, primary_type

CREDENTIAL_ENV = "VITRINE_API_TOKEN"
_SAMPLE_FILES = {
    "image": "https://example.com/input.jpg",
    "audio": "https://example.com/input.wav",
    "video": "https://example.com/input.mp4",
    "file": "https://example.com/input.bin",
}
_INLINE_LIMIT = 200  # longer example values (data: URLs) are replaced by a sample


@dataclass(frozen=True)
class Snippet:
    key: str
    title: str
    language: str
    code: str


def example_input(document: JSON | None, example: JSON | None = None) -> JSON:
    """Input for the snippets: required inputs and those the example sets, in `x-order`."""
    example = example or {}
    value: JSON = {}
    properties = input_properties(document)
    for prop in properties:
        if prop.name in example and _inlineable(example[prop.name]):
            value[prop.name] = example[prop.name]
        elif prop.name in example or (prop.required and not prop.schema.get("nullable")):
            value[prop.name] = _sample(prop)
    if not value and properties:
        first = properties[0]
        value[first.name] = first.schema.get("default", _sample(first))
    return value


def _inlineable(value: Any) -> bool:
    return len(json.dumps(value)) <= _INLINE_LIMIT


def _sample(prop: Property) -> Any:
    schema = prop.schema
    if "default" in schema and schema["default"] is not None:
        return schema["default"]
    if schema.get("enum"):
        return schema["enum"][0]
    kind = primary_type(schema)
    if kind == "string":
        if schema.get("format") == "uri":
            return _SAMPLE_FILES[media_kind(prop.name, prop.title, prop.description)]
        if schema.get("format") == "password" or schema.get("x-cog-secret"):
            return "your-secret"
        if "prompt" in prop.name:
            return "a photo of an astronaut riding a horse on the moon"
        return "Hello, world"
    if kind == "integer":
        return int(schema.get("minimum", 1))
    if kind == "number":
        low, high = schema.get("minimum"), schema.get("maximum")
        if isinstance(low, int | float) and isinstance(high, int | float):
            return (low + high) / 2
        return low if isinstance(low, int | float) else 0.5
    if kind == "boolean":
        return False
    if kind == "array":
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        assert isinstance(items, dict)
        return [_sample(Property(name=prop.name, schema=items, required=True))]
    return {}


def snippets(*, base_url: str, model_name: str, version_id: str, input: JSON) -> list[Snippet]:
    return [
        Snippet("curl", "cURL", "shell", curl(base_url, version_id, input)),
        Snippet("python", "Python", "python", python(base_url, model_name, version_id, input)),
        Snippet(
            "javascript",
            "JavaScript",
            "javascript",
            javascript(base_url, model_name, version_id, input),
        ),
    ]


def _shell_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def curl(base_url: str, version_id: str, input: JSON) -> str:
    body = json.dumps({"version": version_id, "input": input}, indent=2, ensure_ascii=False)
    return "\n".join(
        [
            "curl -s -X POST \\",
            f'  -H "Authorization: Bearer ${CREDENTIAL_ENV}" \\',
            '  -H "Content-Type: application/json" \\',
            '  -H "Prefer: wait" \\',
            f"  -d {_shell_quote(body)} \\",
            f"  {base_url}/v1/predictions",
        ]
    )


def python_literal(value: Any, indent: int = 0) -> str:
    """`value` as Python source, laid out like black would."""
    pad, inner = " " * indent, " " * (indent + 4)
    if isinstance(value, dict):
        if not value:
            return "{}"
        lines = [
            f"{inner}{json.dumps(str(k))}: {python_literal(v, indent + 4)},"
            for k, v in value.items()
        ]
        return "{\n" + "\n".join(lines) + f"\n{pad}}}"
    if isinstance(value, list):
        if not value:
            return "[]"
        lines = [f"{inner}{python_literal(v, indent + 4)}," for v in value]
        return "[\n" + "\n".join(lines) + f"\n{pad}]"
    if value is True:
        return "True"
    if value is False:
        return "False"
    if value is None:
        return "None"
    return json.dumps(value, ensure_ascii=False)


def python(base_url: str, model_name: str, version_id: str, input: JSON) -> str:
    return "\n".join(
        [
            "import os",
            "",
            "import replicate",
            "",
            "client = replicate.Client(",
            f'    api_token=os.environ["{CREDENTIAL_ENV}"],',
            f'    base_url="{base_url}",',
            ")",
            "output = client.run(",
            f'    "{model_name}:{version_id}",',
            f"    input={python_literal(input, 4)},",
            ")",
            "print(output)",
        ]
    )


def javascript(base_url: str, model_name: str, version_id: str, input: JSON) -> str:
    literal = json.dumps(input, indent=2, ensure_ascii=False).replace("\n", "\n  ")
    return "\n".join(
        [
            'import Replicate from "replicate";',
            "",
            "const replicate = new Replicate({",
            f"  auth: process.env.{CREDENTIAL_ENV},",
            f'  baseUrl: "{base_url}/v1",',
            "});",
            "",
            f'const output = await replicate.run("{model_name}:{version_id}", {{',
            f"  input: {literal},",
            "});",
            "console.log(output);",
        ]
    )
