# Stage: dictionary — per base tokenizer, the sub-word spans of every sentence's entities
# (NE/NOUN/VERB), computed once before training (see docs/architecture.md, src/lemflow/dictionary.py).
# Outputs are named {src}-{tgt} so that the pair's language codes appear in the file names.
DICTIONARY_SETTINGS = as_json({"verb_aux": bool(config["tagging"]["verb_aux"])})


include: "helpers/dictionary.smk"


rule entity_dictionary:
    input:
        tokenizer=lambda w: training_base(w.base),
        texts=_side_files(f"{R}/data/{{{{src}}}}-{{{{tgt}}}}/{{split}}.{{side}}"),
        tags=_side_files(f"{R}/tags/{{{{src}}}}-{{{{tgt}}}}/{{split}}.{{side}}.jsonl"),
        script=script("entity_dictionary.py"),
        code=script_code("entity_dictionary.py"),
    output:
        files=_side_files(f"{R}/dictionary/{{{{base}}}}/{{{{src}}}}-{{{{tgt}}}}/{{split}}.{{side}}.jsonl"),
        stats=f"{R}/dictionary/{{base}}/{{src}}-{{tgt}}/stats.json",
    wildcard_constraints:
        src=r"[a-z]{2,3}",
        tgt=r"[a-z]{2,3}",
    params:
        settings=DICTIONARY_SETTINGS,
        names=lambda w: [f"{split}.{lang}" for split in TAG_SPLITS for lang in (w.src, w.tgt)],
    priority: 10  # LEM pre-training waits for it
    conda:
        "../envs/main.yaml"
    log:
        logpath("entity_dictionary", "{base}", "{src}-{tgt}"),
    benchmark:
        benchpath("entity_dictionary", "{base}", "{src}-{tgt}")
    shell:
        "python {input.script} --tokenizer {input.tokenizer} --lines {input.texts} --tags {input.tags} "
        "--outputs {output.files} --names {params.names} --stats {output.stats} "
        "--settings {params.settings:q} > {log} 2>&1"


# Gold-NE entities (strategies with `tags: gold`): the same rule over R/tags_gold.
use rule entity_dictionary as entity_dictionary_gold with:
    input:
        tokenizer=lambda w: training_base(w.base),
        texts=_side_files(f"{R}/data/{{{{src}}}}-{{{{tgt}}}}/{{split}}.{{side}}"),
        tags=_side_files(f"{R}/tags_gold/{{{{src}}}}-{{{{tgt}}}}/{{split}}.{{side}}.jsonl"),
        script=script("entity_dictionary.py"),
        code=script_code("entity_dictionary.py"),
    output:
        files=_side_files(f"{R}/dictionary_gold/{{{{base}}}}/{{{{src}}}}-{{{{tgt}}}}/{{split}}.{{side}}.jsonl"),
        stats=f"{R}/dictionary_gold/{{base}}/{{src}}-{{tgt}}/stats.json",
    log:
        logpath("entity_dictionary_gold", "{base}", "{src}-{tgt}"),
    benchmark:
        benchpath("entity_dictionary_gold", "{base}", "{src}-{tgt}")


rule entity_dictionary_mono:
    input:
        tokenizer=lambda w: training_base(w.base),
        texts=[f"{R}/data/mono_indep/{{lang}}.{split}.txt" for split in ("train", "valid")],
        tags=[f"{R}/tags/mono_indep/{{lang}}.{split}.jsonl" for split in ("train", "valid")],
        script=script("entity_dictionary.py"),
        code=script_code("entity_dictionary.py"),
    output:
        files=[f"{R}/dictionary/{{base}}/mono_indep/{{lang}}.{split}.jsonl" for split in ("train", "valid")],
        stats=f"{R}/dictionary/{{base}}/mono_indep/{{lang}}.stats.json",
    params:
        settings=DICTIONARY_SETTINGS,
        names=lambda w: [f"{w.lang}.{split}" for split in ("train", "valid")],
    conda:
        "../envs/main.yaml"
    log:
        logpath("entity_dictionary_mono", "{base}", "{lang}"),
    benchmark:
        benchpath("entity_dictionary_mono", "{base}", "{lang}")
    shell:
        "python {input.script} --tokenizer {input.tokenizer} --lines {input.texts} --tags {input.tags} "
        "--outputs {output.files} --names {params.names} --stats {output.stats} "
        "--settings {params.settings:q} > {log} 2>&1"

