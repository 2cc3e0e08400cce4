"""Timing with a coarse clock.

In the page, `time.perf_counter` is the browser's `performance.now()`, which steps by 1 ms in WebKit (0.1 ms in
Chromium, finer natively): one update of a few tenths of a millisecond reads 0 or 1 ms there. Whatever the page
times is therefore timed over a round of at least ROUND_SECONDS, enough updates that one step of the coarsest
clock is under 1 % of the round. `now` is the clock every timing here reads (tests put a stub clock in its place).
"""

from __future__ import annotations

import time

CLOCK_STEP = 1e-3                  # the coarsest clock a page has (WebKit's performance.now)
ROUND_SECONDS = 101 * CLOCK_STEP   # a timed round: one step of the clock is under 1 % of it


def now() -> float:
    return time.perf_counter()


def per_call(fn, at_least: float = ROUND_SECONDS) -> tuple[float, int]:
    """(seconds per call of `fn()`, calls): `fn` called again and again until the round lasts `at_least` seconds,
    timed as a whole. Returns after at least one call."""
    start, calls = now(), 0
    while True:
        fn()
        calls += 1
        elapsed = now() - start
        if elapsed >= at_least:
            return elapsed / calls, calls

