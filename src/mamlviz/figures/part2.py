"""Part 2 — where MAML sits: build-time data for the `approach-map` and `omniglot-timeline` widgets.

The numbers are published Omniglot 20-way 1-shot accuracies, each with the paper and table it comes from; `cite`
keys are in content/references.bib and are cited in the prose next to each number.
"""

from __future__ import annotations

from mamlviz import stats

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

# Published Omniglot 20-way 1-shot accuracies (per cent), each traced to the paper and table that report it
# (tests/test_published_numbers.py holds the same table with its sources). In order of first publication: `date` is
# when the paper first appeared (arXiv, else the venue), `year` what the chart prints. `protocol`: "lake" = Lake et
# al.'s evaluation (whole alphabets held out, the 20 characters of a trial from one alphabet); "vinyals" = Vinyals
# et al.'s (characters split into training and test, not alphabets; a trial's characters from the whole test set).
# Left off: memory-augmented networks (82.8 % is a 5-way result, Santoro et al. 2016, Table 1; no 20-way number was
# published) and the 2011 stroke model of Lake et al. (no accuracy on this 20-way task could be traced to it).
RESULTS = [
    {"name": "Hierarchical Bayesian Program Learning", "short": "HBPL", "year": "2013", "date": "2013-12",
     "acc": 95.2, "cite": "lake2013", "family": "other", "protocol": "lake",
     "source": "Lake et al. 2013 (4.8 % error); Koch et al. 2015, Table 2"},
    {"name": "Siamese nets", "short": "Siamese", "year": "2015", "date": "2015-07", "acc": 92.0,
     "cite": "koch2015", "family": "metric", "protocol": "lake", "source": "Koch et al. 2015, Table 2"},
    {"name": "Bayesian Program Learning", "short": "BPL", "year": "2015", "date": "2015-12", "acc": 96.7,
     "cite": "lake2015", "family": "other", "protocol": "lake", "source": "Lake et al. 2015 (3.3 % error)"},
    {"name": "Matching nets", "short": "Matching", "year": "2016", "date": "2016-06", "acc": 93.8,
     "cite": "vinyals2016", "family": "metric", "protocol": "vinyals", "source": "Vinyals et al. 2016, Table 1"},
    {"name": "Siamese nets, re-run by Vinyals et al.", "short": "Siamese re-run", "year": "2016", "date": "2016-06",
     "acc": 88.1, "cite": "vinyals2016", "family": "metric", "protocol": "vinyals",
     "source": "Vinyals et al. 2016, Table 1 (fine-tuned)"},
    {"name": "Meta Networks", "short": "MetaNet", "year": "2017", "date": "2017-03-02", "acc": 97.0,
     "cite": "munkhdalai2017", "family": "model", "protocol": "vinyals", "source": "Munkhdalai & Yu 2017, Table 1"},
    {"name": "MAML", "short": "MAML", "year": "2017", "date": "2017-03-09", "acc": 95.8, "cite": "finn2017",
     "family": "optimisation", "protocol": "vinyals", "source": "Finn et al. 2017, Table 1 (± 0.3)"},
    {"name": "Prototypical nets", "short": "Proto", "year": "2017", "date": "2017-03-15", "acc": 96.0,
     "cite": "snell2017", "family": "metric", "protocol": "vinyals", "source": "Snell et al. 2017, Table 1"},
]
PROTOCOLS = {"lake": "alphabets held out; a trial's 20 characters from one alphabet (Lake et al.)",
             "vinyals": "characters split, not alphabets; a trial's 20 characters from any test alphabet "
                        "(Vinyals et al.)"}


@widget("approach-map", module="approach-map.js")
def approach_map():
    """The three families and their methods; each method's paragraph in the prose starts with its name in bold."""
    return {"families": FAMILIES}


@widget("omniglot-timeline", module="omniglot-timeline.js")
def omniglot_timeline():
    """Published results plus where the reader's Part 1 scores are kept."""
    from mamlviz.figures._common import measured   # our own measurements, on our glyphs (not Omniglot)

    game = measured().get("game", {})
    machines = []
    for key, name, short in (("raw", "Nearest neighbour, raw pixels", "NN, raw"),
                             ("blur", "Nearest neighbour, blurred pixels", "NN, blurred"),
                             ("maml", "MAML machine (MLP)", "MAML (MLP)")):
        if key in game.get("way", {}).get("20", {}).get("summary", {}):
            s = game["way"]["20"]["summary"][key]   # mean over draws of trials, ± the 95 % interval of that mean
            machines.append({"name": name, "short": short, "acc": round(s["mean"], 1),
                             "ci": round(stats.t95(s["n"] - 1) * s["sd"] / s["n"] ** 0.5, 1),
                             "note": f"Part 1 game, mean of {s['n']} draws of {game['trials']:,} trials "
                                     "± its 95 % interval (not Omniglot)"})
    return {"results": RESULTS, "protocols": PROTOCOLS, "storage_key": "mamlviz.fewshot.scores",
            "glyph_machines": machines,
            "families": {f["id"]: f["name"] for f in FAMILIES} | {"other": "Probabilistic (stroke) models"}}
