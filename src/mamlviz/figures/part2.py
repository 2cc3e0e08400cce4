"""Part 2 — where MAML sits: build-time data for the `approach-map` and `omniglot-timeline` widgets.

The numbers are the published Omniglot 20-way 1-shot accuracies listed in the series plan; `cite` keys are in
content/references.bib and are cited in the prose next to each number.
"""

from __future__ import annotations

from . import widget

FAMILIES = [
    {"id": "metric", "name": "Metric-based",
     "idea": "learn an embedding; classify a query by its distance to the labelled examples",
     "methods": [
         {"id": "siamese", "name": "Siamese networks", "year": "2015", "cite": "koch2015"},
         {"id": "matching", "name": "Matching networks", "year": "2016", "cite": "vinyals2016"},
         {"id": "prototypical", "name": "Prototypical networks", "year": "2017", "cite": "snell2017"},
     ]},
    {"id": "model", "name": "Model-based",
     "idea": "a network whose own state (memory, fast weights) takes in the support set",
     "methods": [
         {"id": "mann", "name": "Memory-augmented networks", "year": "2016", "cite": "santoro2016"},
         {"id": "metanet", "name": "Meta Networks", "year": "2017", "cite": "munkhdalai2017"},
     ]},
    {"id": "optimisation", "name": "Optimisation-based",
     "idea": "learn the learning procedure itself: the optimiser, or where gradient descent starts",
     "methods": [
         {"id": "learned-optimisers", "name": "Learned optimisers", "year": "2016–17",
          "cite": "andrychowicz2016"},
         {"id": "maml", "name": "MAML", "year": "2017", "cite": "finn2017"},
     ]},
]

# Published Omniglot 20-way 1-shot accuracies (per cent), as listed in the series plan.
# `x` is where the point sits on the year axis; `short` is the label used on narrow screens.
RESULTS = [
    {"name": "Generative stroke model", "short": "Strokes", "year": "2011", "x": 2011.0, "acc": 54.9,
     "cite": "lake2011", "family": "other"},
    {"name": "Hierarchical Bayesian Program Learning", "short": "HBPL", "year": "2013", "x": 2013.0, "acc": 96.2,
     "cite": "lake2013", "family": "other"},
    {"name": "Siamese nets", "short": "Siamese", "year": "2015", "x": 2015.0, "acc": 88.1, "cite": "koch2015",
     "family": "metric"},
    {"name": "Matching nets", "short": "Matching", "year": "2016", "x": 2016.0, "acc": 93.8, "cite": "vinyals2016",
     "family": "metric"},
    {"name": "Memory-augmented NN", "short": "MANN", "year": "2016", "x": 2016.0, "acc": 82.8,
     "cite": "santoro2016", "family": "model"},
    {"name": "Meta Networks", "short": "MetaNet", "year": "2016/17", "x": 2016.5, "acc": 97.0,
     "cite": "munkhdalai2017", "family": "model"},
    {"name": "Prototypical nets", "short": "Proto", "year": "2017", "x": 2017.0, "acc": 96.0, "cite": "snell2017",
     "family": "metric"},
    {"name": "MAML", "short": "MAML", "year": "2017", "x": 2017.0, "acc": 95.8, "cite": "finn2017",
     "family": "optimisation"},
]


@widget("approach-map", module="approach-map.js")
def approach_map():
    """The three families and their methods; each method's paragraph in the prose starts with its name in bold."""
    return {"families": FAMILIES}


@widget("omniglot-timeline", module="omniglot-timeline.js")
def omniglot_timeline():
    """Published results plus where the reader's Part 1 scores are kept."""
    from mamlviz.glyphtasks import HELDOUT_ACCURACY as acc   # our own measurements, on our glyphs (not Omniglot)

    machines = [{"name": name, "short": short, "acc": acc[key][20][0], "ci": acc[key][20][1]}
                for key, name, short in (("raw", "Nearest neighbour, raw pixels", "NN, raw"),
                                         ("blur", "Nearest neighbour, blurred pixels", "NN, blurred"),
                                         ("maml", "MAML machine (MLP)", "MAML (MLP)")) if acc[key][20]]
    return {"results": RESULTS, "storage_key": "mamlviz.fewshot.scores", "glyph_machines": machines,
            "families": {f["id"]: f["name"] for f in FAMILIES} | {"other": "Probabilistic (stroke) models"}}
