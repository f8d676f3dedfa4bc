"""The playground form: a version's Cog `Input` schema turned into HTML form fields, and
the submitted form turned back into the JSON input and validated against that schema.

Three steps, each usable on its own:

- `form_fields(document, ...)` → one `FormField` per input in `x-order`, with the widget,
  HTML constraint attributes, default or submitted value and messages to show;
- `input_from_form(document, data, files)` → the JSON input a prediction takes, plus
  messages for values that could not even be read (a word in a number field);
- `validate_input(document, input)` → JSON Schema validation against the document's
  `Input` (references resolved against the whole document, OpenAPI's `nullable` honoured),
  as one list of readable messages per field.

`submit(...)` runs the last two and is what the view calls.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeGuard

from django.core.files.uploadedfile import UploadedFile
from django.utils.datastructures import MultiValueDict
from jsonschema.exceptions import ValidationError as SchemaError

from catalog.modality import media_kind
from catalog.schemas import JSON, Property, input_properties
from catalog.schemas import primary_type as _primary_type
from registry.inputs import InputError, input_errors

Widget = Literal[
    "text", "textarea", "number", "range", "select", "checkbox", "file", "password", "lines",
    "json",
]  # fmt: skip

NON_FIELD = "__all__"
URL_SUFFIX = "__url"
MAX_INLINE_FILE_BYTES = 10 * 1024 * 1024

# Names of inputs that usually hold more than a line of text.
_LONG_TEXT = re.compile(
    r"prompt|caption|message|instruction|system|context|lyrics|transcript|content|story|"
    r"question|script|template|negative|passage|paragraph",
    re.I,
)
_SLIDER_MAX_SPAN = 100_000

StoreFile = Callable[[UploadedFile], str]


@dataclass
class FormField:
    """One input of the playground form, ready for `catalog/partials/form_field.html`."""

    name: str
    label: str
    widget: Widget
    json_type: str | None
    required: bool = False
    help: str = ""
    value: str = ""
    url_value: str = ""
    checked: bool = False
    choices: list[tuple[str, str]] = field(default_factory=list)
    minimum: str | None = None
    maximum: str | None = None
    step: str | None = None
    range_step: str | None = None
    minlength: int | None = None
    maxlength: int | None = None
    pattern: str | None = None
    accept: str = ""
    multiple: bool = False
    item_type: str | None = None
    nullable: bool = False
    deprecated: bool = False
    default_text: str = ""
    union: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def html_id(self) -> str:
        return f"input-{self.name}"

    @property
    def url_name(self) -> str:
        return self.name + URL_SUFFIX

    @property
    def type_label(self) -> str:
        """What the input takes, in a word or two ("integer", "file", "list of string")."""
        if self.widget == "file":
            return "files" if self.multiple else "file"
        if self.widget == "select":
            return "choice"
        if self.widget == "password":
            return "secret"
        if self.json_type == "array":
            return f"list of {self.item_type}" if self.item_type else "list"
        if self.json_type == "object":
            return "JSON object"
        if self.union:
            return " or ".join(self.union)
        return self.json_type or "JSON"


@dataclass
class Submission:
    """What a submitted playground form means: the JSON input, or what is wrong with it."""

    input: JSON
    errors: dict[str, list[str]]

    @property
    def is_valid(self) -> bool:
        return not self.errors


# Schema → fields ----------------------------------------------------------------------


def form_fields(
    document: JSON | None,
    *,
    data: MultiValueDict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    initial: JSON | None = None,
) -> list[FormField]:
    """The form for the document's `Input`, filled with `data` (a submitted form), else
    with `initial` (a JSON input, e.g. an example's), else with the schema's defaults."""
    errors = errors or {}
    fields = []
    for prop in input_properties(document):
        form_field = _field(prop)
        if data is not None:
            _fill_from_form(form_field, data)
        elif initial is not None and prop.name in initial:
            _fill_from_value(form_field, initial[prop.name])
        elif "default" in prop.schema:
            _fill_from_value(form_field, prop.schema["default"])
        form_field.errors = list(errors.get(prop.name, []))
        fields.append(form_field)
    return fields


def _field(prop: Property) -> FormField:
    schema = prop.schema
    json_type = _primary_type(schema)
    nullable = bool(schema.get("nullable"))
    form_field = FormField(
        name=prop.name,
        label=prop.title,
        widget="text",
        json_type=json_type,
        required=prop.required and not nullable,
        help=prop.description,
        nullable=nullable,
        deprecated=bool(schema.get("deprecated")),
    )
    if "default" in schema and schema["default"] is not None:
        form_field.default_text = _as_text(schema["default"], json_type, schema)
    union = _union_types(schema)
    if len(union) > 1:
        form_field.widget = "json"  # read as JSON when it parses, else as text
        form_field.json_type = None
        form_field.union = union
    elif schema.get("enum") is not None:
        form_field.widget = "select"
        form_field.choices = [(str(v), str(v)) for v in schema["enum"]]
        if "default" not in schema or schema.get("default") is None:
            form_field.choices.insert(0, ("", "—"))  # a required one must be chosen
    elif json_type == "boolean":
        form_field.widget = "checkbox"
        form_field.required = False  # an unchecked box is a value (false), never missing
    elif json_type in ("integer", "number"):
        _number_field(form_field, schema, json_type)
    elif json_type == "string":
        _string_field(form_field, prop)
    elif json_type == "array":
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        assert isinstance(items, dict)
        form_field.item_type = _item_label(items)
        if items.get("format") == "uri":
            form_field.widget = "file"
            form_field.multiple = True
            form_field.accept = _accept(prop.name, prop.schema, items)
        else:
            form_field.widget = "lines"
    else:  # object, anyOf unions, untyped: JSON text
        form_field.widget = "json"
    return form_field


def _union_types(schema: JSON) -> list[str]:
    options = schema.get("anyOf") or schema.get("oneOf") or []
    types = [o.get("type") for o in options if isinstance(o, dict)]
    return [str(t) for t in types if t and t != "null"]


def _number_field(form_field: FormField, schema: JSON, json_type: str) -> None:
    low, high = schema.get("minimum"), schema.get("maximum")
    form_field.widget = "number"
    form_field.minimum = _number_text(low) if _is_number(low) else None
    form_field.maximum = _number_text(high) if _is_number(high) else None
    form_field.step = "1" if json_type == "integer" else "any"
    if _is_number(low) and _is_number(high) and 0 < high - low <= _SLIDER_MAX_SPAN:
        form_field.widget = "range"
        if json_type == "integer":
            form_field.range_step = "1"
        else:
            # About a hundred notches: 0..1 moves by 0.01, 0..10 by 0.1, 1..100 by 1.
            form_field.range_step = _number_text(10 ** math.floor(math.log10((high - low) / 100)))


def _string_field(form_field: FormField, prop: Property) -> None:
    schema = prop.schema
    fmt = schema.get("format")
    if fmt == "uri":
        form_field.widget = "file"
        form_field.accept = _accept(prop.name, schema, schema)
        return
    if fmt == "password" or schema.get("x-cog-secret"):
        form_field.widget = "password"
    elif (
        _LONG_TEXT.search(prop.name)
        or len(prop.description) >= 120
        or (isinstance(schema.get("maxLength"), int) and schema["maxLength"] > 200)
    ):
        form_field.widget = "textarea"
    if isinstance(schema.get("minLength"), int):
        form_field.minlength = schema["minLength"]
    if isinstance(schema.get("maxLength"), int):
        form_field.maxlength = schema["maxLength"]
    if isinstance(schema.get("pattern"), str):
        form_field.pattern = schema["pattern"]


def _accept(name: str, schema: JSON, items: JSON) -> str:
    accept = items.get("x-cog-accept") or schema.get("x-cog-accept")
    if isinstance(accept, str) and accept:
        return accept
    kind = media_kind(name, str(schema.get("title") or ""), str(schema.get("description") or ""))
    return "" if kind == "file" else f"{kind}/*"


def _item_label(items: JSON) -> str | None:
    if items.get("format") == "uri":
        return "file"
    return _primary_type(items)


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _number_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)


def _as_text(value: Any, json_type: str | None, schema: JSON) -> str:
    """A JSON value as the text a form field shows for it."""
    if value is None:
        return ""
    if json_type == "array" and isinstance(value, list):
        plain = all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in value)
        if plain and not any(isinstance(v, str) and "\n" in v for v in value):
            return "\n".join(str(v) for v in value)
        return json.dumps(value, indent=2)
    if json_type == "object" or isinstance(value, dict | list):
        return json.dumps(value, indent=2)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _number_text(value)
    return str(value)


def _fill_from_value(form_field: FormField, value: Any) -> None:
    if form_field.widget == "checkbox":
        form_field.checked = bool(value)
    elif form_field.widget == "file":
        if isinstance(value, list):
            form_field.url_value = "\n".join(str(v) for v in value)
        elif value is not None:
            form_field.url_value = str(value)
    else:
        form_field.value = _as_text(value, form_field.json_type, {})


def _fill_from_form(form_field: FormField, data: MultiValueDict[str, Any]) -> None:
    if form_field.widget == "checkbox":
        form_field.checked = _truthy(data.get(form_field.name))
    elif form_field.widget == "file":
        form_field.url_value = str(data.get(form_field.url_name) or "")
    elif form_field.widget != "password":  # a secret is never sent back to the page
        form_field.value = str(data.get(form_field.name) or "")


def _truthy(raw: Any) -> bool:
    return str(raw or "").strip().lower() in ("on", "true", "1", "yes")


# Form → JSON input ---------------------------------------------------------------------


def data_url(upload: UploadedFile) -> str:
    """An uploaded file as a `data:` URL, which Cog accepts for any `format: uri` input."""
    content_type = upload.content_type or "application/octet-stream"
    payload = base64.b64encode(upload.read()).decode()
    return f"data:{content_type};base64,{payload}"


class _Unreadable(Exception):
    """A submitted value that cannot be turned into its JSON type at all."""


def input_from_form(
    document: JSON | None,
    data: MultiValueDict[str, Any],
    files: MultiValueDict[str, Any] | None = None,
    *,
    store_file: StoreFile = data_url,
    max_file_bytes: int = MAX_INLINE_FILE_BYTES,
) -> Submission:
    """The JSON input a submitted playground form stands for. Empty fields are left out,
    so that the model's defaults apply; `errors` holds values that could not be read
    (uploads larger than `max_file_bytes` among them)."""
    files = files if files is not None else MultiValueDict()
    value: JSON = {}
    errors: dict[str, list[str]] = {}
    for prop in input_properties(document):
        form_field = _field(prop)
        try:
            present, converted = _convert(
                form_field, prop.schema, data, files, store_file, max_file_bytes
            )
        except _Unreadable as e:
            errors[prop.name] = [str(e)]
            continue
        if present:
            value[prop.name] = converted
    return Submission(input=value, errors=errors)


def _convert(
    form_field: FormField,
    schema: JSON,
    data: MultiValueDict[str, Any],
    files: MultiValueDict[str, Any],
    store_file: StoreFile,
    max_file_bytes: int,
) -> tuple[bool, Any]:
    name = form_field.name
    if form_field.widget == "checkbox":
        return True, _truthy(data.get(name))
    if form_field.widget == "file":
        return _convert_files(form_field, data, files, store_file, max_file_bytes)
    raw = str(data.get(name) or "")
    if not raw.strip():
        return False, None
    if form_field.widget == "select":
        return True, _enum_value(raw, schema.get("enum") or [])
    if form_field.json_type == "integer":
        return True, _integer(raw)
    if form_field.json_type == "number":
        return True, _number(raw)
    if form_field.json_type == "string":
        return True, raw
    if form_field.json_type == "array":
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        assert isinstance(items, dict)
        return True, _array(raw, items)
    if form_field.json_type == "object":
        return True, _json(raw)
    return True, _loose(raw)


def _convert_files(
    form_field: FormField,
    data: MultiValueDict[str, Any],
    files: MultiValueDict[str, Any],
    store_file: StoreFile,
    max_file_bytes: int,
) -> tuple[bool, Any]:
    uploads = [f for f in files.getlist(form_field.name) if getattr(f, "size", 0)]
    for upload in uploads:
        if upload.size > max_file_bytes:
            raise _Unreadable(
                f"{upload.name} is too large ({size_text(upload.size)}): "
                f"files up to {size_text(max_file_bytes)} can be sent."
            )
    urls = [line.strip() for line in str(data.get(form_field.url_name) or "").splitlines()]
    urls = [u for u in urls if u]
    for url in urls:
        if not re.match(r"^(https?://\S+|data:[^,]*,.*)$", url, re.S):
            raise _Unreadable("Enter an http(s) URL, or upload a file.")
    if form_field.multiple:
        values = [store_file(u) for u in uploads] + urls
        return (True, values) if values else (False, None)
    if uploads:
        return True, store_file(uploads[0])
    if urls:
        if len(urls) > 1:
            raise _Unreadable("Enter one URL.")
        return True, urls[0]
    return False, None


def size_text(size: int) -> str:
    """A byte count for people: "812 bytes", "4.2 KB", "100 MB"."""
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} byte{'' if size == 1 else 's'}"


def _enum_value(raw: str, choices: list[Any]) -> Any:
    by_text = {str(choice): choice for choice in choices}
    # An unknown value goes on as typed, so that schema validation names the choices.
    return by_text.get(raw, raw)


def _integer(raw: str) -> int:
    text = raw.strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        raise _Unreadable("Enter a whole number.") from None
    if not number.is_integer():
        raise _Unreadable("Enter a whole number.")
    return int(number)


def _number(raw: str) -> int | float:
    text = raw.strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        raise _Unreadable("Enter a number.") from None
    if not math.isfinite(number):
        raise _Unreadable("Enter a finite number.")
    return number


def _json(raw: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError as e:
        raise _Unreadable(f"Enter valid JSON ({e.msg} at line {e.lineno}).") from None


def _loose(raw: str) -> Any:
    """A value for a union or untyped input: JSON if it reads as JSON, else the text."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def _array(raw: str, items: JSON) -> list[Any]:
    text = raw.strip()
    if text.startswith("["):
        value = _json(text)
        if not isinstance(value, list):
            raise _Unreadable("Enter a JSON array, or one item per line.")
        return value
    item_type = _primary_type(items)
    values: list[Any] = []
    for number, line in enumerate((ln.strip() for ln in text.splitlines() if ln.strip()), 1):
        try:
            if item_type == "integer":
                values.append(_integer(line))
            elif item_type == "number":
                values.append(_number(line))
            elif item_type == "boolean":
                values.append(_boolean(line))
            elif item_type in ("object", "array", None):
                values.append(_json(line) if item_type else _loose(line))
            else:
                values.append(line)
        except _Unreadable as e:
            raise _Unreadable(f"Line {number}: {e}") from None
    return values


def _boolean(raw: str) -> bool:
    text = raw.strip().lower()
    if text in ("true", "yes", "1", "on"):
        return True
    if text in ("false", "no", "0", "off"):
        return False
    raise _Unreadable("Enter true or false.")


# Validation ---------------------------------------------------------------------------


def validate_input(document: JSON | None, value: JSON) -> dict[str, list[str]]:
    """Messages per input name (and `__all__` for the input as a whole); {} when valid.

    The same checks as the API (`registry.inputs`), worded for people filling a form."""
    problems = input_errors(document or {}, value)
    # A value outside an enum also breaks the enum's `type`; naming the choices says it all.
    with_enum = {p.path for p in problems if p.error is not None and p.error.validator == "enum"}
    messages: dict[str, list[str]] = {}
    for problem in problems:
        if problem.path in with_enum and problem.error and problem.error.validator == "type":
            continue
        name, message = _describe(problem)
        bucket = messages.setdefault(name, [])
        if message not in bucket:
            bucket.append(message)
    return messages


def _describe(problem: InputError) -> tuple[str, str]:
    if problem.error is None:
        return (str(problem.path[0]) if problem.path else NON_FIELD, "This field is required.")
    if not problem.path:
        return (NON_FIELD, str(problem.error.message))
    message = _message(problem.error)
    rest = problem.path[1:]
    if rest and isinstance(rest[0], int):
        message = f"Item {rest[0] + 1}: {message}"
    elif rest:
        message = f"{'.'.join(str(p) for p in rest)}: {message}"
    return (str(problem.path[0]), message)


_TYPE_WORDS = {
    "integer": "a whole number",
    "number": "a number",
    "string": "text",
    "boolean": "true or false",
    "array": "a list",
    "object": "a JSON object",
    "null": "empty",
}


def _message(error: SchemaError) -> str:
    rule = error.validator
    limit: Any = error.validator_value
    if rule in ("anyOf", "oneOf") and error.context:
        # `nullable` became anyOf [schema, null]: the first branch says what is wrong.
        real = [e for e in error.context if e.schema_path and e.schema_path[0] == 0]
        if real:
            return _message(min(real, key=lambda e: len(e.path)))
    if rule == "minimum":
        return f"Must be at least {_number_text(limit)}."
    if rule == "maximum":
        return f"Must be at most {_number_text(limit)}."
    if rule == "exclusiveMinimum":
        return f"Must be greater than {_number_text(limit)}."
    if rule == "exclusiveMaximum":
        return f"Must be less than {_number_text(limit)}."
    if rule == "minLength":
        return f"Must be at least {limit} character{'s' if limit != 1 else ''} long."
    if rule == "maxLength":
        return f"Must be at most {limit} character{'s' if limit != 1 else ''} long."
    if rule == "pattern":
        return f"Must match the pattern {limit}."
    if rule == "enum":
        return f"Must be one of: {', '.join(str(v) for v in limit)}."
    if rule == "const":
        return f"Must be {limit}."
    if rule == "type":
        wanted = limit if isinstance(limit, list) else [limit]
        return f"Must be {' or '.join(_TYPE_WORDS.get(str(t), str(t)) for t in wanted)}."
    if rule == "minItems":
        return f"Must have at least {limit} item{'s' if limit != 1 else ''}."
    if rule == "maxItems":
        return f"Must have at most {limit} item{'s' if limit != 1 else ''}."
    if rule == "format":
        return "Give a file, or the http(s):// URL of one."
    if rule == "multipleOf":
        return f"Must be a multiple of {_number_text(limit)}."
    return str(error.message)


def submit(
    document: JSON | None,
    data: MultiValueDict[str, Any],
    files: MultiValueDict[str, Any] | None = None,
    *,
    store_file: StoreFile = data_url,
    max_file_bytes: int = MAX_INLINE_FILE_BYTES,
) -> Submission:
    """Read a submitted playground form and validate it: the JSON input, or messages."""
    submission = input_from_form(
        document, data, files, store_file=store_file, max_file_bytes=max_file_bytes
    )
    for name, messages in validate_input(document, submission.input).items():
        if name not in submission.errors:  # an unreadable value is reason enough
            submission.errors[name] = messages
    return submission
