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
# Cog's own deny list (pkg/config/environment.go): variables its runtime relies on. Names
# ending in "*" are prefixes. Vitrine adds those it sets itself when it starts coglet.
DENIED_ENV_NAMES = (
    "PATH", "LD_LIBRARY_PATH", "PYTHONPATH", "VIRTUAL_ENV", "PYTHONUNBUFFERED",
    "R8_*", "REPLICATE_*", "LIBRARY_PATH", "CUDA_*", "NVIDIA_*", "NV_*",
    "PGET_*", "HF_ENDPOINT", "HF_HUB_ENABLE_HF_TRANSFER", "KUBERNETES_*",
    "PORT", "COG_PREDICT_TYPE_STUB", "COG_TRAIN_TYPE_STUB", "COG_MAX_CONCURRENCY",
)  # fmt: skip
# Keys of `build` that only make sense for Docker images and do not change what runs here.
IGNORED_BUILD_KEYS = frozenset({"cuda", "cudnn", "sdk_version", "fast"})
# Shell steps of a Docker build: refused when non-empty, as nothing here can run them.
SHELL_BUILD_KEYS = ("run", "pre_install")
KNOWN_BUILD_KEYS = (
    frozenset(
        {
            "gpu",
            "python_version",
            "python_packages",
            "python_requirements",
            "system_packages",
            *SHELL_BUILD_KEYS,
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


def _python_version(value: Any, text: str) -> str:
    if isinstance(value, float):
        # YAML reads an unquoted 3.10 as the number 3.1: take the digits as written instead.
        value = _scalar_as_written(text, "build", "python_version") or value
    version = str(value)
    if not PYTHON_VERSION.match(version):
        raise CogConfigError(f"cog.yaml: build.python_version {version!r} is not a 3.x version.")
    return version


def _scalar_as_written(text: str, *keys: str) -> str | None:
    node: Any = yaml.compose(text)
    for key in keys:
        if not isinstance(node, yaml.MappingNode):
            return None
        node = next((v for k, v in node.value if k.value == key), None)
    return str(node.value) if isinstance(node, yaml.ScalarNode) else None


def _concurrency(value: Any) -> int:
    if value is None:
        return 1
    if not isinstance(value, dict):
        raise CogConfigError("cog.yaml: concurrency must be a mapping, e.g. concurrency: {max: 4}.")
    limit = value.get("max", 1)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 256:
        raise CogConfigError("cog.yaml: concurrency.max must be a whole number from 1 to 256.")
    return limit


def _env_name_denied(name: str) -> bool:
    return any(
        name.startswith(pattern[:-1]) if pattern.endswith("*") else name == pattern
        for pattern in DENIED_ENV_NAMES
    )


def _environment(value: Any) -> dict[str, str]:
    env: dict[str, str] = {}
    for item in _string_list(value, "environment"):
        name, sep, setting = item.partition("=")
        if not sep or not name:
            raise CogConfigError(
                f"cog.yaml: environment entries look like NAME=value (got {item!r})."
            )
        if _env_name_denied(name):
            raise CogConfigError(
                f"cog.yaml: environment may not set {name}: the Cog runtime relies on it."
            )
        if name in env:
            raise CogConfigError(f"cog.yaml: environment sets {name} twice.")
        env[name] = setting
    return env


def parse(text: str, project: Path | None = None) -> CogConfig:
    """Parse and check cog.yaml. `project` (the unpacked folder) lets file references be checked."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise CogConfigError(f"cog.yaml is not valid YAML: {e}") from e
    if not isinstance(data, dict):
        raise CogConfigError("cog.yaml must be a mapping with at least a 'predict' key.")
    unknown = sorted(str(key) for key in set(data) - KNOWN_TOP_KEYS)
    if unknown:
        raise CogConfigError(f"cog.yaml: unknown top-level key(s): {', '.join(unknown)}.")
    build = data.get("build")
    build = {} if build is None else build
    if not isinstance(build, dict):
        raise CogConfigError("cog.yaml: build must be a mapping.")
    unknown = sorted(str(key) for key in set(build) - KNOWN_BUILD_KEYS)
    if unknown:
        raise CogConfigError(f"cog.yaml: unknown build key(s): {', '.join(unknown)}.")
    for key in SHELL_BUILD_KEYS:
        if build.get(key):
            raise CogConfigError(
                f"cog.yaml: build.{key} (shell steps run while building a Docker image) is "
                "not supported without Docker; install what you need with python_packages."
            )
    if "predict" not in data:
        raise CogConfigError(
            "cog.yaml: 'predict' is required, e.g. predict: \"predict.py:Predictor\"."
        )
    python_version = _python_version(build.get("python_version", "3.11"), text)
    gpu = build.get("gpu", False)
    if not isinstance(gpu, bool):
        raise CogConfigError("cog.yaml: build.gpu must be true or false.")
    concurrency = _concurrency(data.get("concurrency"))
    env = _environment(data.get("environment"))
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
