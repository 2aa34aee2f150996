"""Vocabulary trimming: keep only the sub-word pieces that the configured corpora use.

multilingual-e5-small has 250,037 embedding rows (96M of its 118M parameters) of which a
few corpora use a few tens of thousands. Dropping the others makes the embedding, its
gradient, the optimiser state and the MLM decoder small, without changing anything the
model computes on those corpora:

- the kept pieces are every id in the tokenisation of every corpus line, the special and
  added tokens, and the pieces of ``extra_texts`` (e5's ``query: `` / ``passage: `` prefixes);
- the piece with the lowest score is kept too: a unigram tokenizer scores an unknown character
  ``min(score) - 10``, so dropping the minimum would raise that penalty and could change the
  segmentation of text with unknown characters;
- kept pieces keep their order (new id = rank of the old id), so ``<s> <pad> </s> <unk>`` stay
  0..3; every tensor whose first dimension is the vocabulary (embeddings, tied decoder, decoder
  bias) is sliced with the same index.

A unigram segmentation is the best-scoring path over the pieces in the vocabulary. Every piece
of a corpus line's best path is kept and no piece is added, so that path stays the best: the
tokenisation of every trimming corpus is unchanged (ids mapped back). Text outside the corpora
may segment differently (a piece of its best path may be gone).

Only unigram (SentencePiece-style) tokenizers in ``tokenizer.json`` form are supported.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from .encoder_meta import META_FILE, read_meta, write_meta
from .errors import InputError
from .io import atomic_path, read_lines_strict, read_text_strict

DEFAULT_EXTRA_TEXTS = ("query: ", "passage: ")
TRIM_MAP = "vocab_trim.json"


def used_ids(tokenizer, texts: Iterable[str], batch_size: int = 1000) -> tuple[set[int], int, int]:
    """(set of ids used by the tokenisation of ``texts`` without specials, number of texts, tokens)."""
    used: set[int] = set()
    batch: list[str] = []
    n_texts = n_tokens = 0

    def flush():
        nonlocal n_tokens
        for ids in tokenizer(batch, add_special_tokens=False)["input_ids"]:
            used.update(ids)
            n_tokens += len(ids)
        batch.clear()

    for text in texts:
        batch.append(text)
        n_texts += 1
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    return used, n_texts, n_tokens


def kept_ids(tokenizer_json: dict, used: set[int]) -> np.ndarray:
    """Sorted old ids to keep: ``used`` + added/special tokens + the unk id + the lowest-scoring piece."""
    model = tokenizer_json["model"]
    vocab = model["vocab"]
    keep = set(used)
    keep.update(token["id"] for token in tokenizer_json.get("added_tokens", []))
    if model.get("unk_id") is not None:
        keep.add(int(model["unk_id"]))
    scores = np.array([score for _, score in vocab], dtype=np.float64)
    keep.add(int(np.argmin(scores)))
    bad = [i for i in keep if not 0 <= i < len(vocab)]
    if bad:
        raise ValueError(f"ids {bad[:5]} are outside the tokenizer vocabulary of {len(vocab)} pieces")
    return np.array(sorted(keep), dtype=np.int64)


def _remap_post_processor(processor, new_id):
    if processor is None:
        return None
    kind = processor.get("type")
    if kind == "TemplateProcessing":
        for special in processor.get("special_tokens", {}).values():
            special["ids"] = [new_id(i) for i in special["ids"]]
    elif kind in ("RobertaProcessing", "BertProcessing"):
        for key in ("sep", "cls"):
            token, old = processor[key]
            processor[key] = [token, new_id(old)]
    elif kind == "Sequence":
        for child in processor.get("processors", []):
            _remap_post_processor(child, new_id)
    elif kind != "ByteLevel":
        raise ValueError(f"cannot remap post-processor of type {kind!r}")
    return processor


def trim_tokenizer_json(tokenizer_json: dict, keep: np.ndarray) -> dict:
    """A copy of a unigram ``tokenizer.json`` dict restricted to the old ids ``keep`` (sorted)."""
    out = json.loads(json.dumps(tokenizer_json))
    model = out["model"]
    if model.get("type") != "Unigram":
        raise ValueError(f"vocabulary trimming supports unigram tokenizers only, not {model.get('type')!r}")
    mapping = {int(old): new for new, old in enumerate(keep)}

    def new_id(old):
        if old not in mapping:
            raise ValueError(f"special/added token id {old} is not among the kept ids")
        return mapping[old]

    model["vocab"] = [model["vocab"][int(old)] for old in keep]
    if model.get("unk_id") is not None:
        model["unk_id"] = new_id(int(model["unk_id"]))
    for token in out.get("added_tokens", []):
        token["id"] = new_id(token["id"])
    out["post_processor"] = _remap_post_processor(out.get("post_processor"), new_id)
    return out


def corpus_texts(path: Path) -> Iterable[str]:
    """The texts of a corpus file: a line per text; a ``.tsv`` file's last column; a ``.csv``
    file's ``text`` column (every field when there is none), parsed as CSV (quoted
    multi-line fields)."""
    path = Path(path)
    if path.suffix == ".csv":
        import csv
        import io

        rows = list(csv.reader(io.StringIO(read_text_strict(path).lstrip("\ufeff"), newline="")))
        if not rows:
            return
        header = rows[0]
        if "text" in header:
            column = header.index("text")
            yield from (row[column] for row in rows[1:] if len(row) > column)
        else:
            yield from (field for row in rows for field in row)
        return
    for line in read_lines_strict(path, allow_empty_file=True):
        yield line.rsplit("\t", 1)[-1] if path.suffix == ".tsv" else line


def trim_vocabulary(model_dir, corpus_files, out_dir, *, extra_texts: Sequence[str] = DEFAULT_EXTRA_TEXTS) -> dict:
    """Trim the masked LM + tokenizer in ``model_dir`` to the pieces used by ``corpus_files``
    (UTF-8; texts as read by :func:`corpus_texts`) and write the result
    to ``out_dir`` in Hugging Face format, with ``vocab_trim.json`` (``kept_ids``: old id of every
    new id). Returns the statistics (also stored in ``vocab_trim.json``)."""
    import torch
    from tokenizers import Tokenizer
    from transformers import AutoModelForMaskedLM, AutoTokenizer, PreTrainedTokenizerFast

    model_dir, out_dir = Path(model_dir), Path(out_dir)
    tokenizer_file = model_dir / "tokenizer.json"
    if not tokenizer_file.exists():
        raise InputError(model_dir, "no tokenizer.json: vocabulary trimming needs a fast (tokenizers) tokenizer")
    corpus_files = [Path(f) for f in corpus_files]
    if not corpus_files:
        raise ValueError("trim_vocabulary needs at least one corpus file")
    for path in corpus_files:
        if not path.exists():
            raise InputError(path, "corpus file does not exist")
    tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
    tokenizer_json = json.loads(tokenizer_file.read_text(encoding="utf-8"))

    def texts():
        for path in corpus_files:
            yield from corpus_texts(path)
        yield from extra_texts

    used, n_texts, n_tokens = used_ids(tokenizer, texts())
    keep = kept_ids(tokenizer_json, used)
    trimmed = trim_tokenizer_json(tokenizer_json, keep)

    model = AutoModelForMaskedLM.from_pretrained(model_dir, local_files_only=True)
    old_rows = model.get_input_embeddings().weight.shape[0]
    if keep[-1] >= old_rows:
        raise ValueError(f"tokenizer id {keep[-1]} has no embedding row (embedding has {old_rows})")
    index = torch.from_numpy(keep)
    state = {name: (tensor.index_select(0, index) if tensor.dim() >= 1 and tensor.shape[0] == old_rows else tensor)
             for name, tensor in model.state_dict().items()}
    config = model.config
    config.vocab_size = len(keep)
    mapping = {int(old): new for new, old in enumerate(keep)}
    for key in ("pad_token_id", "bos_token_id", "eos_token_id", "sep_token_id", "cls_token_id", "mask_token_id"):
        old = getattr(config, key, None)
        if isinstance(old, int) and old >= 0:
            setattr(config, key, mapping.get(old))
    new_model = type(model)(config)
    missing, unexpected = new_model.load_state_dict(state, strict=False)
    untied = [name for name in missing if "decoder" not in name]
    if untied or unexpected:
        raise RuntimeError(f"trimmed state does not fit the model: missing {untied[:3]}, unexpected {unexpected[:3]}")
    new_model.tie_weights()
    new_model.eval()

    stats = {
        "old_vocab_size": int(old_rows), "new_vocab_size": int(len(keep)),
        "old_tokenizer_pieces": len(tokenizer_json["model"]["vocab"]),
        "corpus_files": [str(f) for f in corpus_files], "corpus_texts": n_texts, "corpus_tokens": n_tokens,
        "old_parameters": int(sum(p.numel() for p in model.parameters())),
        "new_parameters": int(sum(p.numel() for p in new_model.parameters())),
    }
    with atomic_path(out_dir) as tmp:
        tmp.mkdir(parents=True)
        new_model.save_pretrained(tmp)
        (tmp / "tokenizer.json").write_text(json.dumps(trimmed, ensure_ascii=False), encoding="utf-8")
        fast = PreTrainedTokenizerFast(tokenizer_object=Tokenizer.from_file(str(tmp / "tokenizer.json")))
        del fast  # the trimmed tokenizer.json must load; the config files are copied unchanged
        for name in ("tokenizer_config.json", "special_tokens_map.json"):
            if (model_dir / name).exists():
                shutil.copy(model_dir / name, tmp / name)
        meta = read_meta(model_dir)
        meta["vocab_trim"] = {k: v for k, v in stats.items() if k != "corpus_files"}
        write_meta(tmp, meta)
        card = model_dir / "model_card.md"
        card_text = card.read_text(encoding="utf-8") if card.exists() else f"# {model_dir.name}\n"
        card_text += (f"\n## Trimmed vocabulary\n\nTrimmed by `lemflow.vocab_trim` to the {len(keep)} pieces (of "
                      f"{old_rows}) used by {len(corpus_files)} corpus file(s) ({n_texts} lines) plus specials; "
                      f"`{TRIM_MAP}` maps new ids to old ones. Tokenisation of those corpora is unchanged; "
                      "other text may segment differently.\n")
        (tmp / "model_card.md").write_text(card_text, encoding="utf-8")
        (tmp / TRIM_MAP).write_text(json.dumps({**stats, "kept_ids": keep.tolist()}) + "\n", encoding="utf-8")
    return stats


# --------------------------------------------------------------------------- train trimmed, publish full
WEIGHT_FILES = ("config.json", "generation_config.json", META_FILE, "model_card.md", TRIM_MAP,
                "training_metrics.json")


def read_kept_ids(trimmed_dir) -> np.ndarray:
    """The old (full-vocabulary) id of every id of a model trimmed by :func:`trim_vocabulary`."""
    path = Path(trimmed_dir) / TRIM_MAP
    if not path.exists():
        raise InputError(path, "missing: not a vocabulary-trimmed model directory")
    return np.asarray(json.loads(read_text_strict(path))["kept_ids"], dtype=np.int64)


def scatter_rows(full_state: dict, trained_state: dict, keep: np.ndarray, vocab_size: int) -> dict:
    """The full model's state with the trained model's tensors in place: a tensor whose first
    dimension is the vocabulary (embeddings, tied decoder, decoder bias) gets the trained rows
    scattered to their old ids (``keep``); its other rows keep the full model's values. Every
    other tensor is the trained one (same shape required)."""
    import torch

    missing = sorted(set(full_state) ^ set(trained_state))
    if missing:
        raise ValueError(f"the trained and the full model differ in their tensors: {missing[:5]}")
    index = torch.as_tensor(keep, dtype=torch.long)
    out = {}
    for name, full in full_state.items():
        trained = trained_state[name]
        if trained.shape == full.shape and (full.dim() == 0 or full.shape[0] != vocab_size or len(keep) == vocab_size):
            out[name] = trained.detach().clone().to(full.dtype)
        elif (full.dim() >= 1 and full.shape[0] == vocab_size and trained.shape[0] == len(keep)
              and trained.shape[1:] == full.shape[1:]):
            rows = full.detach().clone()
            rows[index] = trained.detach().to(full.dtype)
            out[name] = rows
        else:
            raise ValueError(f"{name}: trained shape {tuple(trained.shape)} does not fit the full shape "
                             f"{tuple(full.shape)} with {len(keep)} of {vocab_size} vocabulary rows")
    return out


def publish_full(trained_dir, full_dir, out_dir, *, trimmed_dir=None) -> dict:
    """Write the encoder trained in ``trained_dir`` to ``out_dir`` with the full base's vocabulary
    and tokenizer (``full_dir``): trained on a model trimmed by :func:`trim_vocabulary`
    (``trimmed_dir``, whose ``vocab_trim.json`` maps its ids to the base's), its rows are
    scattered back into the base's matrices (:func:`scatter_rows`), so the published encoder
    tokenises any text as the base does and computes what the trained model computes on the
    trimming corpora. Without ``trimmed_dir`` the trained directory is published as it is
    (hard links where the file system allows)."""
    trained_dir, full_dir, out_dir = Path(trained_dir), Path(full_dir), Path(out_dir)
    if trimmed_dir is None:
        with atomic_path(out_dir) as tmp:
            shutil.copytree(trained_dir, tmp, copy_function=_link_or_copy)
        return {"scattered_from_trim": False}
    import torch
    from transformers import AutoModelForMaskedLM

    keep = read_kept_ids(trimmed_dir)
    full = AutoModelForMaskedLM.from_pretrained(full_dir, local_files_only=True)
    trained = AutoModelForMaskedLM.from_pretrained(trained_dir, local_files_only=True)
    vocab_size = full.get_input_embeddings().weight.shape[0]
    if trained.get_input_embeddings().weight.shape[0] != len(keep):
        raise InputError(trained_dir, f"has {trained.get_input_embeddings().weight.shape[0]} vocabulary rows, but "
                                      f"{trimmed_dir / TRIM_MAP} keeps {len(keep)}: not trained from that trim")
    with torch.no_grad():
        state = scatter_rows(full.state_dict(), trained.state_dict(), keep, vocab_size)
        full.load_state_dict(state)
    full.tie_weights()
    full.eval()
    meta = read_meta(trained_dir)
    summary = {"scattered_from_trim": True, "vocab_size": int(vocab_size), "trained_rows": int(len(keep)),
               "trimmed_from": str(trimmed_dir)}
    meta.pop("vocab_trim", None)
    meta["published_full_vocabulary"] = summary
    with atomic_path(out_dir) as tmp:
        tmp.mkdir(parents=True)
        full.save_pretrained(tmp)
        for path in sorted(full_dir.iterdir()):  # the base's tokenizer files, unchanged
            if path.is_file() and path.name not in WEIGHT_FILES and not path.name.startswith(("model", "pytorch_model")):
                shutil.copy(path, tmp / path.name)
        for name in ("training_metrics.json",):
            if (trained_dir / name).exists():
                shutil.copy(trained_dir / name, tmp / name)
        write_meta(tmp, meta)
        (tmp / "model_card.md").write_text(
            f"# Continually pre-trained encoder (lemflow)\n\nTrained on a vocabulary trimmed to {len(keep)} of "
            f"{vocab_size} pieces (the pre-training corpora's); published with the base's full vocabulary and "
            "tokenizer: the trained rows are scattered back to their ids, every other row keeps the base's "
            "value. It tokenises any text as the base does.\n", encoding="utf-8")
    return summary


def _link_or_copy(src, dst):
    import os

    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
    return dst
