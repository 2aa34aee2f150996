# Stage: sentiment — code-mixed sentiment classification (see docs/architecture.md).
# One shared split per pair (sentiment_split), one fine-tuning job per encoder and pair
# (sentiment_train, all seeds in one job), one tidy results table (sentiment_results).
from lemflow.errors import InputError  # noqa: E402  (src/ is on sys.path, see common.smk)


include: "helpers/sentiment.smk"


# A missing CSV stops the run when the workflow is parsed, naming the config key.
for _pair, _spec in sentiment_config().get("pairs", {}).items():
    for _name in ("train", "dev", "test"):
        if _spec.get(_name) and not Path(_spec[_name]).exists():
            raise InputError(_spec[_name], f"file does not exist (config sentiment.pairs.{_pair}.{_name})")


rule sentiment_split:
    input:
        data=sentiment_data_files,
        script=script("sentiment.py"),
        code=script_code("sentiment.py"),
    output:
        train=f"{R}/sentiment/data/{{pair}}/train.csv",
        dev=f"{R}/sentiment/data/{{pair}}/dev.csv",
        test=f"{R}/sentiment/data/{{pair}}/test.csv",
        info=f"{R}/sentiment/data/{{pair}}/split.json",
    params:
        seed=SEED,
        results=lambda w: R,
        data=lambda w: as_json({k: v for k, v in sentiment_config()["pairs"][w.pair].items() if k in ("train", "dev", "test")}),
        settings=lambda w: as_json(
            {
                "labels": sentiment_config()["pairs"][w.pair].get("labels"),
                "test_fraction": sentiment_config()["test_fraction"],
                "max_train": sentiment_config().get("max_train"),
                "max_eval": sentiment_config().get("max_eval"),
            }
        ),
    conda:
        "../envs/main.yaml"
    log:
        logpath("sentiment_split", "{pair}"),
    benchmark:
        benchpath("sentiment_split", "{pair}")
    shell:
        "python {input.script} split --pair {wildcards.pair} --data {params.data:q} "
        "--settings {params.settings:q} --seed {params.seed} --outdir {params.results}/sentiment/data/{wildcards.pair} > {log} 2>&1"


rule sentiment_train:
    # all seeds of one encoder in one job: the model loads and the texts tokenise once per job
    input:
        encoder=lambda w: encoder_dir(w.base, w.strategy, w.pair),
        split=rules.sentiment_split.output,
        script=script("sentiment.py"),
        code=script_code("sentiment.py"),
    output:
        metrics=expand(
            f"{R}/sentiment/{{base}}/{{strategy}}/{{pair}}/seed{{seed}}/metrics.json",
            seed=sentiment_seeds(),
            allow_missing=True,
        ),
    params:
        results=lambda w: R,
        settings=lambda w: as_json({**sentiment_config()["training"], "mode": sentiment_config()["mode"],
                                    **({"probe": sentiment_config()["probe"]} if sentiment_config().get("probe") else {})}),
        seeds=" ".join(str(s) for s in sentiment_seeds()),
    conda:
        "../envs/main.yaml"
    log:
        logpath("sentiment_train", "{base}", "{strategy}", "{pair}"),
    benchmark:
        benchpath("sentiment_train", "{base}", "{strategy}", "{pair}")
    threads: 1
    shell:
        "python {input.script} train --pair {wildcards.pair} --base {wildcards.base} "
        "--strategy {wildcards.strategy} --encoder {input.encoder} --split-dir {params.results}/sentiment/data/{wildcards.pair} "
        "--settings {params.settings:q} --seed {params.seeds} --threads {threads} --output {output.metrics} > {log} 2>&1"


rule sentiment_results:
    input:
        metrics=sentiment_metrics_files(),
        script=script("sentiment.py"),
        code=script_code("sentiment.py"),
    output:
        results=f"{R}/sentiment/results.csv",
        significance=f"{R}/sentiment/significance.csv",
    params:
        reference=config["report"]["baseline"],
        datasets=lambda w: as_json({p: s["dataset"] for p, s in sentiment_config().get("pairs", {}).items()}),
    conda:
        "../envs/main.yaml"
    log:
        logpath("sentiment_results", "all"),
    benchmark:
        benchpath("sentiment_results", "all")
    shell:
        "python {input.script} collect --dataset {params.datasets:q} --output {output.results} "
        "--significance {output.significance} --reference {params.reference} "
        "{input.metrics} > {log} 2>&1"

