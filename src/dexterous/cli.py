"""The `dexterous` command line.

Building the parser imports no torch, stable-baselines3 or matplotlib (each command
imports what it runs), so `--help`, `--version` and `envs` start in well under a second
(benchmarks/cli_startup.py).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import types
import typing
from typing import Any
from pathlib import Path


import dexterous
from dexterous.planning.runs import PlanRun
from dexterous.progress import LOG_INTERVAL


def _envs(args: argparse.Namespace) -> None:
    from dexterous.catalog import ENTRIES

    rows = [("id", "obs", "act", "goal", "steps")]
    rows += [(e.id, str(e.observation_size), str(e.action_size), str(e.goal_size), str(e.episode_steps))
             for e in ENTRIES]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for k, row in enumerate(rows):
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
        if k == 0:
            print("  ".join("-" * w for w in widths))


def _video(args: argparse.Namespace) -> None:
    from dexterous.demos.video import record_demonstration
    from dexterous.rl.policies import record_policy
    from dexterous.video import record_episode

    if sum(x is not None for x in (args.env, args.demo, args.run)) != 1:
        raise ValueError("give exactly one of: an environment id, --demo FILE_OR_FOLDER, --run RUN_DIR")
    if args.demo is not None:
        path = record_demonstration(args.demo, args.out, episode=args.episode, width=args.width, height=args.height)
    elif args.run is not None:
        path = record_policy(args.run, args.out, steps=args.steps, seed=args.seed, width=args.width,
                             height=args.height)
    else:
        path = record_episode(args.env, args.out, steps=args.steps, seed=args.seed, policy=args.policy,
                              width=args.width, height=args.height)
    print(f"wrote {path}")


def _plan(args: argparse.Namespace) -> None:
    from dexterous.mpc.runner import run_plan

    run = _config_from_args(PlanRun, args, env_id=args.env)
    summary = run_plan(run, args.out, address=args.address, use_ray=False if args.no_ray else None,
                       progress=not args.no_progress)
    print(summary)
    if args.video:
        from dexterous.demos.video import record_demonstration

        print(f"wrote {record_demonstration(args.out, args.video)}")


def _inspect(args: argparse.Namespace) -> None:
    from dexterous.demos import inspect_demonstration
    from dexterous.demos.folder import episodes_at

    demos = episodes_at(args.path)
    print(f"{args.path}: {len(demos)} episode{'s' if len(demos) != 1 else ''} of {demos[0].env_id}")
    for demo in demos:
        print(inspect_demonstration(demo).row())


def _export_minari(args: argparse.Namespace) -> None:
    from dexterous.demos.minari_export import export_minari

    dataset = export_minari(args.folder, args.dataset_id, args.datasets_path, author=args.author,
                            author_email=args.author_email, code_permalink=args.code_permalink)
    print(f"wrote Minari dataset {dataset.spec.dataset_id}: {dataset.total_episodes} episodes, "
          f"{dataset.total_steps} steps (load it with minari.load_dataset({dataset.spec.dataset_id!r}))")


def _gallery(args: argparse.Namespace) -> None:
    from dexterous.gallery import render_gallery

    for path in render_gallery(args.out, width=args.width, height=args.height):
        print(f"wrote {path}")


def _train(args: argparse.Namespace) -> None:
    from dexterous.rl import CONFIGS, train

    config = _config_from_args(CONFIGS[args.algo], args, env_id=args.env)
    print(train(config, args.out, progress=not args.no_progress))


def _evaluate(args: argparse.Namespace) -> None:
    from dexterous.rl import evaluate_run

    report = evaluate_run(args.run, episodes=args.episodes, steps=args.steps, seed=args.seed, video=args.video,
                          progress=not args.no_progress)
    print(report)
    if args.json:
        args.json.write_text(json.dumps(report.to_json(), indent=1) + "\n")
        print(f"wrote {args.json}")
    if args.video:
        print(f"wrote {args.video}")


def _export_policy(args: argparse.Namespace) -> None:
    from dexterous.rl import export_policy

    print(f"wrote {export_policy(args.run, args.out)}")


def _curves(args: argparse.Namespace) -> None:
    from dexterous.rl import plot_runs

    print(f"wrote {plot_runs(args.runs, args.out, metric=args.metric)}")


def _reproduce(args: argparse.Namespace) -> None:
    from dexterous.experiments.configs import ReproduceRun
    from dexterous.experiments.plots import draw_figure
    from dexterous.experiments.runner import reproduce
    from dexterous.experiments.videos import write_side_by_side

    run = _config_from_args(ReproduceRun, args)
    if run.threads and not args.no_ray:
        raise ValueError("--threads applies with --no-ray only (Ray runs one physics thread per run)")
    out = args.out or Path("results") / run.budget
    summary = reproduce(run.figure_config(), out, address=args.address, parallel=False if args.no_ray else None,
                        max_runs=run.max_runs, nthread=run.threads or None, tasks=run.tasks, methods=run.methods,
                        progress=not args.no_progress)
    print(summary)
    for path in [*draw_figure(summary.folder), *([] if args.no_videos else write_side_by_side(summary.folder))]:
        print(f"wrote {path}")


def _report(args: argparse.Namespace) -> None:
    from dexterous.experiments.report import write_report

    print(f"wrote {write_report(args.results, args.out)}")


def _add_config_flags(parser: argparse.ArgumentParser, cls: type, skip: tuple[str, ...] = ("env_id",)) -> None:
    """One --flag per config field, typed from its annotation, helped by its docstring; a field
    without a default is a positional argument, a tuple of names a comma-separated list."""
    from dexterous.contracts.configs import field_docs

    hints, docs = typing.get_type_hints(cls), field_docs(cls)
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        kind = hints[f.name]
        if typing.get_origin(kind) in (typing.Union, types.UnionType):
            kind = next(a for a in typing.get_args(kind) if a is not type(None))
        origin = typing.get_origin(kind)
        required = f.default is dataclasses.MISSING
        default = " ".join(map(str, f.default)) if isinstance(f.default, tuple) else f.default
        shown = "" if default is None or required else f" (default: {default})"  # a None default is said in words
        options: dict = {"help": f"{docs.get(f.name, '')}{shown}".replace("%", "%%")}
        if origin is tuple and typing.get_args(kind)[0] is str:
            options.update(type=_names, metavar="NAMES")
        elif origin is tuple:
            options.update(type=typing.get_args(kind)[0], nargs="+", metavar="N")
        elif origin is typing.Literal:
            options["choices"] = typing.get_args(kind)
        else:
            options["type"] = kind
        if required:
            parser.add_argument(f.name, **options)
        else:
            parser.add_argument("--" + f.name.replace("_", "-"), dest=f.name, default=None, **options)


def _config_from_args(cls: type, args: argparse.Namespace, **fixed: Any) -> Any:
    """The cls config of the flags `_add_config_flags` made: those given, the fields' defaults
    for the others, and fixed (e.g. the positional environment id)."""
    given = {f.name: getattr(args, f.name) for f in dataclasses.fields(cls)
             if f.name not in fixed and getattr(args, f.name, None) is not None}
    return cls(**fixed, **{k: tuple(v) if isinstance(v, list) else v for k, v in given.items()})


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each flag's default, except where there is none worth showing (None, a switch's
    False) or its help already says it in words."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False or "default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose subcommands' parsers show defaults too (they are made as this class)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)


def _add_no_progress(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-progress", action="store_true",
                        help="no progress output (in a terminal a bar, in a piped log a line every "
                             f"{LOG_INTERVAL:.0f} s)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="dexterous", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {dexterous.__version__}",
                        help="print the version and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                help="what to do; `dexterous COMMAND --help` for its options")
    sub.add_parser("envs", help="list the registered environments").set_defaults(func=_envs)
    video = sub.add_parser("video", help="render an episode to an mp4: random/zero actions, a demonstration "
                                                "or a trained policy")
    video.add_argument("env", nargs="?", help="environment id, e.g. dexterous/PenSpin-v1 (namespace optional)")
    video.add_argument("--demo", type=Path, default=None,
                       help="replay a demonstration instead: an episode file, or a folder with --episode")
    video.add_argument("--episode", type=int, default=0, help="episode of a demonstration folder")
    video.add_argument("--run", type=Path, default=None,
                       help="run a trained policy instead: a `dexterous train` run directory")
    video.add_argument("--out", type=Path, required=True, help="mp4 file to write")
    video.add_argument("--steps", type=int, default=None, help="steps to record (default: one episode)")
    video.add_argument("--seed", type=int, default=0, help="reset and policy seed")
    video.add_argument("--policy", choices=["zero", "random"], default="random", help="actions to take")
    video.add_argument("--width", type=int, default=480, help="frame width in pixels")
    video.add_argument("--height", type=int, default=480, help="frame height in pixels")
    video.set_defaults(func=_video)
    gallery = sub.add_parser("gallery", help="render one picture per two-hand family (docs/gallery)")
    gallery.add_argument("--out", type=Path, default=Path("docs/gallery"), help="folder for the PNGs")
    gallery.add_argument("--width", type=int, default=480, help="image width in pixels")
    gallery.add_argument("--height", type=int, default=360, help="image height in pixels")
    gallery.set_defaults(func=_gallery)
    plan = sub.add_parser("plan", help="plan episodes with TOPDM, MPPI or TOPDM+ and record demonstrations")
    plan.add_argument("env", help="environment id (namespace optional)")
    _add_config_flags(plan, PlanRun)
    plan.add_argument("--out", type=Path, required=True, help="demonstration folder (rerun to resume)")
    plan.add_argument("--address", default=None, help="existing Ray cluster to run on (default: local Ray)")
    plan.add_argument("--no-ray", action="store_true", help="run episodes one after another in this process")
    plan.add_argument("--video", type=Path, default=None, help="after planning, write an mp4 of episode 0")
    _add_no_progress(plan)
    plan.set_defaults(func=_plan)
    export = sub.add_parser("export-minari", help="write a demonstration folder's finished episodes as a Minari "
                                                  "dataset (needs `pip install 'dexterous[minari]'`)")
    export.add_argument("folder", type=Path, help="demonstration folder of `dexterous plan` or `reproduce`")
    export.add_argument("--dataset-id", default=None,
                        help="Minari id (default: dexterous/<env name>/<planner>-v0, e.g. dexterous/PenSpin/topdm-v0)")
    export.add_argument("--datasets-path", type=Path, default=None,
                        help="Minari's datasets root (default: $MINARI_DATASETS_PATH, else ~/.minari/datasets)")
    export.add_argument("--author", default=None, help="author name stored in the dataset")
    export.add_argument("--author-email", default=None, help="author contact stored in the dataset")
    export.add_argument("--code-permalink", default=None, help="link to the code that planned the episodes")
    export.set_defaults(func=_export_minari)
    inspect = sub.add_parser("inspect", help="per demonstration episode: steps with the object in hand, its turns "
                                             "about body x, reward per step, final success")
    inspect.add_argument("path", type=Path, help="a demonstration folder or one episode file")
    inspect.set_defaults(func=_inspect)
    _add_rl_commands(sub)
    _add_experiment_commands(sub)
    return parser


def _names(text: str) -> list[str]:
    """"a,b" → ["a", "b"], for options that take several names."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"expected comma-separated names, got {text!r}")
    return names


def _add_experiment_commands(sub) -> None:
    from dexterous.experiments.configs import ReproduceRun

    reproduce = sub.add_parser("reproduce", help="run one of the paper's figures (resumable) and draw it")
    _add_config_flags(reproduce, ReproduceRun, skip=())
    reproduce.add_argument("--out", type=Path, default=None, help="results directory (default: results/BUDGET)")
    reproduce.add_argument("--address", default=None, help="existing Ray cluster to run on (default: local Ray)")
    reproduce.add_argument("--no-ray", action="store_true", help="run one run after another in this process")
    reproduce.add_argument("--no-videos", action="store_true",
                           help="skip the side-by-side TOPDM vs MPPI videos of the best and median seed")
    _add_no_progress(reproduce)
    reproduce.set_defaults(func=_reproduce)
    report = sub.add_parser("report", help="markdown tables and figures of a results directory, beside the paper's")
    report.add_argument("results", type=Path, help="results directory of `dexterous reproduce` (e.g. results/cpu)")
    report.add_argument("--out", type=Path, default=None, help="markdown file (default: RESULTS_DIR/REPORT.md)")
    report.set_defaults(func=_report)


def _add_rl_commands(sub) -> None:
    from dexterous.rl.configs import CONFIGS

    train = sub.add_parser("train", help="train TD3 (+ demo restarts) or the HER baselines; rerun to resume")
    algos = train.add_subparsers(dest="algo", required=True, metavar="ALGO",
                                 help="the algorithm; `dexterous train ALGO --help` for its options")
    helps = {"td3": "TD3 with action coupling, and demo restarts with --demos (SPEC §5)",
             "her": "DDPG + HER on a goal task's Sparse twin, evaluated on the dense task"}
    for algo, cls in CONFIGS.items():
        parser = algos.add_parser(algo, help=helps[algo], description=cls.__doc__)
        parser.add_argument("env", nargs="?", default=cls.env_id,
                            help=f"environment id, namespace optional (default: {cls.env_id})")
        parser.add_argument("--out", type=Path, required=True, help="run directory (rerun the command to resume)")
        _add_no_progress(parser)
        _add_config_flags(parser, cls)
        parser.set_defaults(func=_train)
    evaluate = sub.add_parser("evaluate", help="run a trained policy past its episode: returns per 250 steps, "
                                               "turns of the object about its body x axis")
    evaluate.add_argument("run", type=Path, help="run directory of `dexterous train`, or a policy folder "
                                                 "of `dexterous export-policy` (e.g. data/policies/pen_spin)")
    evaluate.add_argument("--episodes", type=int, default=10, help="episodes (resets seed, seed + 1, ...)")
    evaluate.add_argument("--steps", type=int, default=1000, help="steps per episode (past the 250-step limit)")
    evaluate.add_argument("--seed", type=int, default=0, help="reset seed of episode 0")
    evaluate.add_argument("--video", type=Path, default=None, help="mp4 of the first episode")
    evaluate.add_argument("--json", type=Path, default=None, help="also write the report as JSON")
    _add_no_progress(evaluate)
    evaluate.set_defaults(func=_evaluate)
    export_policy = sub.add_parser("export-policy", help="copy a run's latest policy (model, normaliser, config; "
                                                         "no replay buffer) into a small folder to share")
    export_policy.add_argument("run", type=Path, help="run directory of `dexterous train`")
    export_policy.add_argument("--out", type=Path, required=True, help="policy folder to write (new, or a policy "
                                                                       "folder to replace)")
    export_policy.set_defaults(func=_export_policy)
    curves = sub.add_parser("curves", help="learning curves (median, min-max band over runs) into a PNG")
    curves.add_argument("runs", nargs="+", type=Path, help="run directories")
    curves.add_argument("--out", type=Path, required=True, help="PNG to write")
    curves.add_argument("--metric", default="mean_return", help="evaluation field to plot (her: success_rate)")
    curves.set_defaults(func=_curves)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
        sys.stdout.flush()  # a closed pipe shows here, not in Python's flush at exit
    except BrokenPipeError:  # the reader went away (`dexterous envs | head`): nothing is wrong
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nor when Python flushes stdout at exit
        return 0
    except (ValueError, OSError, IndexError) as err:  # our errors say what is wrong: show them plainly
        print(f"dexterous {args.command}: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
