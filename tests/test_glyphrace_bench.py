"""The recorded run of Part 8's classification race (src/mamlviz/data/glyph_race.json) regenerates from the command
it records: the same command on a small input (two of its seeds, up to its first measurement after round 0) gives
the recorded numbers of those seeds and measurements."""

import importlib.util
import json
import shlex
from pathlib import Path

import numpy as np
import pytest

from mamlviz import glyphrace, glyphtasks, stats
from mamlviz.glyphrace import CLASSIFICATION_SETTINGS

ROOT = Path(__file__).resolve().parents[1]
SPEC = importlib.util.spec_from_file_location("glyph_race_bench", ROOT / "bench" / "glyph_race.py")
bench = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(bench)


def recorded():
    return json.loads(bench.OUT.read_text(encoding="utf-8"))


def test_the_recorded_run_describes_itself():
    rec = recorded()
    assert rec["command"].startswith("python bench/glyph_race.py ") and rec["date"] and rec["code"]
    assert rec["machine"]["cores"] and rec["machine"]["numpy"]
    assert len(rec["seeds"]) == 5 and set(rec["runs"]) == {str(s) for s in rec["seeds"]}
    assert rec["settings"] == {m: CLASSIFICATION_SETTINGS[m].to_dict() for m in glyphrace.RACERS}
    # the figure's lines: Part 1's machines on the same 1,000 trials, as glyphtasks knows them now
    known = glyphtasks.HELDOUT_ACCURACY
    assert rec["baselines"] == pytest.approx({"chance": 0.2, "raw": known["raw"][5][0] / 100,
                                              "blur": known["blur"][5][0] / 100, "shipped": known["maml"][5][0] / 100})
    # the summary is the median and range of the runs
    for m in glyphrace.RACERS:
        for k in ("own", "shared"):
            values = np.array([rec["runs"][s][m][k] for s in rec["runs"]])
            assert rec["median"][m][k] == list(np.median(values, axis=0))
            assert rec["low"][m][k] == list(values.min(axis=0)) and rec["high"][m][k] == list(values.max(axis=0))
            assert rec["final"][m][k]["median"] == round(100 * np.median(values[:, -1]), 1)
            assert rec["start"][m][k]["median"] == round(100 * np.median(values[:, 0]), 1)
        # round 0: the same θ for every racer, judged after the same five steps
        assert rec["start"][m]["shared"] == rec["start"]["maml"]["shared"]


def test_the_recorded_run_regenerates_from_its_command(tmp_path):
    rec = recorded()
    argv = shlex.split(rec["command"])[2:]
    seeds = argv[argv.index("--seeds") + 1:argv.index("--updates")]
    every = int(argv[argv.index("--every") + 1])
    out = tmp_path / "small.json"
    bench.main(["--seeds", *seeds[:2], "--updates", str(every), "--every", str(every), "--out", str(out)])
    small = json.loads(out.read_text())
    assert small["updates"] == rec["updates"][:2] == [0, every]
    for seed in seeds[:2]:
        for m in glyphrace.RACERS:
            for k in ("own", "shared"):
                # accuracies on 1,000 trials: equal, up to a trial or two where another BLAS rounds differently
                assert small["runs"][seed][m][k] == pytest.approx(rec["runs"][seed][m][k][:2], abs=0.0021), (seed, m)


def test_the_texts_comparisons_are_the_recorded_runs_paired_intervals():
    """Part 8 words the race from paired differences over the five seeds ({{measured:…:than}}): they are those of the
    runs, seed by seed; and the baseline's own accuracy, which the text calls chance, is within trial noise of it."""
    rec = recorded()
    for name, p in rec["paired"].items():
        a, b, k = name.split("-")
        want = stats.paired([100 * r[a][k][-1] for r in rec["runs"].values()],
                            [100 * r[b][k][-1] for r in rec["runs"].values()])
        assert p == pytest.approx(want), name
    chance = 100 * rec["baselines"]["chance"]
    own = rec["final"]["pretrained"]["own"]
    assert abs(own["median"] - chance) < 2.5 * 2 and own["low"] < chance < own["high"] + 2.5   # ± 2.5 points at 20 %
    text = (ROOT / "content" / "08-comparison.md").read_text()
    assert "{{measured:glyph_race.paired.maml-fomaml-own:than}}" in text
    # "Nor does it learn features that the game's five steps can use": its five-step accuracy ends below the random
    # start on every seed
    assert "Nor does it learn" in text
    for r in rec["runs"].values():
        assert r["pretrained"]["shared"][-1] < r["pretrained"]["shared"][0]


def test_verify_restamps_only_a_run_that_its_code_still_gives(tmp_path):
    out = tmp_path / "small.json"
    bench.main(["--seeds", "0", "1", "--updates", "20", "--every", "20", "--out", str(out)])
    small = json.loads(out.read_text())
    small["versions"]["glyph_race"]["code"] = "0123456789abcdef"      # made by other code
    out.write_text(json.dumps(small))
    assert bench.verify(out, log=lambda m: None)
    assert json.loads(out.read_text())["versions"]["glyph_race"]["code"] == bench.site_measured.fingerprint("glyph_race")
    small["runs"]["0"]["maml"]["own"][-1] += 0.001                      # a number the code does not give
    out.write_text(json.dumps(small))
    assert not bench.verify(out, log=lambda m: None)
    assert json.loads(out.read_text())["versions"]["glyph_race"]["code"] == "0123456789abcdef"
