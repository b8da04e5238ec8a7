"""The `dexterous` command line.

Building the parser imports no torch, stable-baselines3 or matplotlib (each command
imports what it runs), so `--help`, `--version` and `envs` start in well under a second
(benchmarks/cli_startup.py).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import signal
import sys
import threading
import types
import typing
from collections.abc import Iterator
from typing import Any
from pathlib import Path


import dexterous
from dexterous import commands
from dexterous.experiments.configs import ReproduceRun
from dexterous.planning.runs import PlanRun


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

    cmd = _config_from_args(commands.VideoCommand, args)
    if cmd.demo is not None:
        path = record_demonstration(cmd.demo, cmd.out, episode=cmd.episode, width=cmd.width, height=cmd.height,
                                    frames=cmd.frames)
    elif cmd.run is not None:
        path = record_policy(cmd.run, cmd.out, steps=cmd.steps, seed=cmd.seed, width=cmd.width, height=cmd.height,
                             frames=cmd.frames)
    else:
        path = record_episode(cmd.env, cmd.out, steps=cmd.steps, seed=cmd.seed, policy=cmd.policy,
                              width=cmd.width, height=cmd.height, frames=cmd.frames)
    print(f"wrote {path}")


def _plan(args: argparse.Namespace) -> None:
    from dexterous.mpc.runner import run_plan

    run, out = _config_from_args(PlanRun, args), _config_from_args(commands.PlanOutput, args)
    summary = run_plan(run, out.out, address=out.address, use_ray=False if out.no_ray else None,
                       progress=not out.no_progress)
    print(summary)
    if out.video:
        from dexterous.demos.video import record_demonstration

        print(f"wrote {record_demonstration(out.out, out.video)}")


def _inspect(args: argparse.Namespace) -> None:
    from dexterous.demos import inspect_demonstration
    from dexterous.demos.folder import episodes_at

    cmd = _config_from_args(commands.InspectCommand, args)
    demos = episodes_at(cmd.path)
    print(f"{cmd.path}: {len(demos)} episode{'s' if len(demos) != 1 else ''} of {demos[0].env_id}")
    for demo in demos:
        print(inspect_demonstration(demo, cmd.window).row())


def _export_minari(args: argparse.Namespace) -> None:
    from dexterous.demos.minari_export import export_minari

    cmd = _config_from_args(commands.ExportMinariCommand, args)
    dataset = export_minari(cmd.folder, cmd.dataset_id, cmd.datasets_path, author=cmd.author,
                            author_email=cmd.author_email, code_permalink=cmd.code_permalink)
    print(f"wrote Minari dataset {dataset.spec.dataset_id}: {dataset.total_episodes} episodes, "
          f"{dataset.total_steps} steps (load it with minari.load_dataset({dataset.spec.dataset_id!r}))")


def _gallery(args: argparse.Namespace) -> None:
    from dexterous.gallery import render_gallery

    cmd = _config_from_args(commands.GalleryCommand, args)
    for path in render_gallery(cmd.out, width=cmd.width, height=cmd.height):
        print(f"wrote {path}")


def _train(args: argparse.Namespace) -> None:
    from dexterous.rl import CONFIGS, train

    config, out = _config_from_args(CONFIGS[args.algo], args), _config_from_args(commands.TrainOutput, args)
    with _stop_requests() as stop:
        print(train(config, out.out, progress=not out.no_progress, stop=stop))


@contextlib.contextmanager
def _stop_requests() -> Iterator[threading.Event]:
    """An event that the first Ctrl-C or SIGTERM sets, for a long job to stop where it can
    resume exactly; a second Ctrl-C interrupts at once. Signals ignored where the job was
    started (e.g. SIGINT of a job started in the background) stay ignored; off the main
    thread, where Python takes no signals, the event is never set."""
    stop = threading.Event()

    def request(signum: int, frame: types.FrameType | None) -> None:
        if stop.is_set():
            if signum == signal.SIGINT:
                raise KeyboardInterrupt
            return
        stop.set()
        print("\nstopping at the next checkpoint that can be written (Ctrl-C again to stop at once, losing the "
              "steps since the last one)", file=sys.stderr, flush=True)

    handled = [] if threading.current_thread() is not threading.main_thread() else [
        s for s in (signal.SIGINT, signal.SIGTERM) if signal.getsignal(s) is not signal.SIG_IGN]
    previous = {s: signal.signal(s, request) for s in handled}
    try:
        yield stop
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _evaluate(args: argparse.Namespace) -> None:
    from dexterous.rl import evaluate_run

    cmd = _config_from_args(commands.EvaluateCommand, args)
    report = evaluate_run(cmd.run, episodes=cmd.episodes, steps=cmd.steps, seed=cmd.seed, video=cmd.video,
                          progress=not cmd.no_progress)
    print(report)
    if cmd.json:
        cmd.json.write_text(json.dumps(report.to_json(), indent=1) + "\n")
        print(f"wrote {cmd.json}")
    if cmd.video:
        print(f"wrote {cmd.video}")


def _export_policy(args: argparse.Namespace) -> None:
    from dexterous.rl import export_policy

    cmd = _config_from_args(commands.ExportPolicyCommand, args)
    print(f"wrote {export_policy(cmd.run, cmd.out, best=cmd.best)}")


def _curves(args: argparse.Namespace) -> None:
    from dexterous.rl import plot_runs

    cmd = _config_from_args(commands.CurvesCommand, args)
    print(f"wrote {plot_runs(cmd.runs, cmd.out, metric=cmd.metric)}")


def _reproduce(args: argparse.Namespace) -> None:
    from dexterous.experiments.configs import ReproduceRun, counted
    from dexterous.experiments.plots import draw_figure
    from dexterous.experiments.results import figure_dir
    from dexterous.experiments.runner import reproduce
    from dexterous.experiments.videos import write_side_by_side

    run, out = _config_from_args(ReproduceRun, args), _config_from_args(commands.ReproduceOutput, args)
    if run.threads and not out.no_ray:
        raise ValueError("--threads applies with --no-ray only (Ray runs one physics thread per run)")
    folder = out.out or Path("results") / run.budget
    if out.dry_run:
        from dexterous.experiments.pending import describe_pending, pending_runs

        figure = run.figure_config()
        print(describe_pending(figure, pending_runs(figure, folder, run.tasks, run.methods, run.max_runs)))
        return
    if out.update_records:
        from dexterous.experiments.runner import update_records

        figure = run.figure_config()
        print(f"{figure.name}: {counted(update_records(folder, figure), 'record')} updated")
        for path in draw_figure(figure_dir(folder, figure)):
            print(f"wrote {path}")
        return
    summary = reproduce(run.figure_config(), folder, address=out.address, parallel=False if out.no_ray else None,
                        max_runs=run.max_runs, nthread=run.threads or None, tasks=run.tasks, methods=run.methods,
                        progress=not out.no_progress, retire=run.retire_redefined)
    print(summary)
    for path in [*draw_figure(summary.folder), *([] if out.no_videos else write_side_by_side(summary.folder))]:
        print(f"wrote {path}")


def _report(args: argparse.Namespace) -> None:
    from dexterous.experiments.report import write_report

    cmd = _config_from_args(commands.ReportCommand, args)
    print(f"wrote {write_report(cmd.results, cmd.out)}")


def _add_config_flags(parser: argparse.ArgumentParser, cls: type, positional: dict[str, str] | None = None) -> None:
    """One argument per config field, typed from its annotation, helped by its docstring
    (the conventions of `dexterous.commands`); positional names further fields to take as
    positional arguments, with the name usage shows them by (e.g. {"env_id": "env"})."""
    from dexterous.contracts.configs import field_docs

    hints, docs, positional = typing.get_type_hints(cls), field_docs(cls), positional or {}
    for f in dataclasses.fields(cls):
        kind = hints[f.name]
        if typing.get_origin(kind) in (typing.Union, types.UnionType):
            kind = next(a for a in typing.get_args(kind) if a is not type(None))
        origin = typing.get_origin(kind)
        required = f.default is dataclasses.MISSING
        default = " ".join(map(str, f.default)) if isinstance(f.default, tuple) else f.default
        shown = "" if default is None or default is False or required else f" (default: {default})"  # None is said in words
        options: dict = {"help": f"{docs.get(f.name, '')}{shown}".replace("%", "%%")}
        if kind is bool:
            if f.default is not False:
                raise TypeError(f"{cls.__name__}.{f.name}: a switch must default to False")
            options["action"] = "store_true"
        elif origin is tuple and typing.get_args(kind)[0] is str:
            options.update(type=_names, metavar="NAMES")
        elif origin is tuple:
            options.update(type=typing.get_args(kind)[0], nargs="+", metavar="N")
        elif origin is typing.Literal:
            options["choices"] = typing.get_args(kind)
        else:
            options["type"] = kind
        if f.metadata.get("metavar"):
            options["metavar"] = f.metadata["metavar"]
        if f.metadata.get("positional") or f.name in positional or (required and not f.metadata.get("option")):
            if origin is tuple:  # one or more; none where it has a default
                options["nargs"] = "+" if required else "*"
            elif not required:
                options["nargs"] = "?"
            options.pop("metavar", None)  # argparse shows its name, or its choices, unless told
            if positional.get(f.name) or f.metadata.get("metavar"):
                options["metavar"] = positional.get(f.name) or f.metadata["metavar"]
            parser.add_argument(f.name, **options, **({} if required else {"default": None}))
        else:
            parser.add_argument("--" + f.name.replace("_", "-"), dest=f.name, default=None,
                                required=required, **options)


def _config_from_args(cls: type, args: argparse.Namespace) -> Any:
    """The cls config of the flags `_add_config_flags` made: those given, the fields' defaults
    for the others."""
    given = {f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if getattr(args, f.name, None) is not None}
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in given.items()})


def _command(sub, name: str, func, help: str, *configs: type, positional: dict[str, str] | None = None,
             **options: Any) -> argparse.ArgumentParser:
    """A subcommand whose arguments are the fields of configs."""
    parser = sub.add_parser(name, help=help, **options)
    for cls in configs:
        _add_config_flags(parser, cls, positional)
    parser.set_defaults(func=func, configs=configs)
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dexterous", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {dexterous.__version__}",
                        help="print the version and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                help="what to do; `dexterous COMMAND --help` for its options")
    _command(sub, "envs", _envs, "list the registered environments")
    _command(sub, "video", _video, "render an episode to an mp4: random/zero actions, a demonstration or a trained "
                                   "policy", commands.VideoCommand)
    _command(sub, "gallery", _gallery, "render one picture per two-hand family (docs/gallery)",
             commands.GalleryCommand)
    _command(sub, "plan", _plan, "plan episodes with TOPDM, MPPI or TOPDM+ and record demonstrations",
             PlanRun, commands.PlanOutput, positional={"env_id": "env"})
    _command(sub, "export-minari", _export_minari, "write a demonstration folder's finished episodes as a Minari "
                                                   "dataset (needs `pip install 'dexterous[minari]'`)",
             commands.ExportMinariCommand)
    _command(sub, "inspect", _inspect, "per demonstration episode: steps with the object in hand, its turns about "
                                       "body x, reward per step, final success (also per window of steps)", commands.InspectCommand)
    _add_rl_commands(sub)
    _command(sub, "reproduce", _reproduce, "run one of the paper's figures (resumable) and draw it",
             ReproduceRun, commands.ReproduceOutput)
    _command(sub, "report", _report, "markdown tables and figures of a results directory, beside the paper's",
             commands.ReportCommand)
    return parser


def _names(text: str) -> list[str]:
    """"a,b" → ["a", "b"], for options that take several names."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"expected comma-separated names, got {text!r}")
    return names


def _add_rl_commands(sub) -> None:
    from dexterous.rl.configs import CONFIGS

    train = sub.add_parser("train", help="train TD3 (+ demo restarts) or the HER baselines; rerun to resume")
    algos = train.add_subparsers(dest="algo", required=True, metavar="ALGO",
                                 help="the algorithm; `dexterous train ALGO --help` for its options")
    helps = {"td3": "TD3 with action coupling, and demo restarts with --demos (SPEC §5)",
             "her": "DDPG + HER on a goal task's Sparse twin, evaluated on the dense task"}
    for algo, cls in CONFIGS.items():
        _command(algos, algo, _train, helps[algo], commands.TrainOutput, cls, positional={"env_id": "env"},
                 description=cls.__doc__)
    _command(sub, "evaluate", _evaluate, "run a trained policy past its episode: returns per episode length (PenSpin: "
                                         "250 steps), turns of the object about its body x axis; on goal tasks the "
                                         "last step's success and pose", commands.EvaluateCommand)
    _command(sub, "export-policy", _export_policy, "copy a run's latest or best policy (model, normaliser, config; "
                                                   "no replay buffer) into a small folder to share", commands.ExportPolicyCommand)
    _command(sub, "curves", _curves, "learning curves (median, min-max band over runs) into a PNG",
             commands.CurvesCommand)


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
