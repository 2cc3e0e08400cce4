"""The browser benchmark's report (not the measuring, which needs Chromium and minutes: `mamlviz bench --browser`):
its Markdown table names the machine's load during the run and the menu hop's steps, and `--readme` puts that
table, and only it, between the README's markers."""

import pytest

from mamlviz import browserbench


def result():
    return {"runs": 2, "page": browserbench.PAGE, "first_frame_cold_s": 0.5, "live_cold_s": 3.0, "bare_boot_s": 2.6,
            "boot_steps_ms": {"start": 90, "runtime": 1000, "numpy": 2000, "mamlviz": 2100}, "first_frame_warm_s": 0.2,
            "live_warm_s": 2.0, "menu_hop_to_live_s": 0.21, "menu_hop_steps_ms": {"fetch": 25, "swap": 55, "init": 9},
            "bytes_cold": 9e6, "bytes_repeat": 0, "long_tasks_cold": 3, "long_task_ms_cold": 200,
            "lab_updates_per_s_both_models": 200.0, "worker_memory_mb": {"main": 40.0},
            "latency_ms": {"sine-fit": {"idle_median": 20, "idle_p95": 30, "training_median": 25, "training_p95": 40}},
            "meta_updates_per_s": {"maml": {"page": 130, "page_vs_reference": 1.1, "native": 400,
                                            "native_vs_reference": 1.9}},
            "load_average": {"min": 0.5, "max": 1.3}}


def test_table_names_the_load_and_the_hop_steps():
    table = browserbench.markdown(result())
    assert "load average 0.5–1.3 during the run" in table
    assert "| Menu hop: fetch / swap the article / figures initialised (ms) | 25 / 55 / 9 |" in table
    assert "(ms since it started) | 90; 1000 / 2000 / 2100 |" in table
    assert "| Meta-updates/s, maml: page (× reference in the page) · native (× reference natively) | 130 (1.10×) · 400 (1.90×) |" in table


def test_update_readme_replaces_only_the_block(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("before\n<!-- bench:browser -->\nold table\n<!-- /bench:browser -->\nafter\n")
    browserbench.update_readme(readme, "| new |")
    assert readme.read_text() == "before\n<!-- bench:browser -->\n| new |\n<!-- /bench:browser -->\nafter\n"
    (tmp_path / "other.md").write_text("no markers\n")
    with pytest.raises(ValueError, match="no <!-- bench:browser -->"):
        browserbench.update_readme(tmp_path / "other.md", "| new |")


def test_the_controls_table_gives_every_control_first_and_final_redraw():
    controls = {"imaml-gradient": {
        "log_lam": {"kind": "slider", "n": 20, "missed": 0, "first_median": 9.4, "first_p95": 15.2,
                    "final_median": 130.0, "final_p95": 180.6, "full_n": 19, "full_median": 61.2},
        "theta": {"kind": "handle", "n": 18, "missed": 2, "first_median": 8.0, "first_p95": 12.0,
                  "final_median": 120.0, "final_p95": 150.0}}}
    table = browserbench.controls_markdown({"presses": 20, "controls_ms": controls, "load_average": {"min": 1, "max": 2}})
    assert "load average 1.0–2.0" in table and "before" not in table
    before = {"imaml-gradient": {"theta": controls["imaml-gradient"]["theta"]}}
    again = browserbench.controls_markdown({"presses": 20, "controls_ms": controls, "before": "61838d7",
                                            "before_ms": before})
    assert "the site built from 61838d7, page by page alternately" in again and again.endswith(" 120 / 150 |")
    # the worker's full answers: median ms of computing, for how many of the inputs (none: a dash)
    assert "| imaml-gradient | log_lam (slider) | 9 / 15 | 130 / 181 | 61 (19 of 20) |" in table
    assert "| imaml-gradient | theta (handle) | 8 / 12 | 120 / 150 (no change ×2) | — |" in table
    from mamlviz import controlbench

    both = controlbench.markdown(controls, before={"imaml-gradient": {"theta": controls["imaml-gradient"]["theta"]}})
    assert "| imaml-gradient | log_lam (slider) | 9 / 15 | 130 / 181 | 61 (19 of 20) | — |" in both
    assert "| imaml-gradient | theta (handle) | 8 / 12 | 120 / 150 (no change ×2) | — | 120 / 150 |" in both
    assert both.splitlines()[0].endswith("before: final median / p95 |")


def test_update_readme_fills_the_controls_block_too(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("<!-- bench:browser -->\nA\n<!-- /bench:browser -->\n<!-- bench:controls -->\nB\n<!-- /bench:controls -->\n")
    browserbench.update_readme(readme, "C", browserbench.CONTROLS_MARKERS)
    assert readme.read_text() == "<!-- bench:browser -->\nA\n<!-- /bench:browser -->\n<!-- bench:controls -->\nC\n<!-- /bench:controls -->\n"


def test_a_whole_run_is_summarised_into_both_tables():
    """`summarise` (the end of `mamlviz bench --browser`) on two runs' raw measurements: the main table and the
    controls table both come out of its result, with the press count the run used."""
    keys = ["first_frame_cold_s", "live_cold_s", "first_frame_warm_s", "live_warm_s", "menu_hop_to_live_s",
            "bare_boot_s", "bytes_cold", "bytes_repeat", "long_tasks_cold", "long_task_ms_cold"]
    out = {k: [1.0, 3.0] for k in keys}
    out.update(boot_to_live_s=[2.0, 4.0], boot_steps_ms=[{"runtime": 10, "numpy": 20}, None],
               menu_hop_steps_ms=[{"fetch": 1, "swap": 2, "init": 3}], load_average=[0.5, 1.5],
               latency_idle_ms={"sine-fit": [10, 20]}, latency_training_ms={"sine-fit": [12, 30]},
               controls_ms={"sine-fit": {"k": {"kind": "slider", "n": 2, "missed": 0, "first_median": 9.0,
                                               "first_p95": 9.5, "final_median": 9.0, "final_p95": 9.5,
                                               "full_n": 0, "full_median": None}}})
    rates = {"rates": {"maml": {"median": 120.0}, "reference": {"median": 100.0}}}
    r = browserbench.summarise(out, rates, {"rates": {"maml": {"median": 300.0}, "reference": {"median": 200.0}}},
                               2, presses=6)
    assert r["live_cold_s"] == 2.0 and r["live_over_bare_s"] == 1.0 and r["presses"] == 6
    assert r["meta_updates_per_s"]["maml"] == {"page": 120.0, "page_vs_reference": 1.2, "native": 300.0,
                                               "native_vs_reference": 1.5}
    assert "| Meta-updates/s, maml" in browserbench.markdown(r)
    assert "moved 6 times" in browserbench.controls_markdown(r)
