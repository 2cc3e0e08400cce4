"""Citations: `[@key]` or `[@a; @b]` → numbered links to the bibliography at the end of the part.

Numbers follow the order of first citation in the text of a part, as it is read (`NumberInReadingOrder` numbers
the citations once the whole page is parsed: Markdown's inline patterns do not visit the paragraphs in reading
order, e.g. inside lists); `CitationExtension.cited` lists the keys in that order and the build renders the
bibliography from it (`format_entry`).
"""

from __future__ import annotations

import html
import re
import unicodedata
import xml.etree.ElementTree as etree
from pathlib import Path

import bibtexparser
from markdown.extensions import Extension
from markdown.inlinepatterns import InlineProcessor
from markdown.treeprocessors import Treeprocessor

CITE = r"\[((?:@[\w:.\-]+\s*;?\s*)+)\]"


class CitationError(KeyError):
    pass


# LaTeX accent commands → Unicode combining marks: {\'o}, \'{o}, \"u, \c{c}, \v s … become ó, ó, ü, ç, š.
ACCENTS = {"'": "\u0301", "`": "\u0300", "^": "\u0302", '"': "\u0308", "~": "\u0303", "=": "\u0304",
           ".": "\u0307", "u": "\u0306", "v": "\u030c", "H": "\u030b", "c": "\u0327", "k": "\u0328"}
ACCENT = re.compile(r"\{?\\(['`^\"~=.]|[uvHck](?![a-zA-Z]))\s*\{?([a-zA-Z])\}?\}?")


def unlatex(value: str) -> str:
    """A BibTeX field as text: accents as Unicode, braces dropped; any other TeX command is an error."""
    value = ACCENT.sub(lambda m: unicodedata.normalize("NFC", m.group(2) + ACCENTS[m.group(1)]), value)
    value = re.sub(r"[{}]", "", value).strip()
    if "\\" in value:
        raise ValueError(f"TeX left in a bibliography field: {value!r}")
    return value


def load_bib(path: Path) -> dict[str, dict[str, str]]:
    """key → {field: value} as text (LaTeX accents as Unicode, braces stripped), in file order."""
    library = bibtexparser.parse_string(Path(path).read_text(encoding="utf-8"))
    if library.failed_blocks:
        raise ValueError(f"{path}: cannot parse {len(library.failed_blocks)} BibTeX block(s)")
    out = {}
    for entry in library.entries:
        fields = {f.key.lower(): unlatex(str(f.value)) for f in entry.fields}
        fields["ENTRYTYPE"] = entry.entry_type
        out[entry.key] = fields
    return out


def _authors(names: str) -> str:
    people = []
    for name in re.split(r"\s+and\s+", names):
        if "," in name:  # "Last, First" → "First Last"
            last, first = (s.strip() for s in name.split(",", 1))
            name = f"{first} {last}"
        people.append(name.strip())
    if len(people) > 2:
        return ", ".join(people[:-1]) + ", and " + people[-1]
    return " and ".join(people)


def format_entry(fields: dict[str, str]) -> str:
    """One bibliography entry as HTML: authors, title, venue, year, link."""
    e = html.escape
    parts = []
    if "author" in fields:
        parts.append(e(_authors(fields["author"])) + ".")
    title = e(fields.get("title", ""))
    if fields.get("url"):
        title = f'<a href="{e(fields["url"])}">{title}</a>'
    parts.append(f"<cite>{title}</cite>.")
    venue = fields.get("journal") or fields.get("booktitle") or fields.get("publisher") or fields.get("howpublished")
    if venue:
        parts.append(e(venue) + ",")
    parts.append(e(fields.get("year", "n.d.")) + ".")
    return " ".join(parts)


class CiteProcessor(InlineProcessor):
    def __init__(self, pattern, ext):
        super().__init__(pattern)
        self.ext = ext

    def handleMatch(self, m, data):
        keys = [k.strip().lstrip("@") for k in m.group(1).split(";") if k.strip()]
        span = etree.Element("span", {"class": "cite"})
        span.text = "["
        for i, key in enumerate(keys):
            if key not in self.ext.bib:
                raise CitationError(f"unknown citation key {key!r}")
            a = etree.SubElement(span, "a", {"href": f"#ref-{key}", "class": "cite-ref",
                                             "title": self.ext.bib[key].get("title", key)})
            a.text = key   # numbered by NumberInReadingOrder
            a.tail = ", " if i < len(keys) - 1 else "]"
        return span, m.start(0), m.end(0)


class NumberInReadingOrder(Treeprocessor):
    """Number the citation links in document order (first citation of a key gives its number)."""

    def __init__(self, md, ext):
        super().__init__(md)
        self.ext = ext

    def run(self, root):
        for a in root.iter("a"):
            if a.get("class") == "cite-ref":
                key = a.text
                if key not in self.ext.cited:
                    self.ext.cited.append(key)
                a.text = str(self.ext.cited.index(key) + 1)


class CitationExtension(Extension):
    def __init__(self, bib: dict[str, dict[str, str]], **kwargs):
        super().__init__(**kwargs)
        self.bib = bib
        self.cited: list[str] = []

    def extendMarkdown(self, md):
        md.registerExtension(self)
        md.inlinePatterns.register(CiteProcessor(CITE, self), "citations", 175)
        md.treeprocessors.register(NumberInReadingOrder(md, self), "citation-numbers", 15)  # after "inline" (20)

    def reset(self):
        self.cited = []
