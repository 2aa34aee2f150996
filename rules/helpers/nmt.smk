# Helpers of the nmt stage (rules/nmt.smk includes this file before its rules):
# input functions, settings and its final targets.
def nmt_test_set(pair):
    """{name, source, references} of the clean test set of `pair`: configured, else the
    prepared test split (never used for training anything)."""
    given = NMT.get("test_sets", {}).get(pair)
    if given:
        return given
    src, tgt = pair_langs(pair)
    return {"name": "prepared_test", "source": f"{R}/data/{pair}/test.{src}",
            "references": [f"{R}/data/{pair}/test.{tgt}"]}


def gpu_flag(wildcards, resources):
    return "--gpu" if int(getattr(resources, "gpus", 0) or 0) > 0 else ""


def nmt_manifest():
    """One entry per (pair, selection, N): where its selection report, scores and hypotheses are."""
    return plan.nmt_manifest(config, R)


def nmt_test_sets():
    return {pair: nmt_test_set(pair) for pair in curation_pairs()}


@register_targets
def nmt_targets():
    return [f"{R}/nmt/results.csv", f"{R}/nmt/significance.csv"] if CURATION else []
