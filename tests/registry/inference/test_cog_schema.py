"""`registry/inference/cog_schema.py` against Cog 0.23.1's own schema generator.

`cog build` generates the OpenAPI document statically in Go (replicate/cog at 6110c912:
`pkg/schema/python/*.go` parses the predictor, `pkg/schema/openapi_spec.go` assembles the
document, `pkg/schema/schema_type.go` and `pkg/schema/types.go` map types). The expected
fragments below were written by hand from that source; each cites the Go function it follows.
The script runs in a virtualenv with cog==0.23.1 (the `cog_python` fixture), as it does for a
model, and the last tests hand its output to the real coglet server.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from registry.inference import cog_schema

pytestmark = pytest.mark.cog

FIXTURES = Path(__file__).parent / "fixtures"
SCRIPT = Path(cog_schema.__file__)
REF = "#/components/schemas/"

Run = Callable[..., subprocess.CompletedProcess[str]]
Doc = Callable[..., dict[str, Any]]


@pytest.fixture(scope="session")
def run_script(cog_python: Path) -> Run:
    def run(project: Path | str, ref: str, *extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(cog_python), str(SCRIPT), str(project), ref, *extra],
            capture_output=True,
            text=True,
            timeout=120,
        )

    return run


@pytest.fixture(scope="session")
def raw_doc(run_script: Run) -> Callable[..., str]:
    cache: dict[tuple[str, ...], str] = {}

    def get(fixture: str, ref: str = "predict.py:Predictor", *extra: str) -> str:
        key = (fixture, ref, *extra)
        if key not in cache:
            result = run_script(FIXTURES / fixture, ref, *extra)
            assert result.returncode == 0, result.stderr
            cache[key] = result.stdout
        return cache[key]

    return get


@pytest.fixture(scope="session")
def doc(raw_doc: Callable[..., str]) -> Doc:
    def get(fixture: str, ref: str = "predict.py:Predictor", *extra: str) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(raw_doc(fixture, ref, *extra))
        return parsed

    return get


def schemas(document: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = document["components"]["schemas"]
    return result


# --- Top level: openapi_spec.go buildOpenAPISpec ---------------------------------------------

# buildOpenAPISpec: the "/" and "/health-check" operations and the cancel operation.
EMPTY_OK = {"description": "Successful Response", "content": {"application/json": {"schema": {}}}}
VALIDATION_ERROR = {
    "description": "Validation Error",
    "content": {"application/json": {"schema": {"$ref": REF + "HTTPValidationError"}}},
}


def expected_paths(train: bool = False, streaming: bool = False) -> dict[str, Any]:
    """buildOpenAPISpec's paths, in its insertion order (an orderedMapAny)."""
    noun, param = ("trainings", "training_id") if train else ("predictions", "prediction_id")
    main = {
        "summary": "Train" if train else "Predict",
        "description": f"Run a single {'training' if train else 'prediction'} on the model",
        "operationId": "train_trainings_post" if train else "predict_predictions_post",
        "requestBody": {
            "content": {
                "application/json": {
                    "schema": {"$ref": REF + ("TrainingRequest" if train else "PredictionRequest")}
                }
            }
        },
        "responses": {
            "200": {
                "description": "Successful Response",
                "content": {
                    "application/json": {
                        "schema": {
                            "$ref": REF + ("TrainingResponse" if train else "PredictionResponse")
                        }
                    }
                },
            },
            "422": VALIDATION_ERROR,
        },
    }
    if streaming:  # `if !isTrain && info.SupportsStreaming`
        main["x-cog-streaming"] = True
    return {
        "/": {
            "get": {"summary": "Root", "operationId": "root__get", "responses": {"200": EMPTY_OK}}
        },
        "/health-check": {
            "get": {
                "summary": "Healthcheck",
                "operationId": "healthcheck_health_check_get",
                "responses": {"200": EMPTY_OK},
            }
        },
        f"/{noun}": {"post": main},
        f"/{noun}/{{{param}}}/cancel": {
            "post": {
                "summary": "Cancel",
                "operationId": f"cancel_{noun}__{param}__cancel_post",
                "parameters": [
                    {
                        "required": True,
                        # TitleCase(cancelParam)
                        "schema": {
                            "title": "Training Id" if train else "Prediction Id",
                            "type": "string",
                        },
                        "name": param,
                        "in": "path",
                    }
                ],
                "responses": {"200": EMPTY_OK, "422": VALIDATION_ERROR},
            }
        },
    }


def expected_fixed_components(train: bool = False) -> dict[str, Any]:
    """buildOpenAPISpec: request/response envelopes, Status and the validation errors."""
    req, resp = (
        ("TrainingRequest", "TrainingResponse")
        if train
        else ("PredictionRequest", "PredictionResponse")
    )
    in_ref = REF + ("TrainingInput" if train else "Input")
    out_ref = REF + ("TrainingOutput" if train else "Output")
    dt = {"type": "string", "format": "date-time"}
    return {
        req: {
            "title": req,
            "type": "object",
            "properties": {"id": {"title": "Id", "type": "string"}, "input": {"$ref": in_ref}},
        },
        resp: {
            "title": resp,
            "type": "object",
            "properties": {
                "input": {"$ref": in_ref},
                "output": {"$ref": out_ref},
                "id": {"title": "Id", "type": "string"},
                "version": {"title": "Version", "type": "string"},
                "created_at": {"title": "Created At", **dt},
                "started_at": {"title": "Started At", **dt},
                "completed_at": {"title": "Completed At", **dt},
                "status": {"title": "Status", "type": "string"},
                "error": {"title": "Error", "type": "string"},
                "logs": {"title": "Logs", "type": "string"},
                "metrics": {"title": "Metrics", "type": "object"},
            },
        },
        "Status": {
            "title": "Status",
            "description": "An enumeration.",
            "enum": ["starting", "processing", "succeeded", "canceled", "failed"],
            "type": "string",
        },
        "HTTPValidationError": {
            "title": "HTTPValidationError",
            "type": "object",
            "properties": {
                "detail": {
                    "title": "Detail",
                    "type": "array",
                    "items": {"$ref": REF + "ValidationError"},
                }
            },
        },
        "ValidationError": {
            "title": "ValidationError",
            "required": ["loc", "msg", "type"],
            "type": "object",
            "properties": {
                "loc": {
                    "title": "Location",
                    "type": "array",
                    "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                },
                "msg": {"title": "Message", "type": "string"},
                "type": {"title": "Error Type", "type": "string"},
            },
        },
    }


def test_top_level_predict_mode(doc: Doc) -> None:
    d = doc("types_predictor")
    # buildOpenAPISpec returns a map[string]any (keys marshal sorted); version = global.Version
    assert list(d) == ["components", "info", "openapi", "paths"]
    assert d["openapi"] == "3.0.2"
    assert d["info"] == {"title": "Cog", "version": "0.23.1"}
    assert d["paths"] == expected_paths()
    assert list(d["paths"]) == list(expected_paths())  # orderedMapAny insertion order
    # components: Input, Output, [enums], then the fixed ones (orderedMapAny)
    assert list(schemas(d)) == [
        "Input", "Output", "PredictionRequest", "PredictionResponse", "Status",
        "HTTPValidationError", "ValidationError",
    ]  # fmt: skip
    for name, expected in expected_fixed_components().items():
        assert schemas(d)[name] == expected, name


def test_bytes_match_go_encoding(raw_doc: Callable[..., str]) -> None:
    raw = raw_doc("types_predictor")
    # GenerateOpenAPISchema: json.Marshal -> compact, map keys sorted, orderedMapAny in order,
    # no trailing newline; encoding/json escapes <, > and & as \u003c, \u003e, \u0026.
    assert raw.startswith(
        '{"components":{"schemas":{"Input":{"properties":{"prompt":{"description":'
    )
    assert raw.endswith('"summary":"Cancel"}}}}')
    assert '"description":"Text \\u003cprompt\\u003e \\u0026 more"' in raw
    # Input properties are plain maps: keys sorted, x-order last
    assert (
        '"num_outputs":{"default":1,"description":"How many outputs","maximum":4,"minimum":1,'
        '"title":"Num Outputs","type":"integer","x-order":1}'
    ) in raw
    # float64 defaults and bounds print like Go's strconv ('f', -1): 2.0 -> 2, 0 -> 0
    assert (
        '"options":{"default":{"a":2,"b":1},"title":"Options","type":"object","x-order":10}' in raw
    )
    assert ": " not in raw and ", " not in raw


# --- Input: openapi_spec.go buildInputSchema / inputTypeJSONSchema, types.go -----------------


def test_input_types_and_constraints(doc: Doc) -> None:
    inp = schemas(doc("types_predictor"))["Input"]
    assert inp["title"] == "Input" and inp["type"] == "object"
    props = inp["properties"]
    expected = {
        # str + Input(description, min_length, max_length, regex): minLength/maxLength/pattern
        "prompt": {
            "description": "Text <prompt> & more",
            "maxLength": 200,
            "minLength": 1,
            "pattern": "^\\w",
            "title": "Prompt",
            "type": "string",
            "x-order": 0,
        },
        # int with ge/le -> minimum/maximum (GE/LE are *float64); default kept
        "num_outputs": {
            "default": 1,
            "description": "How many outputs",
            "maximum": 4,
            "minimum": 1,
            "title": "Num Outputs",
            "type": "integer",
            "x-order": 1,
        },
        "guidance_scale": {
            "default": 7.5,
            "maximum": 20.5,
            "minimum": 0,
            "title": "Guidance Scale",
            "type": "number",
            "x-order": 2,
        },
        # plain default (parseTypedDefaultParameter step 3)
        "enable_safety": {
            "default": True,
            "title": "Enable Safety",
            "type": "boolean",
            "x-order": 3,
        },
        # PrimitiveType.JSONType TypePath -> format uri; accept= -> x-cog-accept
        "image": {
            "description": "Input image",
            "format": "uri",
            "title": "Image",
            "type": "string",
            "x-cog-accept": "image/*",
            "x-order": 4,
        },
        # Optional[File] = Input(default=None): nullable, so the None default is kept
        "mask": {
            "default": None,
            "description": "Optional mask",
            "format": "uri",
            "nullable": True,
            "title": "Mask",
            "type": "string",
            "x-order": 5,
        },
        # TypeSecret -> password + writeOnly + x-cog-secret; no default -> required
        "api_key": {
            "description": "API key",
            "format": "password",
            "title": "Api Key",
            "type": "string",
            "writeOnly": True,
            "x-cog-secret": True,
            "x-order": 6,
        },
        # Secret = Input(default=None) is the documented optional-credential idiom -> nullable
        "proxy_key": {
            "default": None,
            "format": "password",
            "nullable": True,
            "title": "Proxy Key",
            "type": "string",
            "writeOnly": True,
            "x-cog-secret": True,
            "x-order": 7,
        },
        # InputKindArray -> {"type": "array", "items": ...}
        "tags": {
            "default": ["a", "b"],
            "items": {"type": "string"},
            "title": "Tags",
            "type": "array",
            "x-order": 8,
        },
        "images": {
            "description": "More images",
            "items": {"format": "uri", "type": "string"},
            "title": "Images",
            "type": "array",
            "x-order": 9,
        },
        # bare dict -> InputAnyType -> {"type": "object"}; dict defaults marshal with sorted keys
        "options": {
            "default": {"a": 2.0, "b": 1},
            "title": "Options",
            "type": "object",
            "x-order": 10,
        },
        # Any -> TypeAny -> {"type": "object"}
        "payload": {
            "description": "Anything JSON",
            "title": "Payload",
            "type": "object",
            "x-order": 11,
        },
        "seed": {
            "default": None,
            "nullable": True,
            "title": "Seed",
            "type": "integer",
            "x-order": 12,
        },
        # JSON-native union -> anyOf; a default makes it optional
        "scale": {
            "anyOf": [{"type": "integer"}, {"type": "number"}],
            "default": 1,
            "title": "Scale",
            "x-order": 13,
        },
        # A | B | None: every variant and the field get nullable; stays required without a default
        "size": {
            "anyOf": [{"nullable": True, "type": "integer"}, {"nullable": True, "type": "string"}],
            "description": "Number or name",
            "nullable": True,
            "title": "Size",
            "x-order": 14,
        },
        "legacy_mode": {
            "default": "off",
            "deprecated": True,
            "title": "Legacy Mode",
            "type": "string",
            "x-order": 15,
        },
    }
    assert props == expected
    assert list(props) == list(expected)  # signature order (OrderedMap)
    # required only for fields without an effective default (never for nullable single types)
    assert inp["required"] == ["prompt", "image", "api_key", "images", "payload", "size"]
    # schema_type.go SchemaType.JSONSchema: title "Output" on the top level only
    assert schemas(doc("types_predictor"))["Output"] == {"title": "Output", "type": "string"}


def test_choices_become_enum_components(doc: Doc) -> None:
    d = doc("choices_predictor")
    props = schemas(d)["Input"]["properties"]
    # buildInputSchema: choices -> allOf [$ref] and no title (removeTitleNextToRef is moot)
    assert props == {
        "style": {
            "allOf": [{"$ref": REF + "style"}],
            "default": "photo",
            "description": "Style",
            "x-order": 0,
        },
        "size": {"allOf": [{"$ref": REF + "size"}], "default": "small", "x-order": 1},
        "steps": {"allOf": [{"$ref": REF + "steps"}], "x-order": 2},
        "pixels": {"allOf": [{"$ref": REF + "pixels"}], "default": 256, "x-order": 3},
    }
    assert schemas(d)["Input"]["required"] == ["steps"]

    def enum(name: str, values: list[Any], type_: str) -> dict[str, Any]:
        return {"title": name, "description": "An enumeration.", "enum": values, "type": type_}

    # module_scope.go resolveChoicesExpr: list + list, list(D.keys()), list(D.values())
    assert schemas(d)["style"] == enum("style", ["photo", "anime", "sketch"], "string")
    assert schemas(d)["size"] == enum("size", ["small", "large"], "string")
    assert schemas(d)["steps"] == enum("steps", [10, 20, 50], "integer")
    assert schemas(d)["pixels"] == enum("pixels", [256, 1024], "integer")
    # enum components sit between Output and PredictionRequest, in parameter order
    assert list(schemas(d))[:7] == [
        "Input",
        "Output",
        "style",
        "size",
        "steps",
        "pixels",
        "PredictionRequest",
    ]
    # cog.Path output of an async def predict() -> {"type": "string", "format": "uri"}
    assert schemas(d)["Output"] == {"format": "uri", "title": "Output", "type": "string"}


# --- Output: schema_type.go ResolveSchemaType / coreSchema ------------------------------------


def test_base_model_output(doc: Doc) -> None:
    d = doc("model_output")
    # no inputs: properties empty, no "required" key (only emitted when non-empty)
    assert schemas(d)["Input"] == {"title": "Input", "type": "object", "properties": {}}
    # SchemaObject: titled properties in class order; required = fields without default that
    # are not Optional; Optional fields get nullable; a model imported from output_types.py is
    # resolved across files (models.go resolveExternalModels)
    assert schemas(d)["Output"] == {
        "title": "Output",
        "type": "object",
        "properties": {
            "caption": {"title": "Caption", "type": "string"},
            "boxes": {
                "title": "Boxes",
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "label": {"title": "Label", "type": "string"},
                        "score": {"title": "Score", "type": "number"},
                    },
                    "required": ["label", "score"],
                },
            },
            "error": {"nullable": True, "title": "Error", "type": "string"},
            "metadata": {
                "additionalProperties": {"type": "integer"},
                "title": "Metadata",
                "type": "object",
            },
            "confidence": {"title": "Confidence", "type": "number"},
        },
        "required": ["caption", "boxes", "metadata"],
    }
    order = ["caption", "boxes", "error", "metadata", "confidence"]  # class order
    assert list(schemas(d)["Output"]["properties"]) == order


def test_iterator_output(doc: Doc) -> None:
    d = doc("iterator_predictor")
    # SchemaIterator -> x-cog-array-type: iterator
    assert schemas(d)["Output"] == {
        "items": {"format": "uri", "type": "string"},
        "title": "Output",
        "type": "array",
        "x-cog-array-type": "iterator",
    }
    assert schemas(d)["Input"]["properties"]["frames"] == {
        "default": 2,
        "maximum": 10,
        "minimum": 1,
        "title": "Frames",
        "type": "integer",
        "x-order": 0,
    }
    assert d["paths"] == expected_paths()  # no @cog.streaming -> no x-cog-streaming


def test_streaming_async_runner(doc: Doc) -> None:
    d = doc("streaming_runner", "predict.py:Runner")
    # SchemaConcatIterator (AsyncConcatenateIterator[str]) adds x-cog-array-display
    assert schemas(d)["Output"] == {
        "items": {"type": "string"},
        "title": "Output",
        "type": "array",
        "x-cog-array-display": "concatenate",
        "x-cog-array-type": "iterator",
    }
    # @cog.streaming (annotations.go functionSupportsStreaming) -> x-cog-streaming on the POST
    assert d["paths"] == expected_paths(streaming=True)
    assert schemas(d)["Input"] == {
        "title": "Input",
        "type": "object",
        "properties": {
            "prompt": {"description": "Prompt", "title": "Prompt", "type": "string", "x-order": 0},
            "max_tokens": {"default": 16, "title": "Max Tokens", "type": "integer", "x-order": 1},
        },
        "required": ["prompt"],
    }


def test_async_runner_list_output(doc: Doc) -> None:
    d = doc("async_runner", "predict.py:Runner")
    # target.go findPredictMethodInClass prefers run(); list[str] -> SchemaArray
    assert schemas(d)["Output"] == {"items": {"type": "string"}, "title": "Output", "type": "array"}
    assert schemas(d)["Input"]["properties"] == {
        "text": {"description": "Text to repeat", "title": "Text", "type": "string", "x-order": 0},
        "repeat": {
            "default": 2,
            "description": "Copies",
            "maximum": 5,
            "minimum": 1,
            "title": "Repeat",
            "type": "integer",
            "x-order": 1,
        },
        "case": {"allOf": [{"$ref": REF + "case"}], "default": "lower", "x-order": 2},
    }
    assert schemas(d)["Input"]["required"] == ["text"]


# --- Train mode and the merged predict+train document -----------------------------------------


def test_train_mode(doc: Doc) -> None:
    d = doc("train_project", "train.py:train", "--mode", "train")
    assert d["paths"] == expected_paths(train=True)
    assert list(schemas(d)) == [
        "TrainingInput", "TrainingOutput", "mode", "TrainingRequest", "TrainingResponse", "Status",
        "HTTPValidationError", "ValidationError",
    ]  # fmt: skip
    for name, expected in expected_fixed_components(train=True).items():
        assert schemas(d)[name] == expected, name
    # inputSchema["title"] = inputKey
    assert schemas(d)["TrainingInput"] == {
        "title": "TrainingInput",
        "type": "object",
        "properties": {
            "input_images": {"description": "A zip of training images", "format": "uri",
                             "title": "Input Images", "type": "string", "x-order": 0},
            "steps": {"default": 1000, "maximum": 6000, "minimum": 10, "title": "Steps",
                      "type": "integer", "x-order": 1},
            "learning_rate": {"default": 0.0004, "title": "Learning Rate", "type": "number",
                              "x-order": 2},
            "mode": {"allOf": [{"$ref": REF + "mode"}], "default": "style", "x-order": 3},
        },
        "required": ["input_images"],
    }  # fmt: skip
    # SchemaType.JSONSchema always titles the output "Output", even under TrainingOutput
    assert schemas(d)["TrainingOutput"] == {
        "title": "Output",
        "type": "object",
        "properties": {"weights": {"format": "uri", "title": "Weights", "type": "string"}},
        "required": ["weights"],
    }


def test_predict_and_train_merged(raw_doc: Callable[..., str], doc: Doc) -> None:
    # generator.go GenerateCombined: both schemas unmarshalled, MergeSchemas, MarshalIndent
    raw = raw_doc("train_project", "predict.py:Predictor", "--train-ref", "train.py:train")
    assert raw.startswith('{\n  "components": {\n    "schemas": {\n      "HTTPValidationError": {')
    merged = json.loads(raw)
    predict = doc("train_project")
    train = doc("train_project", "train.py:train", "--mode", "train")
    assert merged["paths"] == {**predict["paths"], **train["paths"]}
    assert merged["components"]["schemas"] == {**schemas(train), **schemas(predict)}
    assert sorted(merged["components"]["schemas"]) == list(merged["components"]["schemas"])


# --- Static-parser behaviour that surprises Python programmers --------------------------------


def test_static_parser_quirks(doc: Doc) -> None:
    props = schemas(doc("quirks"))["Input"]["properties"]
    assert props == {
        # literals.go parseStringLiteral strips quotes only: escapes stay verbatim
        "escaped": {
            "default": "line\\nbreak",
            "description": "tab\\there",
            "title": "Escaped",
            "type": "string",
            "x-order": 0,
        },
        # implicit concatenation is one node whose outer quotes are stripped; names resolve
        # through module scope (module_scope.go resolveDefaultExpr)
        "joined": {
            "default": "a cat",
            "description": 'one " "two',
            "title": "Joined",
            "type": "string",
            "x-order": 1,
        },
        # a parenthesised expression is not a string literal: the description is dropped
        "wrapped": {"default": "x", "title": "Wrapped", "type": "string", "x-order": 2},
        # Input(default=<not a literal>) becomes a None default -> required, no default
        "computed": {"title": "Computed", "type": "integer", "x-order": 3},
        # `seed: int = Input(default=None)`: None on a non-nullable type is not a default
        "seed": {
            "description": "Random if omitted",
            "title": "Seed",
            "type": "integer",
            "x-order": 4,
        },
        # (the untyped parameter is skipped by extractInputs)
        "last": {"default": 1.0, "title": "Last", "type": "number", "x-order": 5},
    }
    assert schemas(doc("quirks"))["Input"]["required"] == ["computed", "seed"]


# --- Failures and exit codes ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "code", "message"),
    [
        ("error_missing_module", 2, "No module named 'vitrine_no_such_module'"),
        ("error_missing_class", 3, "predictor not found"),
        ("error_not_predictor", 3, "run or predict method not found"),
        ("error_run_and_predict", 3, "must define either run() or predict(), not both"),
        ("error_bad_input_type", 4, "set[...] is not a supported input type"),
        ("error_optional_output", 4, "Optional is not allowed as a return type"),
        ("error_unresolvable_default", 5, "cannot be statically resolved"),
    ],
)
def test_error_exit_codes(run_script: Run, fixture: str, code: int, message: str) -> None:
    result = run_script(FIXTURES / fixture, "predict.py:Predictor")
    assert result.returncode == code, result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith("cog_schema: ")
    assert message in result.stderr


def test_missing_module_error_includes_traceback(run_script: Run) -> None:
    result = run_script(FIXTURES / "error_missing_module", "predict.py:Predictor")
    assert result.returncode == 2
    assert 'predict.py", line 1, in <module>' in result.stderr
    assert result.stderr.rstrip().endswith(
        "ModuleNotFoundError: No module named 'vitrine_no_such_module'"
    )


def test_syntax_error(run_script: Run, tmp_path: Path) -> None:
    # kept as .broken so that the repository's linters can parse every .py file
    shutil.copy(FIXTURES / "error_syntax" / "predict.py.broken", tmp_path / "predict.py")
    result = run_script(tmp_path, "predict.py:Predictor")
    assert result.returncode == 2
    assert "syntax error" in result.stderr
    assert result.stderr.rstrip().endswith("SyntaxError: invalid syntax")


def test_missing_file_and_bad_reference(run_script: Run, tmp_path: Path) -> None:
    assert run_script(tmp_path, "predict.py:Predictor").returncode == 2
    assert run_script(FIXTURES / "echo_predictor", "predict.py").returncode == 2
    assert (
        run_script(FIXTURES / "echo_predictor", "predict.py:Predictor", "--mode", "x").returncode
        == 64
    )


def test_no_import_is_what_cog_build_accepts(run_script: Run) -> None:
    # cog build never imports the predictor: it takes run() when both are defined, while
    # coglet refuses such a class at setup. --no-import gives the purely static behaviour.
    result = run_script(FIXTURES / "error_run_and_predict", "predict.py:Predictor", "--no-import")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["components"]["schemas"]["Input"]["required"] == ["text"]
    missing = run_script(FIXTURES / "error_missing_module", "predict.py:Predictor", "--no-import")
    assert missing.returncode == 0


def test_output_file(run_script: Run, raw_doc: Callable[..., str], tmp_path: Path) -> None:
    target = tmp_path / "openapi_schema.json"
    result = run_script(FIXTURES / "echo_predictor", "predict.py:Predictor", "-o", str(target))
    assert result.returncode == 0 and result.stdout == ""
    assert target.read_text() == raw_doc("echo_predictor")


def test_components_are_valid_json_schema(doc: Doc) -> None:
    # OpenAPI 3.0 schema objects are a JSON Schema draft 4 dialect: each component must parse
    for fixture, ref in [
        ("types_predictor", "predict.py:Predictor"),
        ("choices_predictor", "predict.py:Predictor"),
        ("model_output", "predict.py:Predictor"),
        ("async_runner", "predict.py:Runner"),
    ]:
        for component in schemas(doc(fixture, ref)).values():
            jsonschema.Draft4Validator.check_schema(component)


# --- The Go encoding helpers, without a Cog environment ---------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1.0, "1"), (0.0004, "0.0004"), (7.5, "7.5"), (-0.0, "-0"), (1e20, "100000000000000000000"),
        (1e21, "1e+21"), (1e-7, "1e-7"), (1.5e-7, "1.5e-7"), (123456789.0, "123456789"),
        (0.000001, "0.000001"), (2.5e300, "2.5e+300"),
    ],
)  # fmt: skip
def test_go_float_encoding(value: float, expected: str) -> None:
    # encoding/json floatEncoder: 'f' unless abs < 1e-6 or >= 1e21, then 'e' with e-0X -> e-X
    assert cog_schema.go_json_float(value) == expected


def test_go_string_and_title_helpers() -> None:
    assert (
        cog_schema.go_quote('<a & "b">\u2028\b\x01é')
        == '"\\u003ca \\u0026 \\"b\\"\\u003e\\u2028\\b\\u0001é"'
    )
    # types.go TitleCase: split on "_", upper-case the first byte of each part
    assert cog_schema.title_case("num_outputs") == "Num Outputs"
    assert cog_schema.title_case("_private") == " Private"
    assert cog_schema.title_case("a__b") == "A  B"
    assert cog_schema.go_format_g(1e6) == "1e+06" and cog_schema.go_format_g(100000.0) == "100000"


def test_go_literal_parsing() -> None:
    # literals.go uses strconv.ParseInt(text, 0, 64) and strconv.ParseFloat(text, 64)
    assert cog_schema.go_parse_int("0x1F") == 31
    assert cog_schema.go_parse_int("1_000") == 1000
    assert cog_schema.go_parse_int("9223372036854775808") is None
    assert cog_schema.go_parse_float("1_000.5") == 1000.5
    assert cog_schema.go_parse_float("0x10") is None
    assert cog_schema.go_parse_float("1e400") is None


# --- coglet accepts the generated schema ------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _request(method: str, url: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    for _ in range(50):
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as e:
            if e.code == 409:  # coglet frees a slot just after answering: retry briefly
                time.sleep(0.05)
                continue
            return e.code, json.loads(e.read() or b"null")
    raise AssertionError(f"{method} {url} kept answering 409")


@pytest.fixture
def coglet(cog_python: Path, tmp_path: Path) -> Iterator[Callable[[str, str], str]]:
    """Start `python -m cog.server.http` for a fixture copied to tmp_path; yields a starter."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(fixture: str, ref: str) -> str:
        project = tmp_path / fixture
        shutil.copytree(FIXTURES / fixture, project)
        (project / ".cog").mkdir()
        schema_file = project / ".cog" / "openapi_schema.json"
        result = subprocess.run(
            [str(cog_python), str(SCRIPT), str(project), ref, "-o", str(schema_file)],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        port = _free_port()
        env = {
            **os.environ,
            "PATH": f"{cog_python.parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "PORT": str(port),
            "COG_PREDICT_TYPE_STUB": ref,
        }
        log = (tmp_path / f"{fixture}.log").open("wb")
        proc = subprocess.Popen(
            [str(cog_python), "-m", "cog.server.http", "--host", "127.0.0.1"],
            cwd=project, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        procs.append(proc)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                status, body = _request("GET", base + "/health-check")
                if status == 200 and body.get("status") == "READY":
                    return base
            except (urllib.error.URLError, ConnectionError):
                pass
            if proc.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(
            f"coglet did not become ready:\n{(tmp_path / f'{fixture}.log').read_text()}"
        )

    try:
        yield start
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=10)


@pytest.mark.parametrize(
    ("fixture", "ref", "good_input", "good_output", "bad_input", "bad_fields"),
    [
        (
            "echo_predictor", "predict.py:Predictor",
            {"text": "hi", "times": 2, "style": "shout"}, "HI HI",
            {"times": 9, "style": "loud", "ratio": 2, "unknown": 1},
            {"text", "times", "style", "ratio"},
        ),
        (
            "async_runner", "predict.py:Runner",
            {"text": "Hey", "repeat": 3, "case": "upper"}, ["HEY", "HEY", "HEY"],
            {"repeat": 0, "case": "title"},
            {"text", "repeat", "case"},
        ),
    ],
)  # fmt: skip
def test_coglet_serves_and_validates_with_the_schema(
    coglet: Callable[[str, str], str],
    doc: Doc,
    fixture: str,
    ref: str,
    good_input: dict[str, Any],
    good_output: Any,
    bad_input: dict[str, Any],
    bad_fields: set[str],
) -> None:
    base = coglet(fixture, ref)
    # coglet serves .cog/openapi_schema.json (re-serialised, so compare parsed documents)
    status, served = _request("GET", base + "/openapi.json")
    assert status == 200 and served == doc(fixture, ref)

    status, body = _request("POST", base + "/predictions", {"input": good_input})
    assert status == 200, body
    assert body["status"] == "succeeded" and body["output"] == good_output

    # out of range, not in the enum and missing: 422 with one entry per field
    status, body = _request("POST", base + "/predictions", {"input": bad_input})
    assert status == 422, body
    locs = [entry["loc"] for entry in body["detail"]]
    assert sorted(locs) == sorted(["body", "input", field] for field in bad_fields)
    by_field = {entry["loc"][2]: entry for entry in body["detail"]}
    missing = next(iter(bad_fields - set(bad_input)))
    assert by_field[missing]["msg"] == "Field required"
