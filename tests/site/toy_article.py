"""A two-part toy article in a temporary folder (used by tests/site and tests/browser), built without the real content (style: assert on files,
links, anchors and previous/next, not whole-page snapshots)."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path


REPO = Path(__file__).resolve().parents[2]

PART1 = """\
---
part: 1
title: First toy part
description: The first of two toy parts.
---

## Maths and citations

Inline $\\hat{\\theta}_i = \\|x\\|_2$ and display:

$$\\sum_{i=1}^{n} \\frac{a_i}{b} + \\mathcal{L}_\\tau \\begin{pmatrix} 1 & 0 \\\\ 0 & 1 \\end{pmatrix}$$

MAML [@finn2017] and Reptile [@nichol2018; @finn2017]. A price of \\$5 and `$not maths$` in code.

| a | b |
|---|---|
| 1 | 2 |

A footnote.[^1]

[^1]: The note.

[[figure demo-descent]]

### A subsection {#custom-id}

[[code mamlviz.figures.demo.gradient]]

```python
x = "$not maths$"
```
"""

PART2 = """\
---
part: 2
title: Second toy part
description: The second of two toy parts.
---

## The reader's widgets

[[widget test-widget]]

Cites [@nichol2018] only.
"""

BIB = """\
@article{finn2017, author = {Chelsea Finn and Pieter Abbeel and Sergey Levine}, title = {Model-Agnostic
  Meta-Learning}, journal = {ICML}, year = {2017}, url = {https://arxiv.org/abs/1703.03400}}
@article{nichol2018, author = {Alex Nichol and Joshua Achiam and John Schulman}, title = {On First-Order
  Meta-Learning Algorithms}, journal = {arXiv}, year = {2018}}
@article{uncited2020, author = {Some One}, title = {Never Cited}, journal = {Nowhere}, year = {2020}}
"""

WIDGET_JS = """\
export function mount(element, data) {
  const p = document.createElement("p");
  p.className = "test-widget-output";
  p.textContent = `widget says ${data.greeting} ${data.numbers.length}`;
  element.append(p);
}
"""


def make_toy_project(folder: Path):
    """Write the toy article (content, bib, templates copied from the repository plus a test widget)."""
    from mamlviz import figures
    from mamlviz.site import Project

    (folder / "content").mkdir(parents=True)
    (folder / "content" / "01-first.md").write_text(PART1)
    (folder / "content" / "02-second.md").write_text(PART2)
    (folder / "content" / "references.bib").write_text(BIB)
    shutil.copytree(REPO / "templates", folder / "templates",
                    ignore=shutil.ignore_patterns("widgets"))
    (folder / "templates" / "assets" / "js" / "widgets").mkdir(parents=True, exist_ok=True)
    (folder / "templates" / "assets" / "js" / "widgets" / "test-widget.js").write_text(WIDGET_JS)
    figures.widget("test-widget")(lambda: {"greeting": "hello", "numbers": list(range(5))})
    return Project.at(folder)


