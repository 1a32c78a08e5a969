"""Helpers shared by the corpus, privacy and interruption tests: build a corpus case, hash a folder."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import yaml

CORPUS = Path(__file__).resolve().parent / "corpus"


def corpus_cases() -> list[dict[str, Any]]:
    """The entries of ``tests/corpus/cases.yaml``."""
    return yaml.safe_load((CORPUS / "cases.yaml").read_text(encoding="utf-8"))["cases"]


def build_base(dest: Path) -> Path:
    """Copy the corpus's valid base study into ``dest``; return its study.yaml."""
    shutil.copytree(CORPUS / "base", dest)
    return dest / "study.yaml"


def build_case(case: dict[str, Any], dest: Path) -> Path:
    """The base study with one corpus case laid over it; return its study.yaml."""
    study = build_base(dest)
    for src in sorted((CORPUS / "cases" / case["id"]).iterdir()):
        if src.name != "README":
            shutil.copy2(src, dest / src.name)
    for name in case.get("remove", []):
        (dest / name).unlink()
    return study


def tree_digest(folder: Path) -> dict[str, str]:
    """Every file and folder under ``folder`` (hidden ones too) with the SHA-256 of each file,
    its size and modification time — so any change, addition or leftover shows."""
    out: dict[str, str] = {}
    if not folder.exists():
        return out
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder).as_posix()
        if p.is_dir():
            out[rel + "/"] = "dir"
        else:
            st = p.stat()
            out[rel] = f"{hashlib.sha256(p.read_bytes()).hexdigest()} {st.st_size} {st.st_mtime_ns}"
    return out
