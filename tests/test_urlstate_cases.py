"""Python's validation of figure state (mamlviz.figures) against the URL-state table shared with the page's
JavaScript (tests/js/urlstate_cases.json, also run by `node --test tests/js/`): the same entries are kept, clamped
or ignored on both sides, and every control type round-trips."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mamlviz.figures import Button, Figure, Handle, Points, Select, Slider, Toggle

TABLE = json.loads((Path(__file__).parent / "js" / "urlstate_cases.json").read_text())
KINDS = {"slider": Slider, "select": Select, "toggle": Toggle, "button": Button, "handle": Handle, "points": Points}


def build(spec):
    args = {k: v for k, v in spec.items() if k not in ("kind", "integer")}
    for key in ("default", "bounds"):
        if isinstance(args.get(key), list):
            args[key] = tuple(tuple(v) if isinstance(v, list) else v for v in args[key])
    return KINDS[spec["kind"]](**args)


CONTROLS = [build(spec) for spec in TABLE["controls"]]
FIG = Figure("fig", "the table's controls", CONTROLS, lambda state, action=None: {})
DEFAULTS = FIG.default_state()


def test_the_table_gives_the_page_what_the_build_gives_it():
    """The controls in the table are exactly the specs the build embeds for such declarations."""
    assert [c.spec() for c in CONTROLS] == TABLE["controls"]


def from_url(key, text):
    """The URL's text as a value for Python: numbers stay text (float() reads them), lists are split at commas."""
    kind = next((c.kind for c in CONTROLS if c.name == key), None)
    if kind == "handle":
        return text.split(",")
    if kind == "points":
        values = text.split(",") if text else []
        return [values[i:i + 2] for i in range(0, len(values), 2)]
    return text


def case_id(case):
    return f"{case['key']}={case['text']!r}"


@pytest.mark.parametrize("case", [pytest.param(c, id=case_id(c), marks=pytest.mark.xfail(
    c.get("differs") == "python", reason=c.get("why", ""), strict=True)) for c in TABLE["cases"]])
def test_case(case):
    state = FIG.validate({case["key"]: from_url(case["key"], case["text"])})
    if case["expect"] is None:
        assert state == DEFAULTS
    else:
        assert state == {**DEFAULTS, case["key"]: case["expect"]}
        assert type(state[case["key"]]) is type(case["expect"]) or isinstance(case["expect"], (int, float))


@pytest.mark.parametrize("case", TABLE["roundtrip"], ids=lambda c: f"{c['key']}={c['value']}")
def test_round_trip_values_validate_to_themselves(case):
    """What the page keeps after a round trip through the URL is a fixed point of Python's validation."""
    state = FIG.validate({case["key"]: case["after"]})
    assert state[case["key"]] == case["after"]
    assert FIG.validate(state) == state
