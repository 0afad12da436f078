"""Reading a chapter's prose the way the hygiene tests and the volume report need it.

``python tests/prose.py`` prints, per chapter, the Chinese characters of teaching prose, the ratio
to the printed textbook's chapter, the glued numbers and the numbered leaf sections that are short.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))

# Chinese characters of the textbook chapter's prose (code blocks excluded), measured on the printed
# edition by the review that filed issues 19/20 (derived from its per-chapter ratios); the book's own
# prose is compared against these.
TEXTBOOK_CJK = {
    "ch01": 10400,
    "ch02": 3260,
    "ch03": 4750,
    "ch04": 10900,
    "ch05": 8000,
    "ch06": 8600,
    "ch07": 6700,
    "ch08": 5230,
    "ch09": 8050,
    "ch10": 18850,
    "ch11": 10100,
    "ch12": 4790,
    "ch13": 8070,
    "ch14": 12000,
    "ch15": 3980,
}
MIN_RATIO = 0.60
MIN_LEAF_CJK = 80

CJK = re.compile(r"[\u4e00-\u9fff]")
FENCE = re.compile(r"^```(?!\{).*?^```\s*$", re.S | re.M)  # code fences; directive fences hold prose
DISPLAY_MATH = re.compile(r"\$\$.*?\$\$", re.S)
INLINE_MATH = re.compile(r"(?<!\\)\$[^$\n]+?\$")
ROLE = re.compile(r"\{([\w:-]+)\}`[^`]*`")
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK_TARGET = re.compile(r"\]\([^)]*\)")
HTML = re.compile(r"<!--.*?-->|<[^>\n]+>", re.S)
HEADING = re.compile(r"^(#{1,6})\s+(.*)$", re.M)
SECTION_NO = re.compile(r"^(?:第\s*)?((?:\d+|[A-Z])(?:\.\d+)+)\b")


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def markdown_cells(nb: dict) -> list[str]:
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]


def prose_only(md: str) -> str:
    """Markdown without code, maths, roles, inline code, link targets and HTML."""
    for pattern in (FENCE, DISPLAY_MATH, INLINE_MATH, ROLE, INLINE_CODE, LINK_TARGET, HTML):
        md = pattern.sub(" ", md)
    return md


def cjk_count(text: str) -> int:
    return len(CJK.findall(text))


def chapter_volume(nb: dict) -> int:
    return sum(cjk_count(prose_only(HEADING.sub(" ", md))) for md in markdown_cells(nb))


def sections(nb: dict) -> list[tuple[str, int, int]]:
    """Numbered sections as (number, heading level, CJK characters of the prose under the heading)."""
    out: list[list] = []
    for md in markdown_cells(nb):
        pos = 0
        for m in HEADING.finditer(md):
            if out:
                out[-1][2] += cjk_count(prose_only(md[pos : m.start()]))
            number = SECTION_NO.match(m.group(2).strip())
            out.append([number.group(1) if number else None, len(m.group(1)), 0])
            pos = m.end()
        if out:
            out[-1][2] += cjk_count(prose_only(md[pos:]))
    return [tuple(s) for s in out]


def short_leaf_sections(nb: dict) -> list[tuple[str, int]]:
    """Numbered sections without numbered subsections whose own prose is under MIN_LEAF_CJK."""
    secs = [s for s in sections(nb) if s[0]]
    numbers = {s[0] for s in secs}
    short = []
    for number, _level, chars in secs:
        is_leaf = not any(other.startswith(number + ".") for other in numbers)
        if is_leaf and chars < MIN_LEAF_CJK:
            short.append((number, chars))
    return short


def glue_roles(nb: dict) -> list[str]:
    keys = []
    for md in markdown_cells(nb):
        for m in re.finditer(r"\{glue(?::\w+)?\}`([^`]+)`", md):
            keys.append(m.group(1).split(":")[0].strip())
    return keys


def glued_keys(nb: dict) -> set[str]:
    keys = set()
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            name = out.get("metadata", {}).get("scrapbook", {}).get("name")
            if name:
                keys.add(name)
    return keys


# --- numbers in prose -------------------------------------------------------------------------
# A result-like number: a decimal, a percentage, a multiple, a duration or a size.
RESULT_NUMBER = re.compile(
    r"(?<![\w.])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\s*(?:%|％|倍|秒|分钟|小时|MB|GB|KB|MiB|GFLOP/s|GFLOP))"
    r"|(?<![\w.])\d+\.\d+"
    r"|[一二两三四五六七八九十几]+\s*(?:分钟|小时)"
)
# Plainly structural: section/figure/table/equation numbers and software versions.
STRUCTURAL = re.compile(
    r"(?:第|图|表|式|节|习题|例|教材|章)\s*\(?\d+(?:\.\d+)+\)?(?:\s*[、，,和与及–-]\s*\d+(?:\.\d+)+)*(?![\d.]*\s*[%％倍])"
    r"|\d+(?:\.\d+)+\s*(?:节|小节|章)"
    r"|\b\d+\.\d+\.\d+(?:\.\d+)*\b|arXiv:\s*\d+\.\d+"
    r"|(?:TensorFlow|TF|Keras|Python|Jupyter\s*Book|NumPy|CUDA|cuDNN|Gymnasium|PyTorch|Sphinx|pandas|"
    r"scikit-learn|版本|v)\s*\d+(?:\.\d+)*[+x]?(?:\s*(?:–|-|~|到|至)\s*\d+(?:\.\d+)*)?",
    re.I,
)


def code_literals(nb: dict) -> set[str]:
    """Number literals in the chapter's code: hyper-parameters the code sets may be named in prose."""
    found: set[str] = set()
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            found.update(re.findall(r"\d+(?:\.\d+)?", "".join(cell["source"])))
    return found


def stray_numbers(nb: dict) -> list[str]:
    """Result-like numbers in prose that are neither glued, nor marked {textbook}, nor structural."""
    literals = code_literals(nb)
    hits = []
    for md in markdown_cells(nb):
        text = "\n".join(line for line in md.splitlines() if not line.lstrip().startswith("#"))
        for pattern in (FENCE, ROLE, INLINE_CODE, LINK_TARGET, HTML):
            text = pattern.sub(" ", text)
        text = text.replace("$", " ")  # maths is read too: a result typed into a formula counts
        text = STRUCTURAL.sub(" ", text)
        for m in RESULT_NUMBER.finditer(text):
            token = m.group(0)
            digits = token.replace(".", "").lstrip("0")
            if token in literals and len(digits.rstrip("0")) <= 2:
                continue  # a hyper-parameter the chapter's code sets (0.01, 0.5, 2.5)
            start = max(0, m.start() - 25)
            hits.append(text[start : m.end() + 10].replace("\n", " "))
    return hits


def report() -> None:
    print(
        f"{'chapter':10} {'prose':>6} {'textbook':>8} {'ratio':>6} {'glued':>6} {'stray':>6}"
        f"  short leaf sections (< {MIN_LEAF_CJK})"
    )
    for path in CHAPTERS:
        nb = load(path)
        prefix = path.stem.split("_")[0]
        vol = chapter_volume(nb)
        tb = TEXTBOOK_CJK.get(prefix)
        ratio = f"{vol / tb:6.0%}" if tb else "     —"
        short = short_leaf_sections(nb)
        print(
            f"{prefix:10} {vol:6d} {tb or 0:8d} {ratio} {len(set(glue_roles(nb))):6d} {len(stray_numbers(nb)):6d}  "
            + ", ".join(f"{n}({c})" for n, c in short)
        )


if __name__ == "__main__":
    import sys

    if len(sys.argv) > 1:  # python tests/prose.py ch05: list that chapter's stray numbers
        for path in CHAPTERS:
            if path.stem.split("_")[0] in sys.argv[1:]:
                for hit in stray_numbers(load(path)):
                    print(f"{path.stem}: …{hit}…")
    else:
        report()
