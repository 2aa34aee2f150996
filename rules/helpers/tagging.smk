# Helpers of the tagging stage (rules/tagging.smk includes this file before its rules):
# input functions, settings and its final targets.
def gold_tags_needed():
    """Whether any trained strategy masks with gold NEs (then rule tag_gold writes R/tags_gold)."""
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


# Transformer taggers (lemflow.tagger_transformer): NER (tagging.transformer, R/tagging/transformer/)
# and UPOS (tagging.transformer_pos, R/tagging/transformer_pos/), one model per group (joint or a language).
TRANSFORMER_LAYERS = {"ner": ("ner_backend", "transformer", "transformer"),
                      "pos": ("pos_backend", "transformer_pos", "transformer_pos")}   # backend key, settings, folder


def transformer_settings(layer):
    return TAGGING.get(TRANSFORMER_LAYERS[layer][1]) or {}


def layer_backend(lang, layer):
    # tolerant: the tagger report's inputs are built at parse time, also in configs without tagging
    return (TAGGING.get("languages", {}).get(lang) or {}).get(TRANSFORMER_LAYERS[layer][0], "stanza")


def ner_backend(lang):
    return layer_backend(lang, "ner")


def transformer_langs(layer):
    """Languages whose NEs (layer ner) or UPOS (layer pos) come from a transformer tagger."""
    return [lang for lang in all_langs() if layer_backend(lang, layer) == "transformer"]


def transformer_model(lang, layer):
    """[the transformer tagger directory of a language's layer] (one joint model or one per language), or []."""
    if layer_backend(lang, layer) != "transformer":
        return []
    group = "joint" if transformer_settings(layer).get("joint", True) else lang
    return [f"{R}/tagging/{TRANSFORMER_LAYERS[layer][2]}/{group}"]


def ner_transformer_model(lang):
    return transformer_model(lang, "ner")


def pos_transformer_model(lang):
    return transformer_model(lang, "pos")


def group_langs(group, layer):
    return transformer_langs(layer) if group == "joint" else [group]


def transformer_inputs(layer):
    """Input function of a transformer tagger's training rule: its base encoder and annotation files."""
    from types import SimpleNamespace

    key = TRANSFORMER_LAYERS[layer][1]

    def inputs(wildcards):
        base = transformer_settings(layer).get("base")
        if base not in config.get("base_encoders", {}):
            raise ValueError(f"config: tagging.{key}.base must name one of base_encoders "
                             f"({sorted(config.get('base_encoders', {}))}), got {base!r}")
        files = sorted({f for lang in group_langs(wildcards.group, layer)
                        for f in annotation_files(SimpleNamespace(lang=lang))})
        return {"annotations": files, "base": f"{R}/base/{base}"}

    return inputs


def transformer_params(layer):
    """The training script's --settings of a group: each language's annotations of the layer and the
    layer's transformer settings."""
    return lambda w: as_json({"languages": {lang: layer_spec(lang, layer) for lang in group_langs(w.group, layer)},
                              "transformer": {"dev_fraction": TAGGING["train"]["dev_fraction"],
                                              **transformer_settings(layer)}})


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
