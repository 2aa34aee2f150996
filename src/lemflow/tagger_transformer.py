"""Word tagging with a transformer token classifier fine-tuned from a base encoder.

A linear head on a base encoder of ``base_encoders`` (``AutoModelForTokenClassification``),
the label of a word on its first sub-word (the other sub-words are ignored by the loss and by
prediction), early stopping on a dev score, bf16 autocast where the device has it
(:mod:`lemflow.device`), one model for every language (``joint``) or one per language. The
label inventory is a :class:`Scheme`:

- :data:`NER` (the ``transformer`` NER backend, ``tagging.languages.<lang>.ner_backend``): BIO
  ``PER/LOC/ORG/MISC``, selected by the dev set's entity-level F1 (:func:`lemflow.tagging.ner_scores`);
- :data:`UPOS` (the ``transformer`` POS backend, ``tagging.languages.<lang>.pos_backend``): the 17
  Universal POS tags, selected by dev accuracy.

A sentence longer than ``max_length`` sub-words is cut into consecutive chunks of whole words
(training and prediction alike), so no word is ever truncated away.

A model directory holds the Hugging Face model + tokenizer and ``ner.json`` / ``pos.json``
(scheme, labels, settings, training history, dev scores). :class:`TransformerNER` and
:class:`TransformerPOS` tag pretokenised sentences with it and :class:`WithNER` puts one tagger's
NEs beside another's UPOS.
"""
from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from typing import Sequence

from .io import atomic_open, read_json
from .tagging import Annotated, ner_scores, to_bio, upos_accuracy

log = logging.getLogger(__name__)

TYPES = ("PER", "LOC", "ORG", "MISC")
LABELS = ("O", *(f"{prefix}-{kind}" for kind in TYPES for prefix in "BI"))
UPOS_TAGS = ("ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "PROPN", "PUNCT",
             "SCONJ", "SYM", "VERB", "X")
IGNORE = -100

# CPU-sized defaults (tagging.transformer in config/schema.yaml documents each key).
DEFAULTS = {
    "base": None, "joint": True, "epochs": 2, "batch_size": 16, "learning_rate": 1.0e-4,
    "head_learning_rate": 5.0e-4, "weight_decay": 0.01, "warmup_ratio": 0.06, "max_length": 128,
    "eval_every": 0, "patience": 3, "freeze_embeddings": False, "max_grad_norm": 1.0,
    "eval_batch_size": 64, "max_train_sentences": 0, "max_dev_sentences": 0, "dev_fraction": 0.1,
    "device": "auto", "precision": "auto", "bucket_batches": 32,
    "train_layers": 0,
}


# --------------------------------------------------------------------------- labels
def label_ids(tags: Sequence[str], types: Sequence[str] = TYPES) -> list[int]:
    """Label ids of BIO tags; an entity type outside ``types`` becomes ``MISC``."""
    index = {label: i for i, label in enumerate(LABELS)}
    out = []
    for tag in to_bio(tags):
        if tag != "O" and tag[2:] not in types:
            tag = f"{tag[:2]}MISC"
        out.append(index[tag])
    return out


def tags_of(ids: Sequence[int]) -> list[str]:
    """BIO tags of predicted label ids (an I- that continues nothing starts an entity)."""
    return to_bio([LABELS[i] for i in ids])


class Scheme:
    """The label inventory of a token classifier: which layer of an :class:`~lemflow.tagging.Annotated`
    sentence it learns (``layer``), its labels, how tags map to label ids and back, and the dev
    score that selects the model (``metric``, a key of :meth:`score`'s result)."""

    def __init__(self, name: str, layer: str, labels: Sequence[str], metric: str, info_file: str, default: str):
        self.name, self.layer, self.labels, self.metric, self.info_file = name, layer, tuple(labels), metric, info_file
        self.default = self.labels.index(default)   # a word without sub-words (nothing to predict from)
        self._index = {label: i for i, label in enumerate(self.labels)}

    def gold(self, sentence: Annotated) -> list[str] | None:
        return getattr(sentence, self.layer)

    def ids(self, tags: Sequence[str]) -> list[int]:
        return [self._index.get(tag, self.default) for tag in tags]

    def tags(self, ids: Sequence[int]) -> list[str]:
        return [self.labels[i] for i in ids]

    def score(self, gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> dict:
        raise NotImplementedError

    def __repr__(self):
        return f"Scheme({self.name})"


class _NERScheme(Scheme):
    def gold(self, sentence):
        return None if sentence.ner is None else to_bio(sentence.ner)

    def ids(self, tags):
        return label_ids(tags)

    def tags(self, ids):
        return tags_of(ids)

    def score(self, gold, predicted):
        return ner_scores(gold, predicted)


class _UPOSScheme(Scheme):
    """UPOS; a tag outside the 17 (none in valid UD) is learnt as ``X``."""

    def score(self, gold, predicted):
        return {"accuracy": upos_accuracy(gold, predicted), "words": sum(len(g) for g in gold)}


NER = _NERScheme("ner", "ner", LABELS, "f1", "ner.json", "O")
UPOS = _UPOSScheme("upos", "upos", UPOS_TAGS, "accuracy", "pos.json", "X")
SCHEMES = {scheme.name: scheme for scheme in (NER, UPOS)}


# --------------------------------------------------------------------------- encoding
def chunk_words(pieces_per_word: Sequence[int], limit: int) -> list[tuple[int, int]]:
    """Consecutive (start, end) word ranges whose sub-words fit ``limit`` (a word longer than
    the limit gets a chunk of its own, cut later)."""
    chunks, start, used = [], 0, 0
    for i, n in enumerate(pieces_per_word):
        if i > start and used + n > limit:
            chunks.append((start, i))
            start, used = i, 0
        used += n
    if start < len(pieces_per_word) or not chunks:
        chunks.append((start, len(pieces_per_word)))
    return chunks


def encode(tokenizer, sentences: Sequence[Sequence[str]], tags: Sequence[Sequence[str]] | None = None,
           max_length: int = 128, scheme: Scheme = NER) -> list[dict]:
    """Examples of pretokenised sentences: ``input_ids``, ``labels`` (first sub-word of a word
    labelled, -100 elsewhere), ``first`` (position of each word's first sub-word, -1 for a
    word without sub-words) plus ``sentence`` and ``word_offset`` of the chunk."""
    limit = max(1, max_length - 2)
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    examples = []
    batch = 256
    for start in range(0, len(sentences), batch):
        part = [list(words) for words in sentences[start:start + batch]]
        nonempty = [words if words else [""] for words in part]
        encoded = tokenizer(nonempty, is_split_into_words=True, add_special_tokens=False, truncation=False)
        for j, words in enumerate(part):
            s = start + j
            ids = encoded["input_ids"][j]
            word_ids = encoded.word_ids(j)
            pieces: list[list[int]] = [[] for _ in words]
            for piece, w in zip(ids, word_ids):
                if w is not None and w < len(words):
                    pieces[w].append(piece)
            labels = scheme.ids(tags[s]) if tags is not None else None
            for a, b in chunk_words([len(p) for p in pieces], limit):
                input_ids, chunk_labels, first = [cls], [IGNORE], []
                for w in range(a, b):
                    word_pieces = pieces[w][:limit]
                    if not word_pieces or len(input_ids) + len(word_pieces) > limit + 1:
                        first.append(-1)
                        continue
                    first.append(len(input_ids))
                    input_ids += word_pieces
                    chunk_labels += [labels[w] if labels is not None else IGNORE] + [IGNORE] * (len(word_pieces) - 1)
                input_ids.append(sep)
                chunk_labels.append(IGNORE)
                examples.append({"input_ids": input_ids, "labels": chunk_labels, "first": first,
                                 "sentence": s, "word_offset": a})
    return examples


def collate(examples: Sequence[dict], pad_id: int):
    """Padded ``input_ids``, ``attention_mask``, ``labels`` tensors of a batch."""
    import torch

    width = max(len(e["input_ids"]) for e in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    labels = torch.full((len(examples), width), IGNORE, dtype=torch.long)
    for i, e in enumerate(examples):
        n = len(e["input_ids"])
        ids[i, :n] = torch.tensor(e["input_ids"])
        mask[i, :n] = 1
        labels[i, :n] = torch.tensor(e["labels"])
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def length_batches(lengths: Sequence[int], size: int, generator=None, bucket: int = 32) -> list[list[int]]:
    """Batches of example indices. With a generator: shuffled, then sorted by length within
    buckets of ``bucket`` batches (less padding, still random); without: sorted by length."""
    import torch

    if generator is None:
        order = sorted(range(len(lengths)), key=lambda i: lengths[i])
        return [order[i:i + size] for i in range(0, len(order), size)]
    order = torch.randperm(len(lengths), generator=generator).tolist()
    span = size * max(1, bucket)
    batches = []
    for start in range(0, len(order), span):
        block = sorted(order[start:start + span], key=lambda i: lengths[i])
        batches += [block[i:i + size] for i in range(0, len(block), size)]
    permutation = torch.randperm(len(batches), generator=generator).tolist()
    return [batches[i] for i in permutation]


# --------------------------------------------------------------------------- model parts
def encoder_layers(model):
    """The transformer layers of a token classifier's encoder (BERT / XLM-R layout)."""
    return model.base_model.encoder.layer


class TopLayers:
    """The top of a token classifier from the hidden states entering layer ``start``: layers
    ``start:``, dropout, classifier. With the layers below frozen, their output is computed once
    (:meth:`lower`) and every training step runs only the top (far cheaper on a CPU)."""

    def __init__(self, model, start: int):
        self.model, self.start = model, start

    def _mask(self, hidden, attention_mask):
        from transformers.masking_utils import create_bidirectional_mask

        return create_bidirectional_mask(config=self.model.config, inputs_embeds=hidden, attention_mask=attention_mask)

    def lower(self, input_ids, attention_mask):
        """Hidden states entering layer ``start`` (embeddings, then layers below ``start``)."""
        hidden = self.model.base_model.embeddings(input_ids=input_ids)
        mask = self._mask(hidden, attention_mask)
        for layer in encoder_layers(self.model)[:self.start]:
            hidden = layer(hidden, mask)
        return hidden

    def logits(self, hidden, attention_mask):
        mask = self._mask(hidden, attention_mask)
        for layer in encoder_layers(self.model)[self.start:]:
            hidden = layer(hidden, mask)
        return self.model.classifier(self.model.dropout(hidden))


def pad_hidden(states: Sequence, width: int | None = None):
    """(batch, width, dim) of variable-length cached hidden states, and their attention mask."""
    import torch

    width = width or max(len(h) for h in states)
    out = states[0].new_zeros((len(states), width, states[0].shape[-1]))
    mask = torch.zeros((len(states), width), dtype=torch.long)
    for i, h in enumerate(states):
        out[i, :len(h)] = h
        mask[i, :len(h)] = 1
    return out, mask


# --------------------------------------------------------------------------- prediction
def predict(model, examples: Sequence[dict], n_words: Sequence[int], pad_id: int, batch_size: int, device,
            precision: str = "fp32", top: TopLayers | None = None, cache: Sequence | None = None,
            scheme: Scheme = NER) -> list[list[str]]:
    """Tags of every sentence (``n_words`` words each) from its encoded chunks (with ``top``
    and ``cache``: from the cached hidden states entering the top layers)."""
    import torch

    from .device import autocast

    ids: list[list[int]] = [[scheme.default] * n for n in n_words]
    model.eval()
    with torch.no_grad():
        for batch in length_batches([len(e["input_ids"]) for e in examples], batch_size):
            chunk = [examples[i] for i in batch]
            with autocast(device, precision):
                if cache is not None:
                    hidden, mask = pad_hidden([cache[i] for i in batch])
                    logits = top.logits(hidden.to(device), mask.to(device))
                else:
                    inputs = collate(chunk, pad_id)
                    logits = model(input_ids=inputs["input_ids"].to(device),
                                   attention_mask=inputs["attention_mask"].to(device)).logits
            best = logits.float().argmax(-1).cpu()
            for row, e in enumerate(chunk):
                for w, position in enumerate(e["first"]):
                    if position >= 0:
                        ids[e["sentence"]][e["word_offset"] + w] = int(best[row, position])
    return [scheme.tags(sentence) for sentence in ids]


def cache_lower(top: TopLayers, examples: Sequence[dict], pad_id: int, batch_size: int, device, precision: str,
                progress: bool = False) -> list:
    """Hidden states entering the top layers for every example (eval mode, no gradients),
    stored in bf16 when the run is bf16, on the CPU."""
    import torch
    from tqdm import tqdm

    from .device import autocast

    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    out: list = [None] * len(examples)
    top.model.eval()
    batches = length_batches([len(e["input_ids"]) for e in examples], batch_size)
    with torch.no_grad():
        for batch in tqdm(batches, desc="caching frozen layers", disable=not progress, mininterval=10):
            inputs = collate([examples[i] for i in batch], pad_id)
            with autocast(device, precision):
                hidden = top.lower(inputs["input_ids"].to(device), inputs["attention_mask"].to(device))
            hidden = hidden.to("cpu", dtype)
            for row, i in enumerate(batch):
                out[i] = hidden[row, :len(examples[i]["input_ids"])].clone()
    return out


class TransformerTagger:
    """Tags of pretokenised sentences with a fine-tuned token classifier directory (its
    scheme: ``ner.json`` or ``pos.json``)."""

    def __init__(self, model_dir: str | Path, device: str | None = None, precision: str | None = None,
                 batch_size: int | None = None):
        from transformers import AutoModelForTokenClassification, AutoTokenizer

        from .device import resolve_device, resolve_precision

        model_dir = Path(model_dir)
        found = [s for s in SCHEMES.values() if (model_dir / s.info_file).exists()]
        if not found:
            raise FileNotFoundError(f"{model_dir}: no {' or '.join(s.info_file for s in SCHEMES.values())}")
        self.info = read_json(model_dir / found[0].info_file)
        self.scheme = SCHEMES[self.info.get("scheme", found[0].name)]
        settings = self.info["settings"]
        self.device = resolve_device(device or settings.get("device", "auto"))
        self.precision = resolve_precision(precision or settings.get("precision", "auto"), self.device)
        self.tokenizer = AutoTokenizer.from_pretrained(str(model_dir / "model"))
        self.model = AutoModelForTokenClassification.from_pretrained(str(model_dir / "model")).to(self.device)
        self.max_length = int(settings["max_length"])
        self.batch_size = int(batch_size or settings.get("eval_batch_size", 64))

    def predict(self, sentences: Sequence[Sequence[str]]) -> list[list[str]]:
        examples = encode(self.tokenizer, sentences, None, self.max_length, self.scheme)
        return predict(self.model, examples, [len(s) for s in sentences], self.tokenizer.pad_token_id,
                       self.batch_size, self.device, self.precision, scheme=self.scheme)


class TransformerNER(TransformerTagger):
    """NER (BIO tags) of pretokenised sentences; UPOS ``X``."""

    has_ner = True

    def ner(self, sentences: Sequence[Sequence[str]]) -> list[list[str]]:
        return self.predict(sentences)

    def tag(self, sentences):
        return [["X"] * len(words) for words in sentences], self.ner(sentences)


class TransformerPOS(TransformerTagger):
    """UPOS of pretokenised sentences; no NER (the tagger's NER fallback applies)."""

    has_ner = False

    def tag(self, sentences):
        return self.predict(sentences), [None] * len(sentences)


class WithNER:
    """UPOS from one tagger, NEs from another (e.g. stanza POS + transformer NER, or transformer
    POS + stanza NER): any two taggers with ``tag``."""

    def __init__(self, pos_tagger, ner_tagger):
        self.pos_tagger, self.ner_tagger = pos_tagger, ner_tagger
        self.has_ner = ner_tagger.has_ner

    def tag(self, sentences):
        upos, _ = self.pos_tagger.tag(sentences)
        return upos, self.ner_tagger.tag(sentences)[1]


# --------------------------------------------------------------------------- training data
def split_data(spec: dict, lang: str, seed: int, dev_fraction: float, layer: str = "ner") -> dict[str, list[Annotated]]:
    """(train, dev, heldout) sentences of ``tagging.languages.<lang>.<layer>`` (``ner`` or
    ``pos``): the held-out part exactly as the stanza tagger directory holds it out (same
    sources, fraction and seed), the dev part split off the rest with the seed as stanza's dev
    set is."""
    from .tagging import load_sources, split_off

    cfg = spec.get(layer) or {}
    field = "ner" if layer == "ner" else "upos"
    train = [s for s in load_sources(cfg.get("train", []), lang) if getattr(s, field) is not None]
    heldout = [s for s in load_sources(cfg.get("heldout", []), lang) if getattr(s, field) is not None]
    if not heldout and cfg.get("heldout_fraction", 0) > 0:
        train, heldout = split_off(train, cfg["heldout_fraction"], seed)
    if not train:
        raise ValueError(f"tagging.languages.{lang}.{layer}: no {field.upper()}-annotated training sentences")
    kept, dev = split_off(train, dev_fraction, seed) if len(train) >= 10 else (train, [])
    if not dev:
        kept, dev = train, train
    return {"train": kept, "dev": dev, "heldout": heldout}


def split_ner_data(spec: dict, lang: str, seed: int, dev_fraction: float) -> dict[str, list[Annotated]]:
    """:func:`split_data` of the NER layer."""
    return split_data(spec, lang, seed, dev_fraction, "ner")


# --------------------------------------------------------------------------- training
def _subsample(items: list, n: int, seed: int) -> list:
    import random

    if not n or n >= len(items):
        return items
    keep = sorted(random.Random(seed).sample(range(len(items)), n))
    return [items[i] for i in keep]


def train(base_dir: str | Path, data: dict[str, dict[str, list[Annotated]]], settings: dict, seed: int,
          out_dir: str | Path, progress: bool = True, scheme: Scheme = NER) -> dict:
    """Fine-tune a token classifier from ``base_dir`` on ``data[lang]['train']`` of every
    language (one model) to predict ``scheme``'s labels, select it by the mean of the scheme's
    dev score over the languages' dev sets (entity-level F1 for NER, accuracy for UPOS; early
    stopping after ``patience`` evaluations without improvement) and save it with the scheme's
    ``ner.json`` / ``pos.json`` in ``out_dir``. Returns that file's content (``dev_<metric>``:
    the best mean dev score; ``train_cpu_seconds``: the process's CPU time, a load-independent
    measure at one thread)."""
    import numpy as np
    import torch
    from tqdm import tqdm
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    from .device import BestOnDev, autocast, describe, optimizer_step, resolve_device, resolve_precision

    cfg = {**DEFAULTS, **settings}
    started, cpu_started = time.time(), time.process_time()
    metric = scheme.metric
    torch.manual_seed(seed)
    np.random.seed(seed)
    device = resolve_device(cfg["device"])
    precision = resolve_precision(cfg["precision"], device)
    tokenizer = AutoTokenizer.from_pretrained(str(base_dir))
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError(f"{base_dir}: the transformer tagger needs a fast tokenizer (word_ids)")
    labels = scheme.labels
    model = AutoModelForTokenClassification.from_pretrained(
        str(base_dir), num_labels=len(labels), id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)}).to(device)
    langs = sorted(data)
    train_sents = [s for lang in langs for s in _subsample(data[lang]["train"], cfg["max_train_sentences"], seed)]
    dev_sents = {lang: _subsample(data[lang]["dev"], cfg["max_dev_sentences"], seed) for lang in langs}
    train_examples = encode(tokenizer, [s.words for s in train_sents], [scheme.gold(s) for s in train_sents],
                            cfg["max_length"], scheme)
    dev_examples = {lang: encode(tokenizer, [s.words for s in sents], None, cfg["max_length"], scheme)
                    for lang, sents in dev_sents.items()}
    lengths = [len(e["input_ids"]) for e in train_examples]
    log.info("train: %d sentences (%d chunks, %d sub-words, longest %d) of %s; dev: %s; %s",
             len(train_sents), len(train_examples), sum(lengths), max(lengths), ",".join(langs),
             {lang: len(s) for lang, s in dev_sents.items()}, describe(device, precision))

    if cfg["freeze_embeddings"]:
        model.get_input_embeddings().weight.requires_grad_(False)
    n_layers = len(encoder_layers(model))
    start = n_layers - int(cfg["train_layers"]) if 0 < int(cfg["train_layers"]) < n_layers else 0
    top, cache, dev_cache = None, None, {}
    if start:
        # layers below `start` (and the embeddings) stay frozen: their output is computed once
        for module in (model.base_model.embeddings, *encoder_layers(model)[:start]):
            module.requires_grad_(False)
        top = TopLayers(model, start)
        cache = cache_lower(top, train_examples, tokenizer.pad_token_id, cfg["eval_batch_size"], device, precision,
                            progress)
        dev_cache = {lang: cache_lower(top, dev_examples[lang], tokenizer.pad_token_id, cfg["eval_batch_size"], device,
                                       precision) for lang in langs}
        log.info("layers 0-%d frozen and cached, %d trained (%.0f s)", start - 1, n_layers - start,
                 time.time() - started)
    head = {n for n, _ in model.named_parameters() if n.startswith("classifier.")}
    no_decay = ("bias", "LayerNorm.weight", "layer_norm", "norm.weight")
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    groups = [{"params": [p for n, p in trainable if (n in head) == is_head and any(k in n for k in no_decay) == nd],
               "weight_decay": 0.0 if nd else cfg["weight_decay"],
               "lr": cfg["head_learning_rate"] if is_head else cfg["learning_rate"]}
              for is_head in (False, True) for nd in (False, True)]
    optimizer = torch.optim.AdamW([g for g in groups if g["params"]])
    steps_per_epoch = math.ceil(len(train_examples) / cfg["batch_size"])
    total = max(1, steps_per_epoch * int(cfg["epochs"]))
    warmup = int(cfg["warmup_ratio"] * total)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: (step + 1) / max(1, warmup) if step < warmup
        else max(0.0, (total - step) / max(1, total - warmup)))
    generator = torch.Generator().manual_seed(seed)
    eval_every = int(cfg["eval_every"]) or steps_per_epoch

    def evaluate() -> dict:
        scores = {}
        for lang in langs:
            predicted = predict(model, dev_examples[lang], [len(s.words) for s in dev_sents[lang]],
                                tokenizer.pad_token_id, cfg["eval_batch_size"], device, precision,
                                top, dev_cache.get(lang), scheme)
            scores[lang] = scheme.score([scheme.gold(s) for s in dev_sents[lang]], predicted)
        return scores

    history, best_step, step, running, seen = [], 0, 0, 0.0, 0
    tracker = BestOnDev(cfg["patience"])
    step_seconds, step_sentences = 0.0, 0
    stop = False
    bar = tqdm(total=total, desc=f"{scheme.name} fine-tuning", disable=not progress, mininterval=10)
    for epoch in range(1, int(cfg["epochs"]) + 1):
        model.train()
        for batch in length_batches(lengths, cfg["batch_size"], generator, cfg["bucket_batches"]):
            tick = time.perf_counter()
            inputs = {k: v.to(device) for k, v in collate([train_examples[i] for i in batch], tokenizer.pad_token_id).items()}
            with autocast(device, precision):
                if top is not None:
                    hidden, mask = pad_hidden([cache[i] for i in batch])
                    logits = top.logits(hidden.to(device), mask.to(device))
                    loss = torch.nn.functional.cross_entropy(logits.float().flatten(0, 1), inputs["labels"].flatten(),
                                                             ignore_index=IGNORE)
                else:
                    loss = model(**inputs).loss
            loss.backward()
            optimizer_step(model, optimizer, scheduler, cfg["max_grad_norm"])
            step += 1
            running += float(loss.detach())
            step_seconds += time.perf_counter() - tick
            step_sentences += len({train_examples[i]["sentence"] for i in batch})
            seen += 1
            bar.update(1)
            if step % eval_every == 0 or step == total:
                scores = evaluate()
                mean = float(np.mean([scores[lang][metric] for lang in langs]))
                entry = {"step": step, "epoch": epoch, "train_loss": running / max(1, seen),
                         f"dev_{metric}": mean, "dev": {lang: round(scores[lang][metric], 4) for lang in langs},
                         "elapsed_s": round(time.time() - started, 1)}
                history.append(entry)
                running, seen = 0.0, 0
                log.info("step %d/%d epoch %d: loss %.4f, dev %s %s %.4f %s", step, total, epoch,
                         entry["train_loss"], scheme.name, metric, mean, entry["dev"])
                if tracker.update(mean, model):
                    best_step = step
                elif tracker.exhausted and step < total:
                    log.info("early stop at step %d: no dev improvement in %d evaluations", step, tracker.bad)
                    stop = True
                    break
                model.train()
        if stop:
            break
    bar.close()
    model.load_state_dict(tracker.state)
    train_seconds, train_cpu_seconds = time.time() - started, time.process_time() - cpu_started
    dev_scores = evaluate()
    check = predict(model, dev_examples[langs[0]], [len(s.words) for s in dev_sents[langs[0]]], tokenizer.pad_token_id,
                    cfg["eval_batch_size"], device, precision, scheme=scheme)   # the saved model itself, no cache
    dev_scores[langs[0]][f"{metric}_full_forward"] = scheme.score([scheme.gold(s) for s in dev_sents[langs[0]]],
                                                                  check)[metric]
    out_dir = Path(out_dir)
    model.save_pretrained(str(out_dir / "model"))
    tokenizer.save_pretrained(str(out_dir / "model"))
    info = {"scheme": scheme.name, "labels": list(labels), "languages": langs, "base": str(base_dir), "seed": seed,
            "settings": cfg, "run": describe(device, precision), "steps": step, "best_step": best_step,
            f"dev_{metric}": tracker.best, "dev": dev_scores, "history": history,
            "sizes": {"train_sentences": len(train_sents), "train_chunks": len(train_examples),
                      "dev_sentences": {lang: len(s) for lang, s in dev_sents.items()}},
            "train_seconds": round(train_seconds, 1),
            "train_cpu_seconds": round(train_cpu_seconds, 1),
            "train_step_seconds": round(step_seconds, 1),
            "train_sentences_per_s": round(step_sentences / max(step_seconds, 1e-9), 2)}
    with atomic_open(out_dir / scheme.info_file) as handle:
        import json

        json.dump(info, handle, indent=2, ensure_ascii=False)
    return info
