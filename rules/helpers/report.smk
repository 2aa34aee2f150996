# Helpers of the report stage (rules/report.smk includes this file before its rules):
# input functions, settings and its final targets.
def report_stages():
    return [stage for stage in REPORT_STAGES if stage in config["report"]["stages"]]


def _stage_targets():
    """Final targets that the report's stages registered for this run (their `<stage>_targets`
    functions): a stage takes part in the report exactly when its results are among them (a
    stage the config leaves out registers none). Other stages' target functions are not called."""
    names = {f"{stage}_targets" for stage in report_stages()}
    return {target for function in TARGET_FUNCTIONS if function.__name__ in names for target in function()}


def _stage_files(name):
    targets = _stage_targets()
    return [f"{R}/{stage}/{name}" for stage in report_stages() if f"{R}/{stage}/{name}" in targets]


def report_settings():
    """config.report, with the baseline falling back to what this run evaluates (a warning)."""
    settings = dict(config["report"])
    configured = settings["baseline"]
    evaluated = [s for pair in PAIRS for _, s in evaluated_encoders(pair)]
    baseline = reference_strategy(configured, evaluated, "report.baseline")
    if baseline != configured:
        settings["baseline"] = baseline
    return settings


def pretraining_report_files():
    """What every trained model's stages and every new MLM head wrote (the report's pre-training section)."""
    files = []
    for base, strategy, pair in trained_models():
        for stage in ("mono", "para"):
            files += [f"{R}/pretrain/{base}/{strategy}/{pair}/{stage}/{name}" for name in ("metrics.json", "loss.tsv", "drift.tsv")]
    heads = {(base, split_seeded(strategy)[1]) for base, strategy, _ in trained_models() if separate_head_stage(base)}
    for base, index in sorted(heads):
        files += [f"{R}/pretrain/{base}/head/s{index}/{name}" for name in ("metrics.json", "loss.tsv")]
    return files


def _reported(stage):
    """Whether a stage takes part in this run's report (see _stage_targets)."""
    return f"{R}/{stage}/results.csv" in _stage_files("results.csv")


def embedding_report_files():
    """Every evaluated encoder's mining embeddings (the report compares each trained encoder's
    sentence space with its base's)."""
    if not _reported("mining"):
        return []
    return [f"{R}/mining/{base}/{strategy}/{pair}/embeddings/{kind}/{dataset}.{lang}.npy"
            for pair in PAIRS for kind, dataset in mining_sets(pair)
            for base, strategy in evaluated_encoders(pair, "mining") for lang in pair_langs(pair)]


def tag_report_files(folder):
    """R/<folder>/{pair}/{split}.{lang}.jsonl of every corpus side, for folder "tags" and
    "tags_gold", in the same order, when a strategy masks gold NEs (the report compares the
    tagger's NEs with the gold ones); else none."""
    if not (tagging_configured() and gold_tags_needed()):
        return []
    return [f"{R}/{folder}/{pair}/{split}.{lang}.jsonl" for pair in PAIRS for split in TAG_SPLITS
            for lang in pair_langs(pair)]


def selection_report_files():
    """The embedding prefix/layer choice of every base (mining.embedding.select)."""
    return mining_select_targets() if _reported("mining") else []


def mining_meta_report_files():
    """meta.json of every comparable mining set (gold lines skipped by mining.skip_bad_gold)."""
    if not _reported("mining"):
        return []
    return [f"{R}/mining/corpora/{pair}/{kind}/{dataset}/meta.json"
            for pair in PAIRS for kind, dataset in mining_sets(pair) if kind == "comparable"]


@register_targets
def report_targets():
    return [f"{R}/report/RESULTS.md"]
