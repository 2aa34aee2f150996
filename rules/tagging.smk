# Stage: tagging — per language a tagger directory (stanza POS/NER trained offline, official
# stanza models, gold annotations or lexicons), POS+NER tags of every corpus side, and the
# tagger report on held-out annotations (see docs/architecture.md, src/lemflow/tagging.py).
TAGGING = config.get("tagging", {})
TAG_SPLITS = list(TAGGING.get("splits", ["train", "valid"]))
TAGGING_CODE = ("tagging.py", "tagger_stanza.py", "conllu.py", "readers.py", "prepare.py")
TAG_CODE = (*TAGGING_CODE, "gold_tags.py")


rule train_tagger:
    input:
        annotations=annotation_files,
        script=script("train_tagger.py"),
        code=pkg(*TAGGING_CODE),
    output:
        directory(f"{R}/tagging/models/{{lang}}"),
    params:
        seed=SEED,
        settings=lambda w: as_json({"language": tagging_language(w.lang), "train": TAGGING.get("train", {}),
                                    "ner_fallback": TAGGING.get("ner_fallback", "propn")}),
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
        script=script("tag.py"),
        code=pkg(*TAG_CODE),
    output:
        tags=expand(f"{R}/tags/{{pair}}/{{split}}.{{lang}}.jsonl", split=TAG_SPLITS, allow_missing=True),
        gold=expand(f"{R}/tags_gold/{{pair}}/{{split}}.{{lang}}.jsonl", split=TAG_SPLITS, allow_missing=True)
        if gold_tags_needed() else [],
    params:
        ner_source=TAGGING.get("ner_source", "auto"),
    conda:
        "../envs/main.yaml"
    log:
        logpath("tag", "{pair}", "{lang}"),
    benchmark:
        benchpath("tag", "{pair}", "{lang}")
    shell:
        "python {input.script} --model {input.model} --lang {wildcards.lang} --inputs {input.texts} "
        "--outputs {output.tags} --gold-outputs {output.gold} --ner-source {params.ner_source} > {log} 2>&1"


rule tag_mono:
    input:
        texts=[f"{R}/data/mono_indep/{{lang}}.{split}.txt" for split in ("train", "valid")],
        model=f"{R}/tagging/models/{{lang}}",
        script=script("tag.py"),
        code=pkg(*TAG_CODE),
    output:
        [f"{R}/tags/mono_indep/{{lang}}.{split}.jsonl" for split in ("train", "valid")],
    params:
        ner_source=TAGGING.get("ner_source", "auto"),
    conda:
        "../envs/main.yaml"
    log:
        logpath("tag_mono", "{lang}"),
    benchmark:
        benchpath("tag_mono", "{lang}")
    shell:
        "python {input.script} --model {input.model} --lang {wildcards.lang} --inputs {input.texts} "
        "--outputs {output} --ner-source {params.ner_source} > {log} 2>&1"


rule tagger_report:
    input:
        models=[f"{R}/tagging/models/{lang}" for lang in all_langs()],
        script=script("tagger_report.py"),
        code=pkg(*TAGGING_CODE),
    output:
        json=f"{R}/tagging/report.json",
        csv=f"{R}/tagging/results.csv",
    params:
        langs=all_langs(),
    conda:
        "../envs/main.yaml"
    log:
        logpath("tagger_report", "all"),
    benchmark:
        benchpath("tagger_report", "all")
    shell:
        "python {input.script} --models {input.models} --langs {params.langs} --json {output.json} "
        "--csv {output.csv} > {log} 2>&1"

