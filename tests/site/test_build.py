"""Unit tests of the site build on a two-part toy article."""

from __future__ import annotations

import json
import re
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

from mamlviz.site import BuildError, build


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs, self.srcs, self.ids = [], [], set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if "href" in a:
            self.hrefs.append(a["href"])
        if "src" in a:
            self.srcs.append(a["src"])


def parse(path: Path) -> Links:
    p = Links()
    p.feed(path.read_text())
    return p


def test_pages_titles_descriptions_and_navigation(built_toy):
    one, two = built_toy / "01-first.html", built_toy / "02-second.html"
    assert (built_toy / "index.html").exists()
    h1, h2 = one.read_text(), two.read_text()
    assert "<title>Part 1: First toy part" in h1 and "<title>Part 2: Second toy part" in h2
    assert 'name="description" content="The first of two toy parts."' in h1
    # previous/next
    assert 'rel="next" href="02-second.html"' in h1 and 'rel="prev"' not in h1
    assert 'rel="prev" href="01-first.html"' in h2 and 'rel="next"' not in h2
    # the menu marks the current part
    assert re.search(r'href="01-first.html" aria-current="page"', h1)
    assert re.search(r'href="02-second.html" aria-current="page"', h2)
    assert 'aria-current' not in re.sub(r'href="02-second.html" aria-current="page"', "", h2)
    # a section's name in the menu is its heading as text, typographic apostrophe and all, escaped once
    assert '<a href="#the-readers-widgets">The reader&rsquo;s widgets</a>' in h2 or \
        '<a href="#the-readers-widgets">The reader’s widgets</a>' in h2
    assert "&amp;rsquo;" not in h2


def test_all_links_are_relative_and_resolve(built_toy):
    for page in built_toy.glob("*.html"):
        links = parse(page)
        for url in links.hrefs + links.srcs:
            if url.startswith(("https://arxiv.org", "data:")):
                continue  # bibliography links are for the reader to follow; the icon is inline
            assert not url.startswith(("/", "http:", "https:", "//")), f"{page.name}: non-relative {url}"
            path, _, anchor = url.partition("#")
            target = built_toy / path if path else page
            assert target.exists(), f"{page.name}: {url} does not exist"
            if anchor:
                assert anchor in parse(target).ids, f"{page.name}: anchor {url} missing"


def test_one_style_sheet_joins_the_sources_in_order_and_figure_pages_start_the_worker_from_the_head(built_toy):
    from mamlviz.site import STYLESHEETS

    css = (built_toy / "assets" / "css" / "style.css").read_text()
    assert [n for n in (built_toy / "assets" / "css").iterdir()] == [built_toy / "assets" / "css" / "style.css"]
    positions = [css.index(f"/* {name} */\n") for name in STYLESHEETS]
    assert positions == sorted(positions) and "@font-face" in css and ".figure" in css and ".codehilite" in css
    for page in built_toy.glob("*.html"):
        head = page.read_text().split("</head>")[0]
        assert re.findall(r'rel="stylesheet" href="([^"]+)"', head) == ["assets/css/style.css"], page.name
        # boot.js, a classic async script before the style sheet (blocking nothing), on pages that have figures only
        boot = '<script async src="assets/js/boot.js"></script>'
        assert (boot in head) == ('class="figure"' in page.read_text()), page.name
        if boot in head:
            assert head.index(boot) < head.index('rel="stylesheet"')


def test_markdown_extensions(built_toy):
    html = (built_toy / "01-first.html").read_text()
    assert '<table tabindex="0">' in html and "<td>1</td>" in html  # tables (focusable: a wide one scrolls by keys)
    assert 'class="footnote"' in html  # footnotes
    assert 'id="custom-id"' in html  # attr_list
    assert 'id="maths-and-citations"' in html and 'class="headerlink"' in html  # toc permalinks
    assert 'class="codehilite"' in html and '<span class="n">x</span>' in html  # highlighted fenced code
    assert "$not maths$" in html.replace("&quot;", '"')  # no maths inside code
    assert "price of $5" in html


def test_maths_becomes_mathml(built_toy):
    html = (built_toy / "01-first.html").read_text()
    assert "$" not in re.sub(r"<code.*?</code>|<pre.*?</pre>|price of \$5|\$not maths\$", "", html, flags=re.S)
    assert html.count('<math xmlns="http://www.w3.org/1998/Math/MathML" display="inline"') == 1
    assert '<div class="math-display" tabindex="0" role="group" aria-label="Equation"><math' in html and 'display="block"' in html
    for tag in ("<mfrac>", "<munderover>", "<mover", "<mtable>", "<msub>"):
        assert tag in html, tag
    assert "&#x02016;" in html or "‖" in html  # the norm
    assert "&#x02112;" in html  # calligraphic L


def test_citations_numbered_in_order_with_bibliography(built_toy):
    one = (built_toy / "01-first.html").read_text()
    cites = re.findall(r'<a class="cite-ref" href="#ref-(\w+)"[^>]*>(\d+)</a>', one)
    assert cites == [("finn2017", "1"), ("nichol2018", "2"), ("finn2017", "1")]
    assert '<li id="ref-finn2017" value="1">' in one and '<li id="ref-nichol2018" value="2">' in one
    assert "ref-uncited2020" not in one
    two = (built_toy / "02-second.html").read_text()
    assert re.findall(r'href="#ref-(\w+)"[^>]*>(\d+)<', two) == [("nichol2018", "1")]
    # the last part lists everything, cited first
    assert re.findall(r'<li id="ref-(\w+)" value="(\d)">', two) == [
        ("nichol2018", "1"), ("finn2017", "2"), ("uncited2020", "3")]
    assert "Chelsea Finn, Pieter Abbeel, and Sergey Levine" in two


def test_code_inclusion_shows_the_real_source(built_toy):
    import inspect

    from mamlviz.figures import demo

    html = (built_toy / "01-first.html").read_text()
    assert 'data-code="mamlviz.figures.demo.gradient"' in html
    text = re.sub(r"<[^>]+>", "", html.split('data-code="mamlviz.figures.demo.gradient"')[1].split("</pre>")[0])
    import html as h

    assert h.unescape(text).lstrip(">").strip() == inspect.getsource(demo.gradient).strip()
    assert "src/mamlviz/figures/demo.py" in html


def test_figure_placeholder_embeds_first_frame(built_toy):
    from mamlviz import figures

    html = (built_toy / "01-first.html").read_text()
    m = re.search(r'<figure class="figure" id="fig-demo-descent".*?<script type="application/json" '
                  r'class="figure-data">(.*?)</script>', html, re.S)
    data = json.loads(m.group(1))
    assert data["id"] == "demo-descent"
    scene = figures.first_frame("demo-descent")
    # the page gets the panels' axes as data; the drawing itself is in the HTML (see test_first_frame_is_drawn_svg)
    assert data["scene"]["panels"] == [{k: v for k, v in p.items() if k != "layers"} for p in scene["panels"]]
    assert {c["name"] for c in data["controls"]} >= {"a", "lr", "x0", "starts", "animate"}
    assert 'id="loader"' in html  # the loading indicator is on pages with figures
    assert 'id="loader"' not in (built_toy / "02-second.html").read_text()


def test_first_frame_is_drawn_svg(built_toy):
    """The build draws each first frame with the page's renderer (scene.js under node): SVG and readouts in the
    HTML, checked against the native scene (readout text, one <path> per line layer, a PNG heat map)."""
    from mamlviz import figures

    html = (built_toy / "01-first.html").read_text()
    body = html.split('id="fig-demo-descent"')[1].split("</figure>")[0]
    scene = figures.first_frame("demo-descent")
    assert "mamlviz-frame" not in html  # every marker was replaced
    assert body.count("<svg") == len(scene["panels"])
    assert body.count('class="heatmap"') == sum(L["kind"] == "heatmap" for p in scene["panels"] for L in p["layers"])
    assert 'href="data:image/png;base64,iVBORw0KGgo' in body  # a PNG (its signature, in base64)
    for r in scene["readouts"]:
        value = format(r["value"], r["format"]).replace("-", "−")
        assert f'<dd data-readout="{r["label"]}">{value}</dd>' in body
    lines = sum(L["kind"] == "line" for p in scene["panels"] for L in p["layers"])
    assert len(re.findall(r'<path d="M[^"]*" class="line ', body)) == lines
    assert 'class="handle theta" transform="translate(' in body  # the start point, drawn where the state puts it


def test_widget_placeholder(built_toy):
    html = (built_toy / "02-second.html").read_text()
    m = re.search(r'<div class="widget" data-widget="test-widget" data-module="assets/js/widgets/test-widget.js">'
                  r'<script type="application/json" class="widget-data">(.*?)</script>', html)
    assert json.loads(m.group(1)) == {"greeting": "hello", "numbers": [0, 1, 2, 3, 4]}
    assert (built_toy / "assets/js/widgets/test-widget.js").exists()


def test_large_widget_data_goes_to_a_file(toy_project):
    from mamlviz import figures

    figures.widget("test-widget")(lambda: {"greeting": "hi", "numbers": list(range(30000))})
    build(toy_project, pyodide=False, log=lambda *a: None)
    html = (toy_project.out / "02-second.html").read_text()
    assert 'data-src="data/test-widget.json"' in html
    assert len(json.loads((toy_project.out / "data/test-widget.json").read_text())["numbers"]) == 30000


def test_package_zip_ships_the_library_not_the_build(built_toy):
    names = zipfile.ZipFile(built_toy / "mamlviz.zip").namelist()
    assert "mamlviz/__init__.py" in names and "mamlviz/figures/__init__.py" in names
    assert "mamlviz/figures/demo.py" in names
    assert not [n for n in names if n.startswith("mamlviz/site/") or n.endswith(("cli.py", "commands.py"))]
    # the classification race's data is fetched by its worker alone, from beside the zip
    assert "mamlviz/data/glyph_race_data.npz" not in names and "mamlviz/data/glyph_race.json" in names
    assert (built_toy / "mamlviz-data" / "glyph_race_data.npz").stat().st_size > 100_000


@pytest.mark.parametrize("line, message", [
    ("[[figure no-such-figure]]", "unknown figure 'no-such-figure'"),
    ("[[widget no-such-widget]]", "unknown widget 'no-such-widget'"),
    ("[@nosuchkey]", "unknown citation key 'nosuchkey'"),
    ("[[code mamlviz.figures.demo.nothing_here]]", "mamlviz.figures.demo.nothing_here"),
    # ids with characters outside the usual ones are unknown ids too, not text to print as it stands
    ("[[figure demo-descent.v2]]", "unknown figure 'demo-descent.v2'"),
    ("[[figure demo descent]]", "unknown figure 'demo descent'"),
    ("[[widget test/widget]]", "unknown widget 'test/widget'"),
    ("[[code mamlviz.figures.demo.gradient()]]", "mamlviz.figures.demo.gradient()"),
])
def test_unknown_names_stop_the_build_naming_the_file(toy_project, line, message):
    page = toy_project.content / "02-second.md"
    page.write_text(page.read_text() + "\n" + line + "\n")
    with pytest.raises(BuildError) as e:
        build(toy_project, pyodide=False, log=lambda *a: None)
    assert "02-second.md" in str(e.value) and message in str(e.value)


def test_front_matter_is_required(toy_project):
    (toy_project.content / "03-bad.md").write_text("---\npart: 3\ntitle: No description\n---\n\nText\n")
    with pytest.raises(BuildError, match="03-bad.md: front matter lacks description"):
        build(toy_project, pyodide=False, log=lambda *a: None)


def test_real_content_front_matter():
    """The ten real parts exist with their titles and descriptions, numbered 1…10."""
    from mamlviz.site.pages import read_parts

    parts = read_parts(Path(__file__).resolve().parents[2] / "content")
    assert [p.part for p in parts] == list(range(1, 11))
    assert all(p.title and p.description for p in parts)
    assert len({p.title for p in parts}) == 10


def test_citations_in_lists_and_tables_are_numbered_in_reading_order():
    """Markdown's inline patterns visit list items and paragraphs out of reading order; the numbers must not."""
    from mamlviz.site import markdown_renderer

    bib = {k: {"title": k, "ENTRYTYPE": "article"} for k in "abcde"}
    md, ext = markdown_renderer(bib)
    html = md.convert("Intro [@a].\n\n- one [@b]\n- two [@c; @a]\n    - inner [@d]\n\n"
                      "| x |\n| --- |\n| [@e] |\n\nEnd [@c].\n")
    cites = re.findall(r'href="#ref-(\w)"[^>]*>(\d)</a>', html)
    assert cites == [("a", "1"), ("b", "2"), ("c", "3"), ("a", "1"), ("d", "4"), ("e", "5"), ("c", "3")]
    assert ext["cite"].cited == list("abcde")


def test_measured_numbers_come_from_the_data_file_and_a_missing_one_says_so(tmp_path):
    import markdown

    from mamlviz.site.measured import MeasuredError, MeasuredExtension

    data = tmp_path / "measured.json"
    data.write_text(json.dumps({"browser": {"ms": {"maml": 12.345, "imaml": -0.5}, "load": [3.5, 2.0],
                                            "name": "Chromium 1"}}))
    md = markdown.Markdown(extensions=["tables", MeasuredExtension(data)])
    html = md.convert("| m | ms |\n| --- | --- |\n| MAML | {{measured:browser.ms.maml:.1f}} |\n\n"
                      "{{measured:browser.name}}, load {{measured:browser.load.1}}, {{measured:browser.ms.imaml:.2f}}")
    assert "<td>12.3</td>" in html and "Chromium 1, load 2.0, −0.50" in html
    ext = MeasuredExtension(data)
    assert "(not measured)" in markdown.Markdown(extensions=[ext]).convert("{{measured:browser.ms.reptile}}")
    assert ext.missing == ["browser.ms.reptile"]
    with pytest.raises(MeasuredError, match="not a number"):
        markdown.Markdown(extensions=[MeasuredExtension(data)]).convert("{{measured:browser.ms}}")
