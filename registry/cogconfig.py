"""`cog.yaml`: the parts of Cog's project file that Vitrine understands, checked up front.

Anything Vitrine cannot honour without Docker (e.g. `build.run` shell steps) is refused
with a message that names the key, instead of being silently ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

PREDICT_REF = re.compile(r"^(?P<path>[\w./-]+\.py):(?P<name>[A-Za-z_]\w*)$")
PYTHON_VERSION = re.compile(r"^3\.\d{1,2}(\.\d{1,2})?$")
# Keys of `build` that only make sense for Docker images and do not change what runs here.
IGNORED_BUILD_KEYS = frozenset({"cuda", "cudnn", "pre_install", "sdk_version", "fast"})
KNOWN_BUILD_KEYS = (
    frozenset(
        {
            "gpu",
            "python_version",
            "python_packages",
            "python_requirements",
            "system_packages",
            "run",
        }
    )
    | IGNORED_BUILD_KEYS
)
KNOWN_TOP_KEYS = frozenset(
    {"build", "predict", "train", "concurrency", "image", "environment", "tests", "weights"}
)


class CogConfigError(ValueError):
    """cog.yaml is missing, malformed or asks for something unsupported; the message says what."""


@dataclass(frozen=True)
class CogConfig:
    predict: str
    python_version: str = "3.11"
    python_packages: tuple[str, ...] = ()
    python_requirements: str | None = None
    system_packages: tuple[str, ...] = ()
    gpu: bool = False
    concurrency: int = 1
    train: str | None = None
    environment: dict[str, str] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def predict_path(self) -> str:
        return self.predict.split(":", 1)[0]

    def requirements_text(self, project: Path) -> str:
        if not self.python_requirements:
            return ""
        return (project / self.python_requirements).read_text()


def _string_list(value: Any, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise CogConfigError(f"cog.yaml: {key} must be a list of strings.")
    return tuple(v.strip() for v in value)


def _relative_file(value: Any, key: str, project: Path | None) -> str:
    if not isinstance(value, str) or not value:
        raise CogConfigError(f"cog.yaml: {key} must be a relative file path.")
    pure = PurePosixPath(value)
    if pure.is_absolute() or ".." in pure.parts:
        raise CogConfigError(f"cog.yaml: {key} must stay inside the project ({value!r}).")
    if project is not None and not (project / value).is_file():
        raise CogConfigError(f"cog.yaml: {key} names {value!r}, which is not in the project.")
    return value


def _predict_ref(value: Any, key: str, project: Path | None) -> str:
    if not isinstance(value, str) or not PREDICT_REF.match(value):
        raise CogConfigError(
            f"cog.yaml: {key} must look like 'predict.py:Predictor' (got {value!r})."
        )
    _relative_file(value.split(":", 1)[0], key, project)
    return value


def parse(text: str, project: Path | None = None) -> CogConfig:
    """Parse and check cog.yaml. `project` (the unpacked folder) lets file references be checked."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise CogConfigError(f"cog.yaml is not valid YAML: {e}") from e
    if not isinstance(data, dict):
        raise CogConfigError("cog.yaml must be a mapping with at least a 'predict' key.")
    unknown = sorted(set(data) - KNOWN_TOP_KEYS)
    if unknown:
        raise CogConfigError(f"cog.yaml: unknown top-level key(s): {', '.join(unknown)}.")
    build = data.get("build") or {}
    if not isinstance(build, dict):
        raise CogConfigError("cog.yaml: build must be a mapping.")
    unknown = sorted(set(build) - KNOWN_BUILD_KEYS)
    if unknown:
        raise CogConfigError(f"cog.yaml: unknown build key(s): {', '.join(unknown)}.")
    if build.get("run"):
        raise CogConfigError(
            "cog.yaml: build.run (shell steps run while building a Docker image) is not "
            "supported without Docker; install what you need with python_packages."
        )
    if "predict" not in data:
        raise CogConfigError(
            "cog.yaml: 'predict' is required, e.g. predict: \"predict.py:Predictor\"."
        )
    python_version = str(build.get("python_version", "3.11"))
    if not PYTHON_VERSION.match(python_version):
        raise CogConfigError(
            f"cog.yaml: build.python_version {python_version!r} is not a 3.x version."
        )
    gpu = build.get("gpu", False)
    if not isinstance(gpu, bool):
        raise CogConfigError("cog.yaml: build.gpu must be true or false.")
    concurrency = (data.get("concurrency") or {}).get("max", 1)
    if (
        not isinstance(concurrency, int)
        or isinstance(concurrency, bool)
        or not 1 <= concurrency <= 256
    ):
        raise CogConfigError("cog.yaml: concurrency.max must be a whole number from 1 to 256.")
    environment = data.get("environment") or []
    env: dict[str, str] = {}
    for item in _string_list(environment, "environment"):
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise CogConfigError(
                f"cog.yaml: environment entries look like NAME=value (got {item!r})."
            )
        env[name] = value
    requirements = build.get("python_requirements")
    return CogConfig(
        predict=_predict_ref(data["predict"], "predict", project),
        python_version=python_version,
        python_packages=_string_list(build.get("python_packages"), "build.python_packages"),
        python_requirements=(
            _relative_file(requirements, "build.python_requirements", project)
            if requirements
            else None
        ),
        system_packages=_string_list(build.get("system_packages"), "build.system_packages"),
        gpu=gpu,
        concurrency=concurrency,
        train=_predict_ref(data["train"], "train", project) if data.get("train") else None,
        environment=env,
        raw=data,
    )


def load(project: Path) -> CogConfig:
    path = project / "cog.yaml"
    if not path.is_file():
        raise CogConfigError("The project has no cog.yaml at its root.")
    return parse(path.read_text(), project)
