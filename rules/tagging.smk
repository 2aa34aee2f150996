# Stage: tagging — per language a tagger directory (stanza POS/NER trained offline, official
# stanza models, gold annotations or lexicons), POS+NER tags of every corpus side, and the
# tagger report on held-out annotations (see docs/architecture.md, src/lemflow/tagging.py).
TAGGING = config.get("tagging", {})
TAG_SPLITS = list(TAGGING.get("splits", ["train", "valid"]))
TAGGING_CODE = ("tagging.py", "tagger_stanza.py", "conllu.py", "readers.py", "prepare.py")
NER_TRANSFORMER = TAGGING.get("transformer", {})
NER_TRANSFORMER_CODE = ("tagger_transformer.py", "device.py", "tagging.py", "conllu.py", "readers.py", "prepare.py")
TAG_CODE = (*TAGGING_CODE, "gold_tags.py", "tagger_transformer.py", "device.py")


# ----------------------------------------------------------------- tagging helpers
def gold_tags_needed():
    """Whether any trained strategy masks with gold NEs (then tagging also writes R/tags_gold)."""
    return plan.gold_tags_needed(config)


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


rule train_ner_transformer:
    input:
        unpack(ner_transformer_inputs),
        script=script("train_ner_transformer.py"),
        code=pkg(*NER_TRANSFORMER_CODE),
    output:
        directory(f"{R}/tagging/transformer/{{group}}"),
    wildcard_constraints:
        group="joint|[a-z]{2,3}",
    threads: NER_TRANSFORMER.get("threads", 1)
    params:
        seed=SEED,
        langs=lambda w: ner_group_langs(w.group),
        settings=lambda w: as_json({"languages": {lang: tagging_language(lang) for lang in ner_group_langs(w.group)},
                                    "transformer": {"dev_fraction": TAGGING.get("train", {}).get("dev_fraction", 0.1),
                                                    **NER_TRANSFORMER}}),
    conda:
        "../envs/main.yaml"
    log:
        logpath("train_ner_transformer", "{group}"),
    benchmark:
        benchpath("train_ner_transformer", "{group}")
    shell:
        "python {input.script} --base {input.base} --langs {params.langs} --settings {params.settings:q} "
        "--seed {params.seed} --threads {threads} --outdir {output} > {log} 2>&1"


rule train_tagger:
    input:
        annotations=annotation_files,
        script=script("train_tagger.py"),
        code=pkg(*TAGGING_CODE),
    output:
        directory(f"{R}/tagging/models/{{lang}}"),
    params:
        seed=SEED,
        settings=lambda w: as_json({"language": {k: v for k, v in tagging_language(w.lang).items() if k != "ner_backend"},
                                    "train": TAGGING.get("train", {}),
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
        ner=lambda w: ner_transformer_model(w.lang),
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
        "--outputs {output.tags} --gold-outputs {output.gold} --ner-source {params.ner_source} "
        "--ner-model {input.ner} > {log} 2>&1"


rule tag_mono:
    input:
        texts=[f"{R}/data/mono_indep/{{lang}}.{split}.txt" for split in ("train", "valid")],
        model=f"{R}/tagging/models/{{lang}}",
        ner=lambda w: ner_transformer_model(w.lang),
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
        "--outputs {output} --ner-source {params.ner_source} --ner-model {input.ner} > {log} 2>&1"


rule tagger_report:
    input:
        models=[f"{R}/tagging/models/{lang}" for lang in all_langs()],
        ner=sorted({d for lang in all_langs() for d in ner_transformer_model(lang)}),
        corpus=[entry.split(":", 1)[1] for entry in tagger_report_corpus()],
        script=script("tagger_report.py"),
        code=pkg(*TAGGING_CODE, "tagger_transformer.py", "device.py"),
    output:
        json=f"{R}/tagging/report.json",
        csv=f"{R}/tagging/results.csv",
        comparison=f"{R}/tagging/ner_backends.csv",
    params:
        langs=all_langs(),
        ner=[(ner_transformer_model(lang) or ["-"])[0] for lang in all_langs()],
        corpus=tagger_report_corpus(),
        corpus_max=TAGGING.get("report_corpus_sentences", 0),
        seed=SEED,
    conda:
        "../envs/main.yaml"
    log:
        logpath("tagger_report", "all"),
    benchmark:
        benchpath("tagger_report", "all")
    shell:
        "python {input.script} --models {input.models} --langs {params.langs} --ner-models {params.ner} "
        "--corpus {params.corpus} --corpus-max {params.corpus_max} --seed {params.seed} --json {output.json} --csv {output.csv} --comparison {output.comparison} > {log} 2>&1"
