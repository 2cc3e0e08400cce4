"""Sub-commands of `mamlviz`. Each adder registers one sub-command whose `run(args)` does the work."""

from __future__ import annotations


def add_train(commands):
    p = commands.add_parser("train", help="meta-train a model and save θ and its learning curve")
    p.add_argument("--method", default="maml", choices=["maml", "fomaml", "reptile", "imaml", "pretrained"])
    p.add_argument("--iterations", type=int, default=4000, help="outer updates")
    p.add_argument("--seed", type=int, default=0, help="seed of θ's initialisation and of the training tasks")
    p.add_argument("--eval-seed", type=int, default=20170703, help="seed of the held-out tasks")
    p.add_argument("--optimizer", default="adam", choices=["adam", "sgd"])
    p.add_argument("--outer-lr", type=float, default=0.01, help="β")
    p.add_argument("--inner-lr", type=float, default=None, help="α (default: the method's, see METHOD_SETTINGS)")
    p.add_argument("--inner-steps", type=int, default=None, help="k (default: the method's)")
    p.add_argument("--tasks", type=int, default=25, help="meta-batch size")
    p.add_argument("--support", type=int, default=10, help="K support points per task")
    p.add_argument("--query", type=int, default=10, help="query points per task")
    p.add_argument("--reg", type=float, default=None, help="λ (iMAML; default: mamlviz.train.METHOD_SETTINGS)")
    p.add_argument("--cg-steps", type=int, default=None, help="CG iterations (iMAML; default: METHOD_SETTINGS)")
    p.add_argument("--eval-every", type=int, default=500, help="updates between held-out evaluations")
    p.add_argument("--out", default=None, help="save θ and the learning curve to this .npz")
    p.add_argument("--save-model", metavar="NAME", default=None,
                   help="also store θ as NAME in the package's sine_models.npz (see mamlviz.models)")
    p.add_argument("--family", default="sine", choices=["sine", "glyphs"],
                   help="glyphs: N-way 1-shot classification of the Part 1 characters (see mamlviz.glyphtasks)")
    p.add_argument("--way", type=int, default=5, help="N classes per episode (glyphs)")
    p.add_argument("--no-augment", action="store_true", help="glyphs: no 90° turns and mirror images")
    p.add_argument("--alphabets", type=int, default=30, help="glyphs: training alphabets to generate")

    def run(args):
        import sys

        import numpy as np

        if args.family == "glyphs":
            return _train_glyphs(args)
        from mamlviz import bench, models
        from mamlviz.nn import MLP
        from mamlviz.train import TrainConfig, train

        bench.tune_allocator()  # speed only: keeps freed heap memory for the next update
        config = TrainConfig(n_tasks=args.tasks, n_support=args.support, n_query=args.query,
                             inner_lr=args.inner_lr, inner_steps=args.inner_steps, outer_lr=args.outer_lr,
                             optimizer=args.optimizer, reg=args.reg, cg_steps=args.cg_steps,
                             eval_seed=args.eval_seed)

        def progress(r):
            med = r["eval"]["median"]
            print(f"{args.method} {r['iteration']:>6}/{args.iterations}  train {np.mean(r['train_loss'] or [np.nan]):.4f}"
                  f"  held-out median MSE m=0 {med[0]:.4f}  m=1 {med[1]:.4f}  m=10 {med[-1]:.4f}"
                  f"  ({r['seconds']:.1f} s)", file=sys.stderr, flush=True)
            if r["message"]:
                print(r["message"], file=sys.stderr)

        trainer = train(args.method, MLP(), config, args.seed, args.iterations, eval_every=args.eval_every,
                        progress=progress)
        own = trainer.evaluate_own()
        print(f"{args.method}: held-out median MSE after its own inner procedure {own['median']:.4f}"
              + (f", relative inner residual {own['residual']:.2e}" if own["residual"] is not None else ""),
              file=sys.stderr)
        meta = {"method": args.method, "seed": args.seed, "iterations": trainer.iteration,
                "config": trainer.config.to_dict(), "command": "mamlviz " + " ".join(sys.argv[1:])}
        if args.out:
            its, med = zip(*trainer.eval_curve) if trainer.eval_curve else ((), ())
            np.savez_compressed(args.out, theta=trainer.theta, train_loss=np.array(trainer.train_curve),
                                eval_iteration=np.array(its), eval_median=np.array(med),
                                meta=np.array(__import__("json").dumps(meta)))
            print(f"saved {args.out}", file=sys.stderr)
        if args.save_model:
            models.save_model(models.SINE_MODELS, args.save_model, trainer.theta, meta)
            print(f"stored {args.save_model!r} in {models.SINE_MODELS}", file=sys.stderr)
        return 1 if trainer.diverged else 0

    p.set_defaults(run=run)


def _train_glyphs(args):
    """`mamlviz train --family glyphs`: meta-train a game model; --save-model stores it in glyph_models.npz."""
    import json
    import sys

    import numpy as np

    from mamlviz import bench, glyphtasks
    from mamlviz.glyphrace import CLASSIFICATION_SETTINGS

    if args.method not in CLASSIFICATION_SETTINGS:
        raise SystemExit(f"mamlviz train --family glyphs: no classification settings for {args.method!r} "
                         f"(one of {', '.join(CLASSIFICATION_SETTINGS)})")
    bench.tune_allocator()
    own = CLASSIFICATION_SETTINGS[args.method]       # α and k not given: the method's classification settings
    config = glyphtasks.GlyphConfig(n_way=args.way, n_tasks=args.tasks, n_query=1,
                                    inner_lr=own.inner_lr if args.inner_lr is None else args.inner_lr,
                                    inner_steps=own.inner_steps if args.inner_steps is None else args.inner_steps,
                                    outer_lr=args.outer_lr, augment=not args.no_augment,
                                    train_alphabets=args.alphabets, method=args.method)

    log = []

    def progress(r):
        line = (f"glyphs {args.way}-way {r['iteration']:>6}/{args.iterations}  train acc {r['train_accuracy']:.3f}"
                f"  validation acc {r['valid_accuracy']:.3f}  ({r['seconds']:.0f} s, CPU {r['cpu_seconds']:.0f} s)")
        print(line, file=sys.stderr, flush=True)
        log.append(line)
        # a checkpoint at every evaluation: the best so far on the validation alphabets (the latest too in --out)
        meta = {"family": "glyphs", "sizes": list(r["model"].sizes), "seed": args.seed,
                "iterations": r["best_iteration"], "trained_iterations": r["iteration"],
                "selection": (f"the checkpoint with the highest accuracy on {config.valid_trials} trials of "
                              f"{config.valid_alphabets} validation alphabets (glyphtasks.VALID_SEED, the training "
                              "generator); the game's alphabets (glyphs.SEED) play no part in training or selection"),
                "valid_accuracy": r["best_valid_accuracy"],
                "config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in config.__dict__.items()},
                "curve": r["curve"], "train_log": list(log), "cpu_seconds": round(r["cpu_seconds"]),
                "command": "mamlviz " + " ".join(sys.argv[1:])}
        if args.out:
            np.savez_compressed(args.out, theta=r["best_theta"], latest=r["theta"], meta=np.array(json.dumps(meta)))
        if args.save_model:
            glyphtasks.save_model(glyphtasks.GLYPH_MODELS, args.way, r["best_theta"], meta)

    glyphtasks.train(config, args.iterations, seed=args.seed, eval_every=args.eval_every, progress=progress,
                     sets=_cached_glyph_sets(config))
    if args.save_model:
        print(f"stored way{args.way} in {glyphtasks.GLYPH_MODELS}", file=sys.stderr)
    return 0


def _cached_glyph_sets(config):
    """glyphtasks.training_sets(config), kept in the cache folder between runs (generating them takes about a minute),
    under a name that changes with the generator's source."""
    import hashlib
    import inspect

    import numpy as np

    from mamlviz import glyphs, glyphtasks
    from mamlviz.site.vendor import cache_dir

    source = inspect.getsource(glyphs) + inspect.getsource(glyphtasks.glyph_set) + inspect.getsource(
        glyphtasks.training_sets) + inspect.getsource(glyphtasks.heldout_exclusions)
    key = hashlib.sha256(f"{source}{config.train_alphabets},{config.valid_alphabets}".encode()).hexdigest()[:16]
    path = cache_dir() / f"glyph-sets-{key}.npz"
    if path.exists():
        with np.load(path) as f:
            return tuple(glyphtasks.GlyphSet(f[f"images{i}"], f[f"alphabets{i}"].tolist()) for i in (0, 1))
    sets = glyphtasks.training_sets(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **{f"{k}{i}": getattr(gs, k) for i, gs in enumerate(sets) for k in ("images", "alphabets")})
    return sets


def add_bench(commands):
    p = commands.add_parser("bench", help="meta-updates per second for each method (medians)")
    p.add_argument("--tasks", type=int, default=25, help="meta-batch size")
    p.add_argument("--support", type=int, default=10, help="K (support = query points per task)")
    p.add_argument("--inner-steps", type=int, default=None, help="k for every method (default: each method's own)")
    p.add_argument("--runs", type=int, default=7, help="timed runs per method (the median is reported)")
    p.add_argument("--updates", type=int, default=200, help="meta-updates per run")
    p.add_argument("--methods", default="maml,fomaml,reptile,imaml,reference")
    p.add_argument("--default-malloc", action="store_true",
                   help="keep glibc's default heap trimming (see mamlviz.bench.tune_allocator)")
    p.add_argument("--browser", metavar="JSON", nargs="?", const="-", default=None,
                   help="measure the built site in Debian Chromium instead (mamlviz.browserbench); "
                        "writes the JSON to this file if given, and prints the Markdown table")
    p.add_argument("--controls", action="store_true",
                   help="with --browser: measure only every control of every live figure (its own README table)")
    p.add_argument("--presses", type=int, default=20, help="with --browser: inputs per control (median, p95)")
    p.add_argument("--before", metavar="REV", default=None,
                   help="with --browser --controls: also measure the site built from this git revision (or a built "
                        "site's folder), page by page alternately, and add its final redraw to the table")
    p.add_argument("--readme", metavar="README", nargs="?", const="README.md", default=None,
                   help="with --browser: also put the table into this README's bench block (default README.md)")

    def run(args):
        from mamlviz import bench

        if args.browser is not None:
            import json
            import sys

            from mamlviz import browserbench

            log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
            if args.controls:
                result = browserbench.measure_controls(presses=args.presses, log=log, before=args.before)
                table, markers = browserbench.controls_markdown(result), browserbench.CONTROLS_MARKERS
            else:
                result = browserbench.measure(runs=args.runs, methods=args.methods.split(","),
                                              updates=min(args.updates, 50), log=log, presses=args.presses)
                table, markers = browserbench.markdown(result), browserbench.README_MARKERS
            if args.browser != "-":
                with open(args.browser, "w") as f:
                    json.dump(result, f, indent=1)
            print(table)
            if args.readme:
                browserbench.update_readme(args.readme, table, markers)
                if not args.controls:   # the whole run measures every control too
                    browserbench.update_readme(args.readme, browserbench.controls_markdown(result),
                                               browserbench.CONTROLS_MARKERS)
            return

        tuned = not args.default_malloc and bench.tune_allocator()
        result = bench.measure(methods=args.methods.split(","), n_tasks=args.tasks, k=args.support,
                               inner_steps=args.inner_steps, runs=args.runs, updates=args.updates)
        result["allocator"] = "tuned (heap kept, no trimming)" if tuned else "default"
        print(bench.table(result))

    p.set_defaults(run=run)


def add_build(commands):
    p = commands.add_parser("build", help="build the static site into site/")
    p.add_argument("--root", default=None, help="folder with content/ and templates/ (default: found from here)")
    p.add_argument("--out", default=None, help="output folder (default: ROOT/site)")
    p.add_argument("--no-pyodide", action="store_true", help="skip vendoring Pyodide (pages only; figures stay static)")
    p.add_argument("--release", action="store_true",
                   help="build afresh into a temporary folder and write DIST/mamlviz-site-VERSION.tar.gz + SHA256SUMS")
    p.add_argument("--dist", default=None, help="folder for the release archive (default: ROOT/dist)")

    def run(args):
        from pathlib import Path

        from mamlviz import site
        from mamlviz.site import release

        try:
            root = Path(args.root) if args.root else site.find_root()
            project = site.Project.at(root, Path(args.out) if args.out else None)
            if args.release:
                release.release(project, Path(args.dist) if args.dist else root / "dist")
            else:
                site.build(project, pyodide=not args.no_pyodide)
        except (site.BuildError, site.vendor.VendorError) as e:
            raise SystemExit(f"mamlviz build: {e}") from None

    p.set_defaults(run=run)


def add_serve(commands):
    p = commands.add_parser("serve", help="build if needed and serve site/ on 127.0.0.1")
    p.add_argument("--root", default=None, help="folder with content/ and templates/ (default: found from here)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--rebuild", action="store_true", help="build even when site/ looks up to date")

    def run(args):
        from pathlib import Path

        from mamlviz import site
        from mamlviz.site import serve

        try:
            project = site.Project.at(Path(args.root) if args.root else site.find_root())
            if args.rebuild or site.needs_build(project):
                site.build(project)
        except (site.BuildError, site.vendor.VendorError) as e:
            raise SystemExit(f"mamlviz serve: {e}") from None
        serve.serve_forever(project.out, port=args.port)

    p.set_defaults(run=run)


def add_numbers(commands):
    p = commands.add_parser("numbers", help="the numbers audit: the text's numbers typed by hand (--all: every "
                                            "number with its source); exit status 1 if any is typed")
    p.add_argument("--all", action="store_true")
    p.set_defaults(run=lambda args: __import__("mamlviz.site.audit", fromlist=["main"]).main(
        ["--all"] if args.all else []))


def _not_yet(name):
    raise SystemExit(f"mamlviz {name}: not implemented yet")


ADDERS = [add_train, add_bench, add_build, add_serve, add_numbers]
