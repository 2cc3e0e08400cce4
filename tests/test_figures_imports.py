"""Each part's figure module stands on the library and the shared module alone (issue 26): no figure module imports
another part's module, anywhere in it (top level or inside a function), so a reader changing Part 3 cannot break
Part 8. What two parts share lives in `figures/_common.py` or the library."""

from __future__ import annotations

import ast
from pathlib import Path

import mamlviz.figures

FIGURES = Path(mamlviz.figures.__file__).parent
MODULES = sorted(p.stem for p in FIGURES.glob("*.py") if p.stem != "__init__")


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, as an absolute dotted name (relative imports resolved within mamlviz.figures)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level == 1:
                base = "mamlviz.figures" + ("." + base if base else "")
            elif node.level > 1:
                base = "mamlviz" + ("." + base if base else "")
            out.add(base)
            out |= {f"{base}.{a.name}" for a in node.names}  # `from . import part3` names a module too
    return out


def part_modules_imported(name: str) -> set[str]:
    return {m for m in imported_modules(FIGURES / f"{name}.py")
            if m.startswith("mamlviz.figures.") and m.split(".")[2] in MODULES and m.split(".")[2] not in ("_common", name)}


def test_the_lister_sees_a_cross_part_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from .part3 import X_DENSE\ndef f():\n    from mamlviz.figures import part8\n    from . import part4\n")
    found = {m for m in imported_modules(bad) if m.startswith("mamlviz.figures.part")}
    assert {"mamlviz.figures.part3", "mamlviz.figures.part8", "mamlviz.figures.part4"} <= found


def test_no_figure_module_imports_another_parts_module():
    assert "part3" in MODULES and "_common" in MODULES
    crossing = {name: sorted(part_modules_imported(name)) for name in MODULES}
    assert not {k: v for k, v in crossing.items() if v}, f"figure modules importing another part's module: {crossing}"
