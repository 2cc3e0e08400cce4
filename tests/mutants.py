"""Mutation testing of the library: `./dev mutants [FILE …]` runs this with mutmut (installed by `./dev`).

mutmut 3 copies src/ into mutants/, mutates every function there, first records which tests reach which
function, then runs for each mutant only the tests that reach its code. We keep the mutation operators that
change what the code computes (arithmetic and comparison operators, and/or, is/in, numeric constants, True/False,
unary not, conditional expressions, augmented assignments) and drop mutations of string literals (messages and
labels: a wrong word is a review matter, not a test matter).

Not a test module (pytest collects test_*.py only). Usage:

    ./dev mutants                       # the core and figures/ (CPU-heavy: run it under nice, in the background)
    ./dev mutants meta.py cg.py         # some files of src/mamlviz (figures/part3.py for a figure module)
    ./dev mutants --report              # the kill rates and survivors of the last run, without running again
    ./dev mutants --survivors           # test the last run's survivors again (after adding tests)
    ./dev mutants --max-children 1 …    # one test process at a time (leave CPU to others; default: one per core)
"""

from __future__ import annotations

import sys
from pathlib import Path

CORE = ["meta.py", "nn.py", "fused.py", "toy.py", "cg.py", "sine.py"]
FIGURES = sorted(str(p.relative_to("src/mamlviz")) for p in Path("src/mamlviz/figures").glob("*.py"))
# The unit tests (tests/test_*.py) reach the library. The browser and site-build tests are left out (they need a
# built site and take minutes); so are the long training runs and the timings, which the short known answers cover,
# the garbage-in-the-state sweep (a fifth of the run's time; the helpers it reaches have known answers of their own
# in test_figures_common.py), and the tracemalloc count of the inner loop's bytes (mutmut's trampolines in meta.py
# allocate too: the count is off by 1 % and the run cannot start). The selection names the folder, not its files:
# mutmut starts again from nothing when the selection changes, and a new test file must not throw away a run.
TESTS = ["tests", "--ignore=tests/browser", "--ignore=tests/site", "--ignore=tests/js"]
# The core's files are checked by the core's own tests (finite differences, identities, independent references),
# the ones written to catch a wrong derivative: most of the suite reaches nn.py, and a survivor there would cost a
# minute and a half of unrelated figure tests each.
CORE_TESTS = sorted(str(p) for p in Path("tests").glob("test_core_*.py")) + ["tests/test_xent.py"]
SLOW = ("not acceptance and not shipped_sine_models and not every_method_trains and not bench"
        " and not garbage_in_figure_owned_keys and not really_allocated")
KEEP = {"operator_number", "operator_name", "operator_swap_op", "operator_keywords", "operator_remove_unary_ops",
        "operator_augmented_assignment", "operator_if_exp"}


def forget_plain_copies(files):
    """mutmut copies the files it was not asked to mutate into mutants/ as they are, and later takes a copy newer
    than its source for an up-to-date mutated file: a file asked for after a run without it would never be
    mutated. Remove such plain copies (no .meta beside them) of the files asked for now, and then the recorded
    test reach too (mutmut keeps it, and it knows nothing of the new files' functions)."""
    plain = [Path("mutants/src/mamlviz") / f for f in files]
    plain = [p for p in plain if p.exists() and not p.with_name(p.name + ".meta").exists()]
    for copy in plain:
        copy.unlink()
    if plain:
        Path("mutants/mutmut-stats.json").unlink(missing_ok=True)


def configure(files):
    from mutmut import configuration
    from mutmut.mutation import file_mutation, mutators

    kept = [(node, op) for node, op in mutators.mutation_operators if op.__name__ in KEEP]
    mutators.mutation_operators[:] = kept          # file_mutation holds the same list object
    assert file_mutation.mutation_operators is mutators.mutation_operators
    settings = {
        "source_paths": ["src"],
        "only_mutate": [f"src/mamlviz/{f}" for f in files],
        "pytest_add_cli_args_test_selection": CORE_TESTS if set(files) <= set(CORE) else TESTS,
        "pytest_add_cli_args": ["-q", "-p", "no:cacheprovider", "-k", SLOW],
        "use_git_change_detection": False,
        "also_copy": ["content"],                  # the bibliography, read by the Part 2 test
    }
    configuration._config_reader = lambda: (lambda key, default: settings.get(key, default))
    configuration.reset_config()


KILLED = {1, 3, 37, 24, -24, 152, 255, 36}   # a test failed, or the mutant timed out (an endless loop is caught too)
UNCHECKED = {None, 2}                        # not run yet, or interrupted


def report(files):
    """Kill rate per file, killed / (mutants checked), and every survivor's name (no tests reach it: 'no tests')."""
    import json

    for f in files:
        meta = Path("mutants/src/mamlviz") / (f + ".meta")
        if not meta.exists():
            print(f"{f:<22} not run")
            continue
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        checked = {k: c for k, c in codes.items() if c not in UNCHECKED}
        killed = [k for k, c in checked.items() if c in KILLED]
        rate = 100.0 * len(killed) / len(checked) if checked else float("nan")
        waiting = len(codes) - len(checked)
        print(f"{f:<22} {len(killed):>4} / {len(checked):<4} killed  {rate:5.1f} %"
              + (f"   ({waiting} not run yet)" if waiting else ""))
        for k in sorted(set(checked) - set(killed)):
            print(f"    {'no tests' if checked[k] in (5, 33) else 'survived'}: {k}")


def survivors(files):
    import json

    names = []
    for f in files:
        meta = Path("mutants/src/mamlviz") / (f + ".meta")
        if meta.exists():
            codes = json.loads(meta.read_text())["exit_code_by_key"]
            names += [k for k, c in codes.items() if c not in UNCHECKED and c not in KILLED]
    return names


def main(argv):
    children = []
    if "--max-children" in argv:
        i = argv.index("--max-children")
        children, argv = ["--max-children", argv[i + 1]], argv[:i] + argv[i + 2:]
    flags = {"--report", "--survivors"} & set(argv)
    files = [a for a in argv if a not in flags] or CORE + FIGURES
    if "--report" not in flags:
        forget_plain_copies(files)
        configure(files)
        from mutmut.__main__ import cli

        names = survivors(files) if "--survivors" in flags else []
        if "--survivors" in flags and not names:
            print("no survivors to test again")
        else:
            try:
                cli(["run", *children, *names], standalone_mode=False)
            except SystemExit as e:
                if e.code:
                    return e.code
    print("\nkill rate per file (timeouts count as killed):")
    report(files)
    print("\nsee one mutant: .venv/bin/mutmut show NAME  (from the repository root)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
