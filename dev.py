#!/usr/bin/env python3
"""The two commands of the README, each doing its own set-up.

    python3 dev.py reports   # install into .venv, then write the sample study's HTML reports
    python3 dev.py test      # install into .venv (with test extras), then ruff + the test suite

Only the Python standard library is used here, so it runs on a machine with nothing but
Python 3.11 and pip. The virtual environment is reused while pyproject.toml is unchanged.
Extra arguments go to ``csm run`` or to ``pytest``. The tests run on one pytest-xdist worker
per core (at most 4; ``CSM_TEST_WORKERS=1`` runs them in one process).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("CSM_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")


def say(msg: str) -> None:
    print(f"[dev] {msg}", flush=True)


def run(cmd: list[str], **kw) -> None:
    say(" ".join(str(c) for c in cmd))
    subprocess.run([str(c) for c in cmd], check=True, cwd=ROOT, **kw)


def ensure_venv(extras: str) -> None:
    if not PY.exists():
        say(f"creating virtual environment {VENV}")
        venv.EnvBuilder(with_pip=True, clear=False).create(VENV)
    stamp = VENV / f".csm-installed-{extras or 'base'}"
    # pyproject.toml, and the report template the install copies to share/jupyter (nbconvert's
    # --template csm_report): a change to either reinstalls
    h = hashlib.sha256((ROOT / "pyproject.toml").read_bytes())
    for path in sorted((ROOT / "templates" / "csm_report").rglob("*")):
        if path.is_file():
            h.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    digest = h.hexdigest()
    if not (stamp.is_file() and stamp.read_text() == digest):
        run([PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
        target = f".[{extras}]" if extras else "."
        run([PY, "-m", "pip", "install", "--quiet", "-e", target])
        stamp.write_text(digest)
    # The package's bytecode, as pip writes it for an installed package: an editable install
    # has none, and where PYTHONDONTWRITEBYTECODE is set (CI images) every process, each
    # notebook kernel included, would compile the whole package again (0.3 s a start).
    # Only changed files are compiled.
    run([PY, "-m", "compileall", "-q", "csm_helpers"])


def ensure_chromium() -> None:
    """Headless Chromium for the browser tests (Debian's package; never a downloaded build)."""
    if shutil.which("chromium") or shutil.which("chromium-browser"):
        return
    can_apt = shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0
    if can_apt:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        run(["apt-get", "update", "-qq"], env=env)
        run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium",
             "fonts-noto-cjk", "fonts-dejavu-core"], env=env)
        return
    msg = "chromium is not installed: the browser tests will be skipped (install Debian's 'chromium')"
    if os.environ.get("CI"):
        sys.exit(f"[dev] {msg} — CI requires it")
    say(msg)


def main(argv: list[str]) -> int:
    if sys.version_info[:2] < (3, 11):  # noqa: UP036 - dev.py must run on any python3 to say this
        print(f"csm-workbook needs Python 3.11 or newer; this is {sys.version.split()[0]}")
        return 2
    if not argv or argv[0] not in {"reports", "test"}:
        print(__doc__)
        return 2
    cmd, rest = argv[0], argv[1:]
    if cmd == "reports":
        ensure_venv("")
        return subprocess.run([str(BIN / "csm"), "run", *rest], cwd=ROOT).returncode
    ensure_venv("test")
    ensure_chromium()
    run([PY, "-m", "ruff", "check", "."])
    return subprocess.run([str(PY), "-m", "pytest", *parallel(rest), *rest], cwd=ROOT).returncode


def parallel(rest: list[str]) -> list[str]:
    """pytest-xdist options: one worker per core (at most 4; ``CSM_TEST_WORKERS`` overrides).

    Whole test files go to a worker (``loadfile``), so a module's fixture that is a whole
    ``csm run`` is made once; the session's sample runs are shared by the workers (conftest).
    """
    if any(a.startswith(("-n", "--numprocesses", "--dist")) or a == "no:xdist" for a in rest):
        return []  # the caller chose
    workers = int(os.environ.get("CSM_TEST_WORKERS") or min(4, os.cpu_count() or 1))
    return ["-n", str(workers), "--dist", "loadfile", "--durations=25"] if workers > 1 else ["--durations=25"]


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except subprocess.CalledProcessError as exc:
        sys.exit(f"[dev] failed: {' '.join(map(str, exc.cmd))} (exit {exc.returncode})")
