"""Bad input and interruptions (issue 21): every class of bad input stops with one clear line
(file, line, problem) or goes on with a counted warning; stale temporaries are cleaned up.
Fixtures are written here, in tmp_path."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from lemflow.cli import main as lemflow_main
from lemflow.config_checks import (check_config, config_problems, load_config, load_yaml_config,
                                   schema_problems)
from lemflow.errors import ConfigError, InputError, failed_job_messages, job_warnings, run_main
from lemflow.io import atomic_open, remove_stale_temporaries, scratch_dir, write_lines
from lemflow.languages import check_script, language_scripts, script_shares
from lemflow.prepare import PrepareSettings, check_pair_scripts, prepare_pairs, removed_characters
from lemflow.readers import read_comparable, read_sentiment_csv

from conftest import REPO  # noqa: E402
SI = ["ශ්\u200dරී ලංකාව ලස්සන රටකි", "කොළඹ නගරය විශාලයි", "පාසල අද වසා ඇත", "ගුරුවරු පැමිණියා",
      "රජය නව නීතියක් ගෙනාවා", "වැස්ස නිසා මාර්ගය වැසුණා"]
TA = ["இலங்கை ஒரு அழகான நாடு", "கொழும்பு நகரம் பெரியது", "பாடசாலை இன்று மூடப்பட்டுள்ளது"]
EN = ["Sri Lanka is a beautiful country", "Colombo is a big city", "The school is closed today",
      "The teachers came", "The government brought a new law", "The road closed because of rain"]


def env(**extra):
    return dict(os.environ, PYTHONPATH=str(REPO / "src"), OMP_NUM_THREADS="1", **extra)


def demo_config():
    return yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- script check
def test_script_shares_count_letters_of_real_scripts_only():
    letters, own = script_shares(["ශ්\u200dරී abc 123 !", "café"], "Sinhala")
    assert letters.tolist() == [7, 4] and own.tolist() == [4, 0]  # digits, ZWJ, punctuation: no script


def test_tamil_lines_in_a_sinhala_file_stop_prepare_with_file_line_and_share(tmp_path):
    lines = SI[:2] + TA + SI[2:4]  # 4 Sinhala, 3 Tamil lines: under 80% Sinhala letters
    with pytest.raises(InputError) as err:
        check_script(lines, "si", "Sinhala", 0.8, "corpus.si")
    assert err.value.path == "corpus.si" and err.value.line == 3
    assert "Sinhala" in str(err.value) and "%" in str(err.value)
    share = float(str(err.value).split("only ")[1].split("%")[0]) / 100
    assert 0.3 < share < 0.8
    assert check_script(SI, "si", "Sinhala", 0.8, "x") == 1.0
    assert check_script(lines, "si", "Sinhala", 0, "x") is None  # 0 turns the check off
    assert check_script(lines, "xq", None, 0.8, "x") is None  # no script known for the language


def test_check_pair_scripts_names_the_side_and_the_tsv_column():
    pairs = [(t, e) for t, e in zip(TA, EN)]
    with pytest.raises(InputError, match=r"c\.tsv \(si column\):1: only 0\.0% of the letters are in the Sinhala"):
        check_pair_scripts(pairs, {"format": "tsv", "path": "c.tsv"}, "si", "en", language_scripts(), 0.8)
    shares = check_pair_scripts([(s, e) for s, e in zip(SI, EN)], {"format": "text", "path": "p"}, "si", "en",
                                language_scripts(), 0.8)
    assert shares == {"si": 1.0, "en": 1.0}


def test_extra_languages_declare_their_script():
    scripts = language_scripts([{"code": "xq", "script": "Tamil"}, "xr", {"code": "sr", "script": "Latin"}])
    assert scripts["xq"] == "Tamil" and "xr" not in scripts and scripts["sr"] == "Latin" and scripts["si"] == "Sinhala"
    config = demo_config()
    config["extra_languages"] = [{"code": "xq", "script": "Klingon"}]
    config["data"]["pairs"] = {"xq-en": {"format": "text", "path": "x"}}
    problems = config_problems(config, check_files=False)
    assert problems == ["config key extra_languages[0].script: unknown Unicode script 'Klingon' (expected a "
                        "Script property value such as 'Latin', 'Sinhala', 'Tamil', 'Devanagari')"]
    config["extra_languages"] = [{"code": "xq", "script": "Tamil"}]
    assert config_problems(config, check_files=False) == []
    assert schema_problems(config) == []


def test_prepare_script_stops_with_one_line_and_no_traceback(tmp_path):
    write_lines(tmp_path / "c.si", SI[:2] + TA)
    write_lines(tmp_path / "c.en", EN[:5])
    cmd = [sys.executable, str(REPO / "workflow_scripts/prepare.py"), "--pair", "si-en",
           "--corpus", json.dumps({"format": "text", "path": str(tmp_path / "c")}),
           "--settings", json.dumps({"min_script_share": 0.8}), "--seed", "1", "--outdir", str(tmp_path / "out")]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env(), timeout=120)
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(f"{tmp_path / 'c.si'}:3: only 33.7% of the letters are in the Sinhala script")
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out" / "stats.json").exists()
    debug = subprocess.run(cmd, capture_output=True, text=True, env=env(LEMFLOW_DEBUG="1"), timeout=120)
    assert debug.returncode == 1 and "Traceback" in debug.stderr and "InputError" in debug.stderr
    # an extra language with a declared script is checked too
    write_lines(tmp_path / "c.xq", TA[:2] + SI[:3])
    cmd_xq = [a.replace("si-en", "xq-en") for a in cmd] + ["--extra-languages", json.dumps([{"code": "xq", "script": "Tamil"}])]
    proc = subprocess.run(cmd_xq, capture_output=True, text=True, env=env(), timeout=120)
    assert proc.returncode == 1 and f"{tmp_path / 'c.xq'}:3:" in proc.stderr and "Tamil script" in proc.stderr


def test_run_main_turns_input_errors_into_one_line(capsys, monkeypatch):
    def bad():
        raise InputError("data/x.tsv", "expected 2 tab-separated fields,\nfound 3", 7)

    monkeypatch.delenv("LEMFLOW_DEBUG", raising=False)
    with pytest.raises(SystemExit) as stop:
        run_main(bad)
    assert stop.value.code == 1
    assert capsys.readouterr().err == "data/x.tsv:7: expected 2 tab-separated fields, found 3\n"
    monkeypatch.setenv("LEMFLOW_DEBUG", "1")
    with pytest.raises(InputError):
        run_main(bad)

    def bug():
        raise KeyError("a bug, not bad input")

    monkeypatch.delenv("LEMFLOW_DEBUG")
    with pytest.raises(KeyError):  # a programming error keeps its traceback
        run_main(bug)


def test_every_workflow_script_uses_the_shared_wrapper():
    for script in sorted((REPO / "workflow_scripts").glob("*.py")):
        text = script.read_text(encoding="utf-8")
        assert "run_main(main)" in text and "except InputError" not in text, script.name


# --------------------------------------------------------------------------- gold ids
def _comparable(root: Path):
    root.mkdir(parents=True)
    write_lines(root / "si.tsv", [f"si_1_{n}\t{s}" for n, s in enumerate(SI[:3])])
    write_lines(root / "en.tsv", [f"en_1_{n}\t{s}" for n, s in enumerate(EN[:3])])
    write_lines(root / "gold.tsv", ["si_1_0\ten_1_0", "si_1_1\ten_1_9", "si_1_2\ten_1_2"])


def test_gold_ids_are_strict_by_default(tmp_path):
    from lemflow.mining_eval import write_comparable_corpus

    _comparable(tmp_path / "News")
    with pytest.raises(InputError, match=r"News/gold\.tsv:2: gold id 'en_1_9' does not exist in the en sentences"):
        write_comparable_corpus(tmp_path / "News", "si", "en", tmp_path / "out")
    assert not (tmp_path / "out" / "meta.json").exists()


def test_skip_bad_gold_warns_records_and_reports(tmp_path, caplog):
    from lemflow.mining_eval import write_comparable_corpus
    from lemflow.report import input_notes

    _comparable(tmp_path / "News")
    out = tmp_path / "R" / "mining" / "corpora" / "si-en" / "comparable" / "News"
    with caplog.at_level("WARNING"):
        meta = write_comparable_corpus(tmp_path / "News", "si", "en", out, skip_bad_gold=True)
    assert meta["gold"] == 2 and meta["skipped_gold"] == [{"line": 2, "problem": "gold id 'en_1_9' does not exist in the en sentences"}]
    assert any("lemflow: " in r.getMessage() and "gold line 2 skipped" in r.getMessage() for r in caplog.records)
    notes = input_notes(tmp_path / "R", mining_meta=[out / "meta.json"])
    assert notes[0] == "## Input warnings"
    assert "mining set `mining/corpora/si-en/comparable/News`: 1 gold line(s) skipped" in notes[2]
    assert "line 2: gold id 'en_1_9'" in notes[2]
    assert read_comparable(tmp_path / "News", "si", "en", skip_bad_gold=True).skipped_gold[0][0] == 2


# --------------------------------------------------------------------------- console lines (onerror/onsuccess)
def test_failed_job_messages_and_warnings_from_snakemake_logs(tmp_path):
    job_log = tmp_path / "logs" / "prepare" / "si-en.log"
    job_log.parent.mkdir(parents=True)
    job_log.write_text("2026-01-01 INFO read 5 pairs\n2026-01-01 WARNING lemflow: si-en: the valid split is empty\n"
                       "/data/c.si:3: only 40.0% of the letters are in the Sinhala script\n\n", encoding="utf-8")
    main_log = tmp_path / "snakemake.log"
    main_log.write_text(f"rule prepare:\n    log: {job_log}\n    jobid: 3\nError in rule prepare:\n"
                        f"    log: {job_log} (check log file(s) for error details)\n", encoding="utf-8")
    assert failed_job_messages([str(main_log)]) == [f"{job_log}: /data/c.si:3: only 40.0% of the letters are in the Sinhala script"]
    assert job_warnings(str(main_log)) == [f"{job_log}: warning: si-en: the valid split is empty"]
    assert failed_job_messages([str(tmp_path / "missing.log")]) == []


def config_pool_fraction(config_path):
    return float(yaml.safe_load(Path(config_path).read_text(encoding="utf-8"))["data"]["prepare"].get("pool_fraction", 0))


def _tiny_workflow_config(tmp_path, si_lines, **prepare):
    write_lines(tmp_path / "c.si", si_lines)
    write_lines(tmp_path / "c.en", EN[: len(si_lines)])
    config = demo_config()
    for stage in ("curation", "nmt", "sentiment", "mining"):
        config.pop(stage, None)
    config["results_dir"] = str(tmp_path / "results")
    config["data"]["pairs"] = {"si-en": {"format": "text", "path": str(tmp_path / "c")}}
    config["data"]["prepare"].update(prepare)
    config["encoders"] = []
    config["tagging"]["languages"] = {k: v for k, v in config["tagging"]["languages"].items() if k in ("si", "en")}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path, tmp_path / "results" / config["run_name"]


def test_plain_snakemake_shows_the_failed_jobs_line_and_warnings(tmp_path):
    """A plain `snakemake --cores 1` (no profile, no show-failed-logs) prints the job's
    `file:line: problem` on the console; a successful run prints the input warnings."""
    config, out = _tiny_workflow_config(tmp_path, SI[:2] + TA)
    cmd = [sys.executable, "-m", "snakemake", str(out / "data/si-en/stats.json"), "--configfile", str(config),
           "--cores", "1"]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=env(), timeout=300)
    console = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert f"Error: {out}/logs/prepare/si-en.log: {tmp_path / 'c.si'}:3: only 33.7% of the letters are in the " \
           "Sinhala script" in console, console[-3000:]
    # good text, but so few pairs that valid and test are empty, and a zero-width space and a NUL removed
    config, out = _tiny_workflow_config(tmp_path, ["ශ්\u200dරී ලංකාව\u200b ලස්සනයි\x00", SI[1]],
                                        valid_fraction=0.1, test_fraction=0.1)
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=env(), timeout=300)
    console = proc.stdout + proc.stderr
    assert proc.returncode == 0, console[-3000:]
    assert "warning: si-en: the valid split is empty: only 2 pairs survived the filters" in console
    assert "warning: si-en: normalisation removed 2 control/format characters" in console
    stats = json.loads((out / "data/si-en/stats.json").read_text(encoding="utf-8"))
    assert stats["removed_characters"] == {"total": 2, "by_character": {"U+0000 <control>": 1, "U+200B ZERO WIDTH SPACE": 1}}
    empty = [w for w in stats["warnings"] if "split is empty" in w]
    assert len(empty) == 2 + (config_pool_fraction(config) > 0)  # valid, test (and the curation pool)
    assert len(stats["warnings"]) == len(empty) + 1 and stats["script_share"] == {"si": 1.0, "en": 1.0}


# --------------------------------------------------------------------------- prepare warnings (unit)
def test_prepare_counts_removed_characters_and_warns_about_empty_splits():
    assert removed_characters(["a\u200bb\x00", "c\u200bd", "ශ්\u200dරී"]) == {"U+200B ZERO WIDTH SPACE": 2, "U+0000 <control>": 1}
    prepared = prepare_pairs([("a b", "c d"), ("e f", "g h")], PrepareSettings(valid_fraction=0.1, test_fraction=0.0), 0)
    assert prepared.stats["warnings"] == ["the valid split is empty: only 2 pairs survived the filters (valid fraction 0.1)"]
    assert prepared.stats["removed_characters"]["total"] == 0
    prepared = prepare_pairs([(f"a{i}", f"b{i}") for i in range(20)], PrepareSettings(), 0)
    assert prepared.stats["warnings"] == []
    with pytest.raises(InputError, match="corpus.tsv: no pair survived the filters"):
        prepare_pairs([("", "x")], PrepareSettings(), 0, source="corpus.tsv")


# --------------------------------------------------------------------------- config errors
def test_every_schema_violation_one_line_each_with_its_key_path():
    config = demo_config()
    config["seed"] = "thirteen"
    del config["results_dir"]
    config["data"]["prepare"]["max_wrods"] = 10
    config["pretrain"]["mono"]["batch_size"] = 0
    problems = schema_problems(config)
    assert problems == [
        "config key (top level): 'results_dir' is a required property",
        "config key data.prepare: Additional properties are not allowed ('max_wrods' was unexpected)",
        "config key pretrain.mono.batch_size: 0 is less than the minimum of 1",
        "config key seed: 'thirteen' is not of type 'integer'",
    ]


def test_yaml_errors_name_file_line_and_column(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("run_name: x\ndata:\n  pairs: [a, b\nseed: 1\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_yaml_config(bad)
    assert err.value.problems[0].startswith(f"{bad}:4:5: ")
    unsafe = tmp_path / "unsafe.yaml"
    unsafe.write_text("run_name: x\nseed: !!python/object/apply:os.system [\"echo owned\"]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"{unsafe}:2:7: could not determine a constructor .*unsafe tags"):
        load_yaml_config(unsafe)


def test_snakemake_reports_all_schema_violations_and_yaml_errors(tmp_path):
    config = demo_config()
    config["seed"] = "thirteen"
    config["data"]["prepare"]["max_wrods"] = 10
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--configfile", str(path)], cwd=REPO,
                          capture_output=True, text=True, env=env(), timeout=300)
    err = proc.stdout + proc.stderr
    assert proc.returncode == 1
    assert "config key seed: 'thirteen' is not of type 'integer'" in err
    assert "config key data.prepare: Additional properties are not allowed ('max_wrods' was unexpected)" in err
    assert "additionalProperties" not in err and len(err.splitlines()) < 20  # no schema dump
    # the default config.yaml (no --configfile) is read by the project's loader first
    (tmp_path / "wd").mkdir()
    (tmp_path / "wd" / "config.yaml").write_text("run_name: [x\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "snakemake", "-n", "-s", str(REPO / "Snakefile")],
                          cwd=tmp_path / "wd", capture_output=True, text=True, env=env(), timeout=300)
    assert proc.returncode == 1 and "config.yaml:2:1: while parsing a flow sequence" in proc.stdout + proc.stderr


def test_check_config_checks_every_path_and_language(tmp_path, capsys):
    (tmp_path / "folder").mkdir()
    (tmp_path / "file.csv").write_text("text,label\na,pos\n", encoding="utf-8")
    config = load_config(REPO / "config.yaml")
    config["sentiment"] = {"pairs": {"si-en": {"train": str(tmp_path / "nope.csv"), "dev": str(tmp_path / "folder")}}}
    config["mining"]["comparable"] = {"si-en": {"News": str(tmp_path / "file.csv")}}
    config["mining"]["parallel"] = {"si-en": {"flores": {"si": str(tmp_path / "file.csv"), "xx": str(tmp_path / "file.csv")}}}
    config["tagging"]["languages"]["si"]["pos"]["train"] = [{"format": "conllu", "path": str(tmp_path / "si.conllu")}]
    config["nmt"]["spbleu_model"] = str(tmp_path / "spm.model")
    config["mining"]["calibration"] = {}  # the demo's calibration sets are gone with its comparable corpora
    problems = config_problems(config)
    assert f"{tmp_path / 'nope.csv'}: file does not exist (config key sentiment.pairs.si-en.train)" in problems
    assert f"{tmp_path / 'folder'}: is a folder, expected a file (config key sentiment.pairs.si-en.dev)" in problems
    assert f"{tmp_path / 'file.csv'}: is a file, expected a folder (config key mining.comparable.si-en.News)" in problems
    assert f"{tmp_path / 'si.conllu'}: file does not exist (config key tagging.languages.si.pos.train[0].path)" in problems
    assert f"{tmp_path / 'spm.model'}: file does not exist (config key nmt.spbleu_model)" in problems
    assert any(p.startswith("config key mining.parallel.si-en.flores.xx: unknown language code 'xx'") for p in problems)
    assert len(problems) == 6
    with pytest.raises(ConfigError):
        check_config(config)
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    assert lemflow_main(["check-config", str(path)]) == 1
    err = capsys.readouterr().err
    assert "(6 problems)" in err and err.count("\n") == 7


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_check_config_unreadable_file(tmp_path):
    config = load_config(REPO / "config.yaml")
    secret = tmp_path / "train.csv"
    secret.write_text("text,label\n", encoding="utf-8")
    secret.chmod(0)
    config["sentiment"] = {"pairs": {"si-en": {"train": str(secret), "dev": str(secret)}}}
    assert f"{secret}: is not readable (permissions) (config key sentiment.pairs.si-en.train)" in config_problems(config)


# --------------------------------------------------------------------------- sentiment CSV
def test_csv_unterminated_quote_is_reported_at_the_records_first_line(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text('text,label\nfine,pos\n"quoted\nover two lines",neg\n"never closed, neg\nnext,pos\nlast,neg\n',
                    encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_sentiment_csv(path)
    assert err.value.line == 5 and "unterminated quoted field" in err.value.problem and "lines 5-7" in err.value.problem
    path.write_text('text,label\n"two\nlines",pos,extra\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"s\.csv:2: expected 2 fields, found 3"):
        read_sentiment_csv(path)


def test_csv_whitespace_only_and_empty_files(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text(" \n\t\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"file holds only whitespace \(4 characters"):
        read_sentiment_csv(path)
    path.write_text("", encoding="utf-8")
    with pytest.raises(InputError, match="file is empty"):
        read_sentiment_csv(path)


# --------------------------------------------------------------------------- temporaries
def _killed_write(path: Path, context: str = "atomic_path", directory: bool = False) -> Path:
    """What a SIGKILL inside ``atomic_path``/``scratch_dir`` leaves: the temporary beside the output."""
    code = (f"import os, signal; from pathlib import Path; from lemflow.io import {context}\n"
            f"with {context}({str(path)!r}) as tmp:\n"
            f"    Path(tmp).mkdir(exist_ok=True) if {directory or context == 'scratch_dir'} else Path(tmp).write_text('half')\n"
            f"    print(tmp, flush=True)\n"
            f"    os.kill(os.getpid(), signal.SIGKILL)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env(), timeout=60)
    assert proc.returncode == -9, proc.stderr
    tmp = Path(proc.stdout.strip())
    assert tmp.exists() and tmp.parent == path.parent
    return tmp


def test_next_write_of_the_same_output_removes_a_killed_runs_temporaries(tmp_path):
    out = tmp_path / "train.si"
    stale_file = _killed_write(out)
    stale_dir = _killed_write(tmp_path / "model", directory=True)
    other = tmp_path / ".train.si.extra.tmp"  # not what atomic_path makes (random part is 8 characters)
    other.write_text("keep")
    neighbour = _killed_write(tmp_path / "train.si.bak")  # another output's temporary
    assert stale_file.name.startswith(".train.si.") and stale_file.name.endswith(".tmp")
    with atomic_open(out) as handle:
        handle.write("done\n")
    assert out.read_text() == "done\n" and not stale_file.exists()
    assert other.exists() and neighbour.exists() and stale_dir.exists()
    assert remove_stale_temporaries(tmp_path / "model") == [stale_dir] and not stale_dir.exists()


def test_scratch_folders_live_beside_the_output_and_are_cleaned(tmp_path):
    out = tmp_path / "tagger" / "pos.pt"
    with scratch_dir(out) as scratch:
        assert scratch.parent == out.parent and scratch.name.startswith(".pos.pt.") and scratch.name.endswith(".work.tmp")
        (scratch / "train.conllu").write_text("x")
    assert not scratch.exists()
    left = _killed_write(out, "scratch_dir")
    with scratch_dir(out) as again:
        assert not left.exists() and again.exists()

