"""Every published number in the explainer, traced to the paper and table it comes from, against what the pages
and the Part 2 chart print. A number that appears on a page must be in one of the tables below.

Sources (checked against the papers' own tables, or, where a paper has no table, the passage named):
- Lake, Salakhutdinov & Tenenbaum 2013 (NIPS), one-shot classification: HBPL 4.8 % error on 20-way within-alphabet
  trials, people 4.5 %; Koch et al. 2015, Table 2, lists the same result as 95.2 % accuracy.
- Lake, Salakhutdinov & Tenenbaum 2015 (Science), one-shot classification results: BPL 3.3 % error, people 4.5 %;
  the data set: 1,623 characters from 50 alphabets, each drawn by 20 people online.
- Koch, Zemel & Salakhutdinov 2015, Table 2: convolutional Siamese net 92.0 % (Lake et al.'s protocol).
- Vinyals et al. 2016, Table 1 (Omniglot, 20-way 1-shot): Matching nets 93.8 %; convolutional Siamese net,
  fine-tuned, re-run under their split, 88.1 % (88.0 % without fine-tuning).
- Santoro et al. 2016, Table 1: MANN 82.8 % at the second presentation of a class in 5-class episodes (5-way only).
- Munkhdalai & Yu 2017, Table 1: MetaNet 97.00 % (20-way 1-shot).
- Finn, Abbeel & Levine 2017, Table 1: MAML 95.8 ± 0.3 % (20-way 1-shot); Section 5.1: the sine family and the
  1-40-40-1 ReLU network; Section 5.2: first-order MAML.
- Snell, Swersky & Zemel 2017, Table 1: Prototypical nets 96.0 % (20-way 1-shot, Euclidean distance).
- First appearance (arXiv): Meta Networks 1703.00837 on 2 March 2017, MAML 1703.03400 on 9 March 2017, Prototypical
  networks 1703.05175 on 15 March 2017; Matching networks 1606.04080 in June 2016.
- Not traced, so not printed as a result: the "generative stroke model, 2011, 54.9 %" of an earlier explainer (Lake
  et al. 2011 is cited without a number).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mamlviz.figures import part2

CONTENT = Path(__file__).resolve().parents[1] / "content"

# name on the chart: (accuracy %, cite key, first appearance, protocol, paper, table in it or None)
CHART = {
    "Hierarchical Bayesian Program Learning": (95.2, "lake2013", "2013-12", "lake", "Lake et al. 2013", None),
    "Siamese nets": (92.0, "koch2015", "2015-07", "lake", "Koch et al. 2015", "Table 2"),
    "Bayesian Program Learning": (96.7, "lake2015", "2015-12", "lake", "Lake et al. 2015", None),
    "Siamese nets, re-run by Vinyals et al.": (88.1, "vinyals2016", "2016-06", "vinyals", "Vinyals et al. 2016",
                                               "Table 1"),
    "Matching nets": (93.8, "vinyals2016", "2016-06", "vinyals", "Vinyals et al. 2016", "Table 1"),
    "Meta Networks": (97.0, "munkhdalai2017", "2017-03-02", "vinyals", "Munkhdalai & Yu 2017", "Table 1"),
    "MAML": (95.8, "finn2017", "2017-03-09", "vinyals", "Finn et al. 2017", "Table 1"),
    "Prototypical nets": (96.0, "snell2017", "2017-03-15", "vinyals", "Snell et al. 2017", "Table 1"),
}

# every other per-cent figure printed on a page: what it is and where it comes from
OTHER_PERCENTAGES = {
    "4.8": "HBPL error, Lake et al. 2013",
    "3.3": "BPL error, Lake et al. 2015",
    "4.5": "people's error, Lake et al. 2015 (also Lake et al. 2013)",
    "95.5": "people's accuracy, 100 − 4.5",
    "82.8": "MANN, 5-way only, Santoro et al. 2016, Table 1 (named as left off the chart)",
    "20": "chance in the 5-way game, 1/5 (arithmetic)",
    "5": "chance in the 20-way game, 1/20 (arithmetic)",
    "95": "the confidence level of the intervals in Part 1's comparison of the game's machines",
}


def test_chart_data_equals_the_traced_table():
    got = {r["name"]: (r["acc"], r["cite"], r["date"], r["protocol"]) for r in part2.RESULTS}
    assert got == {name: row[:4] for name, row in CHART.items()}
    for r in part2.RESULTS:
        paper, table = CHART[r["name"]][4:]
        assert r["year"] == r["date"][:4] and r["protocol"] in part2.PROTOCOLS
        assert r["source"].startswith(paper) and (table is None or f"{paper}, {table}" in r["source"])


def test_chart_is_in_order_of_publication():
    dates = [r["date"] for r in part2.RESULTS]
    assert dates == sorted(dates)
    order = [r["name"] for r in part2.RESULTS]
    assert order.index("Meta Networks") < order.index("MAML") < order.index("Prototypical nets")
    assert all(r["year"] == "2017" for r in part2.RESULTS if r["cite"] in ("munkhdalai2017", "finn2017", "snell2017"))


def test_no_untraced_or_other_task_numbers_on_the_chart():
    accs = {r["acc"] for r in part2.RESULTS}
    assert 82.8 not in accs              # a 5-way number
    assert 54.9 not in accs and 96.2 not in accs  # untraced / matching neither Lake et al. 2013 nor 2015
    assert "santoro2016" not in {r["cite"] for r in part2.RESULTS}


def _sentences(text):
    return re.split(r"(?<=[.;])\s+", " ".join(text.split()))


@pytest.mark.parametrize("name", list(CHART))
def test_prose_prints_each_charted_number_with_its_citation(name):
    acc, cite = CHART[name][:2]
    text = (CONTENT / "02-where-maml-sits.md").read_text()
    hits = [s for s in _sentences(text) if f"{acc} %" in s]
    assert hits, f"{acc} % is not in Part 2"
    assert any(f"@{cite}" in s for s in hits), (name, hits)


@pytest.mark.parametrize("part", ["01-introduction.md", "02-where-maml-sits.md", "03-how-maml-works.md"])
def test_every_percentage_on_the_pages_is_traced(part):
    text = (CONTENT / part).read_text()
    charted = {f"{row[0]}" for row in CHART.values()}
    for number in re.findall(r"(\d+(?:\.\d+)?)\s?%", text):
        assert number in charted or number in OTHER_PERCENTAGES, f"{part}: {number} % is not traced"


# Part 8's table, from Rajeswaran, Finn, Kakade & Levine 2019: Table 2 (Omniglot) and Table 3 (Mini-ImageNet 5-way
# 1-shot); iMAML with its inner problem solved by gradient descent ("iMAML, GD"). Accuracies in %, ± the 95 %
# confidence interval. Their Table 2's caption: MAML from Finn et al. 2017, first-order MAML and Reptile from Nichol et
# al. 2018 (Finn et al. ran first order on Mini-ImageNet only: their Table 1, 48.07 ± 1.75). ORIGIN: where each cell
# of a row was first published, in the table's column order.
RAJESWARAN2019 = {
    "MAML": ("98.7 ± 0.4", "95.8 ± 0.3", "48.70 ± 1.84"),
    "first-order MAML": ("98.3 ± 0.5", "89.4 ± 0.5", "48.07 ± 1.75"),
    "Reptile": ("97.68 ± 0.04", "89.43 ± 0.14", "49.97 ± 0.32"),
    "iMAML (gradient descent)": ("99.16 ± 0.35", "94.46 ± 0.42", "48.96 ± 1.84"),
}
ORIGIN = {"MAML": ("finn2017",) * 3, "first-order MAML": ("nichol2018", "nichol2018", "finn2017"),
          "Reptile": ("nichol2018",) * 3, "iMAML (gradient descent)": ("rajeswaran2019",) * 3}
COLUMNS = ("Omniglot", "Omniglot", "Mini-ImageNet")


def test_part8_published_table_is_rajeswaran_tables_2_and_3():
    text = (CONTENT / "08-comparison.md").read_text(encoding="utf-8")
    rows = {cells[0]: tuple(cells[1:]) for line in text.splitlines() if line.startswith("| ")
            for cells in [[c.strip() for c in line.strip("|").split("|")]]
            if cells[0] in RAJESWARAN2019 and "±" in line}   # the published table (Part 8 has other tables)
    assert rows == RAJESWARAN2019
    assert "[@rajeswaran2019]" in text and "Table 2" in text and "Table 3" in text


def test_part8_credits_each_published_number_to_the_paper_that_first_reported_it():
    """The sentence above the table: each clause that names a row (and, for first order, a benchmark) cites the
    paper of ORIGIN for it, and no other of those papers."""
    text = " ".join((CONTENT / "08-comparison.md").read_text(encoding="utf-8").split())
    start = text.index("Rajeswaran et al. collected")
    para = text[start:text.index("| method |", start)]
    clauses = re.split(r"(?<!et al)\. |;", para)
    named = {("MAML", 0): "MAML row", ("first-order MAML", 0): "Omniglot first-order",
             ("first-order MAML", 2): "Mini-ImageNet first-order", ("Reptile", 0): "Reptile row"}
    for (row, col), words in named.items():
        clause = next(c for c in clauses if words in c)
        cited = set(re.findall(r"@(\w+)", clause))
        assert ORIGIN[row][col] in cited and not cited & ({"finn2017", "nichol2018"} - {ORIGIN[row][col]}), (row, clause)
