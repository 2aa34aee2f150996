# Stage: tagging — per language a tagger directory (stanza POS/NER trained offline, official
# stanza models, gold annotations or lexicons), POS+NER tags of every corpus side, and the
# tagger report on held-out annotations (see docs/architecture.md, src/lemflow/tagging.py).
TAGGING = config.get("tagging", {})
TAG_SPLITS = list(TAGGING.get("splits", ["train", "valid"]))
TAGGING_CODE = ("tagging.py", "tagger_stanza.py", "conllu.py", "readers.py", "prepare.py")


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


rule train_tagger:
    input:
        annotations=annotation_files,
        script=script("train_tagger.py"),
        code=pkg(*TAGGING_CODE),
    output:
        directory(f"{R}/tagging/models/{{lang}}"),
    params:
        settings=lambda w: as_json({"language": tagging_language(w.lang), "train": TAGGING.get("train", {}),
                                    "ner_fallback": TAGGING.get("ner_fallback", "propn")}),
    log:
        logpath("train_tagger", "{lang}"),
    benchmark:
        benchpath("train_tagger", "{lang}")
    shell:
        "{PYTHON} {input.script} --lang {wildcards.lang} --settings {params.settings:q} --seed {SEED} "
        "--outdir {output} > {log} 2>&1"


rule tag:
    input:
        texts=lambda w: [f"{R}/data/{w.pair}/{split}.{w.lang}" for split in TAG_SPLITS],
        model=f"{R}/tagging/models/{{lang}}",
        script=script("tag.py"),
        code=pkg(*TAGGING_CODE),
    output:
        expand(f"{R}/tags/{{pair}}/{{split}}.{{lang}}.jsonl", split=TAG_SPLITS, allow_missing=True),
    log:
        logpath("tag", "{pair}", "{lang}"),
    benchmark:
        benchpath("tag", "{pair}", "{lang}")
    shell:
        "{PYTHON} {input.script} --model {input.model} --lang {wildcards.lang} --inputs {input.texts} "
        "--outputs {output} > {log} 2>&1"


rule tag_mono:
    input:
        texts=[f"{R}/data/mono_indep/{{lang}}.{split}.txt" for split in ("train", "valid")],
        model=f"{R}/tagging/models/{{lang}}",
        script=script("tag.py"),
        code=pkg(*TAGGING_CODE),
    output:
        [f"{R}/tags/mono_indep/{{lang}}.{split}.jsonl" for split in ("train", "valid")],
    log:
        logpath("tag_mono", "{lang}"),
    benchmark:
        benchpath("tag_mono", "{lang}")
    shell:
        "{PYTHON} {input.script} --model {input.model} --lang {wildcards.lang} --inputs {input.texts} "
        "--outputs {output} > {log} 2>&1"


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
    log:
        logpath("tagger_report", "all"),
    benchmark:
        benchpath("tagger_report", "all")
    shell:
        "{PYTHON} {input.script} --models {input.models} --langs {params.langs} --json {output.json} "
        "--csv {output.csv} > {log} 2>&1"


def tag_files(pair):
    return [f"{R}/tags/{pair}/{split}.{lang}.jsonl" for split in TAG_SPLITS for lang in pair_langs(pair)]


@register_targets
def tagging_targets():
    targets = [t for pair in PAIRS for t in tag_files(pair)]
    targets += [f"{R}/tags/mono_indep/{lang}.{split}.jsonl" for lang in config["data"].get("independent_mono", {})
                for split in ("train", "valid")]
    targets += [f"{R}/tagging/report.json", f"{R}/tagging/results.csv"]
    return targets
