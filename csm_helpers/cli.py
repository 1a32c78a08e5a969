"""The ``csm`` command line: ``init``, ``run``, ``batch``, ``validate``, ``sample`` and ``send``.

Exit codes: 0 success, 1 bad input (a clear message on stderr, no traceback), 2 usage error.
``--debug`` shows the traceback of a user error too; a real bug always shows it.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from csm_helpers import __version__
from csm_helpers.core.errors import CsmError, UsageError, headline
from csm_helpers.core.interrupts import interrupts_noted
from csm_helpers.core.paths import check_path_option

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
    run.add_argument("--notebooks", type=Path, default=None, metavar="DIR",
                     help="folder of your own stage notebooks NN_name.ipynb (default: the study's notebooks/ "
                          "folder or notebooks: key, else the installed ones)")
    run.add_argument("--jobs", type=_positive_int, default=None, metavar="N",
                     help="stage notebooks run at the same time, each in its own kernel (default: number of "
                          "cores)")
    run.add_argument("--quiet", action="store_true", help="print only errors")
    run.add_argument("--resume", action="store_true",
                     help="skip the segment when its complete reports from the same inputs, stages and "
                          "version are already in --out (e.g. after an interrupted batch of runs)")

    batch = sub.add_parser(
        "batch", help="write the reports once per value of a segment column, plus 'all', in parallel",
        description="Write one set of stage reports per value of a segment column, plus 'all', with warm "
                    "Jupyter kernels working in parallel, an index page listing every segment, and a log. "
                    "A segment that fails does not stop the others; the exit code is then 1 and --resume "
                    "redoes only the failed or missing segments. Segments below the minimum cell size "
                    "(and those hidden with them by complementary suppression) get no report.")
    batch.add_argument("--study", type=Path, default=None,
                       help="study.yaml (default: the bundled sample study)")
    batch.add_argument("--by", required=True, metavar="COLUMN",
                       help="segment column: one set of reports per value, e.g. region")
    batch.add_argument("--stages", default="04,05",
                       help="comma-separated stages to run (default 04,05: analysis and action)")
    batch.add_argument("--jobs", type=_positive_int, default=None, metavar="N",
                       help="parallel workers, each with its own kernel (default: number of cores)")
    batch.add_argument("--out", type=Path, default=Path("reports"), help="output folder (default: reports)")
    batch.add_argument("--resume", action="store_true",
                       help="skip segments whose reports are complete and current; redo failed or missing ones")
    batch.add_argument("--timeout", type=_positive_float, default=1800.0, metavar="SECONDS",
                       help="time one segment may take, all its stages (default 1800)")
    batch.add_argument("--executor", choices=["threads", "dask"], default="threads",
                       help="threads of this process (default) or a dask.distributed cluster")
    batch.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="dask scheduler address with --executor dask, e.g. tcp://10.0.0.5:8786")
    batch.add_argument("--notebooks", type=Path, default=None, metavar="DIR",
                       help="folder of your own stage notebooks NN_name.ipynb (default: the study's notebooks/ "
                            "folder or notebooks: key, else the installed ones)")
    batch.add_argument("--no-progress", action="store_true",
                       help="no progress bar or lines (the summary is still printed)")
    batch.add_argument("--quiet", action="store_true", help="print only errors and the failed segments")

    init = sub.add_parser("init", help="create a study workbook folder, drafting study.yaml from a survey export",
                          description="Create DIR with study.yaml, a copy of the stage notebooks (yours to edit), "
                                      "and a next-steps README. With --from, the export is copied to DIR/data/ and "
                                      "study.yaml is drafted from it: every guess is commented, and what cannot be "
                                      "guessed is TODO (csm validate lists them).")
    init.add_argument("dir", type=Path, metavar="DIR", help="the new study folder")
    init.add_argument("--from", dest="source", type=Path, default=None, metavar="FILE",
                      help="survey export: .csv (plain or Qualtrics), .xlsx, .sav (SPSS), .parquet")
    init.add_argument("--language", choices=["en", "vi", "zh"], default="en", help="report language (default en)")
    init.add_argument("--force", action="store_true",
                      help="fill an existing folder (a notebook you edited is kept, never overwritten)")

    val = sub.add_parser("validate", help="check the study config and all its data files")
    val.add_argument("--study", type=Path, default=None,
                     help="study.yaml (default: the bundled sample study)")

    sample = sub.add_parser("sample", help="write a synthetic study with a known ground truth")
    sample.add_argument("--out", type=Path, required=True, help="folder to write the study into")
    sample.add_argument("--seed", type=int, default=20261123, help="random seed (default 20261123)")
    sample.add_argument("--n", type=int, default=2400, help="number of survey responses (default 2400)")
    sample.add_argument("--branches", type=int, default=0, metavar="N",
                        help="also add a segment column 'branch' with N values (to try csm batch on many)")

    send = sub.add_parser(
        "send", help="e-mail the HTML reports, one message per segment",
        description="E-mail the reports written by 'csm run': one message per segment folder with an "
                    "HTML summary and the stage reports attached. The SMTP password is read from the "
                    "environment variable CSM_SMTP_PASSWORD, or asked for when run in a terminal.")
    send.add_argument("--reports", type=Path, required=True, help="the folder 'csm run --out' wrote")
    send.add_argument("--to", default=None,
                      help="comma-separated addresses that get every segment's message")
    send.add_argument("--lists", type=Path, default=None,
                      help="YAML file mapping segment -> addresses, e.g. 'region=Hanoi: [a@x.vn]'")
    send.add_argument("--with-follow-up", dest="follow_up_lists", type=Path, default=None, metavar="LISTS.yaml",
                      help="also send each segment's follow_up.csv (personal data), in a message of its own, "
                           "only to the addresses this distribution-list file gives for the segment")
    send.add_argument("--segments", default=None,
                      help="comma-separated segments to send, e.g. all,region=Hanoi (default: every one)")
    send.add_argument("--smtp", default=None, metavar="HOST:PORT",
                      help="SMTP server (default localhost; port 25, 587 with --starttls, 465 with --ssl)")
    send.add_argument("--from", dest="sender", default=None, metavar="ADDR",
                      help="sender address (default csm-workbook@localhost)")
    send.add_argument("--subject", default=None,
                      help="subject; {study} and {segment} are replaced "
                           "(default '{study} — {segment} — CSM reports')")
    tls = send.add_mutually_exclusive_group()
    tls.add_argument("--starttls", action="store_true", help="upgrade the connection with STARTTLS")
    tls.add_argument("--ssl", action="store_true", help="connect with TLS from the start (SMTPS)")
    send.add_argument("--user", default=None, help="SMTP login name (password: CSM_SMTP_PASSWORD or a prompt)")
    send.add_argument("--max-size", type=float, default=10.0, metavar="MB",
                      help="largest message in MB, as encoded (default 10)")
    send.add_argument("--study", type=Path, default=None,
                      help="study.yaml whose name to use (default: the name in metrics.json)")
    send.add_argument("--dry-run", type=Path, default=None, metavar="OUTDIR",
                      help="write one .eml file per message into OUTDIR instead of sending")
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


#: Path arguments whose name is not ``--<dest>``.
_PATH_OPTIONS = {"dir": "DIR", "source": "--from"}


def _err(msg: str) -> None:
    print(f"csm: error: {msg}", file=sys.stderr)


def _cmd_run(args: argparse.Namespace) -> int:
    from csm_helpers.pipeline.pool import start_run_kernels

    log = (lambda _m: None) if args.quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    stages = [s.strip() for s in args.stages.split(",") if s.strip()] if args.stages else None
    # the kernels start first (after study.yaml and --out are checked), and the rest of the
    # run machinery is imported while they do: 0.6 s off the run
    kernels = start_run_kernels(args.study, args.out, stages=stages, jobs=args.jobs, notebooks=args.notebooks)
    try:
        from csm_helpers.pipeline.run import run_study
    except BaseException:
        kernels.close(kill=True)
        raise
    result = run_study(args.study, args.out, segment=args.segment, stages=stages, log=log,
                       resume=args.resume, notebooks=args.notebooks, jobs=args.jobs, kernels=kernels)
    if not args.quiet:
        if result.skipped:
            print(f"{result.out_dir}: segment {result.segment} is up to date (same inputs, stages and version) "
                  "— nothing to do")
        else:
            print(f"wrote {len(result.files)} files to {result.out_dir} in {result.timings['total']:.1f} s")
        print(f"open {result.out_dir / 'index.html'}")
    return 0


def _cmd_batch(args: argparse.Namespace) -> int:
    from csm_helpers.pipeline.batch import run_batch

    stages = [s.strip() for s in args.stages.split(",") if s.strip()] or None
    note = (lambda _m: None) if args.quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    progress = "off" if (args.no_progress or args.quiet) else "auto"
    result = run_batch(args.study, args.by, out_dir=args.out, stages=stages, jobs=args.jobs,
                       resume=args.resume, timeout=args.timeout, executor=args.executor,
                       scheduler=args.scheduler, progress=progress, log=note, notebooks=args.notebooks)
    failed = result.failed
    for o in failed:
        print(f"failed: {o.segment}: {headline(o.error) if o.error else 'unknown error'}", file=sys.stderr)
    if not args.quiet:
        parts = [f"{result.count('done')} written"]
        if args.resume:
            parts.append(f"{result.count('skipped')} already done")
        parts += [f"{len(failed)} failed", f"{len(result.suppressed)} suppressed"]
        print(f"csm batch by {result.by}: {len(result.outcomes)} segment(s) — {', '.join(parts)} — "
              f"{result.seconds:.1f} s")
        print(f"open {result.index_path}")
        if failed:
            print(f"errors are in {result.log_path}; rerun with --resume to redo only the failed segments")
    return 1 if failed else 0


def _cmd_init(args: argparse.Namespace) -> int:
    from csm_helpers.study.draft import init_study

    result = init_study(args.dir, source=args.source, language=args.language, force=args.force)
    print(f"wrote {len(result.written)} files to {result.folder}")
    for path in result.kept:
        print(f"kept your edited {path.relative_to(result.folder)} (not overwritten)")
    if result.draft is not None:
        d = result.draft
        print(f"drafted study.yaml from {args.source.name}: id {d.guesses['id']}, overall {d.guesses['overall']}, "
              f"recommend {d.guesses['recommend']}, {len(d.guesses['attributes'])} attributes, "
              f"segments {', '.join(d.guesses['segments']) or 'none'}")
    todo = result.draft.todo if result.draft is not None else ["name", "responses.file", "responses.id", "overall",
                                                               "attributes"]
    print(f"next: fill the TODOs in {result.folder / 'study.yaml'} ({', '.join(todo)}), then "
          f"csm validate --study {result.folder / 'study.yaml'}")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from csm_helpers.pipeline.preflight import validate_study

    check = validate_study(args.study)
    for w in check.warnings:
        print(f"warning: {w}")
    tables = ", ".join(f"{k} {v:,} rows" for k, v in check.tables.items())
    print(f"{check.study.path}: OK — {check.n_responses:,} responses" + (f"; {tables}" if tables else ""))
    return 0


def _cmd_sample(args: argparse.Namespace) -> int:
    from csm_helpers.synthetic.sample import generate_sample

    path = generate_sample(args.out, seed=args.seed, n=args.n)
    if args.branches:
        from csm_helpers.synthetic.sample import add_branch_column

        add_branch_column(path, branches=args.branches, seed=args.seed)
    print(f"wrote sample study {path} (seed {args.seed}, n {args.n}"
          + (f", {args.branches} branches" if args.branches else "") + ")")
    return 0


def _cmd_send(args: argparse.Namespace) -> int:
    from csm_helpers.delivery import (
        DEFAULT_SENDER,
        SmtpSettings,
        load_distribution_lists,
        parse_addresses,
        parse_smtp_address,
        plan_messages,
        resolve_password,
        send_messages,
        write_eml,
    )

    if not args.to and args.lists is None:
        raise CsmError("csm send needs recipients: give --to ADDR[,ADDR...] and/or --lists FILE.yaml")
    to = parse_addresses(args.to, source="--to") if args.to else []
    lists = load_distribution_lists(args.lists) if args.lists is not None else {}
    follow_up_lists = load_distribution_lists(args.follow_up_lists) if args.follow_up_lists is not None else {}
    sender = parse_addresses(args.sender or DEFAULT_SENDER, source="--from")
    if len(sender) != 1:
        raise CsmError(f"--from: give exactly one sender address, found {len(sender)}")
    segments = [s.strip() for s in args.segments.split(",") if s.strip()] if args.segments else None
    study_name = None
    if args.study is not None:
        from csm_helpers.study.config import load_study

        study_name = load_study(args.study).name
    host, port = parse_smtp_address(args.smtp, use_ssl=args.ssl, starttls=args.starttls)

    def note(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    plans = plan_messages(args.reports, to=to, lists=lists, segments=segments, sender=sender[0],
                          subject=args.subject, study_name=study_name, max_size_mb=args.max_size, log=note,
                          follow_up_lists=follow_up_lists)
    if args.dry_run is not None:
        paths = write_eml(plans, args.dry_run)
        for plan, path in zip(plans, paths, strict=True):
            attached = ", ".join(p.name for p in plan.attached) or "no report"
            print(f"would send segment {plan.segment} to {', '.join(plan.envelope_to)}: {attached} "
                  f"({plan.size / 1e6:.2f} MB) — written to {path}")
        return 0
    settings = SmtpSettings(host=host, port=port, starttls=args.starttls, ssl=args.ssl, user=args.user,
                            password=resolve_password(args.user, where=f"{host}:{port}"))
    results = send_messages(plans, settings, log=lambda m: print(m, flush=True))
    print(f"sent {len(results)} message(s) via {settings.where}")
    return 0


def _skip_iri_grammar() -> None:
    """Keep jsonschema from importing ``rfc3987_syntax`` in this process.

    nbformat validates notebooks with jsonschema; jsonschema imports the optional
    ``rfc3987_syntax`` (installed with JupyterLab, through jupyter-events) only to check the
    ``iri`` string format, which no notebook schema uses, and building its grammar takes about
    1.6 s — more than loading the study. Marking the module absent makes that import fail
    at once, as it does where the package is not installed.
    """
    if "jsonschema" not in sys.modules:  # too late once jsonschema is in (nothing to gain)
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


def _hear_interrupts() -> None:
    """Unblock Ctrl-C and SIGTERM in this thread (and the threads it starts).

    A process inherits its parent's signal mask: started from a thread or tool that blocks
    SIGINT, ``csm run`` never saw a Ctrl-C, ran to the end and exited 0 (the lost interrupt of
    issue 17, reproduced with a blocked mask). An *ignored* SIGINT stays ignored: that is how a
    shell starts a background job, which a Ctrl-C meant for the foreground must not stop.
    """
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``csm``; returns the exit code."""
    _hear_interrupts()
    parser = build_parser()
    args = parser.parse_args(argv)
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # quiet kernel start-up
    _skip_iri_grammar()
    if args.command == "batch" and args.executor == "dask" and not args.scheduler:
        parser.error("--executor dask needs --scheduler ADDRESS (e.g. tcp://10.0.0.5:8786)")
    handlers = {"run": _cmd_run, "batch": _cmd_batch, "init": _cmd_init, "validate": _cmd_validate, "sample": _cmd_sample,
                "send": _cmd_send}
    start = time.perf_counter()
    try:
        for dest, value in vars(args).items():  # every path option, before any command uses one
            if isinstance(value, Path):
                check_path_option(value, option=_PATH_OPTIONS.get(dest, "--" + dest.replace("_", "-")))
        with interrupts_noted():
            return handlers[args.command](args)
    except CsmError as exc:
        if args.debug:
            raise
        _err(str(exc))
        return 2 if isinstance(exc, UsageError) else 1  # 2: the command was used wrongly (README)
    except KeyboardInterrupt:
        after = ("what was sent is listed above" if args.command == "send"
                 else "nothing half-written was left behind")
        _err(f"interrupted after {time.perf_counter() - start:.0f} s; {after}")
        return 130


def _exit_now(code: int) -> NoReturn:
    """End the ``csm`` process with ``code`` once its command is done, without the interpreter's
    teardown.

    Freeing the objects of pandas, SciPy, nbconvert and the study's tables one by one took
    0.4 to 0.5 s after every command (``benchmarks/run.py``: a twelfth of ``csm run --stages 04``),
    for nothing: the system takes a process's memory back at once. What must happen at exit
    still happens, in the interpreter's order: threads that are not daemons are waited for,
    the ``atexit`` handlers run (logging's flush, the Dask executor's kernel clean-up, ZeroMQ),
    then stdout and stderr are flushed. Where the interpreter does not offer its ``atexit``
    runner, the usual exit is taken.
    """
    import atexit
    import threading

    run_exit_handlers = getattr(atexit, "_run_exitfuncs", None)
    if run_exit_handlers is None:  # pragma: no cover - another Python implementation
        sys.exit(code)
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    run_exit_handlers()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (``csm … | head``): as Python's own exit
            code = code or 120
    os._exit(code)


def _entry() -> None:  # pragma: no cover
    _exit_now(main())


if __name__ == "__main__":  # pragma: no cover
    _exit_now(main())
