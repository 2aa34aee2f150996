# Stage: prepare — normalise, validate, filter, dedupe, split; dependent monolingual corpus.
# Outputs are named {src}-{tgt} so that the pair's language codes appear in the file names.
include: "helpers/data.smk"


rule prepare:
    input:
        corpus=corpus_files,
        script=script("prepare.py"),
        code=script_code("prepare.py"),
    output:
        train_src=f"{R}/data/{{src}}-{{tgt}}/train.{{src}}",
        train_tgt=f"{R}/data/{{src}}-{{tgt}}/train.{{tgt}}",
        valid_src=f"{R}/data/{{src}}-{{tgt}}/valid.{{src}}",
        valid_tgt=f"{R}/data/{{src}}-{{tgt}}/valid.{{tgt}}",
        test_src=f"{R}/data/{{src}}-{{tgt}}/test.{{src}}",
        test_tgt=f"{R}/data/{{src}}-{{tgt}}/test.{{tgt}}",
        mono_train=f"{R}/data/{{src}}-{{tgt}}/mono.train.tsv",
        mono_valid=f"{R}/data/{{src}}-{{tgt}}/mono.valid.tsv",
        stats=f"{R}/data/{{src}}-{{tgt}}/stats.json",
        # data.prepare.pool_fraction > 0: pairs held out from pre-training (the curation pool)
        **({"pool_src": f"{R}/data/{{src}}-{{tgt}}/pool.{{src}}", "pool_tgt": f"{R}/data/{{src}}-{{tgt}}/pool.{{tgt}}"}
           if float(config["data"]["prepare"]["pool_fraction"]) > 0 else {}),
    wildcard_constraints:
        src=r"[a-z]{2,3}",
        tgt=r"[a-z]{2,3}",
    params:
        seed=SEED,
        corpus=lambda w: as_json(config["data"]["pairs"][f"{w.src}-{w.tgt}"]),
        settings=as_json(config["data"]["prepare"]),
        extra_languages=as_json(config["extra_languages"]),
        outdir=lambda w: f"{R}/data/{w.src}-{w.tgt}",
    priority: 10  # an input of the trimmed base encoder (the long chain)
    conda:
        "../envs/main.yaml"
    log:
        logpath("prepare", "{src}-{tgt}"),
    benchmark:
        benchpath("prepare", "{src}-{tgt}")
    shell:
        "python {input.script} --pair {wildcards.src}-{wildcards.tgt} --corpus {params.corpus:q} "
        "--settings {params.settings:q} --seed {params.seed} --extra-languages {params.extra_languages:q} "
        "--outdir {params.outdir} > {log} 2>&1"


rule prepare_mono:
    input:
        corpus=lambda w: config["data"]["independent_mono"][w.lang],
        script=script("prepare_mono.py"),
        code=script_code("prepare_mono.py"),
    output:
        train=f"{R}/data/mono_indep/{{lang}}.train.txt",
        valid=f"{R}/data/mono_indep/{{lang}}.valid.txt",
        stats=f"{R}/data/mono_indep/{{lang}}.stats.json",
    params:
        seed=SEED,
        results=lambda w: R,
        settings=as_json(config["data"]["prepare"]),
        extra_languages=as_json(config["extra_languages"]),
    conda:
        "../envs/main.yaml"
    log:
        logpath("prepare_mono", "{lang}"),
    benchmark:
        benchpath("prepare_mono", "{lang}")
    shell:
        "python {input.script} --lang {wildcards.lang} --input {input.corpus} --settings {params.settings:q} "
        "--seed {params.seed} --extra-languages {params.extra_languages:q} --outdir {params.results}/data/mono_indep > {log} 2>&1"

