"""Helpers shared by the browser tests that talk to the page's live runtime (not a test module)."""

from __future__ import annotations

RUNTIME = "import(new URL('assets/js/runtime.js', location.href).href)"  # the page's own module instance


def running(pg):
    """{worker name: figure ids whose streams run there}, asked of the workers themselves."""
    return {name: s["running"] for name, s in pg.evaluate(f"{RUNTIME}.then(m => m.stats())").items()}


def pause_and_check_stopped(pg, figure, count):
    """Press the training figure's Pause: its description says so, nothing runs in the training worker any more,
    and its update counter `count(pg)` stands still for a second. Returns the count it stopped at."""
    pg.locator(f'{figure} [data-control="pause"] button').click()
    pg.wait_for_function(f"document.querySelector('{figure} .describe p').textContent.startsWith('Paused')")
    paused_at = count(pg)
    assert running(pg)["training-1"] == []
    pg.wait_for_timeout(1000)
    assert count(pg) == paused_at
    return paused_at
