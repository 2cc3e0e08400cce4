"""The worker's request object, `figures.Call`, driven directly (the browser drives it through Pyodide): a plain
figure is one frame; a streaming figure is one frame per yielded scene, then a final empty frame; `close` stops a
stream; an empty state or action means the defaults; an unregistered figure makes it import its module first."""

from __future__ import annotations

import json

import pytest

from mamlviz import figures
from mamlviz.figures import Button, Call, Slider, figure


@pytest.fixture
def fake():
    """Two figures registered for the test: a plain one and a stream of `n` scenes that notes when it is closed."""
    seen = {"closed": False, "calls": []}

    @figure("test-plain", title="plain", controls=[Slider("n", "n", 0, 5, step=1, default=2), Button("go", "Go")])
    def plain(state, action=None):
        seen["calls"].append((dict(state), action))
        return {"panels": [], "value": state["n"] * 10, "action": action}

    @figure("test-stream", title="stream", controls=[Slider("n", "n", 0, 5, step=1, default=3), Button("go", "Go")])
    def stream(state, action=None):
        seen["calls"].append((dict(state), action))
        try:
            for i in range(state["n"]):
                yield {"panels": [], "frame": i}
        finally:
            seen["closed"] = True

    yield seen
    figures.FIGURES.pop("test-plain")
    figures.FIGURES.pop("test-stream")


def frames(call):
    out = []
    while text := call.step():
        out.append(json.loads(text))
    return out


def test_a_plain_figure_is_one_finished_frame_then_nothing(fake):
    call = Call("test-plain", json.dumps({"n": 4}), "go")
    assert json.loads(call.step()) == {"scene": {"panels": [], "value": 40, "action": "go"}, "done": True}
    assert call.step() == "" and call.step() == ""
    assert fake["calls"] == [({"n": 4}, "go")]


def test_an_empty_state_and_action_mean_the_defaults(fake):
    call = Call("test-plain", "", "")
    assert json.loads(call.step())["scene"] == {"panels": [], "value": 20, "action": None}
    assert fake["calls"] == [({"n": 2}, None)]


def test_a_stream_is_one_frame_per_scene_then_a_final_empty_frame(fake):
    got = frames(Call("test-stream", json.dumps({"n": 4}), "go"))
    assert [f["scene"]["frame"] for f in got[:-1]] == [0, 1, 2, 3]
    assert [f["done"] for f in got] == [False] * 4 + [True]
    assert got[-1] == {"scene": None, "done": True}
    assert fake["closed"] and fake["calls"] == [({"n": 4}, "go")]


def test_an_empty_stream_finishes_at_once(fake):
    call = Call("test-stream", json.dumps({"n": 0}), None)
    assert json.loads(call.step()) == {"scene": None, "done": True}
    assert call.step() == ""


def test_close_stops_a_stream(fake):
    call = Call("test-stream", json.dumps({"n": 5}), None)
    assert json.loads(call.step())["scene"]["frame"] == 0 and not fake["closed"]
    call.close()
    assert fake["closed"] and call.step() == ""


def test_close_of_a_plain_figure_ends_it_unread(fake):
    call = Call("test-plain", "{}", None)
    call.close()
    assert call.step() == ""


def test_an_unregistered_figure_makes_it_import_its_module_first(monkeypatch, fake):
    loaded = []
    monkeypatch.setattr(figures, "load", lambda names: loaded.append(list(names)))
    monkeypatch.setattr(figures, "load_all", lambda: loaded.append("all"))
    Call("test-plain", "{}", None, "part3")                  # registered: nothing imported
    assert loaded == []
    with pytest.raises(KeyError):
        Call("no-such-figure", "{}", None, "part9")
    assert loaded == [["part9"]]
    with pytest.raises(KeyError):
        Call("no-such-figure", "{}", None)                  # no module named: every module
    assert loaded == [["part9"], "all"]


def test_figure_registration_names_the_module_and_defaults_to_quick():
    """`figure()` notes the figure module a function lives in (the worker imports only that module), or "" for a
    function from elsewhere; figures are quick unless declared `training`; an id is taken once."""
    def fn(state, action=None):
        return {}

    fn.__module__ = "mamlviz.figures.partx"
    try:
        figure("test-reg-a", title="a")(fn)
        assert figures.FIGURES["test-reg-a"].module == "partx" and figures.FIGURES["test-reg-a"].training is False
        figure("test-reg-a", title="a again", training=True)(fn)            # the same function again: allowed
        assert figures.FIGURES["test-reg-a"].training is True and fn.figure_id == "test-reg-a"
        with pytest.raises(ValueError, match="registered twice"):
            figure("test-reg-a", title="other")(lambda state, action=None: {})
        figure("test-reg-b", title="b")(lambda state, action=None: {})        # defined in this test module
        assert figures.FIGURES["test-reg-b"].module == ""
        fn.__module__ = "mamlviz.figuresx.party"                             # not inside the package
        figure("test-reg-c", title="c")(fn)
        assert figures.FIGURES["test-reg-c"].module == ""
    finally:
        for key in ("test-reg-a", "test-reg-b", "test-reg-c"):
            figures.FIGURES.pop(key, None)


def test_the_game_models_are_loaded_once_per_process(monkeypatch):
    from mamlviz import glyphtasks
    from mamlviz.figures import part1

    calls = []
    monkeypatch.setattr(part1, "_MODELS", {})
    monkeypatch.setattr(glyphtasks, "load_models", lambda: calls.append(1) or {"5": "five", "20": "twenty"})
    assert part1._game_models() == {"5": "five", "20": "twenty"}
    assert part1._game_models() is part1._MODELS and calls == [1]


def test_run_passes_only_button_actions_and_validation_skips_button_keys(fake):
    assert figures.run("test-plain", {}, "dance")["action"] is None            # not a button of this figure
    assert figures.run("test-plain", {}, "go")["action"] == "go"
    assert figures.FIGURES["test-plain"].validate({"go": 1, "n": 4, "zz": 2, "_own": [1]}) == {"n": 4, "_own": [1]}


def test_an_unknown_figure_says_it_is_unknown():
    """The page shows the reason as the figure's status ("Not live: …"): it names the figure, not a bare key."""
    with pytest.raises(KeyError, match="unknown figure 'no-such-figure'"):
        Call("no-such-figure", "{}", None, "mamlviz.figures.part3")
