"""Read the parts: front matter (`part`, `title`, `description`) and Markdown body."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)
REQUIRED = ("part", "title", "description")


class FrontMatterError(ValueError):
    pass


@dataclass
class Page:
    source: Path
    part: int
    title: str
    description: str
    body: str
    slug: str
    html: str = ""
    toc: list = field(default_factory=list)  # [{id, name}] of the h2 headings
    figures: list = field(default_factory=list)
    frames: dict = field(default_factory=dict)  # first frames to draw into the HTML (site.frames)
    widgets: list = field(default_factory=list)
    cited: list = field(default_factory=list)
    bibliography: list = field(default_factory=list)  # [(number, key, html)]
    prev: "Page | None" = None
    next: "Page | None" = None

    @property
    def url(self) -> str:
        return f"{self.slug}.html"


def parse(path: Path) -> Page:
    text = path.read_text(encoding="utf-8")
    m = FRONT.match(text)
    if not m:
        raise FrontMatterError(f"{path}: no front matter (a block between '---' lines)")
    meta = {}
    for line in m.group(1).splitlines():
        if line.strip():
            key, sep, value = line.partition(":")
            if not sep:
                raise FrontMatterError(f"{path}: front matter line {line!r} is not 'key: value'")
            meta[key.strip()] = value.strip()
    missing = [k for k in REQUIRED if not meta.get(k)]
    if missing:
        raise FrontMatterError(f"{path}: front matter lacks {', '.join(missing)}")
    try:
        part = int(meta["part"])
    except ValueError:
        raise FrontMatterError(f"{path}: part {meta['part']!r} is not a number") from None
    return Page(source=path, part=part, title=meta["title"], description=meta["description"],
                body=text[m.end():], slug=path.stem)


def read_parts(content: Path) -> list[Page]:
    pages = sorted((parse(p) for p in Path(content).glob("*.md")), key=lambda p: p.part)
    seen = {}
    for p in pages:
        if p.part in seen:
            raise FrontMatterError(f"{p.source}: part {p.part} also in {seen[p.part].source}")
        seen[p.part] = p
    if not pages:
        raise FrontMatterError(f"{content}: no parts (*.md files)")
    return pages
