"""Default suite: the execution profiles parse, name only real rules, and give the heavy rules
SLURM resources (GPU, CPUs, memory, runtime, partition); a dry run applies them."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SLURM = REPO / "profiles/slurm/config.yaml"
LOCAL = REPO / "profiles/local/config.yaml"
TEST_PROFILE = REPO / "tests/slurm/profile/config.yaml"
GPU_RULES = {"pretrain_mono", "pretrain_para", "nmt_train", "nmt_translate", "sentiment_train", "mining_embed"}
HEAVY_RULES = GPU_RULES | {"base_encoder", "train_tagger", "tag"}
# resource names the SLURM plugin (or our rules) understand
KNOWN_RESOURCES = {"slurm_partition", "slurm_account", "mem_mb", "mem_mb_per_cpu", "runtime", "cpus_per_task",
                   "cpus_per_gpu", "gpu", "gpus", "gres", "gpu_model", "constraint", "nodes", "tasks", "slurm_extra", "qos"}


def workflow_rules():
    """Rule names, and the names of rule families generated in a loop (one rule per pair, named
    <family>_<pair>), which profiles set resources for by the family name (share_profile_settings)."""
    text = "\n".join(p.read_text(encoding="utf-8") for p in (REPO / "rules").glob("*.smk"))
    return set(re.findall(r"^(?:rule|checkpoint)\s+(\w+)\s*:", text, flags=re.M)) | rule_families(text)


def rule_families(text=None):
    text = text or "\n".join(p.read_text(encoding="utf-8") for p in (REPO / "rules").glob("*.smk"))
    return set(re.findall(r"share_profile_settings\([^,]+,\s*\"(\w+)\"\)", text))


def load(path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", [SLURM, LOCAL, TEST_PROFILE], ids=["slurm", "local", "test-cluster"])
def test_profile_names_only_existing_rules_and_known_resources(path):
    profile = load(path)
    rules = workflow_rules()
    for section in ("set-resources", "set-threads"):
        unknown = set(profile.get(section) or {}) - rules
        assert not unknown, f"{path.name} {section} names rules that do not exist: {sorted(unknown)}"
    for rule, res in (profile.get("set-resources") or {}).items():
        assert set(res) <= KNOWN_RESOURCES, (rule, set(res) - KNOWN_RESOURCES)
    assert set(profile.get("default-resources") or {}) <= KNOWN_RESOURCES


def test_slurm_profile_covers_every_rule():
    profile = load(SLURM)
    assert profile["executor"] == "slurm"
    # without accounting (slurmdbd) sacct fails and the executor never sees jobs finish
    assert profile["slurm-status-command"] == "squeue"
    assert profile["retries"] >= 1 and profile["slurm-requeue"] is True
    defaults = profile["default-resources"]
    for key in ("slurm_partition", "mem_mb", "runtime"):
        assert key in defaults, key  # so every rule without its own entry still names these
    res = profile["set-resources"]
    missing = HEAVY_RULES - set(res)
    assert not missing, f"heavy rules without SLURM resources: {sorted(missing)}"
    for rule in GPU_RULES:
        r = res[rule]
        assert int(r["gpus"]) >= 1 and (int(r.get("gpu", 0)) >= 1 or "gres" in r), rule
        assert r["gpus"] == r.get("gpu", r["gpus"]), f"{rule}: gpus (read by the rule) != gpu (requested)"
        assert r["cpus_per_gpu"] >= 1 and r["mem_mb"] > defaults["mem_mb"] and r["runtime"] > 0, rule


def test_local_profile_is_a_laptop():
    profile = load(LOCAL)
    assert "executor" not in profile or profile["executor"] == "local"
    assert int(profile["cores"]) >= 1
    assert int(profile["default-resources"]["gpus"]) == 0


def _dry_run(*args):
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    proc = subprocess.run([sys.executable, "-m", "snakemake", "-n", *args], cwd=REPO, capture_output=True,
                          text=True, env=env, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    return out


def _resources_by_rule(out):
    """Resources of the first job of every rule in a dry run; a generated rule (mining_embed_si_en)
    also under its family's name (mining_embed), every member of a family the same."""
    found = {}
    families = rule_families()
    for block in re.split(r"\n(?=\[[^\n]*\]\n(?:local)?rule )", out):
        m = re.search(r"^(?:local)?rule (\w+):", block, flags=re.M)
        r = re.search(r"^\s+resources: (.*)$", block, flags=re.M)
        if m and r:
            res = dict(kv.split("=", 1) for kv in r.group(1).split(", ") if "=" in kv)
            found.setdefault(m.group(1), res)
            for family in families:
                if m.group(1).startswith(family + "_"):
                    assert found.setdefault(family, res) == res, (m.group(1), res, found[family])
    return found


def test_slurm_profile_resources_reach_the_jobs(tmp_path):
    """Dry run of the demo DAG through profiles/slurm: every job gets a partition, memory and
    runtime; pre-training asks for a GPU on the gpu partition (and so runs torchrun with it)."""
    out = _dry_run("--profile", "profiles/slurm", "--config", f"results_dir={tmp_path}")
    found = _resources_by_rule(out)
    assert GPU_RULES <= set(found), (sorted(GPU_RULES - set(found)), out[-3000:])
    for rule, res in found.items():
        for key in ("slurm_partition", "mem_mb", "runtime"):
            assert key in res, (rule, key, res)
    for rule in GPU_RULES:
        assert found[rule]["slurm_partition"] == "gpu" and found[rule]["gpu"] == "1", (rule, found[rule])
