# Helpers of the curation stage (rules/curation.smk includes this file before its rules):
# input functions, settings and its final targets.
import shlex  # noqa: E402


def curation_pairs():
    return plan.curation_pairs(config)


def curation_encoders(pair):
    """The encoders whose margin scores select data for `pair` (lemflow.plan)."""
    return plan.curation_encoders(config, pair)


def curation_selections(pair):
    """Selection ids under R/curation/ and R/nmt/: '<base>/<strategy>' per encoder, 'random'."""
    return plan.curation_selections(config, pair)


def pool_split():
    """The prepared split the noisy curation pool is made from: `pool` (data.prepare.pool_fraction:
    pairs no encoder saw in pre-training). None without one."""
    return "pool" if float(config["data"]["prepare"]["pool_fraction"]) > 0 else None


def third_language_files(src, tgt):
    """Pool files of languages outside the pair (wrong-language noise), one per language, from
    the first configured pair that has it (held out from pre-training like the pool)."""
    files = {}
    for other in PAIRS:
        for lang in pair_langs(other):
            if lang not in (src, tgt) and lang not in files:
                files[lang] = f"{R}/data/{other}/{pool_split()}.{lang}"
    return [files[lang] for lang in sorted(files)]


def noisy_inputs(wildcards):
    pair = f"{wildcards.src}-{wildcards.tgt}"
    given = CURATION.get("noisy", {}).get(pair)
    if given:
        from lemflow.readers import parallel_input_files

        files = parallel_input_files({k: v for k, v in given.items() if k != "labels"}, wildcards.src, wildcards.tgt)
        if given.get("labels"):
            files.append(given["labels"])
        return {"corpus": files}
    if pool_split() is None:
        from lemflow.errors import InputError

        raise InputError("config curation", f"the noisy pool of {pair} would be pre-training data (leakage): set "
                         "data.prepare.pool_fraction (pairs held out from pre-training) or curation.noisy."
                         f"{pair} (a corpus by path)")
    third = third_language_files(wildcards.src, wildcards.tgt) if CURATION["noise"]["third_language"] else []
    return {"clean": [f"{R}/data/{pair}/{pool_split()}.{wildcards.src}", f"{R}/data/{pair}/{pool_split()}.{wildcards.tgt}"],
            "third": third}


def noisy_args(wildcards, input):
    pair = f"{wildcards.src}-{wildcards.tgt}"
    given = CURATION.get("noisy", {}).get(pair)
    if given:
        return f"--corpus {shlex.quote(as_json(given))}"
    args = f"--clean-prefix {R}/data/{pair}/{pool_split()}"
    if input.get("third"):
        third = " ".join(shlex.quote(path) for path in input.third)
        args = f"{args} --third {third}"
    return args


def selection_outputs(selection_dir):
    return [f"{selection_dir}/top{n}.{{{side}}}" for n in CURATION_SIZES for side in ("src", "tgt")]


def curation_settings():
    return {"sizes": CURATION_SIZES, "k": CURATION["k"], "embed": CURATION["embed"]}
