"""The static-site build, top to bottom as the pipeline:

read parts and front matter → render Markdown (measured numbers, maths, citations, code inclusion, figure and widget
placeholders, which compute each figure's first scene natively) → draw the first frames (scene.js under node)
→ navigation with previous/next →
templates → vendored assets (page assets, the mamlviz zip, Pyodide) → write `site/`.

Every page is gathered before anything is written. Unknown figure ids, code names or cite keys stop the build
with a message naming the file.
"""

from __future__ import annotations

import html
import shutil
from dataclasses import dataclass
from pathlib import Path

import jinja2
import markdown

from mamlviz import figures

from . import about, audit, bundle, codestyle, csp, frames, offline, pages as pages_mod, vendor, vendor_npm
from .citations import CitationError, CitationExtension, format_entry, load_bib
from .codeinclude import CodeIncludeError, CodeIncludeExtension
from .maths import MathError, MathExtension
from .measured import MeasuredError, MeasuredExtension
from .pages import Page
from .placeholders import FigureExtension, PlaceholderError, WidgetExtension

SITE_TITLE = "MAML, live"


class BuildError(RuntimeError):
    pass


@dataclass
class Project:
    """Where things are. `Project.at(root)` is the repository layout."""

    content: Path
    templates: Path
    bib: Path
    out: Path

    @classmethod
    def at(cls, root: Path, out: Path | None = None) -> "Project":
        root = Path(root)
        return cls(root / "content", root / "templates", root / "content" / "references.bib", out or root / "site")


def find_root(start: Path | None = None) -> Path:
    """The folder holding content/ and templates/: the current folder or one above it."""
    here = Path(start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if (d / "content").is_dir() and (d / "templates").is_dir():
            return d
    raise BuildError(f"no content/ and templates/ folders in {here} or above it")


def markdown_renderer(bib: dict) -> tuple[markdown.Markdown, dict]:
    ext = {"cite": CitationExtension(bib), "figures": FigureExtension(), "widgets": WidgetExtension()}
    md = markdown.Markdown(extensions=[
        "tables", "footnotes", "attr_list", "md_in_html", "fenced_code",
        "codehilite", "smarty", "toc", MathExtension(), MeasuredExtension(), CodeIncludeExtension(), *ext.values()],
        extension_configs={
            "codehilite": {"css_class": "codehilite", "guess_lang": False},
            "toc": {"permalink": "#", "permalink_title": "Link to this section", "toc_depth": "2-3"},
        }, output_format="html")
    return md, ext


def render_pages(parts: list[Page], bib: dict) -> dict[str, str]:
    """Markdown → HTML for every part; returns widget data files to write."""
    md, ext = markdown_renderer(bib)
    data_files = {}
    for page in parts:
        md.reset()
        try:
            # a wide table scrolls sideways on a phone (site.css): focusable, so that keys scroll it as well
            page.html = md.convert(page.body).replace("<table>", '<table tabindex="0">')
        except (CitationError, PlaceholderError, CodeIncludeError, MathError, MeasuredError) as e:
            msg = e.args[0] if e.args else str(e)
            raise BuildError(f"{page.source}: {msg}") from e
        # a token's name is HTML already ("game&rsquo;s" from smarty); the template escapes it again: plain text here
        page.toc = [{"id": t["id"], "name": html.unescape(t["name"])} for t in md.toc_tokens if t["level"] == 2]
        page.figures = list(ext["figures"].used)
        page.frames = dict(ext["figures"].frames)
        page.widgets = list(ext["widgets"].used)
        page.cited = list(ext["cite"].cited)
        data_files.update(ext["widgets"].data_files)
    # The bibliography: cited entries in order of first citation; the last part lists the whole file.
    for page in parts:
        keys = list(page.cited)
        if page is parts[-1]:
            keys += [k for k in bib if k not in keys]
        page.bibliography = [(i + 1, k, format_entry(bib[k])) for i, k in enumerate(keys)]
    return data_files


def link_navigation(parts: list[Page]) -> None:
    for before, after in zip(parts, parts[1:]):
        before.next, after.prev = after, before


def render_templates(project: Project, parts: list[Page], info: about.SiteInfo) -> dict[str, str]:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(project.templates), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    common = {"site_title": SITE_TITLE, "parts": parts, "csp": csp.POLICY, **info.template_vars()}
    out = {p.url: env.get_template("part.html").render(page=p, **common) for p in parts}
    out["index.html"] = env.get_template("index.html").render(page=None, **common)
    out["about.html"] = env.get_template("about.html").render(page=None, about_page=True, **common)
    return out


STYLESHEETS = ("site.css", "figures.css", "widgets.css", "pygments.css")  # in the cascade's order


def join_stylesheets(folder: Path) -> Path:
    """One style sheet, `style.css`, instead of four: a single render-blocking request before the first paint."""
    text = "\n".join(f"/* {name} */\n" + (folder / name).read_text(encoding="utf-8") for name in STYLESHEETS)
    for name in STYLESHEETS:
        (folder / name).unlink()
    (folder / "style.css").write_text(text, encoding="utf-8")
    return folder / "style.css"


def build(project: Project, *, pyodide: bool = True, log=print, check_numbers: bool = True) -> Path:
    # 1. read parts and front matter
    try:
        parts = pages_mod.read_parts(project.content)
    except pages_mod.FrontMatterError as e:
        raise BuildError(str(e)) from e
    numbers = audit.audit([(p.source.name, p.body) for p in parts], project.content / "numbers.toml")
    if check_numbers and any(n.typed for n in numbers):   # a computed number typed by hand: it must come through the build
        raise BuildError("numbers typed by hand (use {{measured:…}}, or list a published or chosen number in "
                         "content/numbers.toml; mamlviz numbers --all lists them all):\n"
                         + audit.report(numbers))
    for page in parts:
        for line in audit.unexplained_plus_minus(page.body):
            raise BuildError(f"{page.source}: a ± that does not say what it is (a 95 % interval? a standard "
                             f"deviation?) near line {line} of the text")
    bib = load_bib(project.bib)
    figures.load_all()
    # 2. Markdown (first frames of the figures are computed here, natively)
    data_files = render_pages(parts, bib)
    try:  # the first frames, drawn by the page's own renderer (scene.js) under node
        frames.fill(parts, project.templates / "assets" / "js" / "scene.js")
    except frames.FrameError as e:
        raise BuildError(str(e)) from e
    # 3. navigation
    link_navigation(parts)
    # 4. vendored assets (obtained before anything is written, so a failure leaves site/ as it was)
    cache = vendor.ensure_pyodide(log=log) if pyodide else None
    font = vendor_npm.ensure(vendor_npm.MATH_FONT, log=log) if pyodide else None  # the maths font, with the runtime
    # 5. templates (the footer and the About page name the version, licences and what step 4 vendored)
    info = about.SiteInfo.of(project.content.parent, cache, font)
    html_files = render_templates(project, parts, info)
    # 6. write
    out = project.out
    out.mkdir(parents=True, exist_ok=True)
    for name, text in {**html_files, **data_files}.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(text, encoding="utf-8")
    shutil.rmtree(out / "assets", ignore_errors=True)
    shutil.copytree(project.templates / "assets", out / "assets")
    (out / "assets" / "css" / "pygments.css").write_text(codestyle.pygments_css())
    join_stylesheets(out / "assets" / "css")
    bundle.write_zip(out / "mamlviz.zip", pyodide=cache)   # with bytecode compiled by this Pyodide
    bundle.write_lazy(out)
    if cache:
        vendor.copy_into(out, cache)
    if font:
        vendor_npm.copy_math_font(out, font)
    info.write_notices(out)
    (out / ".nojekyll").write_text("")
    offline.write(out, project.templates / "sw.js")  # last: the manifest hashes every file written above
    log(f"built {len(parts)} parts into {out}")
    return out


def needs_build(project: Project) -> bool:
    """True when site/ is missing or older than any source (content, templates, the package, pyproject.toml)."""
    index = project.out / "index.html"
    if not index.exists() or not (project.out / "pyodide" / "pyodide.asm.wasm").exists():
        return True
    built = index.stat().st_mtime
    import mamlviz

    sources = [project.content, project.templates, Path(mamlviz.__file__).parent]
    files = [p for d in sources for p in Path(d).rglob("*") if p.is_file()]
    files += [f for f in [project.content.parent / "pyproject.toml"] if f.is_file()]  # the version in the footer
    return any(p.stat().st_mtime > built for p in files)
