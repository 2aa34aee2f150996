# Stage: curation (see docs/architecture.md) — noisy corpus, margin scores of every pair with
# each encoder, top-N selections (and a seeded random-N baseline), noise-detection P/R.
# Active when the config has a `curation` section; the NMT stage (rules/nmt.smk) scores the
# selections and writes R/nmt/results.csv (task=curation and task=nmt rows).
CURATION = config.get("curation")
CURATION_SIZES = plan.curation_sizes(config)


include: "helpers/curation.smk"


rule curation_noisy:
    input:
        unpack(noisy_inputs),
        script=script("inject_noise.py"),
        code=script_code("inject_noise.py"),
    output:
        src=f"{R}/curation/{{src}}-{{tgt}}/noisy.{{src}}",
        tgt=f"{R}/curation/{{src}}-{{tgt}}/noisy.{{tgt}}",
        labels=f"{R}/curation/{{src}}-{{tgt}}/noisy.labels",
        stats=f"{R}/curation/{{src}}-{{tgt}}/noisy.stats.json",
    wildcard_constraints:
        src=r"[a-z]{2,3}",
        tgt=r"[a-z]{2,3}",
    params:
        seed=SEED,
        args=noisy_args,
        settings=lambda w: as_json(CURATION["noise"]),
        prefix=lambda w: f"{R}/curation/{w.src}-{w.tgt}/noisy",
    conda:
        "../envs/main.yaml"
    log:
        logpath("curation_noisy", "{src}-{tgt}"),
    benchmark:
        benchpath("curation_noisy", "{src}-{tgt}")
    shell:
        "python {input.script} --pair {wildcards.src}-{wildcards.tgt} {params.args} "
        "--settings {params.settings:q} --seed {params.seed} --out-prefix {params.prefix} > {log} 2>&1"


rule curation_score:
    """Margin score of every noisy pair with one encoder; top-N selections; P/R."""
    input:
        noisy=rules.curation_noisy.output,
        encoder=lambda w: encoder_dir(w.base, w.strategy, f"{w.src}-{w.tgt}"),
        select=lambda w: embedding_selection(w.base),
        script=script("curate.py"),
        code=script_code("curate.py"),
    output:
        selected=selection_outputs(f"{R}/curation/{{base}}/{{strategy}}/{{src}}-{{tgt}}"),
        scores=f"{R}/curation/{{base}}/{{strategy}}/{{src}}-{{tgt}}/scores.txt",
        report=f"{R}/curation/{{base}}/{{strategy}}/{{src}}-{{tgt}}/selection.json",
    wildcard_constraints:
        base=r"[^/]+",
        strategy=r"[^/]+",
        src=r"[a-z]{2,3}",
        tgt=r"[a-z]{2,3}",
    params:
        seed=SEED,
        settings=lambda w: as_json(curation_settings()),
        prefix=lambda w: f"{R}/curation/{w.src}-{w.tgt}/noisy",
        outdir=lambda w: f"{R}/curation/{w.base}/{w.strategy}/{w.src}-{w.tgt}",
        select=lambda w, input: select_arg(input),
    conda:
        "../envs/main.yaml"
    log:
        logpath("curation_score", "{base}", "{strategy}", "{src}-{tgt}"),
    benchmark:
        benchpath("curation_score", "{base}", "{strategy}", "{src}-{tgt}")
    shell:
        "OMP_NUM_THREADS={threads} python {input.script} --pair {wildcards.src}-{wildcards.tgt} "
        "--noisy-prefix {params.prefix} --model-dir {input.encoder} --settings {params.settings:q} "
        "--seed {params.seed} --outdir {params.outdir} {params.select} > {log} 2>&1"


rule curation_random:
    """The random-N baseline: N noisy pairs drawn uniformly (seeded)."""
    input:
        noisy=rules.curation_noisy.output,
        script=script("curate.py"),
        code=script_code("curate.py"),
    output:
        selected=selection_outputs(f"{R}/curation/{plan.RANDOM_BASELINE}/{{src}}-{{tgt}}"),
        report=f"{R}/curation/{plan.RANDOM_BASELINE}/{{src}}-{{tgt}}/selection.json",
    wildcard_constraints:
        src=r"[a-z]{2,3}",
        tgt=r"[a-z]{2,3}",
    params:
        seed=SEED,
        settings=lambda w: as_json({"sizes": CURATION_SIZES}),
        prefix=lambda w: f"{R}/curation/{w.src}-{w.tgt}/noisy",
        outdir=lambda w: f"{R}/curation/{plan.RANDOM_BASELINE}/{w.src}-{w.tgt}",
    conda:
        "../envs/main.yaml"
    log:
        logpath("curation_random", "{src}-{tgt}"),
    benchmark:
        benchpath("curation_random", "{src}-{tgt}")
    shell:
        "python {input.script} --pair {wildcards.src}-{wildcards.tgt} --noisy-prefix {params.prefix} --random "
        "--settings {params.settings:q} --seed {params.seed} --outdir {params.outdir} > {log} 2>&1"
