"""The numbers audit: every number in the text with its source; a number the project computed, typed by hand, fails
the build.

    mamlviz numbers [--all]     # the typed numbers (with --all, every number and its source)

Sources, in the order they are tried:
- measured / computed: a `{{measured:KEY:FORMAT}}` placeholder (measured.json, or `code.…` computed at build time);
- listed: a number of `content/numbers.toml`, under its page, with its kind and source: `published` (a paper's
  table; also traced by tests/test_published_numbers.py), `chosen` (a value the text picks: an example's
  coordinates, a figure's setting to try, the task family's definition), `reference` (a section or table of a paper);
- year: 1900–2099;
- plain: a whole number with at most two significant digits (counts, part numbers, settings such as 25 tasks or
  1,000 trials), and one-digit decimals (0.4, 0.01, 5.0): small enough to type, too coarse to drift unnoticed;
- otherwise the number is *typed*: three or more significant digits, or a decimal of two or more, that no source
  covers. That is what a computed number typed by hand looks like, and the build stops on it.

The text outside code: fenced and inline code, figure/code/widget lines, citations and placeholders are not prose
(their numbers come from elsewhere); inline and display maths are (a constant typed into a formula is still typed).
"""

from __future__ import annotations

import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .measured import PATTERN as PLACEHOLDER

KINDS = ("published", "chosen", "reference")
NUMBER = re.compile(r"(?<![\w.{,])(?:\d{1,3}(?:(?:,|\{,\})\d{3})+|\d+)(?:\.\d+)?(?![\w}])")
SKIP = [re.compile(p, re.S | re.M) for p in (
    r"^```.*?^```", r"`[^`\n]*`", r"^\[\[[^\]]*\]\]\s*$", r"\[@[^\]]*\]", r"<!--.*?-->", r"https?://\S+",
    r"\\(?:mathrm|operatorname|text)\{[^}]*\}")]


@dataclass
class Number:
    page: str
    line: int
    text: str      # as written (or the placeholder)
    source: str    # "measured KEY", "code KEY", "published …", "chosen …", "year", "plain", or "typed"

    @property
    def typed(self):
        return self.source == "typed"


def canonical(text):
    """1{,}761 and 1,761 → 1761."""
    return text.replace("{,}", "").replace(",", "")


def significant(text):
    digits = canonical(text).replace(".", "").lstrip("0")
    return len(digits.rstrip("0")) if "." not in text else len(digits)


def classify(text, listed):
    c = canonical(text)
    if c in listed:
        return listed[c]
    if "." not in c and 1900 <= int(c) <= 2099 and len(c) == 4:
        return "year"
    if ("." not in c and significant(text) <= 2) or ("." in c and significant(text) <= 1):
        return "plain"
    return "typed"


def blank(text, pattern):
    """The text with every match of `pattern` replaced by spaces (line numbers and columns kept)."""
    return pattern.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def audit_text(name, body, listed=None):
    """Every number of one page's Markdown `body`, in order, as Number(page, line, text, source)."""
    listed = {canonical(k): v for k, v in (listed or {}).items()}
    out = []
    for m in PLACEHOLDER.finditer(body):
        key = m.group(1)
        out.append(Number(name, body.count("\n", 0, m.start()) + 1, m.group(0),
                          f"{'code' if key.startswith('code.') else 'measured'} {key}"))
    text = blank(body, PLACEHOLDER)
    for pattern in SKIP:
        text = blank(text, pattern)
    for m in NUMBER.finditer(text):
        out.append(Number(name, text.count("\n", 0, m.start()) + 1, m.group(0), classify(m.group(0), listed)))
    return sorted(out, key=lambda n: n.line)


PLUS_MINUS_SAYS = re.compile(r"95 ?%|confidence interval|standard deviation|s\.d\.|\bSD\b", re.I)


def unexplained_plus_minus(body):
    """Line numbers of the ± that do not say what they are: a paragraph with a ± must name it (a 95 % interval, a
    standard deviation), and a table with one must be named in the paragraph just before it."""
    blocks, out = re.split(r"\n\s*\n", body), []
    line = 1
    for i, block in enumerate(blocks):
        if "±" in block:
            table = block.lstrip().startswith("|")
            context = (blocks[i - 1] if table and i else "") + block
            if not PLUS_MINUS_SAYS.search(context):
                out.append(line + block[:block.index("±")].count("\n"))
        line += block.count("\n") + 2   # approximately: blank lines between blocks
    return out


def load_listed(path):
    """content/numbers.toml: {page file name: {number: "kind: source"}}, each kind one of KINDS."""
    if not Path(path).exists():
        return {}
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    for page, numbers in data.items():
        for number, source in numbers.items():
            if source.split(":", 1)[0] not in KINDS:
                raise ValueError(f"{path}: [{page}] {number}: the source must start with one of {KINDS}")
    return data


def audit(pages, listed_path):
    """pages: [(file name, Markdown body)] → every Number of all of them."""
    listed = load_listed(listed_path)
    return [n for name, body in pages for n in audit_text(name, body, listed.get(name, {}))]


def report(numbers, everything=False):
    lines = [f"{n.page}:{n.line}: {n.text}  ←  {n.source}" for n in numbers if everything or n.typed]
    kinds = {}
    for n in numbers:
        kinds[n.source.split(" ")[0].rstrip(":")] = kinds.get(n.source.split(" ")[0].rstrip(":"), 0) + 1
    lines.append(f"{len(numbers)} numbers: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    return "\n".join(lines)


def main(argv):
    from . import find_root
    from .pages import read_parts

    root = find_root()
    parts = read_parts(root / "content")
    numbers = audit([(p.source.name, p.body) for p in parts], root / "content" / "numbers.toml")
    print(report(numbers, everything="--all" in argv))
    return 1 if any(n.typed for n in numbers) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
