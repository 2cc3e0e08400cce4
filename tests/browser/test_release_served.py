"""The release archive, made by the real command and unpacked under a sub-path of a static host.

Every page loads from there with no console errors and no request outside the sub-path, every figure goes live,
the checksums match, and the About page shows the version and the vendored components with their notices.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

from mamlviz.site import release, vendor, vendor_npm

REPO = Path(__file__).resolve().parents[2]
VERSION = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
SUB = "some/sub/path/"


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    from mamlviz.cli import main

    out = tmp_path_factory.mktemp("dist")
    assert main(["build", "--root", str(REPO), "--release", "--dist", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def unpacked(dist, tmp_path_factory):
    """The archive unpacked into HOST/some/sub/path/ (the folder the archive holds)."""
    host = tmp_path_factory.mktemp("host")
    with tarfile.open(dist / f"mamlviz-site-{VERSION}.tar.gz") as tar:
        tar.extractall(host / SUB, filter="data")
    return host


@pytest.fixture(scope="module")
def base(unpacked):
    from mamlviz.site.serve import serve_in_thread

    server, url = serve_in_thread(unpacked)
    yield f"{url}{SUB}mamlviz-site-{VERSION}/"
    server.shutdown()


def test_checksums_match(dist, unpacked):
    archive = dist / f"mamlviz-site-{VERSION}.tar.gz"
    assert (dist / "SHA256SUMS").read_text().split() == [hashlib.sha256(archive.read_bytes()).hexdigest(), archive.name]
    folder = unpacked / SUB / f"mamlviz-site-{VERSION}"
    lines = (folder / "SHA256SUMS").read_text().splitlines()
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "SHA256SUMS")
    assert lines == [f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(folder).as_posix()}" for p in files]
    assert {"pyodide/pyodide.asm.wasm", "mamlviz.zip", "about.html", "licenses/numpy-LICENSE.txt"} \
        <= {line.split("  ", 1)[1] for line in lines}
    assert release.check(folder) == []


def test_every_page_loads_under_the_sub_path_and_its_figures_go_live(page, base, wait_live, shots):
    pg = page()
    bad = []  # HTTP errors (a missing file under the sub-path shows as a 404 response, not a failed request)
    pg.on("response", lambda r: r.status >= 400 and bad.append(f"{r.status} {r.url}"))
    pg.goto(base + "index.html")
    hrefs = pg.locator(".menu-parts > li > a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert len(hrefs) == 10
    live = 0
    for href in ["index.html", *hrefs, "about.html"]:
        pg.goto(base + href, wait_until="load")
        assert pg.locator("h1").count() == 1, href
        footer = pg.locator(".site-footer").inner_text()
        assert VERSION in footer and "MIT" in footer and "CC BY 4.0" in footer, href
        for figure_id in pg.locator(".figure[data-figure]").evaluate_all("els => els.map(e => e.dataset.figure)"):
            wait_live(pg, figure_id, timeout=150_000)   # a training figure waits for two boots in turn
            live += 1
        for widget in pg.locator("[data-widget]").all():  # widgets mount without the worker (after `load`:
            widget.locator("xpath=self::*[@data-mounted='true']").wait_for()   # through a dynamic import)
            assert widget.locator("*").count() > 0, href
    assert live >= 4  # Part 3's figures at least
    assert pg.console_errors == []
    assert [u for u in pg.requests if not u.startswith(base) and not u.startswith(("data:", "blob:"))] == []
    assert bad == []
    # leaving a page while its worker boots aborts that page's own loads; nothing else may fail
    assert [f for f in pg.failed_requests if not f.endswith("net::ERR_ABORTED")] == []
    pg.screenshot(path=str(shots / "release-about-1280.png"), full_page=True)


def test_about_page_shows_version_components_and_their_notices(page, base, shots):
    cache = vendor.cache_dir()
    lock = json.loads((cache / "pyodide-lock.json").read_text())
    numpy = lock["packages"]["numpy"]
    with zipfile.ZipFile(cache / numpy["file_name"]) as z:
        numpy_notice = z.read(f"numpy-{numpy['version']}.dist-info/LICENSE.txt").decode()

    pg = page(viewport={"width": 390, "height": 844})
    pg.goto(base + "about.html")
    assert pg.locator("#about-version").inner_text() == VERSION
    rows = pg.locator("tr[data-component]").evaluate_all(
        "rows => rows.map(r => [...r.cells].slice(1, 3).map(c => c.innerText.trim()))")
    assert rows == [[lock["info"]["version"], "MPL-2.0"], [lock["info"]["python"], "PSF-2.0"],
                    [numpy["version"], "BSD-3-Clause"], [vendor_npm.MATH_FONT_VERSION, "OFL-1.1"]]
    assert lock["info"]["version"] == vendor.VERSION
    notice = pg.locator('tr[data-component="NumPy"] a[href^="licenses/"]').get_attribute("href")
    assert pg.request.get(base + notice).text() == numpy_notice
    for href in pg.locator('a[href^="licenses/"]').evaluate_all("els => els.map(e => e.getAttribute('href'))"):
        assert pg.request.get(base + href).ok, href
    assert f"version = {{{VERSION}}}" in pg.locator("pre.bibtex").inner_text()
    pg.screenshot(path=str(shots / "release-about-390.png"), full_page=True)
    assert pg.console_errors == []
