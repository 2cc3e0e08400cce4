"""The numbers audit (site/audit.py), the measured data's keys and versions (site/measured.py), and the paired
comparisons the text words its claims from (mamlviz.stats, bench/measured.py's data)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mamlviz import stats
from mamlviz.site import audit
from mamlviz.site import measured as m

REPO = Path(__file__).resolve().parents[2]


def sources(body, listed=None):
    return [(n.text, n.source) for n in audit.audit_text("p.md", body, listed)]


def test_audit_sorts_every_number_by_its_source():
    body = ("MAML reached 0.376 after 4,000 updates at $\\alpha = 0.01$ with 25 tasks in 2017,\n"
            "{{measured:methods.rows.maml.summary.own.median:.2g}} over seeds and $d = 1{,}761$ in Part 3.\n"
            "```\nx = 12.345\n```\nCode `0.9876` and [@finn2017] and HBPL's 95.2 %.\n[[figure sine-fit]]\n")
    got = sources(body, {"95.2": "published: Lake et al. 2013"})
    assert got == [("0.376", "typed"), ("4,000", "plain"), ("0.01", "plain"), ("25", "plain"), ("2017", "year"),
                   ("{{measured:methods.rows.maml.summary.own.median:.2g}}",
                    "measured methods.rows.maml.summary.own.median"),
                   ("1{,}761", "typed"), ("3", "plain"), ("95.2", "published: Lake et al. 2013")]


@pytest.mark.parametrize("text, typed", [("1.6", True), ("83.0", True), ("210", False), ("213", True), ("0.05", False),
                                         ("5.0", True), ("1,000", False), ("3,900", False), ("1,340", True),
                                         ("0.4", False), ("12", False)])
def test_typed_means_three_significant_digits_or_a_decimal_of_two(text, typed):
    assert (audit.classify(text, {}) == "typed") is typed


def test_listed_numbers_need_a_kind():
    assert audit.classify("1,623", {"1623": "published: Omniglot"}).startswith("published")


def test_a_number_typed_by_hand_stops_the_build(toy_project):
    from mamlviz.site import BuildError, build

    page = toy_project.content / "02-second.md"
    page.write_text(page.read_text() + "\nMAML reached 0.376 on the held-out tasks.\n")
    with pytest.raises(BuildError) as e:
        build(toy_project, pyodide=False, log=lambda *a: None)
    assert "02-second.md" in str(e.value) and "0.376" in str(e.value) and "typed" in str(e.value)
    (toy_project.content / "numbers.toml").write_text('["02-second.md"]\n"0.376" = "published: a paper, Table 1"\n')
    build(toy_project, pyodide=False, log=lambda *a: None)   # listed with its source: it builds
    (toy_project.content / "numbers.toml").write_text('["02-second.md"]\n"0.376" = "measured once"\n')
    with pytest.raises(ValueError, match="must start with one of"):
        build(toy_project, pyodide=False, log=lambda *a: None)


def test_the_real_text_types_no_computed_number():
    from mamlviz.site.pages import read_parts

    parts = read_parts(REPO / "content")
    numbers = audit.audit([(p.source.name, p.body) for p in parts], REPO / "content" / "numbers.toml")
    assert not [n for n in numbers if n.typed], audit.report(numbers)
    assert sum(n.source.startswith(("measured", "code")) for n in numbers) > 100


# ------------------------------------------------------------------------------ the measured data: keys, versions

def text_uses():
    return {mm.groups() for p in (REPO / "content").glob("*.md") for mm in m.PATTERN.finditer(p.read_text())}


def test_every_key_of_the_text_exists_and_was_measured_by_the_code_as_it_is():
    data = m.MeasuredExtension().data()      # measured.json, with the other recorded runs (glyph_race.json)
    keys = {key for key, _ in text_uses()}
    for key, spec in sorted(text_uses(), key=str):
        assert m.render(data, key, spec), key   # a number, a text, or a comparison worded from its interval
    assert not m.stale(keys, data)
    for section in {s for k in keys for s in m.sections_of(k)}:
        assert data["versions"][section]["commit"], section   # the git commit that wrote it


def test_a_section_measured_by_other_code_is_stale():
    data = {"versions": {"game": {"code": m.fingerprint("game")}, "native.race": {"code": "0123456789abcdef"}}}
    assert m.stale({"game.way.5.summary.maml.mean", "machine.cpu", "code.sine_params"}, data) == []
    [why] = m.stale({"native.spread.maml.own.median"}, data)
    assert "native.race" in why and "--what race" in why
    assert m.stale({"methods.rows.maml.own.0"}, data)   # no version recorded at all


def test_the_recorded_glyph_race_is_under_the_same_check():
    """data/glyph_race.json records the code version it was made by, merged beside measured.json's; its remedy is
    its own command."""
    data = m.MeasuredExtension().data()
    assert m.sections_of("glyph_race.final.maml.own.median") == ["glyph_race"]
    assert data["versions"]["glyph_race"] == data["glyph_race"]["versions"]["glyph_race"]
    assert data["versions"]["glyph_race"]["code"] == m.fingerprint("glyph_race")
    old = {"versions": {"glyph_race": {"code": "0123456789abcdef"}}}
    [why] = m.stale({"glyph_race.paired.maml-fomaml-own"}, old)
    assert "section glyph_race" in why and "bench/glyph_race.py" in why and "--what" not in why
    assert "mamlviz.fused_xent" in m.SOURCES["glyph_race"] and "mamlviz.glyphrace" in m.SOURCES["glyph_race"]


def test_code_keys_are_computed_from_the_code():
    from mamlviz.nn import MLP
    from mamlviz.train import METHOD_SETTINGS

    assert m.lookup({}, "code.sine_params") == MLP().size == 1761
    assert m.lookup({}, "code.settings.maml.inner_lr") == METHOD_SETTINGS["maml"].inner_lr


# ------------------------------------------------------------------------------------------- paired comparisons

def test_paired_interval_by_hand():
    p = stats.paired([1.0, 2.0, 3.0, 4.0, 6.0], [0.0, 1.0, 1.0, 2.0, 3.0])   # differences 1, 1, 2, 2, 3
    assert p["mean"] == pytest.approx(1.8) and p["sd"] == pytest.approx(0.83666, rel=1e-4)
    assert p["half"] == pytest.approx(2.776 * 0.83666 / 5 ** 0.5, rel=1e-4) and p["positive"] == 5
    assert stats.verdict(p) == "higher"
    assert stats.verdict(stats.paired([1, 2, 3], [2, 1, 3.5])) == "level"
    assert stats.verdict(stats.paired([0, 0, 0.1], [1, 1.2, 1])) == "lower"
    with pytest.raises(ValueError):
        stats.paired([1.0], [2.0])
    s = stats.summary([3, 1, 2, 10, 4])
    assert (s["median"], s["min"], s["max"], s["n"]) == (3, 1, 10, 5)


def test_two_significant_figures_never_in_exponent_form():
    assert [m.significant(v, 2) for v in (0.0123, 7173.2, 0.376, 2.19, 351.2, -285.3)] == \
        ["0.012", "7,200", "0.38", "2.2", "350", "-290"]
    assert m.render({"a": {"b": 7173.2}}, "a.b", "2sig") == "7,200"
    assert m.render({"a": -0.0123}, "a", "2sig") == "−0.012"   # a typographic minus, as every number


def test_every_plus_minus_says_what_it_is():
    assert audit.unexplained_plus_minus("Intro.\n\nWe got 3 ± 1 here.\n\nAnd 3 ± 1 (95 % interval).\n") == [3]
    table = "| a | b |\n| --- | --- |\n| x | 3 ± 1 |\n"
    assert audit.unexplained_plus_minus("Medians, ± one standard deviation:\n\n" + table) == []
    assert audit.unexplained_plus_minus("Medians:\n\n" + table) == [5]
    for page in sorted((REPO / "content").glob("*.md")):
        assert audit.unexplained_plus_minus(page.read_text()) == [], page.name


def test_an_unexplained_plus_minus_stops_the_build(toy_project):
    from mamlviz.site import BuildError, build

    page = toy_project.content / "02-second.md"
    page.write_text(page.read_text() + "\nThe error was 3 ± 1 points.\n")
    with pytest.raises(BuildError, match="02-second.md: a ± that does not say what it is"):
        build(toy_project, pyodide=False, log=lambda *a: None)


def test_a_comparison_is_worded_from_its_interval():
    data = {"a": stats.paired([3, 4, 5, 6, 7], [1, 2, 2, 3, 4]), "b": stats.paired([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]),
            "c": stats.paired([0, 1, 1, 2, 2], [3, 3, 4, 5, 6])}
    assert [m.render(data, k, "than") for k in "abc"] == ["higher than", "not shown to differ from", "lower than"]


# Every comparison the text makes in fixed words, with the paired difference (a − b over draws; for errors the ratio
# a / b over seeds) that the words rest on and what the words say about it: "higher" / "lower" (the 95 % interval
# excludes 0, or 1 for a ratio, on that side), "level" (it contains it), and "all" when the words say it held on
# every seed or draw. Comparisons worded by the
# build itself ({{measured:KEY:than}}) need no entry: they change with the data.
CLAIMS = [
    ("01-introduction.md", "MAML beats raw pixels by a wide margin", "game.way.5.paired.maml-raw", "higher", "all"),
    ("01-introduction.md", "MAML beats raw pixels by a wide margin", "game.way.20.paired.maml-raw", "higher", "all"),
    ("01-introduction.md", "comes within", "game.way.5.paired.maml-blur", "higher", ""),
    ("01-introduction.md", "comes within", "game.way.20.paired.maml-blur", "higher", ""),
    ("05-first-order-maml.md", "do not settle the comparison at this budget", "part5.runs.default.ratio.fomaml-maml",
     "level", ""),
    ("05-first-order-maml.md", "Here first order does fall behind", "part5.runs.small_alpha.ratio.fomaml-maml",
     "higher", ""),
    ("05-first-order-maml.md", "More inner steps do not settle it either", "part5.runs.k3.ratio.fomaml-maml",
     "level", ""),
    ("05-first-order-maml.md", "it is clear at the small inner rate", "part5.runs.small_alpha.ratio.fomaml-maml",
     "higher", ""),
    ("05-first-order-maml.md", "not established at the paper's", "part5.runs.default.ratio.fomaml-maml", "level", ""),
    ("07-imaml.md", "one plain gradient step at $\\alpha = 0.01$ overshoots", "methods.rows.imaml.shared_own_ratio",
     "higher", "all"),
    ("07-imaml.md", "too wide to establish it", "methods.rows.reptile.shared_own_ratio", "level", "all"),
    ("08-comparison.md", "Reptile comes out ahead of every other method", "native.ratio.own.maml-reptile", "higher",
     "all"),
    ("08-comparison.md", "Reptile comes out ahead of every other method", "native.ratio.own.fomaml-reptile",
     "higher", "all"),
    ("08-comparison.md", "Reptile comes out ahead of every other method", "native.ratio.own.pretrained-reptile",
     "higher", "all"),
    ("08-comparison.md", "against iMAML its lead is narrower", "native.ratio.own.imaml-reptile", "higher", ""),
    ("08-comparison.md", "Judged after one plain step its lead is gone", "native.ratio.shared.reptile-maml", "level",
     ""),
    ("08-comparison.md", "throws it far off, on every seed", "native.ratio.shared.imaml-maml", "higher", "all"),
    ("08-comparison.md", "MAML against FOMAML", "native.ratio.own.fomaml-maml", "level", ""),
    ("08-comparison.md", "iMAML against MAML", "native.ratio.own.imaml-maml", "level", ""),
    ("08-comparison.md", "MAML or FOMAML against the pretrained baseline", "native.ratio.own.pretrained-maml",
     "level", ""),
    ("08-comparison.md", "MAML or FOMAML against the pretrained baseline", "native.ratio.own.pretrained-fomaml",
     "level", ""),
    ("09-conclusion.md", "on every seed against MAML and FOMAML", "native.ratio.own.maml-reptile", "higher", "all"),
    ("09-conclusion.md", "on every seed against MAML and FOMAML", "native.ratio.own.fomaml-reptile", "higher", "all"),
    ("09-conclusion.md", "Reptile leads after its own procedure", "native.ratio.own.imaml-reptile", "higher", ""),
    ("09-conclusion.md", "but not after one shared step", "native.ratio.shared.reptile-maml", "level", ""),
    ("09-conclusion.md", "clearly at a small inner rate", "part5.runs.small_alpha.ratio.fomaml-maml", "higher", ""),
    ("09-conclusion.md", "at the paper's rate the gap is not established", "part5.runs.default.ratio.fomaml-maml",
     "level", ""),
]


@pytest.mark.parametrize("page, words, key, says, every", CLAIMS)
def test_each_comparison_in_fixed_words_is_what_its_interval_says(page, words, key, says, every):
    text = " ".join((REPO / "content" / page).read_text(encoding="utf-8").split())
    assert words in text, f"{page} no longer says {words!r}: update CLAIMS"
    p = m.lookup(json.loads(m.DATA.read_text(encoding="utf-8")), key)
    assert p["n"] >= 5, "a comparison rests on at least five seeds or draws"
    assert stats.verdict(p) == says, (page, words, key, p)
    if every:
        assert p["positive"] == p["n"], (page, words, key, p)


def test_the_code_version_ignores_comments_and_docstrings():
    a = m._code('def f(x):\n    """Twice x."""\n    return 2 * x  # doubled\n')
    assert a == m._code("def f(x):\n    return 2 * x\n") != m._code("def f(x):\n    return 3 * x\n")


def test_errors_are_compared_as_paired_ratios():
    r = stats.paired_ratio([2.0, 4.0, 8.0, 4.0, 2.0], [1.0, 2.0, 4.0, 2.0, 1.0])
    assert r["ratio"] == pytest.approx(2.0) and r["lo"] == pytest.approx(2.0) and stats.verdict(r) == "higher"
    wide = stats.paired_ratio([0.5, 400.0, 0.6, 2000.0, 0.4], [0.4, 0.3, 0.5, 0.4, 0.5])
    assert wide["positive"] == 4 and stats.verdict(wide) == "level"
    assert m.render({"r": wide}, "r", "than") == "not shown to differ from"
