# Helpers of the tagging stage (rules/tagging.smk includes this file before its rules):
# input functions, settings and its final targets.
def gold_tags_needed():
    """Whether any trained strategy masks with gold NEs (then tagging also writes R/tags_gold)."""
    return plan.gold_tags_needed(config)


def tagging_language(lang):
    languages = TAGGING.get("languages", {})
    if lang not in languages:
        raise ValueError(f"config: tagging.languages has no entry for language {lang!r} (languages: {sorted(languages)})")
    return languages[lang]


def layer_spec(lang, layer):
    """{layer: tagging.languages.<lang>.<layer>}: what a transformer tagger of that layer trains on."""
    return {layer: tagging_language(lang).get(layer) or {}}


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
    return [f"{R}/tagging/transformer/{'joint' if NER_TRANSFORMER['joint'] else lang}"]


def ner_group_langs(group):
    return ner_transformer_langs() if group == "joint" else [group]


def ner_transformer_inputs(wildcards):
    from types import SimpleNamespace

    base = NER_TRANSFORMER.get("base")
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
