"""Generate ``cjk_radicals.tsv``: Kangxi radicals (U+2F00–2FD5) and CJK radicals supplement
(U+2E80–2EF3) → the unified ideograph a PDF text layer meant. Run once; the TSV is the source of
truth at run time (``assistant.ingest.pdf`` reads it) and is committed.

    .venv/bin/python assistant/data/make_cjk_radicals.py [FONT.ttc]  > assistant/data/cjk_radicals.tsv

Why a table: PDF producers (Chromium with Noto CJK among them) draw 長 with the glyph the font also
uses for ⻑ (U+2ED1), and the PDF's ToUnicode map names the radical. NFKC folds the Kangxi block
(``unicodedata.normalize``) but has no mapping for most of the supplement. Sources, in order:

1. ``font``: the unified ideograph that shares the radical's glyph in a Japanese CJK font's cmap
   (Noto Sans CJK JP by default; this is the exact cause of the problem). It comes first
   because it gives the Japanese form: ⼾ U+2F3E shares its glyph with 戸, while NFKC gives 戶;
2. ``nfkc``: the Unicode compatibility decomposition (all Kangxi radicals, ⺟ and ⻳);
3. ``name``: the Kangxi radical of the same name (``CJK RADICAL LONG ONE`` → KANGXI RADICAL LONG
   → 長), for radicals the font draws apart;
4. ``manual``: a few shapes checked by hand against Unicode's EquivalentUnifiedIdeograph.txt
   (not on this machine, so not read here).
Characters none of these map are left out (and listed on stderr).
"""

from __future__ import annotations

import struct
import sys
import unicodedata
from pathlib import Path

DEFAULT_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
RANGES = ((0x2E80, 0x2EF3), (0x2F00, 0x2FD5))
#: Checked by hand (EquivalentUnifiedIdeograph.txt): ⺆ 冂, ⺤ 爫, ⻆ 角, ⻌ 辶, ⻔ 门.
MANUAL = {0x2E86: 0x5182, 0x2EA4: 0x722B, 0x2EC6: 0x89D2, 0x2ECC: 0x8FB6, 0x2ED4: 0x95E8}
#: Punctuation drawn with the glyph of Japanese punctuation (‧ U+2027 for ・ in Noto CJK).
LOOKALIKES = (0x2027,)
UNIFIED = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2FFFF))


def _is_unified(cp: int) -> bool:
    return any(a <= cp <= b for a, b in UNIFIED)


def font_cmap(path: Path, face: str = "JP") -> dict[int, int]:
    """codepoint → glyph id from the format-12 cmap of the TTC face whose name mentions ``face``
    (the first face when none does)."""
    data = path.read_bytes()
    offsets = [0]
    if data[:4] == b"ttcf":
        n = struct.unpack(">I", data[8:12])[0]
        offsets = list(struct.unpack(f">{n}I", data[12:12 + 4 * n]))
    best: dict[int, int] = {}
    for off in offsets:
        num = struct.unpack(">H", data[off + 4:off + 6])[0]
        tables = {data[off + 12 + 16 * i:off + 16 + 16 * i].decode("latin-1"):
                  struct.unpack(">II", data[off + 20 + 16 * i:off + 28 + 16 * i]) for i in range(num)}
        name_off = tables["name"][0]
        is_face = face.encode("utf-16-be") in data[name_off:name_off + tables["name"][1]]
        cmap_off = tables["cmap"][0]
        count = struct.unpack(">H", data[cmap_off + 2:cmap_off + 4])[0]
        for i in range(count):
            plat, enc, sub = struct.unpack(">HHI", data[cmap_off + 4 + 8 * i:cmap_off + 12 + 8 * i])
            st = cmap_off + sub
            if (plat, enc) == (3, 10) and struct.unpack(">H", data[st:st + 2])[0] == 12:
                groups = struct.unpack(">I", data[st + 12:st + 16])[0]
                cmap: dict[int, int] = {}
                for g in range(groups):
                    a, b, gid = struct.unpack(">III", data[st + 16 + 12 * g:st + 28 + 12 * g])
                    for cp in range(a, b + 1):
                        cmap[cp] = gid + cp - a
                if is_face:
                    return cmap
                best = best or cmap
    return best


def radical_table(font: Path | None) -> tuple[list[tuple[int, int, str]], list[int]]:
    """([(radical, ideograph, method)], [radicals left unmapped])."""
    by_glyph: dict[int, list[int]] = {}
    cmap = font_cmap(font) if font and font.is_file() else {}
    for cp, gid in cmap.items():
        if _is_unified(cp):
            by_glyph.setdefault(gid, []).append(cp)
    kangxi = {unicodedata.name(chr(cp)).removeprefix("KANGXI RADICAL "): cp
              for cp in range(0x2F00, 0x2FD6) if unicodedata.name(chr(cp), "")}
    rows: list[tuple[int, int, str]] = []
    missing: list[int] = []
    for a, b in RANGES:
        for cp in range(a, b + 1):
            name = unicodedata.name(chr(cp), "")
            if not name:
                continue  # unassigned (U+2E9A)
            same = sorted(by_glyph.get(cmap.get(cp, -1), []))
            if same:
                rows.append((cp, same[0], "font"))
                continue
            nf = unicodedata.normalize("NFKC", chr(cp))
            if len(nf) == 1 and _is_unified(ord(nf)):
                rows.append((cp, ord(nf), "nfkc"))
                continue
            base = name.removeprefix("CJK RADICAL ")
            for suffix in (" ONE", " TWO", " THREE", " FOUR"):
                base = base.removesuffix(suffix)
            if base in kangxi:
                target = unicodedata.normalize("NFKC", chr(kangxi[base]))
                rows.append((cp, ord(target), "name"))
                continue
            if cp in MANUAL:
                rows.append((cp, MANUAL[cp], "manual"))
                continue
            missing.append(cp)
    japanese = {cmap[cp]: cp for cp in range(0x3000, 0x3100) if cp in cmap}
    for cp in LOOKALIKES:
        if cmap.get(cp) in japanese:
            rows.append((cp, japanese[cmap[cp]], "font"))
    return rows, missing


def main(argv: list[str]) -> int:
    font = Path(argv[1]) if len(argv) > 1 else DEFAULT_FONT
    rows, missing = radical_table(font)
    print("# radical\tideograph\tradical_cp\tideograph_cp\tmethod  (generated by make_cjk_radicals.py)")
    for cp, target, method in rows:
        print(f"{chr(cp)}\t{chr(target)}\tU+{cp:04X}\tU+{target:04X}\t{method}")
    if missing:
        print("unmapped: " + " ".join(f"U+{cp:04X} {chr(cp)} {unicodedata.name(chr(cp))}" for cp in missing),
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
