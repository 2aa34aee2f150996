"""Opt-in integration test (`pytest -m slurm tests/slurm`, `make test-slurm`): the workflow runs on
a real (one-node) SLURM cluster through profiles/slurm, every job is a SLURM job, and a run killed
mid-way (snakemake SIGKILLed, its SLURM jobs scancelled) resumes with only the unfinished jobs.

Uses a running cluster if `sinfo` answers, else starts one with scripts/local-slurm (root only)
and stops it afterwards. Tiny DAG: tests/slurm/config.yaml (prepare -> tagging -> base encoder
-> pre-training, one pair, two strategies)."""
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LOCAL_SLURM = REPO / "scripts/local-slurm"
SUBMITTED = re.compile(r"Job (\d+) has been submitted with SLURM jobid (\d+)")
FINISHED = re.compile(r"Finished jobid: (\d+) \(Rule: (\w+)\)")
pytestmark = [pytest.mark.slurm, pytest.mark.timeout(1800)]


def _cluster_up():
    if shutil.which("sinfo") is None:
        return False
    return subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True).stdout.strip() != ""


@pytest.fixture(scope="module")
def cluster():
    if _cluster_up():
        yield "existing"
        return
    if os.geteuid() != 0:
        pytest.skip("no SLURM cluster answers and scripts/local-slurm needs root to start one")
    subprocess.run([str(LOCAL_SLURM), "start"], check=True)
    try:
        yield "started"
    finally:
        subprocess.run([str(LOCAL_SLURM), "stop"], check=False)


def _command(results, *extra):
    targets = [f"{results}/slurm_test/encoders/scratch/{s}/si-en" for s in ("mlm_tlm", "lem")]
    # --config takes every following word: it comes last
    return [sys.executable, "-m", "snakemake", *targets, "--profile", "profiles/slurm", "--workflow-profile",
            "tests/slurm/profile", "--configfile", "tests/slurm/config.yaml", *extra, "--config",
            f"results_dir={results}"]


def _env():
    return dict(os.environ, PYTHONPATH=str(REPO / "src"), OMP_NUM_THREADS="1")


def _job_stats(out):
    """{rule: count} from snakemake's 'Job stats' table (the jobs this invocation plans)."""
    block = out.split("Job stats:", 1)[1]
    rows = re.findall(r"^([a-z_]+)\s+(\d+)$", block, flags=re.M)
    return {rule: int(n) for rule, n in rows if rule != "total"}


def _slurm_states(job_ids):
    out = subprocess.run(["squeue", "--states=all", "-h", "-o", "%i|%T", "-j", ",".join(job_ids)],
                         capture_output=True, text=True, check=True).stdout
    return dict(line.split("|") for line in out.split())


def _local_rules():
    """The Snakefile's `localrules:` (they run on the submitting host, never as SLURM jobs)."""
    text = (REPO / "Snakefile").read_text(encoding="utf-8")
    block = re.search(r"^localrules:\n((?:[ \t]+\w+,?\n)+)", text, flags=re.M)
    return set(re.findall(r"\w+", block.group(1)))


def _finished_rules(out):
    """{rule: count} of the jobs Snakemake recorded as finished (SLURM and local ones alike)."""
    return Counter(rule for _, rule in FINISHED.findall(out))


def _submitted_rules(out):
    """SLURM job id -> rule, from the executor's 'submitted' lines and the job headers."""
    rule_of_job = {job: rule for rule, job in re.findall(r"^\s*rule (\w+):(?:.|\n)*?^\s+jobid: (\d+)", out, flags=re.M)}
    return {slurm: rule_of_job.get(job, "?") for job, slurm in SUBMITTED.findall(out)}


def test_workflow_runs_as_slurm_jobs_and_resumes_after_interrupt(cluster, tmp_path):
    results = tmp_path / "results"
    log1 = tmp_path / "run1.log"
    # ---- run 1: interrupted once pre-training runs on SLURM
    with open(log1, "w") as fh:
        proc = subprocess.Popen(_command(results), cwd=REPO, stdout=fh, stderr=subprocess.STDOUT, env=_env(),
                                start_new_session=True)
    killed_at = None
    deadline = time.time() + 900
    while time.time() < deadline and proc.poll() is None:
        text = log1.read_text()
        subs = _submitted_rules(text)
        if "pretrain_mono" in subs.values():
            killed_at = subs
            break
        time.sleep(2)
    assert killed_at, f"pre-training never submitted (rc={proc.poll()}):\n{log1.read_text()[-4000:]}"
    time.sleep(3)  # let the pre-training job start on the node
    os.killpg(proc.pid, signal.SIGKILL)  # a crash: no cleanup by snakemake
    proc.wait()
    run1 = log1.read_text()
    ids1 = list(killed_at)
    states1 = _slurm_states(ids1)
    unfinished = [j for j in ids1 if states1.get(j) != "COMPLETED"]
    assert unfinished, f"nothing was running when snakemake was killed: {states1}"
    subprocess.run(["scancel", *unfinished], check=True)
    local = _local_rules()
    assert "entity_dictionary" in local and not local & set(killed_at.values()), killed_at  # local rules stay local
    # What run 1 finished: the jobs Snakemake recorded as finished, SLURM and local ones alike. A
    # SLURM job that completed after the last status poll is not among them: the rerun redoes it
    # (rerun-incomplete), as it does a local job that was running when the run was killed.
    finished_rules = _finished_rules(run1)
    print("run 1: SLURM jobs", {j: (killed_at[j], states1.get(j)) for j in ids1}, "| finished:", dict(finished_rules))

    # ---- the planned rerun: exactly the jobs not finished in run 1 (plus their dependants)
    # what `snakemake --unlock` does, limited to this run's locks (the working tree is shared)
    for lock in (REPO / ".snakemake/locks").glob("*.lock"):
        if str(results) in lock.read_text(errors="replace"):
            lock.unlink()
    total = _job_stats(subprocess.run(_command(results, "-n", "--forceall"), cwd=REPO, env=_env(),
                                      capture_output=True, text=True, check=True).stdout)
    # ---- run 2: resume
    run2 = subprocess.run(_command(results), cwd=REPO, env=_env(), capture_output=True, text=True, timeout=1500)
    out2 = run2.stdout + run2.stderr
    (tmp_path / "run2.log").write_text(out2)
    assert run2.returncode == 0, out2[-5000:]
    planned2 = _job_stats(out2)
    print("run 1 finished:", dict(finished_rules), "| full DAG:", total, "| run 2:", planned2)
    for rule, n in total.items():
        assert planned2.get(rule, 0) == n - finished_rules.get(rule, 0), (rule, total, finished_rules, planned2)
    assert "prepare" not in planned2 and "pretrain_mono" in planned2

    # ---- every job of run 2 of a non-local rule ran as a SLURM job and completed there
    subs2 = _submitted_rules(out2)
    assert Counter(subs2.values()) == Counter({rule: n for rule, n in planned2.items() if rule not in local}), \
        (subs2, planned2)
    states2 = _slurm_states(list(subs2))
    assert set(states2.values()) == {"COMPLETED"}, states2
    print("run 2: SLURM jobs", {j: (subs2[j], states2[j]) for j in subs2})
    for s in ("mlm_tlm", "lem"):
        assert (results / f"slurm_test/encoders/scratch/{s}/si-en/config.json").exists()
