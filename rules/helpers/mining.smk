# Helpers of the mining stage (rules/mining.smk includes this file before its rules):
# input functions, settings and its final targets.
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


def mining_embed_rule(pair):
    """Name of the embedding job's rule for `pair`, e.g. mining_embed_si_en for si-en (rules/mining.smk)."""
    return f"mining_embed_{pair.replace('-', '_')}"


def mining_embed_files(pair):
    """(text, embedding) of both sides of every evaluation set of `pair`, in one order; the embedding
    paths keep {base} and {strategy} as wildcards."""
    return [(f"{R}/mining/corpora/{pair}/{kind}/{dataset}/{lang}.txt",
             f"{R}/mining/{{base}}/{{strategy}}/{pair}/embeddings/{kind}/{dataset}.{lang}.npy")
            for kind, dataset in mining_sets(pair) for lang in pair_langs(pair)]


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
            for c in config["report"]["comparisons"]]


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


def mining_corpus_files(w):
    """The evaluation set's files that mining_eval reads: both sides' text, meta.json and, for a
    comparable set, the sentence ids and the gold pairs."""
    lang1, lang2 = pair_langs(w.pair)
    folder = f"{R}/mining/corpora/{w.pair}/{w.kind}/{w.dataset}"
    files = {"text1": f"{folder}/{lang1}.txt", "text2": f"{folder}/{lang2}.txt", "corpus": f"{folder}/meta.json"}
    if w.kind == "comparable":
        files.update(ids1=f"{folder}/{lang1}.ids", ids2=f"{folder}/{lang2}.ids", gold=f"{folder}/gold.tsv")
    return files


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
