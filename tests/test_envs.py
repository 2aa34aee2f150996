"""The conda environment files that rules name in `conda:` are valid conda environment specs
(conda itself is not needed), and envs/fairseq.yaml pins what scripts/setup-fairseq installs."""
import re

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.version import Version

from conftest import REPO  # noqa: E402
CONDA_KEYS = {"name", "channels", "dependencies", "variables", "prefix"}  # conda env create's file keys
CONDA_SPEC = re.compile(r"^[A-Za-z0-9_.\-]+(\s*(==|>=|<=|=|>|<|!=)\s*[A-Za-z0-9_.*+\-]+)?$")  # name[=version]
PIP_OPTIONS = ("--extra-index-url ", "--index-url ", "--find-links ", "-f ", "--pre")


def conda_envs_named_by_rules():
    named = set()
    for rule_file in (REPO / "rules").glob("*.smk"):
        named.update(re.findall(r"""conda:\s*\n\s*["'](.+?)["']""", rule_file.read_text(encoding="utf-8")))
    return sorted((REPO / "rules" / path).resolve() for path in named)


def pip_lines(env):
    [pip] = [d["pip"] for d in env["dependencies"] if isinstance(d, dict)]
    return pip


def pip_requirements(env):
    return [line for line in pip_lines(env) if not line.startswith((*PIP_OPTIONS, "-e "))]


@pytest.mark.parametrize("path", conda_envs_named_by_rules(), ids=lambda p: p.name)
def test_conda_env_file_is_a_conda_spec(path):
    env = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(env, dict) and set(env) <= CONDA_KEYS and {"channels", "dependencies"} <= set(env)
    assert all(isinstance(c, str) for c in env["channels"])
    conda_deps = [d for d in env["dependencies"] if not isinstance(d, dict)]
    assert all(isinstance(d, str) and CONDA_SPEC.match(d) for d in conda_deps), conda_deps
    sections = [d for d in env["dependencies"] if isinstance(d, dict)]
    assert all(set(d) == {"pip"} and isinstance(d["pip"], list) for d in sections)
    if sections:
        assert "pip" in conda_deps  # conda installs pip before the pip section
        for line in pip_requirements(env):
            Requirement(line)  # raises on a malformed requirement
        for line in pip_lines(env):  # editable installs: a project folder relative to the env file
            if line.startswith("-e "):
                folder = path.parent / line[3:].split("[")[0].strip()
                assert (folder / "pyproject.toml").exists() or (folder / "setup.py").exists(), line


def test_fairseq_env_matches_setup_fairseq():
    env = yaml.safe_load((REPO / "envs" / "fairseq.yaml").read_text(encoding="utf-8"))
    assert "python=3.11" in env["dependencies"]
    pins = {r.name: r for r in map(Requirement, pip_requirements(env))}
    assert set(pins) == {"torch", "fairseq-fixed", "sentencepiece", "sacrebleu"}
    script = (REPO / "scripts" / "setup-fairseq").read_text(encoding="utf-8")
    for var, name in (("TORCH_SPEC", "torch"), ("FAIRSEQ_SPEC", "fairseq-fixed")):
        default = Requirement(re.search(rf'{var}="\${{{var}:-(.+?)}}"', script).group(1))
        [(op, version)] = [(s.operator, s.version) for s in pins[name].specifier]
        [(want_op, want)] = [(s.operator, s.version) for s in default.specifier]
        assert default.name == name and op == want_op == "=="
        assert Version(version).public == Version(want).public, f"{name}: {version} here, {want} in setup-fairseq"
