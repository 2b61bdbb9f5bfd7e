"""Build the web page's fallback CJK font (dev-time only).

Subsets the bundled-for-reports Noto Sans SC (SIL OFL 1.1; ../shared/data/fonts) to what the
interface needs — GB 2312 level-1 hanzi (the 3,755 common characters), GB 2312 symbols and
punctuation, ASCII, and every CJK character in the package's own strings and country names — and
writes it as WOFF2 to src/allweather/web/static/fonts/allweather-sc.woff2 (about 1.4 MB).

The stylesheet lists it after the system CJK fonts with a unicode-range, so a browser downloads
it only on machines without a Chinese font of their own.

Run: .venv/bin/python scripts/build_webfont.py [--shared ../shared]   (needs fonttools, brotli)
"""

from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "allweather"
OUT = SRC / "web" / "static" / "fonts"
CJK = re.compile(r"[\u2160-\u216f\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def gb2312_rows(first: int, last: int) -> set[str]:
    chars = set()
    for high in range(first, last + 1):
        for low in range(0xA1, 0xFF):
            try:
                chars.add(bytes([high, low]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return chars


def interface_characters() -> set[str]:
    """Every CJK character the package itself prints (labels, templates, country names)."""
    found: set[str] = set()
    for pattern in ("*.py", "*.html", "*.csv", "*.js"):
        for path in SRC.rglob(pattern):
            if "vendor" in path.parts:  # third-party code, not text we print
                continue
            found |= set(CJK.findall(path.read_text(encoding="utf-8")))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    args = parser.parse_args()
    fonts = args.shared / "data" / "fonts"
    text = gb2312_rows(0xA1, 0xA9) | gb2312_rows(0xB0, 0xD7) | interface_characters()
    text |= {chr(c) for c in range(0x20, 0x7F)} | set("·–—…“”‘’°±×÷")
    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = ["*"]
    options.notdef_outline = True
    font = TTFont(fonts / "NotoSansSC-Regular-subset.otf")
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(text)))
    subsetter.subset(font)
    OUT.mkdir(parents=True, exist_ok=True)
    font.flavor = "woff2"
    font.save(OUT / "allweather-sc.woff2")
    shutil.copy(fonts / "LICENSE-and-copyright.txt", OUT / "OFL-LICENSE.txt")
    print(f"{len(text)} characters → {(OUT / 'allweather-sc.woff2').stat().st_size} bytes")


if __name__ == "__main__":
    main()
