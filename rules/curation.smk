# Stage: curation (see docs/architecture.md) — noisy corpus, margin scores of every pair with
# each encoder, top-N selections (and a seeded random-N baseline), noise-detection P/R.
# Active when the config has a `curation` section; the NMT stage (rules/nmt.smk) scores the
# selections and writes R/nmt/results.csv (task=curation and task=nmt rows).
import shlex  # noqa: E402

CURATION = config.get("curation")
CURATION_SIZES = [int(n) for n in CURATION["sizes"]] if CURATION else []
if CURATION:
    from lemflow.errors import InputError

    for _pair in CURATION.get("pairs") or []:
        if _pair not in PAIRS:
            raise InputError("config curation.pairs", f"{_pair} is not a configured pair (data.pairs: {PAIRS})")
    if "random" in (CURATION.get("strategies") or []):
        raise InputError("config curation.strategies", "'random' is the random baseline (curation.random_baseline)")


def curation_pairs():
    if not CURATION:
        return []
    return list(CURATION.get("pairs") or PAIRS)


def curation_encoders(pair):
    """(base, strategy) whose margin scores select data for `pair`: the encoders evaluated on
    the curation task, restricted to curation.strategies when given ("base" = untouched base)."""
    wanted = CURATION.get("strategies")
    return [(base, strategy) for base, strategy in evaluated_encoders(pair, "curation")
            if wanted is None or strategy in wanted]


def curation_selections(pair):
    """Selection ids under R/curation/ and R/nmt/: '<base>/<strategy>' per encoder, 'random'."""
    selections = [f"{base}/{strategy}" for base, strategy in curation_encoders(pair)]
    if CURATION.get("random_baseline", True):
        selections.append("random")
    return selections


def third_language_files(src, tgt):
    """Prepared training files of languages outside the pair (wrong-language noise), one per
    language, from the first configured pair that has it."""
    files = {}
    for other in PAIRS:
        for lang in pair_langs(other):
            if lang not in (src, tgt) and lang not in files:
                files[lang] = f"{R}/data/{other}/train.{lang}"
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
    third = third_language_files(wildcards.src, wildcards.tgt) if CURATION["noise"].get("third_language", True) else []
    return {"clean": [f"{R}/data/{pair}/train.{wildcards.src}", f"{R}/data/{pair}/train.{wildcards.tgt}"],
            "third": third}


def noisy_args(wildcards, input):
    pair = f"{wildcards.src}-{wildcards.tgt}"
    given = CURATION.get("noisy", {}).get(pair)
    if given:
        return f"--corpus {shlex.quote(as_json(given))}"
    args = f"--clean-prefix {R}/data/{pair}/train"
    if input.get("third"):
        third = " ".join(shlex.quote(path) for path in input.third)
        args = f"{args} --third {third}"
    return args


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
        args=noisy_args,
        settings=lambda w: as_json(CURATION["noise"]),
        prefix=lambda w: f"{R}/curation/{w.src}-{w.tgt}/noisy",
    log:
        logpath("curation_noisy", "{src}-{tgt}"),
    benchmark:
        benchpath("curation_noisy", "{src}-{tgt}")
    shell:
        "{PYTHON} {input.script} --pair {wildcards.src}-{wildcards.tgt} {params.args} "
        "--settings {params.settings:q} --seed {SEED} --out-prefix {params.prefix} > {log} 2>&1"


def selection_outputs(selection_dir):
    return [f"{selection_dir}/top{n}.{{{side}}}" for n in CURATION_SIZES for side in ("src", "tgt")]


def curation_settings():
    return {"sizes": CURATION_SIZES, "k": CURATION["k"], "embed": CURATION["embed"]}


rule curation_score:
    """Margin score of every noisy pair with one encoder; top-N selections; P/R."""
    input:
        noisy=rules.curation_noisy.output,
        encoder=lambda w: encoder_dir(w.base, w.strategy, f"{w.src}-{w.tgt}"),
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
        settings=lambda w: as_json(curation_settings()),
        prefix=lambda w: f"{R}/curation/{w.src}-{w.tgt}/noisy",
        outdir=lambda w: f"{R}/curation/{w.base}/{w.strategy}/{w.src}-{w.tgt}",
    log:
        logpath("curation_score", "{base}", "{strategy}", "{src}-{tgt}"),
    benchmark:
        benchpath("curation_score", "{base}", "{strategy}", "{src}-{tgt}")
    shell:
        "OMP_NUM_THREADS={threads} {PYTHON} {input.script} --pair {wildcards.src}-{wildcards.tgt} "
        "--noisy-prefix {params.prefix} --model-dir {input.encoder} --settings {params.settings:q} "
        "--seed {SEED} --outdir {params.outdir} > {log} 2>&1"


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
        settings=lambda w: as_json({"sizes": CURATION_SIZES}),
        prefix=lambda w: f"{R}/curation/{w.src}-{w.tgt}/noisy",
        outdir=lambda w: f"{R}/curation/random/{w.src}-{w.tgt}",
    log:
        logpath("curation_random", "{src}-{tgt}"),
    benchmark:
        benchpath("curation_random", "{src}-{tgt}")
    shell:
        "{PYTHON} {input.script} --pair {wildcards.src}-{wildcards.tgt} --noisy-prefix {params.prefix} --random "
        "--settings {params.settings:q} --seed {SEED} --outdir {params.outdir} > {log} 2>&1"
