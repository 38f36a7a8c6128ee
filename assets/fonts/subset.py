#!/usr/bin/env python3
"""Builds assets/fonts/benglema-sans.ttf, the CJK font benglema draws its plots with.

It is a subset of WenQuanYi Micro Hei 0.2.0-beta (文泉驿微米黑; the WenQuanYi Project, built on
Google's Droid Sans Fallback, Droid Sans and Droid Sans Mono; dual-licensed Apache-2.0 or
GPL-3+ with font exception, used here under Apache-2.0), as shipped by Debian's
`fonts-wqy-microhei` package. The full font (wqy-microhei.ttc, about 5 MB) is not committed;
this script keeps face 0 (WenQuanYi Micro Hei, proportional) and only the characters
benglema can be expected to draw:

- printable ASCII, Latin-1, general punctuation, arrows and a few math signs;
- CJK symbols and punctuation (U+3000-303F) and the full-width forms (U+FF00-FFEF);
- every character of GB2312 (levels 1 and 2: 6,763 hanzi, plus its symbols, kana, Greek
  and Cyrillic), enumerated with Python's gb2312 codec;
- every character that appears in the repository's models, labels, posts, seed articles,
  the simulator's templates and the report crate's own labels.

A character outside this set is drawn as its code point (`U+XXXX`), never as a box: see
crates/report/src/font.rs.

Usage (needs fonttools: `pip install fonttools`):

    apt-get download fonts-wqy-microhei && dpkg-deb -x fonts-wqy-microhei_*.deb /tmp/wqy
    python3 assets/fonts/subset.py /tmp/wqy/usr/share/fonts/truetype/wqy/wqy-microhei.ttc

Run it from anywhere; paths are relative to the repository root (two levels up).
"""

import pathlib
import sys

from fontTools import subset
from fontTools.ttLib import TTFont

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "assets" / "fonts" / "benglema-sans.ttf"


def gb2312_chars():
    """Every character GB2312 encodes (rows 0xA1-0xF7, columns 0xA1-0xFE)."""
    chars = set()
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.add(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return chars


def repo_chars():
    """Every character of the repository's text data and label sources."""
    patterns = [
        "models/*.toml",
        "models/*.txt",
        "data/**/*.csv",
        "data/posts/*.jsonl",
        "data/seeds/*",
        "crates/synth/src/**/*.rs",
        "crates/report/src/**/*.rs",
    ]
    chars = set()
    for pattern in patterns:
        for path in sorted(ROOT.glob(pattern)):
            if path.is_file():
                chars.update(path.read_text(encoding="utf-8", errors="ignore"))
    return chars


def wanted():
    ranges = [
        (0x20, 0x7E),  # ASCII
        (0xA0, 0xFF),  # Latin-1
        (0x2000, 0x206F),  # general punctuation
        (0x2190, 0x21FF),  # arrows
        (0x2212, 0x2212),  # minus sign
        (0x2264, 0x2265),  # <= >=
        (0x25A0, 0x25FF),  # geometric shapes (legend marks)
        (0x3000, 0x303F),  # CJK symbols and punctuation
        (0xFF00, 0xFFEF),  # half- and full-width forms
    ]
    chars = set()
    for lo, hi in ranges:
        chars.update(chr(c) for c in range(lo, hi + 1))
    chars |= gb2312_chars()
    chars |= repo_chars()
    return {ord(c) for c in chars if c.isprintable() or c == "\u3000"}


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    source = sys.argv[1]
    codepoints = wanted()
    font = TTFont(source, fontNumber=0)
    cmap = font.getBestCmap()
    present = sorted(c for c in codepoints if c in cmap)
    missing = sorted(c for c in codepoints if c not in cmap)
    options = subset.Options()
    options.hinting = False
    options.layout_features = []
    options.name_IDs = ["*"]
    options.name_legacy = True
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.recalc_bounds = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=present)
    subsetter.subset(font)
    # Say in the font itself that it is a modified subset (Apache-2.0 section 4b).
    for record in font["name"].names:
        if record.nameID == 5:
            version = record.toUnicode()
            record.string = version + "; benglema subset (assets/fonts/subset.py)"
    font.save(OUT)
    print(f"{OUT.relative_to(ROOT)}: {len(present)} characters, {OUT.stat().st_size} bytes")
    from_repo = sorted(ord(c) for c in repo_chars() if c.isprintable() and ord(c) not in cmap)
    if from_repo:
        shown = " ".join(chr(c) for c in from_repo)
        print(f"{len(from_repo)} characters of the repository are not in the source font: {shown}")
    if missing:
        shown = " ".join(f"U+{c:04X}" for c in missing[:40])
        print(f"{len(missing)} wanted characters are not in the source font: {shown} ...")


if __name__ == "__main__":
    main()
