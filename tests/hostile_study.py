"""A study whose every piece of customer text is hostile (issue 6), built on the corpus base.

Hostile strings go into the comments, the interview verbatims, codebook labels and themes,
segment values, attribute labels, column names, the complaint log and lost-customer comments,
the goals file and the study's own name and title. Each string carries a codebook keyword, so
the coding and the example quotes pick it up and it reaches the reports.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import yaml

from .corpus_tools import build_base

#: A marker the browser test looks for: any script that runs sets it.
PWNED = "window.__pwned=1"
LEAK = "http://127.0.0.1:9"  # a closed port: a request there would show up in the browser log

#: (name, text) of every hostile string tried.
HOSTILE: list[tuple[str, str]] = [
    ("script tag", f"<script>{PWNED}</script>"),
    ("script, upper case", f"<SCRIPT SRC={LEAK}/x.js></SCRIPT>"),
    ("img onerror", f'<img src=x onerror="{PWNED}">'),
    ("img external src", f'<img src="{LEAK}/pixel.png">'),
    ("svg onload", f'<svg onload="{PWNED}"><circle r=1 /></svg>'),
    ("svg script", f"<svg><script>{PWNED}</script></svg>"),
    ("iframe", f'<iframe src="{LEAK}/frame"></iframe>'),
    ("object", f'<object data="{LEAK}/x.swf"></object>'),
    ("embed", f'<embed src="{LEAK}/x.swf">'),
    ("html javascript link", f'<a href="javascript:{PWNED}">click me</a>'),
    ("markdown javascript link", f"[click me](javascript:{PWNED})"),
    ("markdown image", f"![pixel]({LEAK}/md.png)"),
    ("markdown heading", "# Injected heading\n\n## and another"),
    ("markdown autolink", f"<{LEAK}/autolink> and {LEAK}/bare-url"),
    ("style element", f"<style>body{{background:url({LEAK}/css.png)}}</style>"),
    ("style attribute", f'<div style="background:url({LEAK}/attr.png)">styled</div>'),
    ("css import", f"<style>@import '{LEAK}/x.css';</style>"),
    ("link stylesheet", f'<link rel="stylesheet" href="{LEAK}/x.css">'),
    ("meta refresh", f'<meta http-equiv="refresh" content="0;url={LEAK}/refresh">'),
    ("base href", f'<base href="{LEAK}/">'),
    ("form", f'<form action="{LEAK}/post"><input type="submit" value="go"></form>'),
    ("attribute breakout", f'"><img src=x onerror={PWNED}>'),
    ("comment breakout", f"--><script>{PWNED}</script><!--"),
    ("cdata breakout", f"]]><script>{PWNED}</script>"),
    ("mutation xss", f'<math><mtext><table><mglyph><style><img src=x onerror="{PWNED}">'),
    ("noscript breakout", f'<noscript><p title="</noscript><img src=x onerror={PWNED}>">'),
    ("pre-escaped entities", "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#x3C;b&#x3E;"),
    ("latex href", "$\\href{javascript:alert(1)}{click}$"),
    ("latex display", "$$\\unicode{x1F600} \\style{color:red}{x}$$"),
    ("jinja template", "{{ 7*7 }} {% raw %}{{ config }}{% endraw %} ${7*7}"),
    ("rtl override", "invoice \u202egnp.exe\u202c done"),
    ("zero-width characters", "zero\u200bwidth\u200c\u200djoin\ufeffend\u2060"),
    ("control characters", "bell\x07 escape\x1b[31m red vt\x0b ff\x0c del\x7f c1\x9b"),
    ("nul byte", "before\x00after"),
    ("formula =", f'=HYPERLINK("{LEAK}/f","click")'),
    ("formula +", "+1+cmd|' /C calc'!A0"),
    ("formula -", "-2+3+cmd|' /C calc'!A0"),
    ("formula @", "@SUM(1+1)*cmd|' /C calc'!A0"),
    ("formula tab", "\t=1+1"),
    ("formula carriage return", "\r=1+1"),
    ("formula after a space", "  =1+1"),
    ("formula after a zero-width space", "\u200b=1+1"),
    ("formula full-width", "\uff1d1+1"),
    ("vietnamese and chinese", "Nhân viên thân thiện 质量很好"),
]

#: A 1 MB comment and interview verbatim (with a keyword, and markup at its far end).
LONG_TEXT = "quality " + "A" * 1_000_000 + f" <script>{PWNED}</script>"
#: A 1 MB segment value and complaint category.
LONG_NAME = "long name " + "B" * 1_000_000
KEYWORDS = ["quality", "speed", "friendly", "price"]


SPEED_COLUMN = 'q_speed"><b onmouseover="window.__pwned=1">=1+1'

#: Where each hostile string is placed for sure (the comments and interviews get all of them):
#: these must be readable as text in some report.
PLACED: dict[str, list[str]] = {
    "segment value": ["script tag", "formula =", "rtl override", "latex href"],
    "attribute label": ["img onerror", "formula after a zero-width space", "markdown autolink"],
    "study name": ["svg onload"],
    "report title": ["latex display"],
    "organisation": ["style element"],
    "codebook label": ["script, upper case", "markdown image", "noscript breakout", "formula @"],
    "codebook theme": ["svg script", "comment breakout", "zero-width characters", "pre-escaped entities"],
    "charter objective": ["html javascript link", "markdown heading"],
    "charter owner": ["formula +"],
    "self-assessment label": ["mutation xss"],
    "complaint category": ["iframe", "formula -", "control characters", "css import", "nul byte"],
}


def _csv(rows: list[list[object]]) -> str:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)  # \r\n line ends: fields holding \r or \n are quoted
    return buf.getvalue()


def hostile_texts() -> list[str]:
    return [text for _, text in HOSTILE]


def write_hostile_study(folder: Path) -> Path:
    """The corpus base study with hostile text everywhere customer text can reach."""
    study_path = build_base(folder)
    h = dict(HOSTILE)
    texts = hostile_texts()
    study = yaml.safe_load(study_path.read_text(encoding="utf-8"))

    # --- responses: comments, segment values and a hostile column name
    rows = list(csv.reader(io.StringIO((folder / "answers.csv").read_text(encoding="utf-8"))))
    header, body = rows[0], rows[1:]
    header[header.index("q_speed")] = SPEED_COLUMN
    shops = [h["script tag"], h["formula ="], h["rtl override"], h["latex href"], LONG_NAME]
    for i, row in enumerate(body):
        row[header.index("shop")] = shops[i % len(shops)]
        row[header.index("remarks")] = f"{KEYWORDS[i % len(KEYWORDS)]} {texts[i % len(texts)]}"
    body[5][header.index("remarks")] = LONG_TEXT
    (folder / "answers.csv").write_text(_csv([header, *body]), encoding="utf-8")
    (folder / "population.csv").write_text(
        _csv([["segment", "value", "population"], *[["shop", s, 400 + 100 * i] for i, s in enumerate(shops)]]),
        encoding="utf-8")
    study["responses"]["comments"] = "remarks"

    # --- attribute labels, study name and title
    for attr, name in zip(study["attributes"], PLACED["attribute label"], strict=True):
        attr["label"] = h[name]
    study["attributes"][1]["performance"] = SPEED_COLUMN
    study["name"] = h[PLACED["study name"][0]]
    study["report"] = {"title": h[PLACED["report title"][0]], "organisation": h[PLACED["organisation"][0]]}

    # --- interviews: one verbatim per hostile string, each carrying a keyword
    groups = ["customer", "executive", "employee", "lost_customer", "competitor_customer", "customer"]
    talks = [["tid", "who", "notes", "seq"]]
    for i, text in enumerate(texts):
        talks.append([f"T{i + 1}", groups[i % len(groups)], f"{KEYWORDS[i % len(KEYWORDS)]}: {text}", i + 1])
    talks.append([f"T{len(texts) + 1}", "customer", LONG_TEXT, len(texts) + 1])
    (folder / "talks.csv").write_text(_csv(talks), encoding="utf-8")

    # --- codebook labels and themes
    codes = yaml.safe_load((folder / "codes.yaml").read_text(encoding="utf-8"))
    for entry, label, theme in zip(codes["attributes"], PLACED["codebook label"], PLACED["codebook theme"],
                                   strict=True):
        entry["label"], entry["theme"] = h[label], h[theme]
    (folder / "codes.yaml").write_text(yaml.safe_dump(codes, allow_unicode=True), encoding="utf-8")

    # --- goals: charter and self-assessment text
    aims = yaml.safe_load((folder / "aims.yaml").read_text(encoding="utf-8"))
    aims["charter"]["objectives"] = [h[n] for n in PLACED["charter objective"]]
    aims["charter"]["owners"] = [h[n] for n in PLACED["charter owner"]]
    aims["self_assessment"]["items"][0]["label"] = h[PLACED["self-assessment label"][0]]
    aims["self_assessment"]["items"][1]["evidence"] = h["img external src"]
    (folder / "aims.yaml").write_text(yaml.safe_dump(aims, allow_unicode=True), encoding="utf-8")

    # --- complaint log: hostile categories and descriptions
    complaints = [["complaint_id", "customer_id", "category", "valid", "received", "resolved", "sla_days",
                   "outcome", "description"]]
    categories = [h[n] for n in PLACED["complaint category"]] + [LONG_NAME]
    for i in range(60):
        complaints.append([f"C{i:03d}", f"x{i:03d}", categories[i % len(categories)], "yes" if i % 3 else "no",
                           f"2026-01-{1 + i % 20:02d}", f"2026-01-{3 + i % 20:02d}" if i % 5 else "", 7,
                           "satisfied" if i % 2 else "dissatisfied", texts[(i + 5) % len(texts)]])
    complaints[7][-1] = LONG_TEXT
    (folder / "complaints.csv").write_text(_csv(complaints), encoding="utf-8")
    study["complaints"] = "complaints.csv"

    # --- lost customers: comments
    reasons = ["staff_indifference", "product_dissatisfaction", "competitor", "moved_away"]
    lost = [["customer_id", "reason", "comment"]]
    for i in range(24):
        lost.append([f"L{i:03d}", reasons[i % len(reasons)], texts[(i + 11) % len(texts)]])
    (folder / "lost.csv").write_text(_csv(lost), encoding="utf-8")
    study["lost_customers"] = "lost.csv"

    study_path.write_text(yaml.safe_dump(study, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return study_path
