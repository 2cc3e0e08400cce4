"""First frames drawn at build time by the page's own renderer: `templates/assets/js/scene.js` under node.

One renderer, not two: scene → SVG text is written once, in JavaScript, DOM-free; the page uses it for every frame
and the build runs it here (one node process for the whole site) so that each figure's first frame is a drawn SVG
in the HTML, visible with JavaScript off. The figure placeholders leave a marker; `fill` replaces the markers.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).with_name("frames.mjs")
MARKER = "<!--mamlviz-frame:{}-->"


class FrameError(RuntimeError):
    pass


def node() -> str:
    found = shutil.which("node") or shutil.which("nodejs")
    if not found:
        raise FrameError("node is not installed: the build draws the first frames with it "
                         "(Debian: apt-get install nodejs; ./dev does it when run as root)")
    return found


def render(items: list[dict], scene_js: Path) -> list[str]:
    """[{id, scene, controls, state}] → the frame HTML of each, by scene.js's figureFrameHTML."""
    if not items:
        return []
    try:
        done = subprocess.run([node(), str(SCRIPT), str(Path(scene_js).resolve())], input=json.dumps(items),
                              capture_output=True, text=True, timeout=300, check=False)
    except (OSError, subprocess.SubprocessError) as e:
        raise FrameError(f"drawing the first frames with node failed: {e}") from e
    if done.returncode != 0:
        raise FrameError(f"drawing the first frames with node failed:\n{done.stderr.strip()}")
    return json.loads(done.stdout)


def fill(pages, scene_js: Path) -> None:
    """Replace every page's frame markers by the drawn frames (page.frames: marker token → item)."""
    work = [(page, token, item) for page in pages for token, item in page.frames.items()]
    for (page, token, _), html in zip(work, render([item for _, _, item in work], scene_js)):
        page.html = page.html.replace(MARKER.format(token), html)
