"""The report's pre-training section (lemflow.report_pretraining) on synthetic declared files."""
import json

import pytest

from lemflow.report_pretraining import classify, drift_curves, head_table, pretraining_section, stage_table


def write_stage(root, strategy, stage, steps, cosines):
    d = root / "pretrain" / "e5" / strategy / "si-ta" / stage
    d.mkdir(parents=True)
    (d / "metrics.json").write_text(json.dumps({
        "global_steps": steps, "initial_eval_loss": 7.0, "best_eval_loss": 3.0, "final_eval_loss": 3.0,
        "masking_stats": {"share_masked": 0.15, "share_top_up": 0.4}, "freeze_embeddings": True,
        "final_drift": {"mean_cosine": cosines[-1], "dev_p_at_1": 0.9}}))
    (d / "loss.tsv").write_text("step\tepoch\tloss\teval_loss\tlearning_rate\n1\t0.1\t7\t\t1e-5\n")
    rows = ["stage\tstep\tmean_cosine\tknn10_overlap\tdev_p_at_1\tdev_p_at_1_base"]
    rows += [f"{stage}\t{i * 100}\t{c}\t0.9\t0.9\t0.92" for i, c in enumerate(cosines)]
    rows += [f"{stage}\tbest\t{cosines[-1]}\t0.9\t0.9\t0.92"]
    (d / "drift.tsv").write_text("\n".join(rows) + "\n")
    return [d / n for n in ("metrics.json", "loss.tsv", "drift.tsv")]


def write_head(root, index):
    d = root / "pretrain" / "e5" / "head" / f"s{index}"
    d.mkdir(parents=True)
    (d / "metrics.json").write_text(json.dumps({"seed": 13 + index, "initial_dev_loss": 11.0, "best_dev_loss": 5.5,
                                                "best_epoch": 7, "epochs_run": 9,
                                                "features": {"train_positions": 100, "draws": ["random", "lem"]}}))
    (d / "loss.tsv").write_text("epoch\tstep\ttrain_loss\tdev_loss\n0\t0\t\t11.0\n1\t10\t8.0\t7.0\n2\t20\t6.0\t5.5\n")
    return [d / "metrics.json", d / "loss.tsv"]


@pytest.fixture
def run(tmp_path):
    files = write_stage(tmp_path, "lem@s1", "mono", 300, [1.0, 0.99, 0.98, 0.97])
    files += write_stage(tmp_path, "lem@s1", "para", 200, [0.97, 0.96, 0.95])
    files += write_head(tmp_path, 1)
    return tmp_path, files


def test_tables_read_only_the_declared_files(run):
    root, files = run
    write_stage(root, "mlm_tlm", "mono", 300, [1.0, 0.9])  # on disk, not declared: not read
    classified = classify(files, root)
    stages = stage_table(classified)
    assert set(stages["arm"]) == {"lem"} and set(stages["seed_index"]) == {1}
    assert list(stages["stage"]) == ["mono", "para"] and stages["best_eval_loss"].tolist() == [3.0, 3.0]
    heads = head_table(classified)
    assert heads.iloc[0]["seed_index"] == 1 and heads.iloc[0]["draws"] == "random lem"


def test_stage_two_drift_steps_follow_stage_one(run):
    root, files = run
    curves = drift_curves(classify(files, root))
    mono, para = curves[curves["stage"] == "mono"], curves[curves["stage"] == "para"]
    assert mono["step"].tolist() == [0, 100, 200, 300]
    assert para["step"].tolist() == [300, 400, 500]  # offset by stage 1's last measured step
    assert "best" not in curves["step"].astype(str).tolist()


def test_section_writes_tables_and_plots(run, tmp_path):
    root, files = run
    out = tmp_path / "out"
    (out / "tables").mkdir(parents=True)
    (out / "plots").mkdir()
    md = "\n".join(pretraining_section(files, root, out))
    assert "## Continual pre-training" in md and "plots/drift.png" in md and "plots/mlm_head_curve.png" in md
    for name in ("tables/mlm_head.csv", "tables/pretraining_stages.csv", "tables/drift.csv", "plots/drift.png",
                 "plots/mlm_head_curve.png"):
        assert (out / name).exists(), name
    assert pretraining_section([], root, out) == []
