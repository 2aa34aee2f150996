# Stage: tagging — per language a tagger directory (stanza POS/NER trained offline, official
# stanza models, gold annotations or lexicons), POS+NER tags of every corpus side (and their
# gold-NE copies for `tags: gold` strategies, rule tag_gold), and the
# tagger report on held-out annotations (see docs/architecture.md, src/lemflow/tagging.py).
TAGGING = config["tagging"]  # the config check fills in the schema's defaults
TAG_SPLITS = list(TAGGING["splits"])
NER_TRANSFORMER = TAGGING["transformer"]
POS_TRANSFORMER = TAGGING["transformer_pos"]


include: "helpers/tagging.smk"


rule train_ner_transformer:
    input:
        unpack(transformer_inputs("ner")),
        script=script("train_transformer_tagger.py"),
        code=script_code("train_transformer_tagger.py"),
    output:
        directory(f"{R}/tagging/transformer/{{group}}"),
    wildcard_constraints:
        group="joint|[a-z]{2,3}",
    threads: NER_TRANSFORMER["threads"]
    params:
        seed=SEED,
        langs=lambda w: group_langs(w.group, "ner"),
        settings=transformer_params("ner"),
    conda:
        "../envs/main.yaml"
    log:
        logpath("train_ner_transformer", "{group}"),
    benchmark:
        benchpath("train_ner_transformer", "{group}")
    shell:
        "python {input.script} --scheme ner --base {input.base} --langs {params.langs} --settings {params.settings:q} "
        "--seed {params.seed} --threads {threads} --outdir {output} > {log} 2>&1"


rule train_pos_transformer:
    input:
        unpack(transformer_inputs("pos")),
        script=script("train_transformer_tagger.py"),
        code=script_code("train_transformer_tagger.py"),
    output:
        directory(f"{R}/tagging/transformer_pos/{{group}}"),
    wildcard_constraints:
        group="joint|[a-z]{2,3}",
    threads: POS_TRANSFORMER["threads"]
    params:
        seed=SEED,
        langs=lambda w: group_langs(w.group, "pos"),
        settings=transformer_params("pos"),
    conda:
        "../envs/main.yaml"
    log:
        logpath("train_pos_transformer", "{group}"),
    benchmark:
        benchpath("train_pos_transformer", "{group}")
    shell:
        "python {input.script} --scheme upos --base {input.base} --langs {params.langs} --settings {params.settings:q} "
        "--seed {params.seed} --threads {threads} --outdir {output} > {log} 2>&1"


rule train_tagger:
    input:
        annotations=annotation_files,
        script=script("train_tagger.py"),
        code=script_code("train_tagger.py"),
    output:
        directory(f"{R}/tagging/models/{{lang}}"),
    params:
        seed=SEED,
        settings=lambda w: as_json({"language": {k: v for k, v in tagging_language(w.lang).items()
                                                 if k not in ("ner_backend", "pos_backend")},
                                    "train": TAGGING["train"],
                                    "ner_fallback": TAGGING["ner_fallback"]}),
    conda:
        "../envs/main.yaml"
    log:
        logpath("train_tagger", "{lang}"),
    benchmark:
        benchpath("train_tagger", "{lang}")
    shell:
        "python {input.script} --lang {wildcards.lang} --settings {params.settings:q} --seed {params.seed} "
        "--outdir {output} > {log} 2>&1"


rule tag:
    input:
        texts=lambda w: [f"{R}/data/{w.pair}/{split}.{w.lang}" for split in TAG_SPLITS],
        model=f"{R}/tagging/models/{{lang}}",
        ner=lambda w: ner_transformer_model(w.lang),
        pos=lambda w: pos_transformer_model(w.lang),
        script=script("tag.py"),
        code=script_code("tag.py"),
    output:
        tags=expand(f"{R}/tags/{{pair}}/{{split}}.{{lang}}.jsonl", split=TAG_SPLITS, allow_missing=True),
    params:
        ner_source=TAGGING["ner_source"],
    conda:
        "../envs/main.yaml"
    log:
        logpath("tag", "{pair}", "{lang}"),
    benchmark:
        benchpath("tag", "{pair}", "{lang}")
    shell:
        "python {input.script} --model {input.model} --lang {wildcards.lang} --inputs {input.texts} "
        "--outputs {output.tags} --ner-source {params.ner_source} "
        "--ner-model {input.ner} --pos-model {input.pos} > {log} 2>&1"


# The tags with the gold NEs in place of the tagger's (strategies with `tags: gold`), derived from
# the tagger's tags: only runs that train such a strategy ask for R/tags_gold.
rule tag_gold:
    input:
        texts=lambda w: [f"{R}/data/{w.pair}/{split}.{w.lang}" for split in TAG_SPLITS],
        tags=expand(f"{R}/tags/{{pair}}/{{split}}.{{lang}}.jsonl", split=TAG_SPLITS, allow_missing=True),
        model=f"{R}/tagging/models/{{lang}}",
        script=script("tag_gold.py"),
        code=script_code("tag_gold.py"),
    output:
        expand(f"{R}/tags_gold/{{pair}}/{{split}}.{{lang}}.jsonl", split=TAG_SPLITS, allow_missing=True),
    conda:
        "../envs/main.yaml"
    log:
        logpath("tag_gold", "{pair}", "{lang}"),
    benchmark:
        benchpath("tag_gold", "{pair}", "{lang}")
    shell:
        "python {input.script} --model {input.model} --inputs {input.texts} --tags {input.tags} "
        "--outputs {output} > {log} 2>&1"


rule tag_mono:
    input:
        texts=[f"{R}/data/mono_indep/{{lang}}.{split}.txt" for split in ("train", "valid")],
        model=f"{R}/tagging/models/{{lang}}",
        ner=lambda w: ner_transformer_model(w.lang),
        pos=lambda w: pos_transformer_model(w.lang),
        script=script("tag.py"),
        code=script_code("tag.py"),
    output:
        [f"{R}/tags/mono_indep/{{lang}}.{split}.jsonl" for split in ("train", "valid")],
    params:
        ner_source=TAGGING["ner_source"],
    conda:
        "../envs/main.yaml"
    log:
        logpath("tag_mono", "{lang}"),
    benchmark:
        benchpath("tag_mono", "{lang}")
    shell:
        "python {input.script} --model {input.model} --lang {wildcards.lang} --inputs {input.texts} "
        "--outputs {output} --ner-source {params.ner_source} --ner-model {input.ner} "
        "--pos-model {input.pos} > {log} 2>&1"


rule tagger_report:
    input:
        models=[f"{R}/tagging/models/{lang}" for lang in all_langs()],
        ner=sorted({d for lang in all_langs() for d in ner_transformer_model(lang)}),
        pos=sorted({d for lang in all_langs() for d in pos_transformer_model(lang)}),
        corpus=[entry.split(":", 1)[1] for entry in tagger_report_corpus()],
        script=script("tagger_report.py"),
        code=script_code("tagger_report.py"),
    output:
        json=f"{R}/tagging/report.json",
        csv=f"{R}/tagging/results.csv",
        comparison=f"{R}/tagging/ner_backends.csv",
        pos_comparison=f"{R}/tagging/pos_backends.csv",
    params:
        langs=all_langs(),
        ner=[(ner_transformer_model(lang) or ["-"])[0] for lang in all_langs()],
        pos=[(pos_transformer_model(lang) or ["-"])[0] for lang in all_langs()],
        corpus=tagger_report_corpus(),
        corpus_max=TAGGING["report_corpus_sentences"],
        seed=SEED,
    conda:
        "../envs/main.yaml"
    log:
        logpath("tagger_report", "all"),
    benchmark:
        benchpath("tagger_report", "all")
    shell:
        "python {input.script} --models {input.models} --langs {params.langs} --ner-models {params.ner} "
        "--pos-models {params.pos} "
        "--corpus {params.corpus} --corpus-max {params.corpus_max} --seed {params.seed} --json {output.json} --csv {output.csv} --comparison {output.comparison} "
        "--pos-comparison {output.pos_comparison} > {log} 2>&1"
