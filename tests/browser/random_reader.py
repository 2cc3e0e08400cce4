"""A seeded random reader for the built site: clicks, drags, key presses, slider extremes and rapid repeats, selects,
toggles and garbage in the URL, on a live page of figures and widgets. Used by tests/browser/test_random_reader.py
(about 100 actions a page) and by bench/random_reader.py (500 a page and more, outside the suite).

Everything random comes from one `random.Random(seed)`: a failing run is replayed by its seed and page. The reader
never waits for the worker between actions (a reader does not either); `settle` waits for the figures afterwards.
"""

from __future__ import annotations

import random
import re

# What the reader may touch: the figures' and widgets' own controls (never links that leave the page).
TARGETS = {
    "click": ".figure button, .figure input[type=checkbox], .widget button, .widget input[type=checkbox], "
             ".widget [role=button], .widget a[href^=\"#\"], .figure .accepts-points, .describe summary",
    "drag": ".figure .handle, .figure .panel svg, .widget svg",
    "key": ".figure input, .figure select, .figure button, .figure .handle, .figure .accepts-points, "
           ".widget button, .widget input, .widget select, .widget [tabindex], .widget a[href^=\"#\"]",
    "slider": ".figure input[type=range], .widget input[type=range]",
    "select": ".figure select, .widget select",
}
KEYS = ["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End", "PageUp", "PageDown", "Enter", " ",
        "Shift+ArrowLeft", "Shift+ArrowUp", "Delete", "Backspace", "Tab", "Escape"]
WEIGHTS = {"click": 24, "drag": 16, "key": 24, "slider": 18, "select": 6, "url": 3, "scroll": 4, "pause": 5}
BAD_VALUES = ["NaN", "Infinity", "-Infinity", "1e999", "-1e308", "", "abc", ",,,", "1,2,3", "0x10", "%00", "%ZZ",
              "<img src=x onerror=alert(1)>", "true", "-0", "1;2", "[]", "{}", "null", "undefined", "  3 ", "1e-400"]
BAD_TEXT = re.compile(r"\bNaN\b|\bundefined\b|Traceback|could not be computed|\[object Object\]")

# the visible elements matching a selector: [{i, x, y, w, h}] in the viewport after scrolling element i to the centre
_LIST = """(sel) => [...document.querySelectorAll(sel)].map((e, i) => [e, i]).filter(([e]) => {
  const r = e.getBoundingClientRect(); const s = getComputedStyle(e);
  return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && !e.closest('[hidden]') && !e.disabled;
}).map(([e, i]) => i)"""
_CENTRE = """([sel, i]) => { const e = document.querySelectorAll(sel)[i]; if (!e) return null;
  e.scrollIntoView({block: 'center', inline: 'center'}); const r = e.getBoundingClientRect();
  return {x: r.left, y: r.top, w: r.width, h: r.height}; }"""
_FOCUS = "([sel, i]) => { const e = document.querySelectorAll(sel)[i]; if (e) { e.scrollIntoView({block: 'center'}); e.focus(); } }"
# a slider to a value: what a drag or the keyboard does, in one event (rapid repeats come from the loop)
_SLIDE = """([sel, i, where]) => { const e = document.querySelectorAll(sel)[i]; if (!e) return;
  const lo = Number(e.min), hi = Number(e.max);
  e.value = where === 'min' ? lo : where === 'max' ? hi : lo + Math.random() * (hi - lo);
  e.dispatchEvent(new Event('input', {bubbles: true})); e.dispatchEvent(new Event('change', {bubbles: true})); }"""
_SELECT = """([sel, i, k]) => { const e = document.querySelectorAll(sel)[i]; if (!e || !e.options.length) return;
  e.selectedIndex = k % e.options.length; e.dispatchEvent(new Event('input', {bubbles: true}));
  e.dispatchEvent(new Event('change', {bubbles: true})); }"""
# a same-site link, clicked: the page's navigation swaps the page in place (the worker stays)
_HOP = """(href) => { const a = document.createElement('a'); a.href = href; a.textContent = 'hop';
  document.querySelector('main').append(a); a.click(); a.remove(); }"""


def garbage_hash(rng: random.Random, figures: dict[str, list[str]]) -> str:
    """A URL fragment a careless or hostile link could carry: noise, or real figure ids and keys with bad values."""
    kind = rng.randrange(3)
    if kind == 0 or not figures:
        alphabet = "abc:;=&,.%#<>\"'/\\ 0123456789-_eNaIfinityθφ€\u202e"
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40)))
    entries = []
    for _ in range(rng.randint(1, 3)):
        fid = rng.choice(list(figures)) if kind == 1 else rng.choice(["nosuch", "", "::", "a" * 300])
        keys = figures.get(fid) or ["x"]
        pairs = [f"{rng.choice(keys + ['zz', '_seed', '__proto__'])}={rng.choice(BAD_VALUES)}"
                 for _ in range(rng.randint(1, 4))]
        entries.append(f"{fid}:" + ";".join(pairs))
    return "&".join(entries)


def figure_keys(pg) -> dict[str, list[str]]:
    return pg.evaluate("""() => Object.fromEntries([...document.querySelectorAll('.figure[data-figure]')].map(f =>
        [f.dataset.figure, JSON.parse(f.querySelector('script.figure-data').textContent).controls.map(c => c.name)]))""")


class Reader:
    """Performs seeded random actions on the page `pg` shows (the page at `here`, a file name of the site)."""

    def __init__(self, pg, here: str, seed: int, away: str = "index.html"):
        self.pg, self.here, self.away = pg, here, away
        self.rng = random.Random(seed)
        self.counts: dict[str, int] = {}

    def run(self, n: int) -> dict[str, int]:
        """`n` actions, each of a kind the page offers targets for (re-drawn when a target went away meanwhile)."""
        offered = {k: w for k, w in WEIGHTS.items() if k not in TARGETS or self.pg.evaluate(_LIST, TARGETS[k])}
        kinds, weights = zip(*offered.items())
        done = tries = 0
        while done < n and tries < 3 * n:
            tries += 1
            kind = self.rng.choices(kinds, weights)[0]
            if getattr(self, "do_" + kind)():
                self.counts[kind] = self.counts.get(kind, 0) + 1
                done += 1
        return self.counts

    def _pick(self, kind):
        sel = TARGETS[kind]
        visible = self.pg.evaluate(_LIST, sel)
        return (sel, self.rng.choice(visible)) if visible else (sel, None)

    def do_click(self):
        sel, i = self._pick("click")
        box = i is not None and self.pg.evaluate(_CENTRE, [sel, i])
        if not box:
            return False
        x, y = box["x"] + box["w"] * self.rng.uniform(.2, .8), box["y"] + box["h"] * self.rng.uniform(.2, .8)
        for _ in range(self.rng.choice([1, 1, 1, 2, 5])):  # sometimes a double or a burst of clicks
            self.pg.mouse.click(x, y)
        return True

    def do_drag(self):
        sel, i = self._pick("drag")
        box = i is not None and self.pg.evaluate(_CENTRE, [sel, i])
        if not box:
            return False
        m = self.pg.mouse
        m.move(box["x"] + box["w"] / 2, box["y"] + box["h"] / 2)
        m.down()
        for _ in range(self.rng.randint(1, 8)):  # wander, sometimes far outside the plot
            m.move(box["x"] + box["w"] * self.rng.uniform(-.5, 1.5), box["y"] + box["h"] * self.rng.uniform(-.5, 1.5),
                   steps=self.rng.randint(1, 4))
        m.up()
        return True

    def do_key(self):
        sel, i = self._pick("key")
        if i is None:
            return False
        self.pg.evaluate(_FOCUS, [sel, i])
        for _ in range(self.rng.choice([1, 1, 2, 10])):  # a held key: rapid repeats
            self.pg.keyboard.press(self.rng.choice(KEYS))
        return True

    def do_slider(self):
        sel, i = self._pick("slider")
        if i is None:
            return False
        for _ in range(self.rng.choice([1, 1, 3, 12])):
            self.pg.evaluate(_SLIDE, [sel, i, self.rng.choice(["min", "max", "any"])])
        return True

    def do_select(self):
        sel, i = self._pick("select")
        if i is None:
            return False
        self.pg.evaluate(_SELECT, [sel, i, self.rng.randrange(16)])
        return True

    def do_url(self):
        """Leave for another page, come back by a link whose fragment (and query) is garbage."""
        query = self.rng.choice(["", "?", "?x=1", "?<b>=%ZZ", "?state=" + "9" * 50])
        self.hop(f"{self.here}{query}#{garbage_hash(self.rng, figure_keys(self.pg))}")
        return True

    def hop(self, href: str):
        self.pg.evaluate(_HOP, self.away)
        self.pg.wait_for_function(f"location.pathname.endsWith('/{self.away}')")
        self.pg.evaluate(_HOP, href)
        self.pg.wait_for_function(f"location.pathname.endsWith('/{self.here}') && "
                                  "document.querySelector('#menu a[aria-current=page]') !== null && "
                                  "[...document.querySelectorAll('.widget')].every(w => w.children.length > 1) && "
                                  "[...document.querySelectorAll('.figure[data-figure]')].every(f => f.querySelector('.figure-bar'))")

    def do_scroll(self):
        self.pg.mouse.wheel(0, self.rng.uniform(-1500, 1500))
        return True

    def do_pause(self):
        self.pg.wait_for_timeout(self.rng.choice([0, 20, 100, 400]))
        return True


def settle(pg, timeout=180_000):
    """Wait until every figure is live and idle; a training figure may go on training (busy) if the reader started it."""
    pg.wait_for_function("""() => [...document.querySelectorAll('.figure[data-figure]')].every(f => {
        const training = JSON.parse(f.querySelector('script.figure-data').textContent).training === true;
        return ['live', 'failed'].includes(f.dataset.status) || (training && f.dataset.status === 'busy'); })""",
        timeout=timeout, polling=250)


def bad_text(pg) -> list[str]:
    """Visible text (the page's and the figures' SVG labels) that shows NaN, undefined or a Python traceback."""
    text = pg.evaluate("""() => document.body.innerText + '\\n' +
        [...document.querySelectorAll('svg text')].map(t => t.textContent).join('\\n')""")
    return sorted({line.strip()[:200] for line in text.splitlines() if BAD_TEXT.search(line)})


# The k-th way to change a figure (its handle; each slider to its other end; each toggle; each select; a step or
# resample button): false when there is no k-th. Some changes show nothing in some states (a slider of a method
# that is switched off, a race's budget before it runs), so the next is tried until the scene changes.
_POKE = """([sel, k]) => {
  const f = document.querySelector(sel), q = (s) => [...f.querySelectorAll(s)];
  const pokes = [
    ...q('.handle').map(h => () => { for (const key of ['ArrowRight', 'ArrowUp'])
        h.dispatchEvent(new KeyboardEvent('keydown', {key, shiftKey: true, bubbles: true})); }),
    ...q('.controls input[type=range]').map(r => () => { r.value = Number(r.value) === Number(r.min) ? r.max : r.min;
        r.dispatchEvent(new Event('input', {bubbles: true})); }),
    ...q('.controls input[type=checkbox]').map(t => () => t.click()),
    ...q('.controls select').map(s => () => { s.selectedIndex = (s.selectedIndex + 1) % s.options.length;
        s.dispatchEvent(new Event('change', {bubbles: true})); }),
    ...q('.controls button').filter(b => /step|new|resample|roll|start|measure/i.test(b.textContent)).map(b => () => b.click()),
  ];
  if (k >= pokes.length) return false;
  pokes[k]();
  return true; }"""


def still_answers(pg, timeout=60_000) -> dict[str, bool]:
    """Every figure: change it (see _POKE) and see its scene change. {figure id: answered}."""
    ids = pg.evaluate("() => [...document.querySelectorAll('.figure[data-figure]')].map(f => f.dataset.figure)")
    out = {}
    for fid in ids:
        sel = f'.figure[data-figure="{fid}"]'
        pause = pg.locator(f"{sel} .controls button").filter(has_text=re.compile("^(Pause|Stop)$"))
        if pg.get_attribute(sel, "data-status") == "busy" and pause.count():
            pause.click()  # a race or training the reader started: stopped, so that what changes is our doing
        pg.wait_for_function(f"['live', 'failed'].includes(document.querySelector('{sel}').dataset.status)",
                             timeout=timeout, polling=200)
        snapshot = (f"() => {{ const f = document.querySelector('{sel}'); return [f.querySelector('.panels').innerHTML, "
                    "f.querySelector('.readouts')?.textContent, f.querySelector('.describe p')?.textContent].join('|'); }")
        out[fid] = False
        for k in range(12):
            before = pg.evaluate(snapshot)
            if not pg.evaluate(_POKE, [sel, k]):
                break
            try:
                pg.wait_for_function(f"(before) => ({snapshot})() !== before", arg=before, timeout=timeout / 4,
                                     polling=200)
                out[fid] = True
                if pause.count() and pg.get_attribute(sel, "data-status") == "busy":
                    pause.click()  # answered by starting to train: no need to go on
                break
            except Exception:  # noqa: BLE001 — this change shows nothing in this state: try the next
                continue
    return out
