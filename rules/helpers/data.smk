# Helpers of the data stage (rules/data.smk includes this file before its rules):
# input functions, settings and its final targets.
from lemflow.readers import parallel_input_files  # noqa: E402  (src/ is on sys.path, see common.smk)


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
