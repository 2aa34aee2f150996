# Stage: mining (see docs/architecture.md) — LASER-style bitext mining and its evaluation.
#   mining_corpus        validate a comparable evaluation set; write {lang}.txt, {lang}.ids, gold.tsv, meta.json
#   mining_corpus_parallel  validate a parallel evaluation set; write {lang}.txt, meta.json
#   mining_embed_<pair>  sentence embeddings of every set of a pair with one encoder (.npy, kept as a cache)
#   mining_eval          mine + evaluate one set with one encoder -> eval.json (+ mined.{mode}.tsv)
#   mining_results       tidy R/mining/results.csv and R/mining/significance.csv (cluster bootstrap over
#                        pre-training seeds and documents, exact McNemar; F1 at calibrated thresholds)
# Evaluation sets: mining.comparable[pair][dataset] = corpus folder; mining.parallel[pair][dataset]
# = {lang: file}; mining.prepared_test adds the prepared test split of every pair as "prepared_test".
MINING = config.get("mining", {})


include: "helpers/mining.smk"


# The embedding prefix and layer are chosen on development data (the prepared valid splits,
# never a test set) with the untouched base, for every encoder of that base.
rule mining_select:
    input:
        encoder=f"{R}/base/{{base}}",
        dev=lambda w: [f for pair in PAIRS for f in prepared_files(pair, ("valid",))],
        script=script("mining_select.py"),
        code=script_code("mining_select.py"),
    output:
        f"{R}/mining/select/{{base}}.json",
    wildcard_constraints:
        base=r"[^/]+",
    params:
        dev=lambda w: " ".join(f"{pair}={R}/data/{pair}/valid.{pair_langs(pair)[0]},{R}/data/{pair}/valid.{pair_langs(pair)[1]}"
                               for pair in PAIRS),
        settings=lambda w: as_json({**{k: v for k, v in (MINING.get("embedding") or {}).items() if k in ("batch_size", "max_length")},
                                    **(embedding_select_settings() or {})}),
    conda:
        "../envs/main.yaml"
    log:
        logpath("mining_select", "{base}"),
    benchmark:
        benchpath("mining_select", "{base}")
    shell:
        "python {input.script} --model {input.encoder} --dev {params.dev} --settings {params.settings:q} "
        "--threads {threads} --out {output} > {log} 2>&1"


wildcard_constraints:
    kind=r"comparable|parallel",
    dataset=r"[A-Za-z0-9][A-Za-z0-9_.+-]*",


rule mining_corpus:
    input:
        files=mining_corpus_inputs,
        script=script("mining_corpus.py"),
        code=script_code("mining_corpus.py"),
    output:
        txt1=f"{R}/mining/corpora/{{lang1}}-{{lang2}}/{{kind}}/{{dataset}}/{{lang1}}.txt",
        txt2=f"{R}/mining/corpora/{{lang1}}-{{lang2}}/{{kind}}/{{dataset}}/{{lang2}}.txt",
        ids1=f"{R}/mining/corpora/{{lang1}}-{{lang2}}/{{kind}}/{{dataset}}/{{lang1}}.ids",
        ids2=f"{R}/mining/corpora/{{lang1}}-{{lang2}}/{{kind}}/{{dataset}}/{{lang2}}.ids",
        gold=f"{R}/mining/corpora/{{lang1}}-{{lang2}}/{{kind}}/{{dataset}}/gold.tsv",
        meta=f"{R}/mining/corpora/{{lang1}}-{{lang2}}/{{kind}}/{{dataset}}/meta.json",
    wildcard_constraints:
        lang1=r"[a-z]{2,3}",
        lang2=r"[a-z]{2,3}",
        kind="comparable",
    params:
        source=mining_corpus_source,
        outdir=lambda w: f"{R}/mining/corpora/{w.lang1}-{w.lang2}/{w.kind}/{w.dataset}",
        sample=mining_corpus_sample_args,
        seed=SEED,
        skip_bad_gold=lambda w: "--skip-bad-gold" if MINING.get("skip_bad_gold") else "",
    conda:
        "../envs/main.yaml"
    log:
        logpath("mining_corpus", "{lang1}-{lang2}", "{kind}", "{dataset}"),
    benchmark:
        benchpath("mining_corpus", "{lang1}-{lang2}", "{kind}", "{dataset}")
    shell:
        "python {input.script} --kind {wildcards.kind} --pair {wildcards.lang1}-{wildcards.lang2} --source {params.source:q} "
        "--outdir {params.outdir} {params.sample} --seed {params.seed} {params.skip_bad_gold} > {log} 2>&1"


# A parallel set has no ids or gold file (line i of one side is the translation of line i of the other).
# Same command line and params as mining_corpus had for it, so that existing parallel sets are not rebuilt.
rule mining_corpus_parallel:
    input:
        files=mining_corpus_inputs,
        script=script("mining_corpus.py"),
        code=script_code("mining_corpus.py"),
    output:
        txt1=f"{R}/mining/corpora/{{lang1}}-{{lang2}}/{{kind}}/{{dataset}}/{{lang1}}.txt",
        txt2=f"{R}/mining/corpora/{{lang1}}-{{lang2}}/{{kind}}/{{dataset}}/{{lang2}}.txt",
        meta=f"{R}/mining/corpora/{{lang1}}-{{lang2}}/{{kind}}/{{dataset}}/meta.json",
    wildcard_constraints:
        lang1=r"[a-z]{2,3}",
        lang2=r"[a-z]{2,3}",
        kind="parallel",
    params:
        source=mining_corpus_source,
        outdir=lambda w: f"{R}/mining/corpora/{w.lang1}-{w.lang2}/{w.kind}/{w.dataset}",
        sample=mining_corpus_sample_args,
        seed=SEED,
        skip_bad_gold="",
    conda:
        "../envs/main.yaml"
    log:
        logpath("mining_corpus_parallel", "{lang1}-{lang2}", "{kind}", "{dataset}"),
    benchmark:
        benchpath("mining_corpus_parallel", "{lang1}-{lang2}", "{kind}", "{dataset}")
    shell:
        "python {input.script} --kind {wildcards.kind} --pair {wildcards.lang1}-{wildcards.lang2} --source {params.source:q} "
        "--outdir {params.outdir} {params.sample} --seed {params.seed} {params.skip_bad_gold} > {log} 2>&1"


# One job per encoder and pair: the encoder is loaded once (one interpreter and torch start) and
# embeds both sides of every evaluation set of the pair. Snakemake rules have a fixed list of output
# patterns, and the sets differ from pair to pair, so there is one rule per pair, mining_embed_<pair>
# (e.g. mining_embed_si_en); profiles set threads and resources for all of them as `mining_embed`.
for _pair in PAIRS:
    if not mining_sets(_pair):
        continue

    rule:
        name:
            mining_embed_rule(_pair)
        wildcard_constraints:
            base=r"[^/]+",
            strategy=r"[^/]+",
        input:
            encoder=lambda w, pair=_pair: encoder_dir(w.base, w.strategy, pair),
            texts=[text for text, _ in mining_embed_files(_pair)],
            select=lambda w: embedding_selection(w.base),
            script=script("embed.py"),
            code=script_code("embed.py"),
        output:
            [embedding for _, embedding in mining_embed_files(_pair)],
        params:
            settings=lambda w: as_json({k: v for k, v in MINING.get("embedding", {}).items() if k != "select"}),
            select=lambda w, input: select_arg(input),
        conda:
            "../envs/main.yaml"
        log:
            logpath("mining_embed", "{base}", "{strategy}", _pair),
        benchmark:
            benchpath("mining_embed", "{base}", "{strategy}", _pair)
        shell:
            "python {input.script} --model {input.encoder} --inputs {input.texts} "
            "--outputs {output} --settings {params.settings:q} --threads {threads} {params.select} > {log} 2>&1"

    share_profile_settings(mining_embed_rule(_pair), "mining_embed")


rule mining_eval:
    wildcard_constraints:
        base=r"[^/]+",
        strategy=r"[^/]+",
    input:
        unpack(mining_embeddings),
        unpack(mining_corpus_files),
        script=script("mine.py"),
        code=script_code("mine.py"),
    output:
        f"{R}/mining/{{base}}/{{strategy}}/{{pair}}/{{kind}}/{{dataset}}/eval.json",
    params:
        settings=lambda w: as_json(mining_settings()),
        label=lambda w: as_json({"dataset": w.dataset, "pair": w.pair, "base": w.base, "strategy": w.strategy}),
        comparable=lambda w, input: f"--ids {input.ids1} {input.ids2} --gold {input.gold}" if w.kind == "comparable" else "",
        outdir=lambda w: f"{R}/mining/{w.base}/{w.strategy}/{w.pair}/{w.kind}/{w.dataset}",
    conda:
        "../envs/main.yaml"
    log:
        logpath("mining_eval", "{base}", "{strategy}", "{pair}", "{kind}", "{dataset}"),
    benchmark:
        benchpath("mining_eval", "{base}", "{strategy}", "{pair}", "{kind}", "{dataset}")
    shell:
        "OMP_NUM_THREADS={threads} python {input.script} --kind {wildcards.kind} --pair {wildcards.pair} "
        "--texts {input.text1} {input.text2} {params.comparable} "
        "--emb1 {input.emb1} --emb2 {input.emb2} --settings {params.settings:q} --label {params.label:q} "
        "--outdir {params.outdir} > {log} 2>&1"


rule mining_results:
    input:
        evals=mining_evaluations(),
        script=script("mining_results.py"),
        code=script_code("mining_results.py"),
    output:
        results=f"{R}/mining/results.csv",
        significance=f"{R}/mining/significance.csv",
    params:
        seed=SEED,
        settings=as_json({"bootstrap": MINING.get("bootstrap"), "calibration": MINING.get("calibration"), "comparisons": extra_comparisons(),
                          "reference_strategy": reference_strategy(
                              MINING.get("reference_strategy"),
                              [s for pair in PAIRS for _, s in evaluated_encoders(pair, "mining")],
                              "mining.reference_strategy")}),
    conda:
        "../envs/main.yaml"
    log:
        logpath("mining_results", "all"),
    benchmark:
        benchpath("mining_results", "all")
    shell:
        "python {input.script} --evals {input.evals} --settings {params.settings:q} --seed {params.seed} "
        "--results {output.results} --significance {output.significance} > {log} 2>&1"

