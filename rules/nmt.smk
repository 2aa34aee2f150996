# Stage: nmt (see docs/architecture.md) — a fairseq Transformer trained on each curated
# selection, translating a clean test set; sacrebleu BLEU/chrF/spBLEU; R/nmt/results.csv.
# fairseq runs from its own environment (scripts/setup-fairseq): $LEMFLOW_FAIRSEQ_BIN, default
# <repo>/.venv-fairseq/bin (an environment concern, not a param: moving it reruns nothing).
# GPUs: a profile giving the nmt rules `gpus` > 0 makes them train and generate on CUDA.
import os  # noqa: E402

NMT = config.get("nmt", {})


include: "helpers/nmt.smk"


rule nmt_train:
    input:
        train_src=f"{R}/curation/{{selection}}/{{src}}-{{tgt}}/top{{n}}.{{src}}",
        train_tgt=f"{R}/curation/{{selection}}/{{src}}-{{tgt}}/top{{n}}.{{tgt}}",
        valid_src=f"{R}/data/{{src}}-{{tgt}}/valid.{{src}}",
        valid_tgt=f"{R}/data/{{src}}-{{tgt}}/valid.{{tgt}}",
        script=script("nmt_train.py"),
        code=script_code("nmt_train.py"),
    output:
        model=directory(f"{R}/nmt/{{selection}}/{{src}}-{{tgt}}/top{{n}}/model"),
    wildcard_constraints:
        selection=rf"{plan.RANDOM_BASELINE}|[^/]+/[^/]+",
        src=r"[a-z]{2,3}",
        tgt=r"[a-z]{2,3}",
        n=r"\d+",
    params:
        seed=SEED,
        settings=lambda w: as_json({key: NMT[key] for key in ("spm", "model", "train")}),
        train=lambda w: f"{R}/curation/{w.selection}/{w.src}-{w.tgt}/top{w.n}",
        valid=lambda w: f"{R}/data/{w.src}-{w.tgt}/valid",
        gpu=gpu_flag,
    resources:
        gpus=0,
    conda:
        "../envs/fairseq.yaml"
    log:
        logpath("nmt_train", "{selection}", "{src}-{tgt}", "top{n}"),
    benchmark:
        benchpath("nmt_train", "{selection}", "{src}-{tgt}", "top{n}")
    shell:
        "OMP_NUM_THREADS={threads} python {input.script} --pair {wildcards.src}-{wildcards.tgt} "
        "--train-prefix {params.train} --valid-prefix {params.valid} --settings {params.settings:q} --seed {params.seed} "
        "--model-dir {output.model} {params.gpu} > {log} 2>&1"


rule nmt_translate:
    input:
        model=rules.nmt_train.output.model,
        source=lambda w: nmt_test_set(f"{w.src}-{w.tgt}")["source"],
        references=lambda w: nmt_test_set(f"{w.src}-{w.tgt}")["references"],
        script=script("nmt_translate.py"),
        code=script_code("nmt_translate.py"),
    output:
        hyp=f"{R}/nmt/{{selection}}/{{src}}-{{tgt}}/top{{n}}/hyp.{{tgt}}",
        scores=f"{R}/nmt/{{selection}}/{{src}}-{{tgt}}/top{{n}}/scores.json",
    wildcard_constraints:
        selection=rf"{plan.RANDOM_BASELINE}|[^/]+/[^/]+",
        src=r"[a-z]{2,3}",
        tgt=r"[a-z]{2,3}",
        n=r"\d+",
    params:
        settings=lambda w: as_json({"generate": NMT["generate"], "spbleu_model": NMT.get("spbleu_model")}),
        gpu=gpu_flag,
    resources:
        gpus=0,
    conda:
        "../envs/fairseq.yaml"
    log:
        logpath("nmt_translate", "{selection}", "{src}-{tgt}", "top{n}"),
    benchmark:
        benchpath("nmt_translate", "{selection}", "{src}-{tgt}", "top{n}")
    shell:
        "OMP_NUM_THREADS={threads} python {input.script} --pair {wildcards.src}-{wildcards.tgt} "
        "--model-dir {input.model} --source {input.source} --references {input.references} "
        "--settings {params.settings:q} --hyp {output.hyp} --scores {output.scores} "
        "{params.gpu} > {log} 2>&1"


rule nmt_results:
    input:
        files=lambda w: [e[key] for e in nmt_manifest() for key in ("selection", "scores", "hyp") if e[key]],
        references=lambda w: [ref for spec in nmt_test_sets().values() for ref in spec["references"]],
        script=script("nmt_results.py"),
        code=script_code("nmt_results.py"),
    output:
        results=f"{R}/nmt/results.csv",
        significance=f"{R}/nmt/significance.csv",
    params:
        seed=SEED,
        manifest=lambda w: as_json(nmt_manifest()),
        test_sets=lambda w: as_json(nmt_test_sets()),
        settings=lambda w: as_json({"reference_strategy": reference_strategy(
                                        NMT["reference_strategy"],
                                        [s for pair in curation_pairs() for _, s in curation_encoders(pair)],
                                        "nmt.reference_strategy"),
                                    "bootstrap_samples": NMT["bootstrap_samples"],
                                    "comparisons": extra_comparisons()}),
    conda:
        "../envs/fairseq.yaml"
    log:
        logpath("nmt_results", "all"),
    benchmark:
        benchpath("nmt_results", "all")
    shell:
        "python {input.script} --manifest {params.manifest:q} --test-sets {params.test_sets:q} "
        "--settings {params.settings:q} --seed {params.seed} --results {output.results} "
        "--significance {output.significance} > {log} 2>&1"

