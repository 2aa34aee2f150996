# Stage: curation (see docs/architecture.md) — noisy corpus, margin scores of every pair with
# each encoder, top-N selections (and a seeded random-N baseline), noise-detection P/R.
# Active when the config has a `curation` section; the NMT stage (rules/nmt.smk) scores the
# selections and writes R/nmt/results.csv (task=curation and task=nmt rows).
import shlex  # noqa: E402

CURATION = config.get("curation")
CURATION_SIZES = plan.curation_sizes(config)


# ----------------------------------------------------------------- curation helpers
def curation_pairs():
    return plan.curation_pairs(config)


def curation_encoders(pair):
    """The encoders whose margin scores select data for `pair` (lemflow.plan)."""
    return plan.curation_encoders(config, pair)


def curation_selections(pair):
    """Selection ids under R/curation/ and R/nmt/: '<base>/<strategy>' per encoder, 'random'."""
    return plan.curation_selections(config, pair)


def pool_split():
    """The prepared split the noisy curation pool is made from: `pool` (data.prepare.pool_fraction:
    pairs no encoder saw in pre-training). None without one."""
    return "pool" if float(config["data"]["prepare"].get("pool_fraction", 0)) > 0 else None


def third_language_files(src, tgt):
    """Pool files of languages outside the pair (wrong-language noise), one per language, from
    the first configured pair that has it (held out from pre-training like the pool)."""
    files = {}
    for other in PAIRS:
        for lang in pair_langs(other):
            if lang not in (src, tgt) and lang not in files:
                files[lang] = f"{R}/data/{other}/{pool_split()}.{lang}"
    return [files[lang] for lang in sorted(files)]


def noisy_inputs(wildcards):
    pair = f"{wildcards.src}-{wildcards.tgt}"
    given = CURATION.get("noisy", {}).get(pair)
    if given:
        from lemflow.readers import parallel_input_files

        files = parallel_input_files({k: v for k, v in given.items() if k != "labels"}, wildcards.src, wildcards.tgt)
        if given.get("labels"):
            files.append(given["labels"])
        return {"corpus": files}
    if pool_split() is None:
        from lemflow.errors import InputError

        raise InputError("config curation", f"the noisy pool of {pair} would be pre-training data (leakage): set "
                         "data.prepare.pool_fraction (pairs held out from pre-training) or curation.noisy."
                         f"{pair} (a corpus by path)")
    third = third_language_files(wildcards.src, wildcards.tgt) if CURATION["noise"].get("third_language", True) else []
    return {"clean": [f"{R}/data/{pair}/{pool_split()}.{wildcards.src}", f"{R}/data/{pair}/{pool_split()}.{wildcards.tgt}"],
            "third": third}


def noisy_args(wildcards, input):
    pair = f"{wildcards.src}-{wildcards.tgt}"
    given = CURATION.get("noisy", {}).get(pair)
    if given:
        return f"--corpus {shlex.quote(as_json(given))}"
    args = f"--clean-prefix {R}/data/{pair}/{pool_split()}"
    if input.get("third"):
        third = " ".join(shlex.quote(path) for path in input.third)
        args = f"{args} --third {third}"
    return args


def selection_outputs(selection_dir):
    return [f"{selection_dir}/top{n}.{{{side}}}" for n in CURATION_SIZES for side in ("src", "tgt")]


def curation_settings():
    return {"sizes": CURATION_SIZES, "k": CURATION["k"], "embed": CURATION["embed"]}


rule curation_noisy:
    input:
        unpack(noisy_inputs),
        script=script("inject_noise.py"),
        code=pkg("noise.py", "readers.py"),
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
        code=pkg("curation.py", "noise.py", "embedding.py", "mining.py"),
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
        code=pkg("curation.py", "noise.py"),
    output:
        selected=selection_outputs(f"{R}/curation/random/{{src}}-{{tgt}}"),
        report=f"{R}/curation/random/{{src}}-{{tgt}}/selection.json",
    wildcard_constraints:
        src=r"[a-z]{2,3}",
        tgt=r"[a-z]{2,3}",
    params:
        seed=SEED,
        settings=lambda w: as_json({"sizes": CURATION_SIZES}),
        prefix=lambda w: f"{R}/curation/{w.src}-{w.tgt}/noisy",
        outdir=lambda w: f"{R}/curation/random/{w.src}-{w.tgt}",
    conda:
        "../envs/main.yaml"
    log:
        logpath("curation_random", "{src}-{tgt}"),
    benchmark:
        benchpath("curation_random", "{src}-{tgt}")
    shell:
        "python {input.script} --pair {wildcards.src}-{wildcards.tgt} --noisy-prefix {params.prefix} --random "
        "--settings {params.settings:q} --seed {params.seed} --outdir {params.outdir} > {log} 2>&1"
