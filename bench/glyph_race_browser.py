"""Part 8's classification race in Debian Chromium, as a reader runs it: rounds, held-out accuracies after 1, 2 and 5
minutes, and each method's updates/s in the page (`mamlviz.browserbench.glyph_race`); prints JSON. Not a test.

    nice -n 10 .venv/bin/python bench/glyph_race_browser.py [SITE]      # SITE: a built site (default: build one)
"""

import json
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from mamlviz import browserbench
from mamlviz.site import Project, build, find_root
from mamlviz.site.serve import serve_in_thread


def main(site=None):
    if site is None:
        site = Path(tempfile.mkdtemp(prefix="mamlviz-glyph-race-"))
        build(Project.at(find_root(), site), log=lambda *a: None)
    server, base = serve_in_thread(Path(site))
    browserbench.no_eval_wait_for_function()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=browserbench.CHROMIUM, args=browserbench.ARGS, headless=True)
            result = browserbench.glyph_race(browser, base, log=lambda m: print(m, file=sys.stderr, flush=True))
            browser.close()
    finally:
        server.shutdown()
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
