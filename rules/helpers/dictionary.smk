# Helpers of the dictionary stage (rules/dictionary.smk includes this file before its rules):
# input functions, settings and its final targets.
def _side_files(pattern):
    """pattern with {split} and {side} (src/tgt) -> list over splits x sides, wildcards kept."""
    return [pattern.format(split=split, side=side) for split in TAG_SPLITS for side in ("{src}", "{tgt}")]


def dictionary_bases():
    return plan.dictionary_bases(config)


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
