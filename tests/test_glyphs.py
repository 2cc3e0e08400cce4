"""The procedural glyph set of the Part 1 game: deterministic, big enough, distinct, in bounds, small."""

import json

import numpy as np
import pytest

from mamlviz import glyphs


@pytest.fixture(scope="module")
def data():
    return glyphs.widget_data()


def test_same_seed_gives_identical_output(data):
    again = glyphs.widget_data()
    assert json.dumps(again, sort_keys=True) == json.dumps(data, sort_keys=True)


def test_other_seed_gives_other_characters(data):
    other = glyphs.generate(seed=glyphs.SEED + 1, n_alphabets=2, per_alphabet=5, n_drawers=3)
    assert other["glyphs"][0][0] != data["glyphs"][0][0]


def test_counts(data):
    assert data["n_classes"] >= 200 and data["n_drawers"] >= 20
    assert len(data["glyphs"]) == data["n_classes"]
    assert all(len(row) == data["n_drawers"] for row in data["glyphs"])
    assert sum(a["count"] for a in data["alphabets"]) == data["n_classes"]
    names = [a["name"] for a in data["alphabets"]]
    assert len(names) >= 5


def test_encode_decode_round_trip():
    strokes = [np.array([[0, 63], [10, 20], [33, 1]]), np.array([[5, 5], [6, 6]])]
    text = glyphs.encode(strokes, 17)
    back, width = glyphs.decode(text)
    assert width == pytest.approx((17 + 10) / 10)
    assert all(np.array_equal(a, b) for a, b in zip(strokes, back))


def test_bounds(data):
    for row in data["glyphs"]:
        for text in row:
            assert set(text) <= set(glyphs.B64 + " ")
            strokes, width = glyphs.decode(text)
            assert 1 <= len(strokes) <= 6
            assert 1.0 <= width <= 7.3
            for s in strokes:
                assert len(s) >= 2
                assert s.min() >= 0 and s.max() <= glyphs.GRID - 1
            pts = np.vstack(strokes)
            # the character is roughly centred and not clipped into a corner
            centre = (pts.min(axis=0) + pts.max(axis=0)) / 2
            assert np.all(np.abs(centre - 31.5) < 14)


def test_templates_are_distinct():
    g = glyphs.generate()
    ink = [glyphs._template_image(c["template"], c["rounded"]) > 0.3 for c in g["classes"]]
    flat = np.array([i.ravel() for i in ink], dtype=float)
    inter = flat @ flat.T
    union = flat.sum(1)[:, None] + flat.sum(1)[None] - inter
    dist = 1 - inter / union
    np.fill_diagonal(dist, 1.0)
    assert dist.min() >= 0.5


def test_drawings_of_one_class_are_closer_than_other_classes(data):
    """Recognisably the same class across drawers: on pixels, a drawing is on average much nearer to other
    drawings of its class than to drawings of other classes, for most classes (raw pixels are a crude measure:
    that gap is what the naive machine in the game lives on)."""
    rng = np.random.default_rng(0)
    classes = rng.choice(data["n_classes"], size=40, replace=False)
    imgs = np.array([[glyphs.glyph_image(data["glyphs"][c][d], 20).ravel() for d in range(6)] for c in classes])
    within, between = [], []
    for i in range(len(classes)):
        a = imgs[i]
        within.append(np.mean([np.linalg.norm(a[0] - a[d]) for d in range(1, 6)]))
        between.append(np.mean([np.linalg.norm(a[0] - imgs[j][1]) for j in range(len(classes)) if j != i]))
    assert np.mean(np.array(within) < np.array(between)) >= 0.8


def test_data_is_small(data):
    raw = json.dumps(data, separators=(",", ":"))
    assert len(raw.encode()) <= 300_000
