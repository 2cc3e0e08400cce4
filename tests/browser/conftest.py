"""Shared fixtures for browser tests: build the site once per session, serve it on 127.0.0.1, drive Debian Chromium.

Reusable by every browser test in this folder:
- `served_site`: base URL (ends with "/") of the real site, built once per session into a temp folder.
- `demo_site`: base URL of a two-part toy article whose first part carries the demonstration figure.
- `page`: a factory; `page()` (or `page(viewport={...}, init_script="...")`) opens a new page in a fresh context of
  Debian Chromium launched with the host-resolver rule that sends every host but 127.0.0.1 to NOTFOUND. Each page
  records `page.console_errors`, `page.requests` (URLs) and `page.failed_requests`.
- `wait_live(page, figure_id)`: wait until that figure's worker answers (its data-status is "live"); a training
  figure is brought near the screen first, since its worker boots only then.
- `outside_requests(page, base)`: the requests that went anywhere but the served site.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
from mamlviz.browserbench import ARGS, CHROMIUM, no_eval_wait_for_function  # noqa: E402


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def _playwright():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) or run ./dev test")
    from playwright.sync_api import sync_playwright

    no_eval_wait_for_function()
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(_playwright):
    b = _playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
    yield b
    b.close()


def _serve(folder: Path):
    from mamlviz.site.serve import serve_in_thread

    return serve_in_thread(folder)


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> Path:
    """The real site, built once per session (Pyodide from the cache, fetched if missing)."""
    from mamlviz.site import Project, build

    out = tmp_path_factory.mktemp("site")
    build(Project.at(REPO, out), log=lambda *a: None)
    return out


@pytest.fixture(scope="session")
def served_site(built_site):
    server, url = _serve(built_site)
    yield url
    server.shutdown()


@pytest.fixture(scope="session")
def demo_built(tmp_path_factory) -> Path:
    """A toy article (two parts; part 1 has the demo figure) built with Pyodide."""
    import importlib.util

    from mamlviz import figures
    from mamlviz.site import build

    spec = importlib.util.spec_from_file_location("mamlviz_toy_article", REPO / "tests" / "site" / "toy_article.py")
    toy = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(toy)
    project = toy.make_toy_project(tmp_path_factory.mktemp("demo"))
    try:
        build(project, log=lambda *a: None)
    finally:
        figures.WIDGETS.pop("test-widget", None)
    return project.out


@pytest.fixture(scope="session")
def demo_site(demo_built):
    server, url = _serve(demo_built)
    yield url
    server.shutdown()


def recorded_page(browser, viewport=None, init_script=None, **context_options):
    """A page in a fresh context that records `console_errors`, `requests` and `failed_requests`; close it with
    `pg.context.close()`."""
    # the offline copy (a service worker fetching the whole site) is tested in test_offline.py; elsewhere it would
    # add its own requests to the record: blocked unless a test asks for service_workers="allow"
    context_options.setdefault("service_workers", "block")
    context = browser.new_context(viewport=viewport or {"width": 1280, "height": 900}, **context_options)
    if init_script:
        context.add_init_script(init_script)
    pg = context.new_page()
    pg.console_errors, pg.requests, pg.failed_requests = [], [], []
    pg.on("console", lambda m: m.type == "error" and pg.console_errors.append(m.text))
    pg.on("pageerror", lambda e: pg.console_errors.append(f"uncaught: {e}"))
    context.on("request", lambda r: pg.requests.append(r.url))
    context.on("requestfailed", lambda r: pg.failed_requests.append(f"{r.url}: {r.failure}"))
    return pg


@pytest.fixture(scope="session")
def open_page(browser):
    """`open_page(viewport=None, init_script=None, **context_options)`: `recorded_page` for fixtures of any scope
    (a module-scoped fixture shares one live page across its module's tests and closes it with pg.context.close())."""
    return lambda **kwargs: recorded_page(browser, **kwargs)


@pytest.fixture
def page(browser):
    pages = []

    def new_page(viewport=None, init_script=None):
        pages.append(recorded_page(browser, viewport, init_script))
        return pages[-1]

    yield new_page
    for pg in pages:
        pg.context.close()


@pytest.fixture
def wait_live():
    """Wait until the figure answers. A training figure's worker boots when the figure nears the screen, as for a
    reader who scrolls there: such a figure is scrolled into view first (the page's scroll is put back after)."""

    def wait(pg, figure_id, timeout=60_000):
        sel = f'.figure[data-figure="{figure_id}"]'
        if pg.evaluate(f"JSON.parse(document.querySelector('{sel} script.figure-data').textContent).training === true"):
            pg.evaluate(f"(() => {{ const y = scrollY; document.querySelector('{sel}').scrollIntoView(); "
                        f"requestAnimationFrame(() => requestAnimationFrame(() => scrollTo(0, y))); }})()")
        pg.wait_for_selector(f'{sel}[data-status="live"]', timeout=timeout)

    return wait


@pytest.fixture
def outside_requests():
    def outside(pg, base):
        return [u for u in pg.requests if not u.startswith(base) and not u.startswith(("data:", "blob:"))]

    return outside


@pytest.fixture(scope="session")
def shots(tmp_path_factory):
    """A folder for screenshots (kept under /tmp for a look by hand)."""
    folder = Path(os.environ.get("MAMLVIZ_SHOTS", tmp_path_factory.mktemp("shots")))
    folder.mkdir(parents=True, exist_ok=True)
    return folder
