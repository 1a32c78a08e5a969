"""The ``csm`` command line: ``run``, ``validate`` and ``sample``.

Exit codes: 0 success, 1 bad input (a clear message on stderr, no traceback), 2 usage error.
``--debug`` shows the traceback of a user error too; a real bug always shows it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .errors import CsmError

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``csm`` (exit code 2 on a usage error, as argparse does)."""
    parser = argparse.ArgumentParser(
        prog="csm",
        description="csm-workbook: customer-satisfaction-management reports from a study.yaml",
    )
    parser.add_argument("--version", action="version", version=f"csm-workbook {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of input errors too")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    run = sub.add_parser("run", help="run every stage notebook and write the HTML reports")
    run.add_argument("--study", type=Path, default=None,
                     help="study.yaml (default: the bundled sample study)")
    run.add_argument("--out", type=Path, default=Path("reports"), help="output folder (default: reports)")
    run.add_argument("--segment", default="all",
                     help="'all' (default) or COLUMN=VALUE for one segment, e.g. region=Hanoi")
    run.add_argument("--stages", default=None,
                     help="comma-separated stages to run, e.g. 01,02 (default: all)")
    run.add_argument("--quiet", action="store_true", help="print only errors")

    val = sub.add_parser("validate", help="check the study config and all its data files")
    val.add_argument("--study", type=Path, default=None,
                     help="study.yaml (default: the bundled sample study)")

    sample = sub.add_parser("sample", help="write a synthetic study with a known ground truth")
    sample.add_argument("--out", type=Path, required=True, help="folder to write the study into")
    sample.add_argument("--seed", type=int, default=20261123, help="random seed (default 20261123)")
    sample.add_argument("--n", type=int, default=2400, help="number of survey responses (default 2400)")
    return parser


def _err(msg: str) -> None:
    print(f"csm: error: {msg}", file=sys.stderr)


def _cmd_run(args: argparse.Namespace) -> int:
    from .report import run_study

    log = (lambda _m: None) if args.quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    stages = [s.strip() for s in args.stages.split(",") if s.strip()] if args.stages else None
    result = run_study(args.study, args.out, segment=args.segment, stages=stages, log=log)
    if not args.quiet:
        print(f"wrote {len(result.files)} files to {result.out_dir} in {result.timings['total']:.1f} s")
        print(f"open {result.out_dir / 'index.html'}")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from .report import validate_study

    check = validate_study(args.study)
    for w in check.warnings:
        print(f"warning: {w}")
    tables = ", ".join(f"{k} {v:,} rows" for k, v in check.tables.items())
    print(f"{check.study.path}: OK — {check.n_responses:,} responses" + (f"; {tables}" if tables else ""))
    return 0


def _cmd_sample(args: argparse.Namespace) -> int:
    from .sample import generate_sample

    path = generate_sample(args.out, seed=args.seed, n=args.n)
    print(f"wrote sample study {path} (seed {args.seed}, n {args.n})")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``csm``; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # quiet kernel start-up
    handlers = {"run": _cmd_run, "validate": _cmd_validate, "sample": _cmd_sample}
    start = time.perf_counter()
    try:
        return handlers[args.command](args)
    except CsmError as exc:
        if args.debug:
            raise
        _err(str(exc))
        return 1
    except KeyboardInterrupt:
        _err(f"interrupted after {time.perf_counter() - start:.0f} s; nothing half-written was left behind")
        return 130


def _entry() -> None:  # pragma: no cover
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
