"""Every Chinese character the interface prints exists in the bundled web font."""

import re
from pathlib import Path

from fontTools.ttLib import TTFont

SRC = Path(__file__).resolve().parents[2] / "src" / "allweather"
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def test_web_font_covers_the_interface_and_country_names():
    cmap = TTFont(SRC / "web" / "static" / "fonts" / "allweather-sc.woff2").getBestCmap()
    used: set[str] = set()
    for pattern in ("*.py", "*.html", "*.csv", "*.js"):
        for path in SRC.rglob(pattern):
            if "vendor" in path.parts:  # third-party code, not text we print
                continue
            used |= set(CJK.findall(path.read_text(encoding="utf-8")))
    missing = sorted(ch for ch in used if ord(ch) not in cmap)
    assert len(used) > 500
    assert missing == [], f"run scripts/build_webfont.py; missing: {''.join(missing)}"
