"""cog.yaml parsing: what Vitrine accepts, and every refusal naming the key at fault."""

from __future__ import annotations

from pathlib import Path

import pytest

from registry import cogconfig
from registry.cogconfig import CogConfigError


def project(tmp_path: Path, cog_yaml: str, *files: str) -> Path:
    (tmp_path / "cog.yaml").write_text(cog_yaml)
    for name in ("predict.py", *files):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("# a file\n")
    return tmp_path


def refusal(text: str, root: Path | None = None) -> str:
    with pytest.raises(CogConfigError) as error:
        cogconfig.parse(text, root)
    return str(error.value)


def test_a_minimal_cog_yaml_gets_the_defaults() -> None:
    config = cogconfig.parse('predict: "predict.py:Predictor"')
    assert config.predict == "predict.py:Predictor"
    assert config.predict_path == "predict.py"
    assert config.python_version == "3.11"
    assert config.python_packages == ()
    assert config.python_requirements is None
    assert config.system_packages == ()
    assert config.gpu is False
    assert config.concurrency == 1
    assert config.train is None
    assert config.environment == {}


def test_every_supported_key_is_read(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        """
build:
  python_version: "3.12.1"
  python_packages: ["six==1.17.0", " pyyaml "]
  python_requirements: deps/requirements.txt
  system_packages: [libgl1]
  gpu: false
  cuda: "12.1"
  cudnn: "8"
  sdk_version: "0.23.1"
  fast: true
predict: "src/predict.py:Runner"
train: "train.py:train"
concurrency:
  max: 8
environment:
  - GREETING=hello=world
  - EMPTY=
image: r8.im/alice/hello
tests: []
weights: []
""",
        "deps/requirements.txt",
        "src/predict.py",
        "train.py",
    )
    config = cogconfig.load(root)
    assert config.predict == "src/predict.py:Runner"
    assert config.python_version == "3.12.1"
    assert config.python_packages == ("six==1.17.0", "pyyaml")
    assert config.python_requirements == "deps/requirements.txt"
    assert config.requirements_text(root) == "# a file\n"
    assert config.system_packages == ("libgl1",)
    assert config.concurrency == 8
    assert config.train == "train.py:train"
    assert config.environment == {"GREETING": "hello=world", "EMPTY": ""}
    assert config.raw["image"] == "r8.im/alice/hello"


def test_an_unquoted_python_version_keeps_the_digits_as_written() -> None:
    # YAML reads 3.10 as the float 3.1; Cog users write it unquoted all the time.
    config = cogconfig.parse("build:\n  python_version: 3.10\npredict: predict.py:Predictor\n")
    assert config.python_version == "3.10"
    assert cogconfig.parse("build: {python_version: 3.12}\npredict: p.py:P").python_version == (
        "3.12"
    )


def test_concurrency_bounds_are_inclusive() -> None:
    assert cogconfig.parse("predict: p.py:P\nconcurrency: {max: 1}").concurrency == 1
    assert cogconfig.parse("predict: p.py:P\nconcurrency: {max: 256}").concurrency == 256


def test_an_empty_build_run_is_harmless() -> None:
    assert cogconfig.parse("predict: p.py:P\nbuild: {run: []}").predict == "p.py:P"


def test_it_refuses_a_project_without_cog_yaml(tmp_path: Path) -> None:
    with pytest.raises(CogConfigError, match=r"no cog\.yaml"):
        cogconfig.load(tmp_path)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("build:\n  python_version: '3.11'\n", "'predict' is required"),
        ("predict: [predict.py, Predictor]", "predict must look like"),
        ("predict: predict.py", "predict must look like"),
        ("predict: predict.py:1Predictor", "predict must look like"),
        ("predict: predict.rb:Predictor", "predict must look like"),
        ("predict: /abs/predict.py:Predictor", "predict must stay inside the project"),
        ("predict: ../predict.py:Predictor", "predict must stay inside the project"),
        ("predict: p.py:P\ntrain: train.py", "train must look like"),
        ("predict: p.py:P\nbuild: {python_version: '2.7'}", "build.python_version '2.7'"),
        ("predict: p.py:P\nbuild: {python_version: '3'}", "build.python_version '3'"),
        ("predict: p.py:P\nbuild: {python_version: 'latest'}", "build.python_version"),
        ("predict: p.py:P\nbuild: {gpu: 'yes please'}", "build.gpu must be true or false"),
        ("predict: p.py:P\nbuild: {gpu: 1}", "build.gpu must be true or false"),
        ("predict: p.py:P\nconcurrency: {max: 0}", "concurrency.max"),
        ("predict: p.py:P\nconcurrency: {max: 257}", "concurrency.max"),
        ("predict: p.py:P\nconcurrency: {max: '4'}", "concurrency.max"),
        ("predict: p.py:P\nconcurrency: {max: true}", "concurrency.max"),
        ("predict: p.py:P\nconcurrency: {max: 2.5}", "concurrency.max"),
        ("predict: p.py:P\nconcurrency: 4", "concurrency must be a mapping"),
        ("predict: p.py:P\nmodel: x", "unknown top-level key(s): model"),
        ("predict: p.py:P\n7: x", "unknown top-level key(s): 7"),
        (
            "predict: p.py:P\nbuild: {python_versoin: '3.11'}",
            "unknown build key(s): python_versoin",
        ),
        ("predict: p.py:P\nbuild: []", "build must be a mapping"),
        ("predict: p.py:P\nbuild: {run: ['apt-get install -y ffmpeg']}", "build.run"),
        ("predict: p.py:P\nbuild: {pre_install: ['pip install x']}", "build.pre_install"),
        ("predict: p.py:P\nbuild: {python_packages: torch}", "build.python_packages must be"),
        ("predict: p.py:P\nbuild: {python_packages: ['']}", "build.python_packages must be"),
        ("predict: p.py:P\nbuild: {system_packages: [1]}", "build.system_packages must be"),
        ("predict: p.py:P\nbuild: {python_requirements: [a]}", "build.python_requirements"),
        (
            "predict: p.py:P\nbuild: {python_requirements: ../requirements.txt}",
            "build.python_requirements must stay inside the project",
        ),
        (
            "predict: p.py:P\nbuild: {python_requirements: /etc/passwd}",
            "build.python_requirements must stay inside the project",
        ),
        ("predict: p.py:P\nenvironment: {A: b}", "environment must be a list of strings"),
        ("predict: p.py:P\nenvironment: [NOVALUE]", "environment entries look like NAME=value"),
        ("predict: p.py:P\nenvironment: ['=value']", "environment entries look like NAME=value"),
        ("predict: p.py:P\nenvironment: [A=1, A=2]", "environment sets A twice"),
        ("predict: p.py:P\nenvironment: [PATH=/tmp]", "environment may not set PATH"),
        ("predict: p.py:P\nenvironment: [R8_TOKEN=x]", "environment may not set R8_TOKEN"),
        ("predict: p.py:P\nenvironment: [PORT=1]", "environment may not set PORT"),
        (
            "predict: p.py:P\nenvironment: [COG_PREDICT_TYPE_STUB=x.py:Y]",
            "environment may not set COG_PREDICT_TYPE_STUB",
        ),
        ("predict: p.py:P\nbuild:\n  gpu: [", "cog.yaml is not valid YAML"),
        ("- predict.py:Predictor", "must be a mapping"),
        ("", "must be a mapping"),
    ],
)
def test_it_refuses_with_a_message_naming_the_key(text: str, names: str) -> None:
    assert names in refusal(text)


def test_file_references_must_exist_in_the_project(tmp_path: Path) -> None:
    root = project(tmp_path, "")
    assert "predict names 'missing.py'" in refusal("predict: missing.py:Predictor", root)
    assert "train names 'train.py'" in refusal(
        "predict: predict.py:Predictor\ntrain: train.py:train", root
    )
    assert "build.python_requirements names 'requirements.txt'" in refusal(
        "predict: predict.py:Predictor\nbuild: {python_requirements: requirements.txt}", root
    )
    (root / "requirements.txt").mkdir()
    assert "build.python_requirements names 'requirements.txt'" in refusal(
        "predict: predict.py:Predictor\nbuild: {python_requirements: requirements.txt}", root
    )


def test_the_raw_document_is_kept_for_the_version() -> None:
    text = "predict: p.py:P\nbuild:\n  python_version: '3.11'\n  cuda: '12.1'\n"
    assert cogconfig.parse(text).raw == {
        "predict": "p.py:P",
        "build": {"python_version": "3.11", "cuda": "12.1"},
    }
