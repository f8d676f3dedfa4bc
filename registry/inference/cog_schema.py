"""Produce the OpenAPI document that ``cog build`` (Cog 0.23.x) stores for a Cog project.

Vitrine runs this script with the Python of a model's own virtualenv (which has ``cog`` and the
model's dependencies installed) to get the ``.cog/openapi_schema.json`` that coglet serves at
``GET /openapi.json`` and validates predictions against. It may import only the standard library
and ``cog``.

How Cog does it: since Cog 0.19 the schema is generated *statically* by the Go CLI (tree-sitter
parse of the predictor source, ``pkg/schema/python/*.go``, assembled by
``pkg/schema/openapi_spec.go``); no Python runs and coglet does not generate anything at run time.
This script is an independent re-implementation of that static analysis on top of Python's ``ast``,
including its quirks (string literals are taken verbatim without escape processing, parenthesised
values are not resolved, ``Input(default=<unresolvable>)`` means "no default", ...), and emits
the same bytes: compact JSON, Go ``encoding/json`` escaping and number formatting, keys of plain
maps sorted, property/component/path order preserved.

Unlike ``cog build`` it also imports the predictor module the way coglet does
(``cog.predictor.load_predictor_from_ref``, without instantiating the class) so that a model that
would fail at setup is rejected early; pass ``--no-import`` for the purely static behaviour.

Usage::

    <venv>/bin/python cog_schema.py <project_dir> predict.py:Predictor [--mode predict|train]
        [--train-ref train.py:train] [--no-import] [--cog-version X.Y.Z] [-o FILE]

The document goes to stdout (or ``-o FILE``) exactly as ``cog build`` writes it, without a trailing
newline. ``--train-ref`` produces the merged predict+train document ``cog build`` stores when
``cog.yaml`` has both ``predict`` and ``train`` (Go ``json.MarshalIndent`` of the merged maps).

Exit codes: 0 success; 2 the predictor file is missing, has a syntax error or fails to import;
3 the class/function is missing or is not a predictor (no run()/predict()/train()); 4 an
unsupported or missing type annotation; 5 another construct ``cog build`` rejects (unresolvable
default or choices, default_factory, accept on a non-file input, bad @concurrent); 1 internal
error; 64 bad command line.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import importlib
import importlib.metadata
import importlib.util
import inspect
import io
import math
import os
import posixpath
import re
import sys
import tokenize
import traceback
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_IMPORT = 2
EXIT_PREDICTOR = 3
EXIT_TYPE = 4
EXIT_SCHEMA = 5
EXIT_USAGE = 64

# Error kinds (mirroring pkg/schema/errors.go SchemaErrorKind) and the exit code each maps to.
KIND_EXIT = {
    "import": EXIT_IMPORT,
    "invalid_ref": EXIT_IMPORT,
    "parse": EXIT_SCHEMA,
    "predictor_not_found": EXIT_PREDICTOR,
    "method_not_found": EXIT_PREDICTOR,
    "not_a_predictor": EXIT_PREDICTOR,
    "missing_return_type": EXIT_TYPE,
    "missing_type_annotation": EXIT_TYPE,
    "unsupported_type": EXIT_TYPE,
    "unresolvable_type": EXIT_TYPE,
    "optional_output": EXIT_TYPE,
    "concat_iterator_not_str": EXIT_TYPE,
    "default_factory": EXIT_SCHEMA,
    "choices_not_resolvable": EXIT_SCHEMA,
    "default_not_resolvable": EXIT_SCHEMA,
    "accept_on_non_file": EXIT_SCHEMA,
    "concurrency": EXIT_SCHEMA,
    "other": EXIT_SCHEMA,
}


class SchemaError(Exception):
    """A failure that ``cog build`` (or coglet, for import checks) would also report."""

    def __init__(self, kind: str, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.detail = detail


def err_unsupported(msg: str) -> SchemaError:
    return SchemaError("unsupported_type", f"unsupported type: {msg}")


def err_optional_output() -> SchemaError:
    return SchemaError(
        "optional_output", "unsupported output type: Optional is not allowed as a return type"
    )


def err_unresolvable_imported(name: str, module: str) -> SchemaError:
    return SchemaError(
        "unresolvable_type",
        f"cannot resolve type '{name}' (imported from '{module}') - external types cannot be "
        "statically analyzed. If this is a JSON-shaped third-party type, mark it opaque with "
        f"`from typing import Annotated`, `from cog import Opaque`, and `field: Annotated[{name}, "
        "Opaque]`. Otherwise define it as a BaseModel subclass in your predict file, or provide "
        "a .pyi stub",
    )


def err_unresolvable(name: str) -> SchemaError:
    return SchemaError(
        "unresolvable_type",
        f"cannot resolve type '{name}' - it is not a primitive type (str, int, float, bool, Path) "
        "and no BaseModel definition was found in the predict file",
    )


# ---------------------------------------------------------------------------------------------
# Go encoding/json emulation
# ---------------------------------------------------------------------------------------------


class OrderedMap(dict):  # type: ignore[type-arg]
    """A JSON object emitted in insertion order (Go ``orderedMapAny``/``OrderedMap``).

    Plain ``dict`` values are emitted with sorted keys, as Go marshals ``map[string]any``.
    """


_GO_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_GO_ESCAPE_RE = re.compile('["\\\\\x00-\x1f<>&\u2028\u2029]')


def _go_escape_char(m: re.Match[str]) -> str:
    ch = m.group(0)
    return _GO_ESCAPES.get(ch) or f"\\u{ord(ch):04x}"


def go_quote(s: str) -> str:
    """Quote a string like Go's encoding/json (HTML-safe escaping, raw UTF-8 otherwise)."""
    return '"' + _GO_ESCAPE_RE.sub(_go_escape_char, s) + '"'


def _shortest_digits(f: float) -> tuple[str, int]:
    """Shortest round-trip decimal digits of abs(f) and the decimal point position."""
    sign_digits_exp = Decimal(repr(abs(f))).normalize().as_tuple()
    digits = "".join(str(d) for d in sign_digits_exp.digits)
    exp = int(sign_digits_exp.exponent)
    return digits, len(digits) + exp


def go_json_float(f: float) -> str:
    """Format a float64 the way encoding/json does (strconv 'f' or 'e' with -1 precision)."""
    if math.isnan(f) or math.isinf(f):
        raise SchemaError("other", f"json: unsupported value: {f!r}")
    if f == 0:
        return "-0" if math.copysign(1.0, f) < 0 else "0"
    a = abs(f)
    if a < 1e-6 or a >= 1e21:
        s = _go_e_format(f)
        n = len(s)
        if n >= 4 and s[n - 4] == "e" and s[n - 3] == "-" and s[n - 2] == "0":
            s = s[: n - 2] + s[n - 1]
        return s
    return _go_f_format(f)


def _go_f_format(f: float) -> str:
    digits, dp = _shortest_digits(f)
    sign = "-" if f < 0 else ""
    if dp <= 0:
        return f"{sign}0.{'0' * -dp}{digits}"
    if dp >= len(digits):
        return sign + digits + "0" * (dp - len(digits))
    return f"{sign}{digits[:dp]}.{digits[dp:]}"


def _go_e_format(f: float) -> str:
    digits, dp = _shortest_digits(f)
    sign = "-" if f < 0 else ""
    mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    exp = dp - 1
    esign = "-" if exp < 0 else "+"
    return f"{sign}{mant}e{esign}{abs(exp):02d}"


def go_format_g(f: float) -> str:
    """Go ``fmt.Sprintf("%v", float64)`` (strconv 'g' with shortest precision)."""
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    if f == 0:
        return "-0" if math.copysign(1.0, f) < 0 else "0"
    _, dp = _shortest_digits(f)
    exp = dp - 1
    if exp < -4 or exp >= 6:
        return _go_e_format(f)
    return _go_f_format(f)


def go_sprint_v(v: Any) -> str:
    """Go ``fmt.Sprintf("%v", x)`` for the JSON-ish values DefaultValue.ToJSON returns."""
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return go_format_g(v)
    if isinstance(v, str):
        return v
    if isinstance(v, list):
        return "[" + " ".join(go_sprint_v(x) for x in v) + "]"
    if isinstance(v, dict):
        return "map[" + " ".join(f"{k}:{go_sprint_v(v[k])}" for k in sorted(v)) + "]"
    return str(v)


def go_marshal(value: Any, indent: str | None = None, sort_all: bool = False) -> str:
    """Serialise like Go ``json.Marshal`` (or ``json.MarshalIndent(v, "", indent)``)."""
    out: list[str] = []

    def emit(v: Any, level: int) -> None:
        if v is None:
            out.append("null")
        elif v is True:
            out.append("true")
        elif v is False:
            out.append("false")
        elif isinstance(v, int):
            out.append(str(v))
        elif isinstance(v, float):
            out.append(go_json_float(v))
        elif isinstance(v, str):
            out.append(go_quote(v))
        elif isinstance(v, dict):
            keys = list(v) if isinstance(v, OrderedMap) and not sort_all else sorted(v)
            if not keys:
                out.append("{}")
                return
            out.append("{")
            for i, k in enumerate(keys):
                if i:
                    out.append(",")
                if indent is not None:
                    out.append("\n" + indent * (level + 1))
                out.append(go_quote(k))
                out.append(": " if indent is not None else ":")
                emit(v[k], level + 1)
            if indent is not None:
                out.append("\n" + indent * level)
            out.append("}")
        elif isinstance(v, (list, tuple)):
            if not v:
                out.append("[]")
                return
            out.append("[")
            for i, item in enumerate(v):
                if i:
                    out.append(",")
                if indent is not None:
                    out.append("\n" + indent * (level + 1))
                emit(item, level + 1)
            if indent is not None:
                out.append("\n" + indent * level)
            out.append("]")
        else:
            raise TypeError(f"cannot encode {type(v).__name__}")

    emit(value, 0)
    return "".join(out)


def title_case(s: str) -> str:
    """schema.TitleCase: split on "_" and upper-case the first *byte* of each part."""
    parts = []
    for p in s.split("_"):
        if p:
            b = p.encode("utf-8")
            if b[0] < 0x80:
                p = chr(b[0]).upper() + b[1:].decode("utf-8", "replace")
            else:  # Go upper-cases a lone UTF-8 lead byte into U+FFFD
                p = "\ufffd" + b[1:].decode("utf-8", "replace")
        parts.append(p)
    return " ".join(parts)


# ---------------------------------------------------------------------------------------------
# Go strconv emulation for literal parsing (pkg/schema/python/literals.go)
# ---------------------------------------------------------------------------------------------

_GO_INT_RE = re.compile(
    r"[+-]?(?:0[xX](?:_?[0-9a-fA-F])+|0[bB](?:_?[01])+|0[oO](?:_?[0-7])+|0(?:_?[0-7])*"
    r"|[1-9](?:_?[0-9])*)\Z"
)
_GO_FLOAT_RE = re.compile(
    r"[+-]?(?:(?:[0-9](?:_?[0-9])*)(?:\.(?:[0-9](?:_?[0-9])*)?)?|\.[0-9](?:_?[0-9])*)"
    r"(?:[eE][+-]?[0-9](?:_?[0-9])*)?\Z"
)
_GO_FLOAT_SPECIAL_RE = re.compile(r"[+-]?(?:inf|infinity|nan)\Z", re.IGNORECASE)
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def go_parse_int(text: str) -> int | None:
    """strconv.ParseInt(text, 0, 64)."""
    if not _GO_INT_RE.match(text):
        return None
    t = text.replace("_", "")
    neg = t.startswith("-")
    t = t.lstrip("+-")
    if len(t) > 1 and t[0] == "0" and t[1] in "xXbBoO":
        n = int(t[2:], {"x": 16, "b": 2, "o": 8}[t[1].lower()])
    elif len(t) > 1 and t[0] == "0":
        n = int(t, 8)
    else:
        n = int(t)
    n = -n if neg else n
    return n if _INT64_MIN <= n <= _INT64_MAX else None


def go_parse_float(text: str) -> float | None:
    """strconv.ParseFloat(text, 64) for decimal syntax (out-of-range is an error)."""
    if _GO_FLOAT_SPECIAL_RE.match(text):
        return float(text.lower().replace("infinity", "inf"))
    if not _GO_FLOAT_RE.match(text):
        return None
    f = float(text.replace("_", ""))
    return None if math.isinf(f) else f


# ---------------------------------------------------------------------------------------------
# Source files and a tree-sitter-like view of ast nodes
# ---------------------------------------------------------------------------------------------

_NEWLINE_RE = re.compile(rb"\r\n|\r|\n")


class PyFile:
    """A parsed Python source file with byte-exact access to node text (tree-sitter Content)."""

    def __init__(self, raw: bytes, filename: str) -> None:
        self.raw = raw
        self.filename = filename
        self.tree = ast.parse(raw, filename=filename)
        start = 3 if raw.startswith(b"\xef\xbb\xbf") else 0
        self.line_starts = [start] + [m.end() for m in _NEWLINE_RE.finditer(raw)]
        self._comments: list[tuple[int, int]] | None = None

    def offset(self, lineno: int, col: int) -> int:
        return self.line_starts[lineno - 1] + col

    def text(self, start: int, end: int) -> str:
        return self.raw[start:end].decode("utf-8", "replace")

    @property
    def comments(self) -> list[tuple[int, int]]:
        """Byte spans of ``#`` comments (tree-sitter keeps them as named nodes)."""
        if self._comments is None:
            spans: list[tuple[int, int]] = []
            try:
                for tok in tokenize.tokenize(io.BytesIO(self.raw).readline):
                    if tok.type == tokenize.COMMENT:
                        line = tok.line
                        (row, col), (_, ecol) = tok.start, tok.end
                        b0 = self.offset(row, len(line[:col].encode("utf-8")))
                        b1 = self.offset(row, len(line[:ecol].encode("utf-8")))
                        spans.append((b0, b1))
            except (tokenize.TokenError, SyntaxError, IndentationError):
                pass
            self._comments = spans
        return self._comments

    def _comment_at(self, pos: int) -> tuple[int, int] | None:
        for span in self.comments:
            if span[0] <= pos < span[1]:
                return span
        return None

    def prev_significant(self, pos: int) -> int:
        j = pos - 1
        while j >= 0:
            c = self.raw[j]
            if c in b" \t\f\\\r\n":
                if c in b"\r\n":
                    span = None
                    k = j - 1
                    # a comment may end right before this newline
                    while k >= 0 and self.raw[k] not in b"\r\n":
                        if self.raw[k] == 0x23:  # '#'
                            span = self._comment_at(k)
                            if span:
                                break
                        k -= 1
                    if span:
                        j = span[0] - 1
                        continue
                j -= 1
                continue
            return j
        return -1

    def next_significant(self, pos: int) -> int:
        j = pos
        n = len(self.raw)
        while j < n:
            c = self.raw[j]
            if c in b" \t\f\\\r\n":
                j += 1
                continue
            if c == 0x23:
                span = self._comment_at(j)
                if span:
                    j = span[1]
                    continue
            return j
        return n

    def node(self, node: ast.AST, excl_open: int | None = None) -> TSNode:
        """Wrap an ast expression as a tree-sitter node (parentheses become a wrapper node)."""
        start = self.offset(node.lineno, node.col_offset)  # type: ignore[attr-defined]
        end = self.offset(node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]
        depth = 0
        while True:
            p = self.prev_significant(start)
            if p < 0 or self.raw[p] != 0x28 or p == excl_open:  # '('
                break
            q = self.next_significant(end)
            if q >= len(self.raw) or self.raw[q] != 0x29:  # ')'
                break
            start, end, depth = p, q + 1, depth + 1
        kind = "parenthesized_expression" if depth else _ts_kind(node, self.raw[start:end])
        return TSNode(kind, node, start, end, self)

    def stray_comments(self, outer: TSNode, children: list[TSNode]) -> bool:
        """Whether a comment sits directly inside ``outer`` (i.e. is one of its named children)."""
        for c0, _ in self.comments:
            if outer.start < c0 < outer.end and not any(ch.start <= c0 < ch.end for ch in children):
                return True
        return False


def _ts_kind(node: ast.AST, text: bytes) -> str:
    if isinstance(node, ast.Constant):
        v = node.value
        if v is None:
            return "none"
        if v is True:
            return "true"
        if v is False:
            return "false"
        if isinstance(v, int):
            return "integer"
        if isinstance(v, float):
            return "float"
        if isinstance(v, complex):
            return "integer"  # ParseInt/ParseFloat reject "1j" alike
        if isinstance(v, (str, bytes)):
            return "string"  # "concatenated_string" is handled identically everywhere
        if v is Ellipsis:
            return "ellipsis"
        return "unknown"
    if isinstance(node, ast.JoinedStr):
        return "string"
    if isinstance(node, ast.Tuple):
        return "tuple" if text.startswith(b"(") else "expression_list"
    if isinstance(node, ast.UnaryOp):
        return "not_operator" if isinstance(node.op, ast.Not) else "unary_operator"
    return {
        ast.Name: "identifier",
        ast.List: "list",
        ast.Set: "set",
        ast.Dict: "dictionary",
        ast.Call: "call",
        ast.Attribute: "attribute",
        ast.BinOp: "binary_operator",
        ast.Subscript: "subscript",
    }.get(type(node), type(node).__name__.lower())


@dataclass
class TSNode:
    """The subset of a tree-sitter node the Go parser looks at: its type and source text."""

    kind: str
    node: ast.AST
    start: int
    end: int
    file: PyFile

    @property
    def text(self) -> str:
        return self.file.text(self.start, self.end)


# ---------------------------------------------------------------------------------------------
# Default values (schema.DefaultValue) and literal parsing (literals.go)
# ---------------------------------------------------------------------------------------------


@dataclass
class DV:
    """schema.DefaultValue: a statically parsed Python literal."""

    kind: str  # none, bool, int, float, str, list, dict, set
    value: Any = None
    items: list[DV] = field(default_factory=list)
    keys: list[DV] = field(default_factory=list)
    vals: list[DV] = field(default_factory=list)

    def to_json(self) -> Any:
        if self.kind in ("none", "bool", "int", "float", "str"):
            return self.value
        if self.kind in ("list", "set"):
            return [i.to_json() for i in self.items]
        if self.kind == "dict":
            out: dict[str, Any] = {}
            for k, v in zip(self.keys, self.vals, strict=True):
                key = k.value if k.kind == "str" else go_sprint_v(k.to_json())
                out[key] = v.to_json()
            return out
        return None


def parse_string_literal(n: TSNode) -> str | None:
    """parseStringLiteral: strips the quotes of the raw text, no escape processing."""
    text = n.text
    if text.startswith('"""') or text.startswith("'''"):
        return text[3:-3] if len(text) >= 6 else None
    if text.startswith('"') or text.startswith("'"):
        return text[1:-1] if len(text) >= 2 else None
    if text.startswith('r"') or text.startswith("r'"):
        return text[2:-1] if len(text) >= 3 else None
    return None


def parse_number_literal(n: TSNode) -> float | None:
    return go_parse_float(n.text.strip())


def parse_bool_literal(n: TSNode) -> bool | None:
    if n.kind == "true" or n.text == "True":
        return True
    if n.kind == "false" or n.text == "False":
        return False
    return None


def parse_default_value(n: TSNode) -> DV | None:
    """parseDefaultValue: literal expressions only."""
    k = n.kind
    if k == "none":
        return DV("none")
    if k == "true":
        return DV("bool", True)
    if k == "false":
        return DV("bool", False)
    if k == "integer":
        i = go_parse_int(n.text)
        return None if i is None else DV("int", i)
    if k == "float":
        f = go_parse_float(n.text)
        return None if f is None else DV("float", f)
    if k in ("string", "concatenated_string"):
        s = parse_string_literal(n)
        return None if s is None else DV("str", s)
    if k in ("list", "set"):
        items = parse_list_literal(n, kind=k)
        return None if items is None else DV(k, items=items)
    if k == "dictionary":
        d = n.node
        assert isinstance(d, ast.Dict)
        keys: list[DV] = []
        vals: list[DV] = []
        for kn, vn in zip(d.keys, d.values, strict=True):
            if kn is None:
                continue
            kv = parse_default_value(n.file.node(kn))
            vv = parse_default_value(n.file.node(vn))
            if kv is not None and vv is not None:
                keys.append(kv)
                vals.append(vv)
        return DV("dict", keys=keys, vals=vals)
    if k == "unary_operator":
        text = n.text.strip()
        i = go_parse_int(text)
        if i is not None:
            return DV("int", i)
        f = go_parse_float(text)
        return None if f is None else DV("float", f)
    if k == "tuple":
        t = n.node
        assert isinstance(t, ast.Tuple)
        items = []
        for e in t.elts:
            v = parse_default_value(n.file.node(e, excl_open=n.start))
            if v is not None:
                items.append(v)
        return DV("list", items=items)
    return None


def parse_list_literal(n: TSNode, kind: str = "list") -> list[DV] | None:
    if n.kind != kind:
        return None
    elts = n.node.elts  # type: ignore[attr-defined]
    children = [n.file.node(e) for e in elts]
    if n.file.stray_comments(n, children):
        return None  # a comment is a named child that is not a literal
    items = []
    for c in children:
        v = parse_default_value(c)
        if v is None:
            return None
        items.append(v)
    return items


# ---------------------------------------------------------------------------------------------
# Imports (imports.go, schema.ImportContext) and module scope (module_scope.go)
# ---------------------------------------------------------------------------------------------

EMPTY_ENTRY = ("", "")


class ImportContext:
    """Local name -> (module, original name), in first-import order."""

    def __init__(self) -> None:
        self.names: dict[str, tuple[str, str]] = {}

    def get(self, name: str) -> tuple[str, str] | None:
        return self.names.get(name)

    def resolve_qualified(self, name: str) -> tuple[str, tuple[str, str], bool]:
        if "." not in name:
            return name, EMPTY_ENTRY, False
        head, rest = name.split(".", 1)
        return rest, self.names.get(head, EMPTY_ENTRY), True

    def is_base_model(self, name: str) -> bool:
        e = self.names.get(name)
        return bool(e and e[0] in ("cog", "pydantic", "pydantic.v1") and e[1] == "BaseModel")

    def is_typed_dict(self, name: str) -> bool:
        e = self.names.get(name)
        return bool(e and e[0] in ("typing", "typing_extensions") and e[1] == "TypedDict")

    def is_opaque(self, name: str) -> bool:
        resolved, entry, ok = self.resolve_qualified(name)
        if ok:
            return resolved == "Opaque" and entry[0] == "cog"
        e = self.names.get(name)
        return bool(e and e[0] == "cog" and e[1] == "Opaque")

    def is_annotated(self, name: str) -> bool:
        resolved, entry, ok = self.resolve_qualified(name)
        if ok:
            return (
                resolved == "Annotated"
                and entry[0] in ("typing", "typing_extensions")
                and entry[1] == entry[0]
            )
        e = self.names.get(name)
        return bool(e and e[0] in ("typing", "typing_extensions") and e[1] == "Annotated")

    def is_typed_dict_qualifier(self, name: str) -> bool:
        e = self.names.get(name)
        return bool(
            e and e[0] in ("typing", "typing_extensions") and e[1] in ("Required", "NotRequired")
        )


def collect_imports(f: PyFile) -> ImportContext:
    ctx = ImportContext()
    for stmt in f.tree.body:
        if isinstance(stmt, ast.ImportFrom):
            module = "." * stmt.level + (stmt.module or "")
            if not module:
                continue
            for a in stmt.names:
                if a.name == "*":
                    continue
                ctx.names[a.asname or a.name] = (module, a.name)
        elif isinstance(stmt, ast.Import):
            for a in stmt.names:
                ctx.names[a.asname or a.name] = (a.name, a.name)
    for builtin in ("str", "int", "float", "bool", "list", "dict", "set", "None"):
        ctx.names.setdefault(builtin, ("builtins", builtin))
    return ctx


ModuleScope = dict[str, DV]


def _simple_assignment(stmt: ast.stmt) -> tuple[str, ast.expr] | None:
    """A module/class-level ``name = value`` or ``name: T = value`` (tree-sitter assignment)."""
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        t = stmt.targets[0]
        if isinstance(t, ast.Name):
            return t.id, stmt.value
    if (
        isinstance(stmt, ast.AnnAssign)
        and stmt.value is not None
        and isinstance(stmt.target, ast.Name)
        and stmt.simple
    ):
        return stmt.target.id, stmt.value
    return None


def collect_module_scope(f: PyFile) -> ModuleScope:
    scope: ModuleScope = {}
    for stmt in f.tree.body:
        a = _simple_assignment(stmt)
        if a is None:
            continue
        val = parse_default_value(f.node(a[1]))
        if val is not None:
            scope[a[0]] = val
    return scope


def resolve_string_expr(n: TSNode, scope: ModuleScope) -> str | None:
    s = parse_string_literal(n)
    if s is not None:
        return s
    if n.kind == "identifier":
        v = scope.get(n.text)
        if v is not None and v.kind == "str":
            return v.value  # type: ignore[no-any-return]
    return None


def resolve_default_expr(n: TSNode, scope: ModuleScope) -> DV | None:
    v = parse_default_value(n)
    if v is not None:
        return v
    if n.kind == "identifier":
        return scope.get(n.text)
    return None


def resolve_choices_expr(n: TSNode, scope: ModuleScope) -> list[DV] | None:
    if n.kind == "list":
        return parse_list_literal(n)
    if n.kind == "identifier":
        v = scope.get(n.text)
        return v.items if v is not None and v.kind == "list" else None
    if n.kind == "call":
        return _resolve_choices_call(n, scope)
    if n.kind == "binary_operator":
        b = n.node
        assert isinstance(b, ast.BinOp)
        if not isinstance(b.op, ast.Add):
            return None
        left = resolve_choices_expr(n.file.node(b.left), scope)
        if left is None:
            return None
        right = resolve_choices_expr(n.file.node(b.right), scope)
        if right is None:
            return None
        return left + right
    return None


def _call_parts(n: TSNode) -> tuple[TSNode, list[TSNode], list[tuple[str, TSNode]]]:
    """A call's function node, positional argument nodes and keyword arguments."""
    c = n.node
    assert isinstance(c, ast.Call)
    func = n.file.node(c.func)
    open_paren = n.file.next_significant(func.end)
    positional = [n.file.node(a, excl_open=open_paren) for a in c.args]
    keywords = [(kw.arg, n.file.node(kw.value)) for kw in c.keywords if kw.arg is not None]
    return func, positional, keywords


def _resolve_choices_call(n: TSNode, scope: ModuleScope) -> list[DV] | None:
    """list(X.keys()) / list(X.values()) of a module-level dict literal."""
    func, positional, _ = _call_parts(n)
    if func.text != "list":
        return None
    # the first argument must be a positional call (keyword arguments come after positionals)
    if not positional or positional[0].kind != "call":
        return None
    inner_func = n.file.node(positional[0].node.func)  # type: ignore[attr-defined]
    if inner_func.kind != "attribute":
        return None
    attr = inner_func.node
    assert isinstance(attr, ast.Attribute)
    obj = n.file.node(attr.value)
    if obj.kind != "identifier":
        return None
    d = scope.get(obj.text)
    if d is None or d.kind != "dict":
        return None
    if attr.attr == "keys":
        return d.keys
    if attr.attr == "values":
        return d.vals
    return None


# ---------------------------------------------------------------------------------------------
# Type annotations (annotations.go)
# ---------------------------------------------------------------------------------------------

SIMPLE, GENERIC, UNION = 0, 1, 2


@dataclass(frozen=True)
class TA:
    """schema.TypeAnnotation."""

    kind: int
    name: str = ""
    args: tuple[TA, ...] = ()


def _split_top_level(s: str, sep: str) -> list[str] | None:
    depth = 0
    start = 0
    parts: list[str] = []
    found = False
    for i, c in enumerate(s):
        if c == "[":
            depth += 1
        elif c == "]":
            depth -= 1
        elif c == sep and depth == 0:
            found = True
            parts.append(s[start:i])
            start = i + 1
    if not found:
        return None
    parts.append(s[start:])
    return parts


def parse_type_from_string(s: str) -> TA | None:
    s = s.strip(" \t\n\r\v\f")
    if not s:
        return None
    if len(s) >= 2 and ((s[0] == '"' and s[-1] == '"') or (s[0] == "'" and s[-1] == "'")):
        return parse_type_from_string(s[1:-1])
    pipes = _split_top_level(s, "|")
    if pipes is not None:
        members = []
        for p in pipes:
            m = parse_type_from_string(p.strip())
            if m is None:
                return None
            members.append(m)
        return TA(UNION, args=tuple(members)) if len(members) >= 2 else None
    bracket = s.find("[")
    if bracket >= 0 and s.endswith("]"):
        outer = s[:bracket].strip()
        parts = _split_top_level(s[bracket + 1 : -1], ",") or [s[bracket + 1 : -1]]
        args = []
        for p in parts:
            a = parse_type_from_string(p.strip())
            if a is None:
                return None
            args.append(a)
        return TA(GENERIC, outer, tuple(args)) if args else None
    for part in s.split("."):
        if not part or not re.fullmatch(r"[A-Za-z0-9_]+", part):
            return None
    return TA(SIMPLE, s)


def _type_node_kind(n: TSNode) -> str:
    """How tree-sitter parses a ``type`` node: an annotation starting ``identifier[`` becomes a
    ``generic_type`` (or a ``union_type`` when followed by ``|``), other annotations are
    expressions."""
    node = n.node
    if n.kind == "subscript" and isinstance(node, ast.Subscript):
        return "generic_type" if isinstance(node.value, ast.Name) else n.kind
    if n.kind == "binary_operator" and isinstance(node, ast.BinOp):
        left: ast.expr = node
        while isinstance(left, ast.BinOp) and isinstance(left.op, ast.BitOr):
            left = left.left
        if (
            isinstance(left, ast.Subscript)
            and isinstance(left.value, ast.Name)
            and n.file.node(left).kind == "subscript"  # not parenthesised
        ):
            return "union_type"
    return n.kind


def parse_annotation(n: TSNode) -> TA:
    """parseTypeAnnotation on a ``type`` node (parameter, return or class field annotation).

    ``generic_type``/``union_type`` nodes reach the Go code's default branch, which re-parses
    their source text with parseTypeFromString (so e.g. ``list[int,]`` is rejected there).
    """
    kind = _type_node_kind(n)
    if kind in ("generic_type", "union_type"):
        ann = parse_type_from_string(n.text)
        if ann is None:
            raise err_unsupported(f"{kind}: {n.text}")
        return ann
    return parse_type_annotation(n)


def parse_type_annotation(n: TSNode) -> TA:
    k = n.kind
    if k == "identifier":
        return TA(SIMPLE, n.text)
    if k == "subscript":
        sub = n.node
        assert isinstance(sub, ast.Subscript)
        value = n.file.node(sub.value)
        sl = sub.slice
        if isinstance(sl, ast.Index):  # pragma: no cover - Python < 3.9
            sl = sl.value  # type: ignore[attr-defined]
        if isinstance(sl, ast.Tuple) and not n.file.node(sl).text.startswith("("):
            children = [n.file.node(e) for e in sl.elts]
        else:
            children = [n.file.node(sl)]
        args = []
        for c in sorted(children + _comment_nodes(n, children, value.end), key=lambda c: c.start):
            args.append(parse_type_annotation(c))
        if not args:
            return TA(SIMPLE, value.text)
        return TA(GENERIC, value.text, tuple(args))
    if k == "binary_operator":
        b = n.node
        assert isinstance(b, ast.BinOp)
        if not isinstance(b.op, ast.BitOr):
            raise err_unsupported("non-union binary operator in type annotation")
        left = parse_type_annotation(n.file.node(b.left))
        right = parse_type_annotation(n.file.node(b.right))
        members = list(left.args) if left.kind == UNION else [left]
        members += list(right.args) if right.kind == UNION else [right]
        return TA(UNION, args=tuple(members))
    if k == "none":
        return TA(SIMPLE, "None")
    if k == "attribute":
        return TA(SIMPLE, n.text)
    if k in ("string", "concatenated_string"):
        text = n.text
        ann = parse_type_from_string(text.lstrip("\"'").rstrip("\"'"))
        if ann is not None:
            return ann
        raise err_unsupported(f"string annotation: {text}")
    text = n.text
    ann = parse_type_from_string(text)
    if ann is not None:
        return ann
    raise err_unsupported(f"{k}: {text}")


def _comment_nodes(n: TSNode, children: list[TSNode], after: int) -> list[TSNode]:
    """Comments inside a subscript's brackets are extra (named) children in tree-sitter."""
    out = []
    for c0, c1 in n.file.comments:
        if after < c0 < n.end and not any(ch.start <= c0 < ch.end for ch in children):
            out.append(TSNode("comment", n.node, c0, c1, n.file))
    return out


def unwrap_optional(ann: TA) -> TA | None:
    if ann.kind == GENERIC and ann.name == "Optional" and len(ann.args) == 1:
        return ann.args[0]
    if ((ann.kind == GENERIC and ann.name == "Union") or ann.kind == UNION) and len(ann.args) == 2:
        for i, a in enumerate(ann.args):
            if a.kind == SIMPLE and a.name == "None":
                return ann.args[1 - i]
    return None


_PRIMITIVES = ("bool", "float", "int", "str", "Path", "File", "Secret", "Any")


def primitive_json(p: str) -> dict[str, Any]:
    """PrimitiveType.JSONType."""
    if p == "bool":
        return {"type": "boolean"}
    if p == "float":
        return {"type": "number"}
    if p == "int":
        return {"type": "integer"}
    if p == "str":
        return {"type": "string"}
    if p in ("Path", "File"):
        return {"type": "string", "format": "uri"}
    if p == "Secret":
        return {"type": "string", "format": "password", "writeOnly": True, "x-cog-secret": True}
    return {"type": "object"}


def _opaque_container_name(name: str, ctx: ImportContext) -> str | None:
    resolved, entry, ok = ctx.resolve_qualified(name)
    if ok:
        if (
            entry[0] in ("typing", "typing_extensions")
            and entry[1] == entry[0]
            and resolved in ("List", "Optional", "Union")
        ):
            return resolved
        return None
    e = ctx.get(name)
    if e is not None:
        if e[0] == "builtins" and e[1] == "list":
            return "list"
        if e[0] in ("typing", "typing_extensions") and e[1] in ("List", "Optional", "Union"):
            return e[1]
        return None
    return "list" if name == "list" else None


def _unwrap_opaque_annotated(ann: TA, ctx: ImportContext) -> TA | None:
    if ann.kind != GENERIC or not ctx.is_annotated(ann.name) or len(ann.args) < 2:
        return None
    for meta in ann.args[1:]:
        if meta.kind == SIMPLE and ctx.is_opaque(meta.name):
            return ann.args[0]
    return None


def _unwrap_opaque_optional(ann: TA, ctx: ImportContext) -> TA | None:
    if ann.kind == GENERIC:
        name = _opaque_container_name(ann.name, ctx)
        if name is None:
            return None
        if name == "Optional" and len(ann.args) == 1:
            return ann.args[0]
        if name == "Union" and len(ann.args) == 2:
            for i, a in enumerate(ann.args):
                if a.kind == SIMPLE and a.name == "None":
                    return ann.args[1 - i]
    return unwrap_optional(ann)


# (primitive, repetition) — schema.FieldType; repetition: req, opt, rep, optrep
FieldType = tuple[str, str]


def _opaque_field_type(inner: TA, ctx: ImportContext) -> FieldType:
    unwrapped = _unwrap_opaque_annotated(inner, ctx)
    if unwrapped is not None:
        return _opaque_field_type(unwrapped, ctx)
    if inner.kind == SIMPLE and _opaque_container_name(inner.name, ctx) in ("List", "list"):
        return ("Any", "rep")
    if inner.kind == GENERIC:
        outer = _opaque_container_name(inner.name, ctx)
        opt_inner = _unwrap_opaque_optional(inner, ctx)
        if opt_inner is not None:
            ft = _opaque_field_type(opt_inner, ctx)
            return ("Any", "optrep" if ft[1] == "rep" else "opt")
        if outer is None:
            return ("Any", "req")
        if outer in ("List", "list"):
            return ("Any", "rep")
        if outer == "Optional" and len(inner.args) == 1:
            ft = _opaque_field_type(inner.args[0], ctx)
            return ("Any", "optrep" if ft[1] == "rep" else "opt")
    if inner.kind == UNION:
        opt_inner = unwrap_optional(inner)
        if opt_inner is not None:
            ft = _opaque_field_type(opt_inner, ctx)
            return ("Any", "optrep" if ft[1] == "rep" else "opt")
    return ("Any", "req")


# ---------------------------------------------------------------------------------------------
# Input types (types.go ResolveInputType / InputType)
# ---------------------------------------------------------------------------------------------


@dataclass
class InputType:
    kind: str  # primitive, any, array, union
    primitive: str = "Any"
    elem: InputType | None = None
    variants: list[InputType] = field(default_factory=list)
    nullable: bool = False


def _input_primitive(p: str) -> InputType:
    return InputType("any") if p == "Any" else InputType("primitive", p)


def _input_from_field_type(ft: FieldType) -> InputType:
    it = InputType("any") if ft[0] == "Any" else _input_primitive(ft[0])
    if ft[1] in ("rep", "optrep"):
        it = InputType("array", elem=it)
    if ft[1] in ("opt", "optrep"):
        it.nullable = True
    return it


def field_type_from_input(it: InputType) -> FieldType:
    rep = "opt" if it.nullable else "req"
    if it.kind == "primitive":
        return (it.primitive, rep)
    if it.kind == "array":
        arep = "optrep" if it.nullable else "rep"
        if it.elem is not None and it.elem.kind == "primitive":
            return (it.elem.primitive, arep)
        return ("Any", arep)
    return ("Any", rep)


def resolve_input_type(ann: TA, ctx: ImportContext, typed_dicts: dict[str, bool]) -> InputType:
    opaque = _unwrap_opaque_annotated(ann, ctx)
    if opaque is not None:
        return _input_from_field_type(_opaque_field_type(opaque, ctx))
    if ann.kind == SIMPLE:
        name = ann.name
        if typed_dicts.get(name):
            return InputType("any")
        entry = EMPTY_ENTRY
        resolved, e, ok = ctx.resolve_qualified(name)
        if ok:
            name, entry = resolved, e
            if typed_dicts.get(entry[1] + "." + name):
                return InputType("any")
        if typed_dicts.get(name):
            return InputType("any")
        if name in ("dict", "Dict"):
            return InputType("any")
        if name not in _PRIMITIVES:
            if entry[0]:
                raise err_unresolvable_imported(name, entry[0])
            imported = ctx.get(name)
            if imported is not None:
                raise err_unresolvable_imported(name, imported[0])
            raise err_unsupported(name)
        return _input_primitive(name)
    if ann.kind == GENERIC:
        outer = ctx.resolve_qualified(ann.name)[0]
        if outer in ("dict", "Dict"):
            return InputType("any")
        if outer == "Optional":
            if len(ann.args) != 1:
                raise err_unsupported(
                    f"Optional expects exactly 1 type argument, got {len(ann.args)}"
                )
            inner = resolve_input_type(ann.args[0], ctx, typed_dicts)
            inner.nullable = True
            return inner
        if outer == "Union":
            return _resolve_input_union(list(ann.args), ctx, typed_dicts)
        if ctx.is_annotated(ann.name):
            return resolve_input_type(ann.args[0], ctx, typed_dicts)
        if outer in ("List", "list"):
            if len(ann.args) != 1:
                raise err_unsupported(f"List expects exactly 1 type argument, got {len(ann.args)}")
            opaque_inner = _unwrap_opaque_annotated(ann.args[0], ctx)
            if opaque_inner is not None:
                inner = _input_from_field_type(_opaque_field_type(opaque_inner, ctx))
            else:
                inner = resolve_input_type(ann.args[0], ctx, typed_dicts)
            if inner.nullable or inner.kind in ("array", "union"):
                raise err_unsupported("nested generics like List[Optional[X]] are not supported")
            return InputType("array", elem=inner)
        raise err_unsupported(f"{outer}[...] is not a supported input type")
    return _resolve_input_union(list(ann.args), ctx, typed_dicts)


def _resolve_input_union(
    args: list[TA], ctx: ImportContext, typed_dicts: dict[str, bool]
) -> InputType:
    variants: list[InputType] = []
    nullable = False
    for a in args:
        if a.kind == SIMPLE and a.name == "None":
            nullable = True
            continue
        if a.kind == UNION or (a.kind == GENERIC and a.name == "Union"):
            raise err_unsupported("nested union inputs are not supported")
        v = resolve_input_type(a, ctx, typed_dicts)
        if v.kind == "union":
            raise err_unsupported("nested union inputs are not supported")
        variants.append(v)
    if not variants:
        raise err_unsupported("union inputs must include at least one non-None type")
    if len(variants) == 1:
        v = variants[0]
        v.nullable = v.nullable or nullable
        return v
    for v in variants:
        _validate_union_variant(v)
    return InputType("union", variants=variants, nullable=nullable)


def _validate_union_variant(it: InputType) -> None:
    if it.nullable:
        raise err_unsupported("nested nullable variants are not supported in union inputs")
    if it.kind == "primitive" and it.primitive in ("Path", "File", "Secret"):
        raise err_unsupported(f"{it.primitive} is not supported in union inputs")
    if it.kind == "array" and it.elem is not None:
        _validate_union_variant(it.elem)
    if it.kind == "union":
        raise err_unsupported("nested union inputs are not supported")


def input_type_json(it: InputType) -> dict[str, Any]:
    """openapi_spec.go inputTypeJSONSchema."""
    schema: dict[str, Any]
    if it.kind == "primitive":
        schema = primitive_json(it.primitive)
    elif it.kind == "array":
        items = input_type_json(it.elem) if it.elem is not None else {"type": "object"}
        schema = {"type": "array", "items": items}
    elif it.kind == "union":
        variants = []
        for v in it.variants:
            vs = input_type_json(v)
            if it.nullable:
                vs["nullable"] = True
            variants.append(vs)
        schema = {"anyOf": variants}
    else:
        schema = {"type": "object"}
    if it.nullable:
        schema["nullable"] = True
    return schema


# ---------------------------------------------------------------------------------------------
# Output types (schema_type.go SchemaType)
# ---------------------------------------------------------------------------------------------


@dataclass
class ModelField:
    name: str
    type: TA
    default: DV | None
    key_required: bool | None


ModelMap = dict[str, list[ModelField]]


@dataclass
class SchemaType:
    kind: str  # primitive, any, array, dict, object, iterator, concat
    primitive: str = "Any"
    sub: SchemaType | None = None  # items / value type / elem
    fields: OrderedMap | None = None  # name -> (SchemaType, DV|None, required)
    nullable: bool = False

    def json_schema(self, top_level: bool = True) -> dict[str, Any]:
        result = self._core()
        if top_level:
            result["title"] = "Output"
        if self.nullable:
            result["nullable"] = True
        return result

    def _core(self) -> dict[str, Any]:
        sub = self.sub.json_schema(False) if self.sub is not None else {"type": "object"}
        if self.kind == "primitive":
            return primitive_json(self.primitive)
        if self.kind == "any":
            return {"type": "object"}
        if self.kind == "array":
            return {"type": "array", "items": sub}
        if self.kind == "dict":
            result: dict[str, Any] = {"type": "object"}
            if self.sub is not None:
                result["additionalProperties"] = sub
            return result
        if self.kind == "object":
            if self.fields is None:
                return {"type": "object"}
            props = OrderedMap()
            required = []
            for name, (st, default, req) in self.fields.items():
                prop = st.json_schema(False)
                prop["title"] = title_case(name)
                if req and default is None:
                    required.append(name)
                props[name] = prop
            result = {"type": "object", "properties": props}
            if required:
                result["required"] = required
            return result
        if self.kind == "iterator":
            return {"type": "array", "items": sub, "x-cog-array-type": "iterator"}
        return {
            "type": "array",
            "items": sub,
            "x-cog-array-type": "iterator",
            "x-cog-array-display": "concatenate",
        }


def _opaque_schema_type(inner: TA, ctx: ImportContext) -> SchemaType:
    if inner.kind == SIMPLE and _opaque_container_name(inner.name, ctx) in ("list", "List"):
        return SchemaType("array", sub=SchemaType("primitive", "Any"))
    if (
        inner.kind == GENERIC
        and _opaque_container_name(inner.name, ctx) in ("list", "List")
        and len(inner.args) == 1
    ):
        return SchemaType("array", sub=SchemaType("primitive", "Any"))
    return SchemaType("primitive", "Any")


def resolve_schema_type(
    ann: TA, ctx: ImportContext, models: ModelMap, seen: set[str] | None = None
) -> SchemaType:
    seen = seen if seen is not None else set()
    opaque = _unwrap_opaque_annotated(ann, ctx)
    if opaque is not None:
        if _unwrap_opaque_optional(opaque, ctx) is not None:
            raise err_optional_output()
        return _opaque_schema_type(opaque, ctx)
    if ann.kind == GENERIC and ctx.is_annotated(ann.name):
        return resolve_schema_type(ann.args[0], ctx, models, seen)
    if ann.kind == SIMPLE:
        return _resolve_simple_schema_type(ann, ctx, models, seen)
    if ann.kind == GENERIC:
        return _resolve_generic_schema_type(ann, ctx, models, seen)
    if unwrap_optional(ann) is not None:
        raise err_optional_output()
    raise err_unsupported("union types are not supported as output")


def _resolve_simple_schema_type(
    ann: TA, ctx: ImportContext, models: ModelMap, seen: set[str]
) -> SchemaType:
    name = ann.name
    if name in models:
        return _resolve_named_model(name, models[name], ctx, models, seen)
    entry = EMPTY_ENTRY
    resolved, e, qualified = ctx.resolve_qualified(name)
    if qualified:
        name, entry = resolved, e
        key = entry[1] + "." + name
        if key in models:
            return _resolve_named_model(key, models[key], ctx, models, seen)
    if name in ("Any", "dict", "Dict"):
        return SchemaType("any")
    if _opaque_container_name(ann.name, ctx) in ("list", "List"):
        return SchemaType("array", sub=SchemaType("any"))
    if name not in _PRIMITIVES:
        if entry[0]:
            raise err_unresolvable_imported(name, entry[0])
        imported = ctx.get(name)
        if imported is not None:
            raise err_unresolvable_imported(name, imported[0])
        raise err_unresolvable(name)
    return SchemaType("primitive", name)


def _resolve_named_model(
    name: str, fields: list[ModelField], ctx: ImportContext, models: ModelMap, seen: set[str]
) -> SchemaType:
    if name in seen:
        return SchemaType("any")
    seen.add(name)
    try:
        out = OrderedMap()
        for f in fields:
            try:
                st, required = _resolve_field_schema_type(f.type, ctx, models, seen)
            except SchemaError as e:
                raise SchemaError(e.kind, f'field "{f.name}": {e.message}') from None
            if f.key_required is not None:
                required = f.key_required
            if f.default is not None:
                required = False
            out[f.name] = (st, f.default, required)
        return SchemaType("object", fields=out)
    finally:
        seen.discard(name)


def _unwrap_field_optional(ann: TA, ctx: ImportContext) -> TA | None:
    inner = _unwrap_opaque_optional(ann, ctx)
    return inner if inner is not None else unwrap_optional(ann)


def _resolve_field_schema_type(
    ann: TA, ctx: ImportContext, models: ModelMap, seen: set[str]
) -> tuple[SchemaType, bool]:
    opaque = _unwrap_opaque_annotated(ann, ctx)
    if opaque is not None:
        opt = _unwrap_field_optional(opaque, ctx)
        if opt is not None:
            st = _opaque_schema_type(opt, ctx)
            st.nullable = True
            return st, False
        return _opaque_schema_type(opaque, ctx), True
    if ann.kind == GENERIC and ctx.is_annotated(ann.name):
        return _resolve_field_schema_type(ann.args[0], ctx, models, seen)
    inner = _unwrap_field_optional(ann, ctx)
    if inner is not None:
        st = resolve_schema_type(inner, ctx, models, seen)
        st.nullable = True
        return st, False
    return resolve_schema_type(ann, ctx, models, seen), True


def _resolve_generic_schema_type(
    ann: TA, ctx: ImportContext, models: ModelMap, seen: set[str]
) -> SchemaType:
    outer = ctx.resolve_qualified(ann.name)[0]
    if outer in ("dict", "Dict"):
        if len(ann.args) == 2:
            try:
                return SchemaType("dict", sub=resolve_schema_type(ann.args[1], ctx, models, seen))
            except SchemaError as e:
                raise SchemaError(e.kind, f"resolving dict value type: {e.message}") from None
        raise err_unsupported("dict expects 0 or 2 type arguments")
    if outer == "Optional":
        if len(ann.args) != 1:
            raise err_unsupported("Optional expects exactly 1 type argument")
        raise err_optional_output()
    if outer == "Union":
        if unwrap_optional(TA(UNION, args=ann.args)) is not None:
            raise err_optional_output()
        raise err_unsupported("union types are not supported as output")
    if _opaque_container_name(ann.name, ctx) in ("List", "list"):
        if len(ann.args) != 1:
            raise err_unsupported("list expects exactly 1 type argument")
        return SchemaType("array", sub=resolve_schema_type(ann.args[0], ctx, models, seen))
    if outer in ("Iterator", "AsyncIterator"):
        if len(ann.args) != 1:
            raise err_unsupported("Iterator expects exactly 1 type argument")
        return SchemaType("iterator", sub=resolve_schema_type(ann.args[0], ctx, models, seen))
    if outer in ("ConcatenateIterator", "AsyncConcatenateIterator"):
        if len(ann.args) != 1:
            raise err_unsupported("ConcatenateIterator expects exactly 1 type argument")
        inner = ann.args[0]
        if inner.kind != SIMPLE:
            raise err_unsupported("ConcatenateIterator element type must be a simple type")
        if inner.name != "str":
            raise SchemaError(
                "concat_iterator_not_str",
                f"ConcatenateIterator element type must be str, got {inner.name}",
            )
        return SchemaType("concat", sub=SchemaType("primitive", "str"))
    raise err_unsupported(f"{outer}[...] is not a supported output type")


# ---------------------------------------------------------------------------------------------
# BaseModel / TypedDict classes and cross-file resolution (models.go)
# ---------------------------------------------------------------------------------------------


def _top_level_classes(f: PyFile) -> Iterator[ast.ClassDef]:
    for stmt in f.tree.body:
        if isinstance(stmt, ast.ClassDef):
            yield stmt


def _top_level_functions(f: PyFile) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for stmt in f.tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield stmt


def class_bases(f: PyFile, cls: ast.ClassDef) -> list[TSNode]:
    """The superclass expressions (the class's own "(" is not a parenthesised expression)."""
    open_paren = f.raw.find(b"(", f.offset(cls.lineno, cls.col_offset))
    return [f.node(b, excl_open=open_paren) for b in cls.bases]


def _inherits_from_base_model(f: PyFile, cls: ast.ClassDef, imports: ImportContext) -> bool:
    for n in class_bases(f, cls):
        if n.kind == "identifier" and (imports.is_base_model(n.text) or n.text == "BaseModel"):
            return True
        if n.kind == "attribute" and n.text.endswith(".BaseModel"):
            return True
    return False


def _typed_dict_info(
    f: PyFile, cls: ast.ClassDef, imports: ImportContext, typed_dicts: dict[str, bool]
) -> tuple[bool, bool, list[str]]:
    is_td = False
    required_by_default = True
    parents: list[str] = []
    for n in class_bases(f, cls):
        if n.kind == "identifier":
            if imports.is_typed_dict(n.text) or n.text == "TypedDict":
                is_td = True
            elif typed_dicts.get(n.text):
                is_td = True
                parents.append(n.text)
        elif n.kind == "attribute":
            if n.text.endswith(".TypedDict"):
                is_td = True
            elif typed_dicts.get(n.text):
                is_td = True
                parents.append(n.text)
    for kw in cls.keywords:
        if kw.arg == "total" and f.node(kw.value).text.strip() == "False":
            required_by_default = False
    return is_td, required_by_default, parents


def _typed_dict_field_info(
    ann: TA, imports: ImportContext, is_td: bool, required_by_default: bool
) -> tuple[TA, bool | None]:
    if not is_td:
        return ann, None
    if ann.kind != GENERIC or len(ann.args) != 1:
        return ann, required_by_default
    name = ann.name
    if name == "NotRequired" or name.endswith(".NotRequired"):
        return ann.args[0], False
    if name == "Required" or name.endswith(".Required"):
        return ann.args[0], True
    if imports.is_typed_dict_qualifier(name):
        e = imports.get(name)
        if e is not None and e[1] == "NotRequired":
            return ann.args[0], False
        if e is not None and e[1] == "Required":
            return ann.args[0], True
    return ann, required_by_default


def _extract_class_fields(
    f: PyFile, cls: ast.ClassDef, imports: ImportContext, is_td: bool, required_by_default: bool
) -> list[ModelField]:
    fields = []
    for stmt in cls.body:
        if not isinstance(stmt, ast.AnnAssign) or not isinstance(stmt.target, ast.Name):
            continue
        if not stmt.simple:
            continue
        try:
            ann = parse_annotation(f.node(stmt.annotation))
        except SchemaError:
            continue
        default = parse_default_value(f.node(stmt.value)) if stmt.value is not None else None
        ann, key_required = _typed_dict_field_info(ann, imports, is_td, required_by_default)
        fields.append(ModelField(stmt.target.id, ann, default, key_required))
    return fields


@dataclass
class ModuleSummary:
    imports: ImportContext | None
    models: ModelMap
    typed_dicts: dict[str, bool]
    source_path: str


@dataclass
class ModelParseContext:
    imports: ImportContext
    typed_dicts: dict[str, bool]
    loaded_modules: dict[str, ModuleSummary]
    source_path: str
    resolved_models: ModelMap | None = None


def collect_model_classes(f: PyFile, ctx: ModelParseContext) -> ModelMap:
    models: ModelMap = {}
    for cls in _top_level_classes(f):
        is_bm = _inherits_from_base_model(f, cls, ctx.imports)
        is_td, req_default, parents = _typed_dict_info(f, cls, ctx.imports, ctx.typed_dicts)
        if not is_bm and not is_td:
            continue
        fields = _extract_class_fields(f, cls, ctx.imports, is_td, req_default)
        if is_td:
            parent_fields = []
            for p in parents:
                if p in models:
                    parent_fields.append(models[p])
                elif ctx.resolved_models is not None and p in ctx.resolved_models:
                    parent_fields.append(ctx.resolved_models[p])
            fields = _merge_model_fields(parent_fields, fields)
        models[cls.name] = fields
        if is_td:
            ctx.typed_dicts[cls.name] = True
    return models


def _merge_model_fields(parents: list[list[ModelField]], own: list[ModelField]) -> list[ModelField]:
    merged: list[ModelField] = []
    index: dict[str, int] = {}
    for fl in [*parents, own]:
        for fd in fl:
            if fd.name in index:
                merged[index[fd.name]] = fd
            else:
                index[fd.name] = len(merged)
                merged.append(fd)
    return merged


_KNOWN_EXTERNAL = {
    "builtins", "typing", "typing_extensions", "collections", "abc", "enum", "dataclasses",
    "os", "sys", "io", "json", "re", "math", "pathlib", "functools", "itertools", "contextlib",
    "concurrent", "asyncio", "multiprocessing", "threading", "logging", "warnings", "unittest",
    "pytest", "numpy", "torch", "tensorflow", "jax", "scipy", "sklearn", "transformers",
    "diffusers", "accelerate", "safetensors", "PIL", "cv2", "skimage", "requests", "httpx",
    "aiohttp", "fastapi", "flask", "pydantic", "cog",
}  # fmt: skip


def is_known_external_module(module: str) -> bool:
    i = module.find(".")
    top = module[:i] if i > 0 else module
    return top.lstrip(".") in _KNOWN_EXTERNAL


def go_clean(p: str) -> str:
    if not p:
        return "."
    c = posixpath.normpath(p)
    return "/" + c.lstrip("/") if c.startswith("//") else c


def go_join(*parts: str) -> str:
    nonempty = [p for p in parts if p]
    return go_clean("/".join(nonempty)) if nonempty else ""


def go_dir(p: str) -> str:
    return go_clean(posixpath.dirname(p))


def module_to_file_path(module: str, source_path: str = "") -> str:
    if module.startswith(".") and source_path:
        level = len(module) - len(module.lstrip("."))
        clean = module.lstrip(".")
        if not clean:
            return ""
        base = go_dir(source_path)
        base = "" if base == "." else base
        for _ in range(level - 1):
            if not base:
                break
            base = go_dir(base)
            base = "" if base == "." else base
        parts = ([base] if base else []) + clean.split(".")
        return go_join(*parts) + ".py"
    clean = module.lstrip(".")
    if not clean:
        return ""
    return go_join(*clean.split(".")) + ".py"


def nested_import_module(module: str, original: str) -> str:
    if not module or not original:
        return module
    if module == ".":
        return "." + original
    return module + "." + original


class SourceTree:
    """Reads and parses project files once (the Go code re-reads; results are identical)."""

    def __init__(self, source_dir: str) -> None:
        self.source_dir = source_dir
        self._cache: dict[str, PyFile | None] = {}

    def load(self, rel_path: str) -> PyFile | None:
        full = str(Path(self.source_dir, rel_path))
        if full not in self._cache:
            try:
                with open(full, "rb") as fh:
                    raw = fh.read()
                self._cache[full] = PyFile(raw, full)
            except (OSError, SyntaxError, ValueError):
                self._cache[full] = None
        return self._cache[full]

    def exists(self, rel_path: str) -> bool:
        return Path(self.source_dir, rel_path).exists()


def load_models_from_module(
    tree: SourceTree, ctx: ModelParseContext, module: str
) -> ModelMap | None:
    if is_known_external_module(module):
        return None
    py_path = module_to_file_path(module, ctx.source_path)
    if not py_path:
        return None
    key = go_clean(py_path)
    if key in ctx.loaded_modules:
        return ctx.loaded_modules[key].models
    ctx.loaded_modules[key] = ModuleSummary(None, {}, {}, key)
    if not tree.exists(py_path):
        del ctx.loaded_modules[key]
        return None
    f = tree.load(py_path)
    if f is None:  # unreadable or (unlike tree-sitter) unparsable: contributes no models
        return None
    fctx = ModelParseContext(collect_imports(f), {}, ctx.loaded_modules, key)
    file_models = collect_model_classes(f, fctx)
    fctx.resolved_models = file_models
    resolve_external_models(tree, file_models, fctx)
    fctx.resolved_models = file_models
    file_models.update(collect_model_classes(f, fctx))
    ctx.loaded_modules[key] = ModuleSummary(fctx.imports, file_models, fctx.typed_dicts, key)
    _refresh_loaded_module_aliases(ctx.loaded_modules)
    resolve_external_models(tree, file_models, fctx)
    ctx.loaded_modules[key] = ModuleSummary(fctx.imports, file_models, fctx.typed_dicts, key)
    return file_models


def _propagate_alias(
    local: str,
    entry: tuple[str, str],
    src: ModelMap,
    dst: ModelMap,
    src_td: dict[str, bool],
    dst_td: dict[str, bool],
) -> None:
    if entry[1] in src:
        dst[local] = src[entry[1]]
    if src_td.get(entry[1]):
        dst_td[local] = True


def _refresh_loaded_module_aliases(loaded: dict[str, ModuleSummary]) -> None:
    for summary in list(loaded.values()):
        if summary.imports is None:
            continue
        for local, entry in list(summary.imports.names.items()):
            py_path = module_to_file_path(entry[0], summary.source_path)
            if not py_path:
                continue
            imported = loaded.get(go_clean(py_path))
            if imported is None:
                continue
            _propagate_alias(
                local, entry, imported.models, summary.models, imported.typed_dicts,
                summary.typed_dicts,
            )  # fmt: skip


def _load_models_for_import(
    tree: SourceTree, ctx: ModelParseContext, entry: tuple[str, str]
) -> tuple[str, ModelMap | None, bool]:
    models = load_models_from_module(tree, ctx, entry[0])
    if models is not None:
        return entry[0], models, False
    module = nested_import_module(entry[0], entry[1])
    if module == entry[0]:
        return entry[0], None, False
    return module, load_models_from_module(tree, ctx, module), True


def resolve_external_models(tree: SourceTree, models: ModelMap, ctx: ModelParseContext) -> None:
    for local, entry in list(ctx.imports.names.items()):
        module, module_models, nested = _load_models_for_import(tree, ctx, entry)
        if module_models is not None:
            for name, fields in list(module_models.items()):
                models[local + "." + name] = fields
            py_path = module_to_file_path(module, ctx.source_path)
            summary = ctx.loaded_modules.get(go_clean(py_path)) if py_path else None
            if summary is not None:
                for name in list(summary.typed_dicts):
                    ctx.typed_dicts[local + "." + name] = True
            if nested or entry[1] == entry[0] or entry[0] == ".":
                continue
            src_td = summary.typed_dicts if summary is not None else ctx.typed_dicts
            _propagate_alias(local, entry, module_models, models, src_td, ctx.typed_dicts)
            for name, fields in list(module_models.items()):
                models.setdefault(name, fields)
            continue
        _propagate_alias(local, entry, models, models, ctx.typed_dicts, ctx.typed_dicts)


# ---------------------------------------------------------------------------------------------
# Reusable Input() registry (inputs.go collectInputRegistry)
# ---------------------------------------------------------------------------------------------


@dataclass
class InputInfo:
    default: DV | None = None
    description: str | None = None
    ge: float | None = None
    le: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    regex: str | None = None
    choices: list[DV] | None = None
    deprecated: bool | None = None
    accept: str | None = None


@dataclass
class InputRegistry:
    attributes: dict[str, InputInfo] = field(default_factory=dict)
    methods: dict[str, tuple[list[str], InputInfo]] = field(default_factory=dict)


def is_input_call(n: TSNode, imports: ImportContext) -> bool:
    if n.kind != "call":
        return False
    name = n.file.node(n.node.func).text  # type: ignore[attr-defined]
    if name == "Input":
        return True
    e = imports.get(name)
    return bool(e and e[0] == "cog" and e[1] == "Input")


def _to_uint64(x: float) -> int:
    """Go uint64(float64) for the values seen in practice (negative wraps like amd64)."""
    if x >= 0:
        return int(x) if x < 2**64 else 2**63
    return (int(x)) % 2**64 if x > -(2**63) else 2**63


def parse_input_call(n: TSNode, param: str, scope: ModuleScope) -> InputInfo:
    info = InputInfo()
    _, _, keywords = _call_parts(n)
    for key, val in keywords:
        if key == "default":
            v = resolve_default_expr(val, scope)
            info.default = v if v is not None else DV("none")
        elif key == "default_factory":
            raise SchemaError(
                "default_factory",
                f"parameter '{param}': default_factory is not supported in static schema "
                "generation",
            )
        elif key == "description":
            s = resolve_string_expr(val, scope)
            if s is not None:
                info.description = s
        elif key in ("ge", "le"):
            x = parse_number_literal(val)
            if x is not None:
                setattr(info, key, x)
        elif key in ("min_length", "max_length"):
            x = parse_number_literal(val)
            if x is not None:
                setattr(info, key, _to_uint64(x))
        elif key == "regex":
            s = parse_string_literal(val)
            if s is not None:
                info.regex = s
        elif key == "choices":
            items = parse_list_literal(val)
            if items is None:
                items = resolve_choices_expr(val, scope)
            if items is None:
                raise SchemaError(
                    "choices_not_resolvable",
                    f"parameter '{param}': choices expression cannot be statically resolved",
                )
            info.choices = items
        elif key == "deprecated":
            b = parse_bool_literal(val)
            if b is not None:
                info.deprecated = b
        elif key == "accept":
            s = parse_string_literal(val)
            if s is not None:
                info.accept = s
    return info


@dataclass
class Param:
    """One entry of a tree-sitter ``parameters`` node, in source order."""

    kind: str  # identifier, typed_parameter, typed_default_parameter, default_parameter, splat
    name: str
    annotation: ast.expr | None
    default: ast.expr | None


def ordered_params(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[Param]:
    a = fn.args
    positional = [*a.posonlyargs, *a.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(a.defaults))
    defaults += list(a.defaults)
    entries: list[tuple[ast.arg, ast.expr | None, bool]] = [
        (arg, d, False) for arg, d in zip(positional, defaults, strict=True)
    ]
    if a.vararg is not None:
        entries.append((a.vararg, None, True))
    entries += [(arg, d, False) for arg, d in zip(a.kwonlyargs, a.kw_defaults, strict=True)]
    if a.kwarg is not None:
        entries.append((a.kwarg, None, True))
    out = []
    for arg, d, splat in entries:
        if splat:
            kind = "typed_splat" if arg.annotation is not None else "splat"
        elif arg.annotation is None:
            kind = "identifier" if d is None else "default_parameter"
        else:
            kind = "typed_parameter" if d is None else "typed_default_parameter"
        out.append(Param(kind, arg.arg, arg.annotation, d))
    return out


def collect_input_registry(f: PyFile, imports: ImportContext, scope: ModuleScope) -> InputRegistry:
    reg = InputRegistry()
    for cls in _top_level_classes(f):
        for stmt in cls.body:
            a = _simple_assignment(stmt)
            if a is not None:
                right = f.node(a[1])
                if is_input_call(right, imports):
                    key = f"{cls.name}.{a[0]}"
                    with contextlib.suppress(SchemaError):
                        reg.attributes[key] = parse_input_call(right, key, scope)
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names = [
                    p.name
                    for p in ordered_params(stmt)
                    if p.kind not in ("splat", "typed_splat") and p.name not in ("self", "cls")
                ]
                call = None
                for s in stmt.body:
                    if isinstance(s, ast.Return) and s.value is not None:
                        n = f.node(s.value)
                        if is_input_call(n, imports):
                            call = n
                            break
                if call is None:
                    continue
                key = f"{cls.name}.{stmt.name}"
                with contextlib.suppress(SchemaError):
                    reg.methods[key] = (names, parse_input_call(call, key, scope))
    return reg


def resolve_input_reference(n: TSNode, reg: InputRegistry) -> InputInfo | None:
    if n.kind == "attribute":
        return reg.attributes.get(n.text)
    if n.kind != "call":
        return None
    func, positional, keywords = _call_parts(n)
    if func.kind != "attribute" or func.text not in reg.methods:
        return None
    param_names, base = reg.methods[func.text]
    resolved = InputInfo(**base.__dict__)
    values: dict[str, TSNode] = {}
    for i, arg in enumerate(positional):
        if i < len(param_names):
            values[param_names[i]] = arg
    for k, v in keywords:
        values[k] = v
    for name, node in values.items():
        if name == "default":
            dv = parse_default_value(node)
            if dv is not None:
                resolved.default = dv
        elif name == "description":
            s = parse_string_literal(node)
            if s is not None:
                resolved.description = s
        elif name in ("ge", "le"):
            x = parse_number_literal(node)
            if x is not None:
                setattr(resolved, name, x)
    return resolved


# ---------------------------------------------------------------------------------------------
# Target callable (target.go) and inputs (inputs.go extractInputs)
# ---------------------------------------------------------------------------------------------


@dataclass
class FileContext:
    """pythonFileContext: one parsed file with its imports, scope, registry and models."""

    file: PyFile
    imports: ImportContext
    scope: ModuleScope
    registry: InputRegistry
    models: ModelMap
    typed_dicts: dict[str, bool]
    source_path: str


@dataclass
class InputField:
    name: str
    order: int
    input_type: InputType
    field_type: FieldType
    info: InputInfo = field(default_factory=InputInfo)


Function = ast.FunctionDef | ast.AsyncFunctionDef


class Analyzer:
    """Static analysis of a predictor, following pkg/schema/python/parser.go's phases."""

    def __init__(self, source_dir: str, source_path: str, mode: str) -> None:
        self.tree = SourceTree(source_dir)
        self.source_path = source_path
        self.mode = mode
        self.file_cache: dict[str, FileContext | None] = {}
        self.loading: set[str] = set()

    def root_context(self) -> FileContext:
        f = self.tree.load(self.source_path)
        if f is None:  # pragma: no cover - checked before
            raise SchemaError("import", f"failed to read predictor source {self.source_path}")
        imports = collect_imports(f)
        scope = collect_module_scope(f)
        mctx = ModelParseContext(imports, {}, {}, self.source_path)
        models = collect_model_classes(f, mctx)
        mctx.resolved_models = models
        resolve_external_models(self.tree, models, mctx)
        mctx.resolved_models = models
        models.update(collect_model_classes(f, mctx))
        registry = collect_input_registry(f, imports, scope)
        return FileContext(f, imports, scope, registry, models, mctx.typed_dicts, self.source_path)

    def load_file_context(self, module: str, from_path: str) -> FileContext | None:
        if is_known_external_module(module):
            return None
        py_path = module_to_file_path(module, from_path)
        if not py_path:
            return None
        full = go_clean(str(Path(self.tree.source_dir, py_path)))
        if full in self.file_cache:
            return self.file_cache[full]
        if full in self.loading:
            return None
        self.loading.add(full)
        try:
            f = self.tree.load(py_path)
            if f is None:
                return None
            imports = collect_imports(f)
            scope = collect_module_scope(f)
            mctx = ModelParseContext(imports, {}, {}, py_path)
            models = collect_model_classes(f, mctx)
            mctx.resolved_models = models
            resolve_external_models(self.tree, models, mctx)
            mctx.resolved_models = models
            models.update(collect_model_classes(f, mctx))
            registry = collect_input_registry(f, imports, scope)
            fc = FileContext(f, imports, scope, registry, models, mctx.typed_dicts, py_path)
            self.file_cache[full] = fc
            return fc
        finally:
            self.loading.discard(full)

    def find_target(self, fc: FileContext, ref: str) -> tuple[Function, FileContext]:
        method = "train" if self.mode == "train" else "predict"
        for cls in _top_level_classes(fc.file):
            if cls.name != ref:
                continue
            if self.mode == "predict":
                run, predict = self._collect_predict_methods(fc, cls, set())
                if run is not None:
                    return run
                if predict is not None:
                    return predict
                raise SchemaError("method_not_found", f"{ref} must define run() or predict()")
            for stmt in cls.body:
                if (
                    isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef))
                    and stmt.name == method
                ):
                    return stmt, fc
            raise SchemaError("method_not_found", f"{ref}.{method} not found")
        for name in (ref, method) if ref != method else (ref,):
            for fn in _top_level_functions(fc.file):
                if fn.name == name:
                    return fn, fc
        raise SchemaError("predictor_not_found", f"predictor not found: {ref}")

    def _collect_predict_methods(
        self, fc: FileContext, cls: ast.ClassDef, seen: set[tuple[int, str]]
    ) -> tuple[tuple[Function, FileContext] | None, tuple[Function, FileContext] | None]:
        key = (id(fc.file), cls.name)
        if key in seen:
            return None, None
        seen.add(key)
        run = predict = None
        for stmt in cls.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if stmt.name == "run":
                    run = (stmt, fc)
                elif stmt.name == "predict":
                    predict = (stmt, fc)
        for n in class_bases(fc.file, cls):
            if n.kind not in ("identifier", "attribute"):
                continue
            parent = n.text
            pfc, pcls = fc, next((c for c in _top_level_classes(fc.file) if c.name == parent), None)
            if pcls is None:
                resolved = self._resolve_imported_parent(fc, parent)
                if resolved is None:
                    continue
                pfc, pcls = resolved
            prun, ppredict = self._collect_predict_methods(pfc, pcls, seen)
            run = run or prun
            predict = predict or ppredict
        return run, predict

    def _resolve_imported_parent(
        self, fc: FileContext, parent: str
    ) -> tuple[FileContext, ast.ClassDef] | None:
        if "." in parent:
            head, class_name = parent.split(".", 1)
            e = fc.imports.get(head)
            if e is None:
                return None
            module, imported = e
        else:
            e = fc.imports.get(parent)
            if e is None:
                return None
            module, imported = e
            class_name = imported
        pfc = self.load_file_context(module, fc.source_path)
        if pfc is None:
            pfc = self.load_file_context(nested_import_module(module, imported), fc.source_path)
        if pfc is None:
            return None
        pcls = next((c for c in _top_level_classes(pfc.file) if c.name == class_name), None)
        return (pfc, pcls) if pcls is not None else None

    def extract_inputs(self, fn: Function, fc: FileContext) -> OrderedMap:
        method_name = fn.name
        params = ordered_params(fn)
        first_ident = next((p for p in params if p.kind == "identifier"), None)
        skip_self = first_ident is not None and first_ident.name == "self"
        inputs = OrderedMap()
        order = 0
        seen_self = False
        for p in params:
            if p.kind == "identifier":
                if not seen_self and skip_self and p.name == "self":
                    seen_self = True
                continue
            if p.kind == "splat":
                continue
            if p.kind == "typed_splat":
                raise SchemaError("parse", "typed_parameter has no identifier")
            if p.kind == "default_parameter":
                raise SchemaError(
                    "missing_type_annotation",
                    f"parameter '{p.name}' on {method_name} has no type annotation",
                )
            inp = self._parse_param(p, order, fc)
            inputs[inp.name] = inp
            order += 1
        return inputs

    def _parse_param(self, p: Param, order: int, fc: FileContext) -> InputField:
        assert p.annotation is not None
        ann = parse_annotation(fc.file.node(p.annotation))
        it = resolve_input_type(ann, fc.imports, fc.typed_dicts)
        ft = field_type_from_input(it)
        inp = InputField(p.name, order, it, ft)
        if p.default is not None:
            val = fc.file.node(p.default)
            if is_input_call(val, fc.imports):
                inp.info = parse_input_call(val, p.name, fc.scope)
                _check_accept(inp)
            else:
                ref_info = resolve_input_reference(val, fc.registry)
                if ref_info is not None:
                    inp.info = ref_info
                    _check_accept(inp)
                else:
                    dv = resolve_default_expr(val, fc.scope)
                    if dv is None:
                        raise SchemaError(
                            "default_not_resolvable",
                            f"parameter '{p.name}': default `{val.text}` cannot be statically "
                            "resolved",
                        )
                    inp.info = InputInfo(default=dv)
        if it.kind == "union":
            i = inp.info
            if i.choices or any(
                x is not None for x in (i.ge, i.le, i.min_length, i.max_length, i.regex)
            ):
                raise err_unsupported("constraints and choices are not supported on union inputs")
        return inp

    def output(self, fn: Function, fc: FileContext) -> tuple[SchemaType, bool]:
        if fn.returns is None:
            raise SchemaError("missing_return_type", f"missing return type annotation on {fn.name}")
        ann = parse_annotation(fc.file.node(fn.returns))
        out = resolve_schema_type(ann, fc.imports, fc.models)
        streaming = any(self._decorator_is(fc, d, "streaming") for d in fn.decorator_list)
        if streaming and out.kind not in ("iterator", "concat"):
            raise err_unsupported(
                "@streaming requires Iterator[...], AsyncIterator[...], ConcatenateIterator[...] "
                "or AsyncConcatenateIterator[...] return type"
            )
        concurrency = self._concurrency_max(fn, fc)
        if concurrency is not None and concurrency > 1 and not isinstance(fn, ast.AsyncFunctionDef):
            raise SchemaError(
                "concurrency", "@concurrent(max > 1) requires an async run() or predict() method"
            )
        return out, streaming

    def _decorator_is(self, fc: FileContext, dec: ast.expr, what: str) -> bool:
        n = fc.file.node(dec)
        if n.kind == "call":
            n = fc.file.node(dec.func)  # type: ignore[attr-defined]
        if n.kind == "attribute":
            name, _, attr = n.text.partition(".")
            e = fc.imports.get(name)
            return attr == what and e == ("cog", "cog")
        if n.kind == "identifier":
            return fc.imports.get(n.text) == ("cog", what)
        return False

    def _concurrency_max(self, fn: Function, fc: FileContext) -> int | None:
        for dec in fn.decorator_list:
            if not self._decorator_is(fc, dec, "concurrent"):
                continue
            n = fc.file.node(dec)
            if n.kind != "call":
                return 1
            _, positional, keywords = _call_parts(n)
            if not positional and not keywords:
                return 1
            bad = "@concurrent only supports literal integer max=... arguments"
            if positional or len(keywords) != 1 or keywords[0][0] != "max":
                raise SchemaError("concurrency", bad)
            val = parse_default_value(keywords[0][1])
            if val is None or val.kind != "int":
                raise SchemaError("concurrency", "@concurrent max must be an integer literal")
            if val.value < 1:
                raise SchemaError("concurrency", "@concurrent max must be at least 1")
            return int(val.value)
        return None


def _check_accept(inp: InputField) -> None:
    if inp.info.accept is not None and inp.field_type[0] not in ("Path", "File"):
        raise SchemaError(
            "accept_on_non_file",
            f"accept is only valid on Path or File inputs (parameter '{inp.name}')",
        )


@dataclass
class PredictorInfo:
    inputs: OrderedMap
    output: SchemaType
    mode: str
    supports_streaming: bool


def analyze(source_dir: str, predict_ref: str, mode: str) -> PredictorInfo:
    """schema.GenerateInfo + python.ParsePredictorWithSourcePath."""
    file_path, class_name = parse_predict_ref(predict_ref)
    an = Analyzer(source_dir, file_path, mode)
    root = an.root_context()
    fn, fc = an.find_target(root, class_name)
    inputs = an.extract_inputs(fn, fc)
    output, streaming = an.output(fn, fc)
    return PredictorInfo(inputs, output, mode, streaming)


def parse_predict_ref(ref: str) -> tuple[str, str]:
    parts = ref.split(":", 1)
    if len(parts) != 2 or not parts[0] or not parts[1]:
        raise SchemaError(
            "invalid_ref",
            f"invalid predict reference '{ref}' — expected format: file.py:ClassName or "
            "file.py:function_name",
        )
    clean = go_clean(parts[0])
    if clean.startswith("/") or clean == ".." or clean.startswith("../"):
        raise SchemaError(
            "invalid_ref", f"predictor source path {parts[0]!r} is outside source directory"
        )
    return clean, parts[1]


# ---------------------------------------------------------------------------------------------
# OpenAPI document (openapi_spec.go)
# ---------------------------------------------------------------------------------------------


def build_input_schema(info: PredictorInfo) -> tuple[dict[str, Any], list[tuple[str, Any]]]:
    properties = OrderedMap()
    required: list[str] = []
    enums: list[tuple[str, Any]] = []
    for name, f in info.inputs.items():
        i: InputInfo = f.info
        prop: dict[str, Any] = {"x-order": f.order}
        if i.choices:
            type_str = primitive_json(f.field_type[0]).get("type") or "string"
            enums.append(
                (
                    name,
                    {
                        "title": name,
                        "description": "An enumeration.",
                        "enum": [c.to_json() for c in i.choices],
                        "type": type_str,
                    },
                )
            )
            prop["allOf"] = [{"$ref": "#/components/schemas/" + name}]
        else:
            prop["title"] = title_case(name)
            prop.update(input_type_json(f.input_type))
        primitive, rep = f.field_type
        nullable = rep in ("opt", "optrep") or f.input_type.nullable
        if (
            primitive == "Secret"
            and rep == "req"
            and i.default is not None
            and i.default.kind == "none"
        ):
            nullable = True
        has_default = i.default is not None
        if has_default and i.default is not None and i.default.kind == "none" and not nullable:
            has_default = False
        if not has_default and (f.input_type.kind == "union" or rep in ("req", "rep")):
            required.append(name)
        if has_default and i.default is not None:
            prop["default"] = i.default.to_json()
        if nullable:
            prop["nullable"] = True
        if i.description is not None:
            prop["description"] = i.description
        if i.ge is not None:
            prop["minimum"] = i.ge
        if i.le is not None:
            prop["maximum"] = i.le
        if i.min_length is not None:
            prop["minLength"] = i.min_length
        if i.max_length is not None:
            prop["maxLength"] = i.max_length
        if i.regex is not None:
            prop["pattern"] = i.regex
        if i.deprecated:
            prop["deprecated"] = True
        if i.accept is not None:
            prop["x-cog-accept"] = i.accept
        properties[name] = prop
    schema: dict[str, Any] = {"title": "Input", "type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema, enums


def _response(ref: str | None) -> dict[str, Any]:
    schema = {"$ref": ref} if ref else {}
    return {
        "description": "Successful Response",
        "content": {"application/json": {"schema": schema}},
    }


_VALIDATION_ERROR_RESPONSE = {
    "description": "Validation Error",
    "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}
    },
}


def build_openapi(info: PredictorInfo, version: str) -> dict[str, Any]:
    """buildOpenAPISpec + post-processing (removeTitleNextToRef, fixNullableAnyOf)."""
    train = info.mode == "train"
    if train:
        endpoint, req_name, resp_name = "/trainings", "TrainingRequest", "TrainingResponse"
        cancel_ep, summary = "/trainings/{training_id}/cancel", "Train"
        description = "Run a single training on the model"
        op_id, cancel_op = "train_trainings_post", "cancel_trainings__training_id__cancel_post"
        cancel_param, in_key, out_key = "training_id", "TrainingInput", "TrainingOutput"
    else:
        endpoint, req_name, resp_name = "/predictions", "PredictionRequest", "PredictionResponse"
        cancel_ep, summary = "/predictions/{prediction_id}/cancel", "Predict"
        description = "Run a single prediction on the model"
        op_id = "predict_predictions_post"
        cancel_op = "cancel_predictions__prediction_id__cancel_post"
        cancel_param, in_key, out_key = "prediction_id", "Input", "Output"

    input_schema, enums = build_input_schema(info)
    components = OrderedMap()
    input_schema["title"] = in_key
    components[in_key] = input_schema
    components[out_key] = info.output.json_schema()
    for name, schema in enums:
        components[name] = schema
    in_ref, out_ref = "#/components/schemas/" + in_key, "#/components/schemas/" + out_key
    components[req_name] = {
        "title": req_name,
        "type": "object",
        "properties": {"id": {"title": "Id", "type": "string"}, "input": {"$ref": in_ref}},
    }
    dt = {"type": "string", "format": "date-time"}
    components[resp_name] = {
        "title": resp_name,
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
    }
    components["Status"] = {
        "title": "Status",
        "description": "An enumeration.",
        "enum": ["starting", "processing", "succeeded", "canceled", "failed"],
        "type": "string",
    }
    components["HTTPValidationError"] = {
        "title": "HTTPValidationError",
        "type": "object",
        "properties": {
            "detail": {
                "title": "Detail",
                "type": "array",
                "items": {"$ref": "#/components/schemas/ValidationError"},
            }
        },
    }
    components["ValidationError"] = {
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
    }

    paths = OrderedMap()
    paths["/"] = {
        "get": {
            "summary": "Root",
            "operationId": "root__get",
            "responses": {"200": _response(None)},
        }
    }
    paths["/health-check"] = {
        "get": {
            "summary": "Healthcheck",
            "operationId": "healthcheck_health_check_get",
            "responses": {"200": _response(None)},
        }
    }
    main_op: dict[str, Any] = {
        "summary": summary,
        "description": description,
        "operationId": op_id,
        "requestBody": {
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/" + req_name}}
            }
        },
        "responses": {
            "200": _response("#/components/schemas/" + resp_name),
            "422": _VALIDATION_ERROR_RESPONSE,
        },
    }
    if not train and info.supports_streaming:
        main_op["x-cog-streaming"] = True
    paths[endpoint] = {"post": main_op}
    paths[cancel_ep] = {
        "post": {
            "summary": "Cancel",
            "operationId": cancel_op,
            "parameters": [
                {
                    "required": True,
                    "schema": {"title": title_case(cancel_param), "type": "string"},
                    "name": cancel_param,
                    "in": "path",
                }
            ],
            "responses": {"200": _response(None), "422": _VALIDATION_ERROR_RESPONSE},
        }
    }
    spec = {
        "openapi": "3.0.2",
        "info": {"title": "Cog", "version": version},
        "paths": paths,
        "components": {"schemas": components},
    }
    _remove_title_next_to_ref(spec)
    _fix_nullable_any_of(spec)
    return spec


def _remove_title_next_to_ref(v: Any) -> None:
    if isinstance(v, dict):
        if "$ref" in v:
            v.pop("title", None)
        for child in v.values():
            _remove_title_next_to_ref(child)
    elif isinstance(v, list):
        for child in v:
            _remove_title_next_to_ref(child)


def _fix_nullable_any_of(v: Any) -> None:
    if isinstance(v, dict):
        for child in v.values():
            _fix_nullable_any_of(child)
        any_of = v.get("anyOf")
        if not isinstance(any_of, list) or len(any_of) != 2:
            return
        if not all(isinstance(x, dict) for x in any_of):
            return
        has_null = any(x.get("type") == "null" for x in any_of)
        non_null = [x for x in any_of if x.get("type") != "null"]
        if has_null and non_null:
            del v["anyOf"]
            v.update(non_null[-1])
            v["nullable"] = True
    elif isinstance(v, list):
        for child in v:
            _fix_nullable_any_of(child)


def _floats_everywhere(v: Any) -> Any:
    """What json.Unmarshal into ``any`` does to numbers (GenerateCombined round-trip)."""
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, int):
        return float(v)
    if isinstance(v, dict):
        return {k: _floats_everywhere(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_floats_everywhere(x) for x in v]
    return v


def merge_schemas(predict: dict[str, Any], train: dict[str, Any]) -> dict[str, Any]:
    """schema.MergeSchemas: train paths/components added where absent."""
    for k, v in train["paths"].items():
        predict["paths"].setdefault(k, v)
    for k, v in train["components"]["schemas"].items():
        predict["components"]["schemas"].setdefault(k, v)
    return predict


def generate_document(
    project_dir: str, predict_ref: str, mode: str, version: str, train_ref: str | None = None
) -> str:
    """The exact bytes ``cog build`` stores in .cog/openapi_schema.json."""
    if train_ref is None:
        return go_marshal(build_openapi(analyze(project_dir, predict_ref, mode), version))
    predict = _floats_everywhere(
        build_openapi(analyze(project_dir, predict_ref, "predict"), version)
    )
    train = _floats_everywhere(build_openapi(analyze(project_dir, train_ref, "train"), version))
    return go_marshal(merge_schemas(predict, train), indent="  ", sort_all=True)


# ---------------------------------------------------------------------------------------------
# Runtime check: import the predictor the way coglet does
# ---------------------------------------------------------------------------------------------


def _traceback_tail(exc: BaseException, lines: int = 6) -> str:
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).rstrip()
    return "\n".join(text.splitlines()[-lines:])


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """Keep whatever user code prints (even from C) off our stdout."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def check_importable(project_dir: str, ref: str, mode: str) -> None:
    """Load the module like ``cog.predictor.load_predictor_from_ref`` (without instantiating)."""
    module_path, name = ref.split(":", 1)
    module_name = Path(module_path).name.replace(".py", "")
    cwd = Path.cwd()
    sys.dont_write_bytecode = True  # leave no __pycache__ in the model's folder
    os.chdir(project_dir)
    sys.path.insert(0, project_dir)
    try:
        with _stdout_to_stderr():
            try:
                spec = importlib.util.spec_from_file_location(module_name, module_path)
                if spec is None or spec.loader is None:
                    raise ImportError(f"Cannot load module from {module_path}")
                module = importlib.util.module_from_spec(spec)
                sys.modules[module_name] = module
                spec.loader.exec_module(module)
            except BaseException as e:  # any failure here fails coglet's setup too
                if isinstance(e, KeyboardInterrupt):
                    raise
                raise SchemaError(
                    "import",
                    f"{ref} does not import: {type(e).__name__}: {e}",
                    _traceback_tail(e),
                ) from None
            if not hasattr(module, name):
                raise SchemaError(
                    "predictor_not_found", f"predictor not found: {module_name}.{name}"
                )
            obj = getattr(module, name)
            _check_predictor_object(obj, name, mode)
    finally:
        os.chdir(cwd)
        with contextlib.suppress(ValueError):
            sys.path.remove(project_dir)


def _check_predictor_object(obj: Any, name: str, mode: str) -> None:
    if inspect.isfunction(obj):
        return
    if not inspect.isclass(obj):
        raise SchemaError(
            "not_a_predictor",
            f"{name} is a {type(obj).__name__}, not a predictor class or function",
        )
    if mode == "train":
        if not callable(getattr(obj, "train", None)):
            raise SchemaError("not_a_predictor", f"{name}.train not found")
        return
    cog_predictor = importlib.import_module("cog.predictor")
    validate = getattr(cog_predictor, "_validate_runner_class", None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if validate is not None:
                validate(obj, name)
            elif not any(callable(getattr(obj, m, None)) for m in ("run", "predict")):
                raise ValueError(f"run or predict method not found: {name}")
        except ValueError as e:
            raise SchemaError("not_a_predictor", str(e)) from None


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------


def cog_version() -> str:
    try:
        return importlib.metadata.version("cog")
    except importlib.metadata.PackageNotFoundError:
        return "dev"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("project_dir")
    parser.add_argument("predict_ref", help="e.g. predict.py:Predictor")
    parser.add_argument("--mode", choices=("predict", "train"), default="predict")
    parser.add_argument("--train-ref", help="also merge this train reference (cog.yaml train:)")
    parser.add_argument("--no-import", action="store_true", help="static analysis only")
    parser.add_argument("--cog-version", help="info.version (default: installed cog version)")
    parser.add_argument("-o", "--output", help="write the document here instead of stdout")
    args = parser.parse_args(argv)
    if args.train_ref and args.mode != "predict":
        parser.error("--train-ref merges a train reference into a predict-mode document")

    project_dir = str(Path(args.project_dir).resolve())
    try:
        refs = [(args.predict_ref, args.mode)]
        if args.train_ref:
            refs.append((args.train_ref, "train"))
        for ref, mode in refs:
            path, _ = parse_predict_ref(ref)
            full = Path(project_dir, path)
            try:
                raw = full.read_bytes()
            except OSError as e:
                raise SchemaError(
                    "import", f"failed to read predictor source {full}: {e}"
                ) from None
            try:
                PyFile(raw, str(full))
            except (SyntaxError, ValueError) as e:
                raise SchemaError(
                    "import", f"{ref} has a syntax error: {e}", _traceback_tail(e, 4)
                ) from None
            if not args.no_import:
                check_importable(project_dir, ref, mode)
        doc = generate_document(
            project_dir, args.predict_ref, args.mode, args.cog_version or cog_version(),
            args.train_ref,
        )  # fmt: skip
    except SchemaError as e:
        msg = f"cog_schema: {e.message}"
        if e.detail:
            msg += "\n" + e.detail
        print(msg, file=sys.stderr)
        return KIND_EXIT.get(e.kind, EXIT_SCHEMA)
    except Exception as e:  # report, never a bare traceback
        print(f"cog_schema: internal error: {type(e).__name__}: {e}", file=sys.stderr)
        print(_traceback_tail(e), file=sys.stderr)
        return EXIT_INTERNAL

    data = doc.encode("utf-8")
    if args.output:
        tmp = Path(args.output + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(args.output)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
