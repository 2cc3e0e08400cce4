"""Helpers shared by the browser tests that talk to the page's live runtime (not a test module)."""

from __future__ import annotations

RUNTIME = "import(new URL('assets/js/runtime.js', location.href).href)"  # the page's own module instance


def wait_until(pg, expression, timeout=30_000):
    """Poll a JavaScript expression that gives a promise (the runtime's answers are asynchronous) until it resolves
    truthy. (Playwright's wait_for_function takes the promise object itself for a truthy answer: it does not wait.)"""
    import time

    end = time.monotonic() + timeout / 1000
    while not pg.evaluate(expression):
        if time.monotonic() > end:
            raise TimeoutError(f"not true after {timeout} ms: {expression}")
        pg.wait_for_timeout(50)


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
