"""Commit a segment's reports atomically (one folder swap with a manifest) and recover an interrupted run."""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from csm_helpers import __version__
from csm_helpers.core.jsonable import to_jsonable
from csm_helpers.core.safety import file_sha256, write_text_atomic
from csm_helpers.pipeline.plan import RunPlan

__all__ = ["MANIFEST", "recover_interrupted", "manifest_key", "is_up_to_date", "commit_segment", "segment_is_done",
           "new_staging_folder", "remove_staging_folder"]


#: The record of a completed run inside each segment folder (what --resume compares).
MANIFEST = ".csm-manifest.json"


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # ours, from an earlier call in this process: finished or failed
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover_interrupted(out_dir: Path) -> None:
    """Undo what a killed run left behind (``kill -9`` runs no cleanup code).

    - ``.csm-staging-<pid>-*``: the private folder of a run that died: removed;
    - ``.csm-old-<pid>-<segment>``: an earlier good segment folder that a run was swapping
      out when it died; put back if the segment folder is missing, else removed.
    """
    for d in out_dir.glob(".csm-staging-*"):
        try:
            pid = int(d.name.split("-")[2])
        except (IndexError, ValueError):
            continue
        if not _pid_alive(pid):
            shutil.rmtree(d, ignore_errors=True)
    for d in out_dir.glob(".csm-old-*"):
        parts = d.name.split("-", 3)
        try:
            pid, name = int(parts[2]), parts[3]
        except (IndexError, ValueError):
            continue
        if _pid_alive(pid):
            continue
        target = out_dir / name
        if not target.exists():
            os.rename(d, target)
        else:
            shutil.rmtree(d, ignore_errors=True)


@contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM while a few renames run, then act on them.

    Only in the main thread (where Python delivers signals); elsewhere a no-op.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, _frame: received.append(signum))
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if received:
            raise KeyboardInterrupt


def new_staging_folder(out_dir: Path) -> Path:
    """A new private staging folder inside ``out_dir`` (which exists), made with Ctrl-C and
    SIGTERM held: an interrupt cannot leave it behind unnamed, between its creation and
    the caller's ``try`` that removes it."""
    staging = None
    try:
        with _signals_deferred():
            staging = Path(tempfile.mkdtemp(prefix=f".csm-staging-{os.getpid()}-", dir=out_dir))
    except KeyboardInterrupt:  # held while it was made: it is still empty
        if staging is not None:
            os.rmdir(staging)
        raise
    return staging


def remove_staging_folder(staging: Path) -> None:
    """Remove a staging folder whole, Ctrl-C and SIGTERM held until it is gone (then acted on).

    A Ctrl-C that landed in the middle of the removal, at the very end of a run, left the
    half-removed folder in the output folder (``test_ctrl_c_at_any_moment_of_a_run_stops_it``).
    """
    with _signals_deferred():
        shutil.rmtree(staging, ignore_errors=True)


def manifest_key(inputs: dict[str, str], parameters: dict[str, Any]) -> dict[str, Any]:
    """What names a run in a segment's manifest: version, input hashes and parameters."""
    return {"version": __version__, "inputs": inputs, "parameters": parameters}


def is_up_to_date(seg_dir: Path, key: dict[str, Any]) -> bool:
    """True when ``seg_dir`` holds the complete, untouched outputs of a run with ``key``."""
    try:
        manifest = json.loads((seg_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(manifest, dict) or manifest.get("key") != to_jsonable(key):
        return False
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        return False
    for rel, digest in files.items():
        path = seg_dir / rel
        if not path.is_file() or file_sha256(path) != digest:
            return False
    return True


def commit_segment(seg_stage: Path, final: Path, key: dict[str, Any]) -> list[Path]:
    """Put a fully staged segment folder in place of ``final`` as one swap.

    Files of an earlier run that this run did not write (other stages) are carried over, a
    manifest is added, then ``final`` is renamed aside and the staged folder renamed into its
    place — with Ctrl-C and SIGTERM held for those two renames. A ``kill -9`` between them
    leaves the earlier folder as ``.csm-old-<pid>-<segment>``, which the next run puts back.
    """
    if final.is_dir():
        for old in sorted(final.rglob("*")):
            rel = old.relative_to(final)
            dest = seg_stage / rel
            if old.is_file() and old.name != MANIFEST and not dest.exists():
                dest.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.link(old, dest)
                except OSError:
                    shutil.copy2(old, dest)
    files = {p.relative_to(seg_stage).as_posix(): file_sha256(p)
             for p in sorted(seg_stage.rglob("*")) if p.is_file()}
    write_text_atomic(seg_stage / MANIFEST, json.dumps({"key": to_jsonable(key), "files": files},
                                                       ensure_ascii=False, indent=2, sort_keys=True) + "\n")
    aside = final.parent / f".csm-old-{os.getpid()}-{final.name}"
    try:
        with _signals_deferred():
            moved = False
            if final.exists():
                os.rename(final, aside)
                moved = True
            try:
                os.rename(seg_stage, final)
            except BaseException:
                if moved:
                    os.rename(aside, final)
                raise
    finally:
        if final.exists():
            shutil.rmtree(aside, ignore_errors=True)
    return [final / rel for rel in files]


def segment_is_done(plan: RunPlan, segment: str, final: Path) -> bool:
    """True when ``final`` holds the complete, untouched reports of ``segment`` from the same
    inputs (SHA-256), parameters, stages, notebooks and version: what ``--resume`` skips.

    One rule for ``csm run`` and ``csm batch``: the manifest :func:`commit_segment` wrote
    names the run (:func:`manifest_key`) and every file with its SHA-256.

    Examples
    --------
    >>> import tempfile
    >>> from csm_helpers.pipeline.plan import plan_run
    >>> plan, _ = plan_run(None, ["05"])
    >>> segment_is_done(plan, "all", Path(tempfile.mkdtemp()))  # an empty folder
    False
    """
    return is_up_to_date(final, manifest_key(plan.inputs, plan.parameters(segment)))
