"""Measured numbers in the text: `{{measured:KEY}}` or `{{measured:KEY:FORMAT}}` → a value of
src/mamlviz/data/measured.json (written by bench/measured.py), formatted with Python's format spec.

KEY is a dotted path into the file (`browser.ms_per_update.maml`, `browser.cost_load.0`; list items by index), so a
new run of the benchmark updates every number the text prints at the next build. A key the file lacks (or a missing
file) is printed as "(not measured)" and listed in `MeasuredExtension.missing`, not an error: the benchmark builds
the site before it has measured anything. tests/site/test_content.py requires every key of the text to be there.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor

import mamlviz

DATA = Path(mamlviz.__file__).parent / "data" / "measured.json"
# Other recorded runs, each under its own first key: {{measured:glyph_race.median.maml.own.-1:.1%}} reads
# data/glyph_race.json (bench/glyph_race.py).
FILES = {"glyph_race": DATA.parent / "glyph_race.json"}
PATTERN = re.compile(r"\{\{measured:([\w.\-]+)(?::([^}]*))?\}\}")


class MeasuredError(KeyError):
    pass


class NotMeasured(MeasuredError):
    """The file lacks the key (or the file is missing): not measured yet."""


def lookup(data, key: str):
    value = data
    for part in key.split("."):
        try:
            value = value[int(part)] if isinstance(value, list) else value[part]
        except (KeyError, IndexError, ValueError, TypeError):
            raise NotMeasured(f"no measured value {key!r} in {DATA.name} (run bench/measured.py)") from None
    return value


def render(data, key: str, spec: str | None) -> str:
    value = lookup(data, key)
    if isinstance(value, (dict, list)):
        raise MeasuredError(f"measured value {key!r} is not a number or text")
    text = format(value, spec or "")
    return text.replace("-", "−") if isinstance(value, (int, float)) else text   # a typographic minus in numbers


class MeasuredPreprocessor(Preprocessor):
    def __init__(self, md, ext):
        super().__init__(md)
        self.ext = ext

    def run(self, lines):
        return [PATTERN.sub(self.sub, line) for line in lines]

    def sub(self, m):
        try:
            return render(self.ext.data(), m.group(1), m.group(2))
        except NotMeasured:
            self.ext.missing.append(m.group(1))
            return "(not measured)"


class MeasuredExtension(Extension):
    def __init__(self, path: Path = DATA, **kwargs):
        super().__init__(**kwargs)
        self.path = Path(path)
        self._data = None
        self.missing: list[str] = []

    def data(self):
        if self._data is None:
            try:
                self._data = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                raise NotMeasured(f"{self.path} is missing or unreadable (run bench/measured.py)") from None
            for key, path in FILES.items():
                if path.exists():
                    self._data[key] = json.loads(path.read_text(encoding="utf-8"))
        return self._data

    def extendMarkdown(self, md):
        md.preprocessors.register(MeasuredPreprocessor(md, self), "measured", 35)   # before maths (21)
