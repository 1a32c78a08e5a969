"""Study configuration: ``study.yaml`` and the YAML files it names (goals, codebook).

The configuration is loaded into typed, immutable objects (pydantic models) and validated
up front, so that a typo is reported before any analysis runs, with the key, what was
found and the fix. Every path in the configuration is relative to the YAML file that
names it and must stay inside the study folder.

The shape is described in SPEC §2 and, key by key, in ``README.md``.
"""

from __future__ import annotations

import datetime
import difflib
import re
import threading
import unicodedata
from pathlib import Path
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from csm_helpers.core.errors import ConfigError
from csm_helpers.core.paths import read_text_file, resolve_path
from csm_helpers.core.yamlfile import load_yaml

__all__ = [
    "TODO",
    "todo_keys",
    "Attribute",
    "Codebook",
    "CodebookEntry",
    "Goals",
    "InterviewsSpec",
    "ComplaintsSpec",
    "LostCustomersSpec",
    "MarketSpec",
    "MeasurementSpec",
    "AnalysisSpec",
    "FollowUpSpec",
    "SatisfactionModelSpec",
    "ECSI_PATHS",
    "OutcomesSpec",
    "KanoPair",
    "KanoSpec",
    "KANO_ANSWERS",
    "kano_code_key",
    "ResponsesSpec",
    "Study",
    "DIMENSIONS",
    "SOURCE_GROUPS",
    "CUSTOMER_GROUPS",
    "COMPANY_GROUPS",
    "load_study",
    "load_goals",
    "load_codebook",
    "read_yaml",
]

#: The three dimensions of the customer's "invisible scorecard" (SPEC §1).
DIMENSIONS = ("product", "process", "people")
#: Interview source groups of discovery (SPEC §1.2).
SOURCE_GROUPS = ("executive", "employee", "customer", "lost_customer", "competitor_customer")
#: Source groups that speak for the customer side / the company side of the perception gap.
CUSTOMER_GROUPS = ("customer", "lost_customer", "competitor_customer")
COMPANY_GROUPS = ("executive", "employee")

_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ItemRole(NamedTuple):
    """One role of a rated column (:meth:`Study.item_role_list`).

    ``kind`` is ``overall``, ``recommend``, ``satisfaction`` (``name``: its 1-based number),
    ``performance``, ``importance``, ``expectation``, ``competitor`` (``name``: the attribute
    id) or ``model`` (``name``: the satisfaction model's block).
    """

    kind: str
    name: str
    column: str

    def text(self) -> str:
        """The role in English, as config messages name it (``"performance of fees"``)."""
        if self.kind in ("overall", "recommend"):
            return self.kind
        if self.kind == "satisfaction":
            return f"satisfaction item {self.name}"
        if self.kind == "model":
            return f"item {self.column!r} of satisfaction_model.blocks.{self.name}"
        return f"{self.kind} of {self.name}"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


# --------------------------------------------------------------------------- study.yaml
class QualtricsSpec(_Model):
    """What to keep of a Qualtrics export: previews and unfinished responses are left out by default."""

    keep_previews: bool = False  # Status = Survey Preview (the survey author testing it)
    keep_unfinished: bool = False  # Finished = 0 (the respondent stopped before the end)


class ResponsesSpec(_Model):
    """Where the survey export is and which of its columns play which role."""

    file: str
    format: Literal["auto", "csv", "excel", "spss", "qualtrics", "parquet"] = "auto"
    sheet: str | int | None = None  # Excel sheet name or index
    encoding: str | None = None  # CSV text encoding; None = BOM (UTF-8/UTF-16) or strict UTF-8
    delimiter: str | None = None  # CSV delimiter; None = detect
    id: str
    wave: str | None = None
    segments: list[str] = Field(default_factory=list)
    weight: str | None = None
    personal_data: list[str] = Field(default_factory=list)
    comments: str | None = None
    duration: str | None = None
    missing_codes: list[float] = Field(default_factory=list)  # e.g. [99] for "don't know"
    qualtrics: QualtricsSpec = Field(default_factory=QualtricsSpec)


class Attribute(_Model):
    """One customer-defined attribute and the survey items that measure it."""

    id: str
    label: str
    dimension: Literal["product", "process", "people"]
    performance: str
    importance: str | None = None
    expectation: str | None = None
    competitor: str | None = None

    @field_validator("id")
    @classmethod
    def _id_is_identifier(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError(
                f"{v!r} is not a valid attribute id: use letters, digits and _ (e.g. staff_courtesy)"
            )
        return v


class InterviewsSpec(_Model):
    """Discovery interview records (SPEC §1.2): one row per interview or focus group."""

    file: str
    id: str = "interview_id"
    group: str = "source_group"
    text: str = "text"
    order: str | None = None  # column giving the interview order (date or number); None = file order
    codes: str | None = "codes"  # manual codes, separated by ';' (optional column)


class LoyaltySpec(_Model):
    repeat: str | None = None  # repeat-purchase item (yes/no or 0/1 or a count)
    price_sensitivity: str | None = None
    competitor_attitude: str | None = None
    incident_tolerance: str | None = None


class ComplaintsSpec(_Model):
    """Complaint log (SPEC §1.4): one row per complaint; column names as in the file."""

    file: str
    id: str = "complaint_id"
    customer: str | None = "customer_id"
    category: str = "category"
    valid: str | None = "valid"  # yes/no, true/false, 1/0
    received: str | None = "received"  # date received
    resolved: str | None = "resolved"  # date resolved (empty = open)
    sla_days: str | float | None = "sla_days"  # a column, or one number for every complaint
    outcome: str | None = "outcome"  # follow-up outcome (satisfied / neutral / dissatisfied)
    text: str | None = "description"


class LostCustomersSpec(_Model):
    """Lost-customer reasons (SPEC §1.4): one row per lost customer."""

    file: str
    id: str | None = "customer_id"
    reason: str = "reason"  # died, moved_away, other_relationships, competitor, product_dissatisfaction, staff_indifference
    comment: str | None = "comment"


class MarketSpec(_Model):
    """Market indicators (SPEC §1.4) the study supplies: response columns and company figures."""

    praise: str | None = None  # response column: would praise us to others (yes/no or 1/0)
    awareness: str | None = None  # response column: named the brand unaided (yes/no or 1/0)
    referral: str | None = None  # response column: has referred someone (yes/no or 1/0)
    sales_growth: float | None = None  # company figure, proportion (0.04 = +4%)
    customers: int | None = Field(None, gt=0)  # customer base at the start of the period
    customers_new: int | None = Field(None, ge=0)  # acquired in the period
    customers_lost: int | None = Field(None, ge=0)  # lost in the period


class MeasurementSpec(_Model):
    """Stage 03 settings (SPEC §1.3)."""

    margin_of_error: float = Field(0.05, gt=0, lt=1)  # target e at 95%
    p: float = Field(0.5, gt=0, lt=1)  # assumed proportion for the sample size
    speeder_fraction: float = Field(1 / 3, gt=0, lt=1)  # speeder: duration < fraction x median
    straightline_min_items: int = Field(5, ge=2)
    exclude: list[Literal["speeders", "straightliners", "extreme_straightliners", "duplicates"]] = Field(
        default_factory=lambda: ["speeders", "straightliners", "duplicates"])
    rake: bool = True  # rake to population margins when they are given and no weight column is
    rake_max_iter: int = Field(1000, ge=1)
    rake_tol: float = Field(1e-10, gt=0)


class IcebergSpec(_Model):
    formal: float = Field(0.05, gt=0, le=1)
    elsewhere: float = Field(0.35, ge=0, le=1)
    silent: float = Field(0.60, ge=0, le=1)

    @model_validator(mode="after")
    def _sums_to_one(self) -> IcebergSpec:
        total = self.formal + self.elsewhere + self.silent
        if abs(total - 1) > 1e-9:
            raise ValueError(f"iceberg shares must add up to 1 (found {total:g})")
        return self


def _default_lost_benchmark() -> dict[str, float]:
    return {"died": 0.01, "moved_away": 0.03, "other_relationships": 0.05, "competitor": 0.09,
            "product_dissatisfaction": 0.14, "staff_indifference": 0.68}


class AnalysisSpec(_Model):
    """Stage 04 settings (SPEC §1.4)."""

    level: float = Field(0.95, gt=0.5, lt=1)  # confidence level of every interval
    top_box: int = Field(2, ge=1)  # CSAT = share in the top `top_box` points
    bootstrap: int = Field(1000, ge=100)  # bootstrap resamples (seeded by `seed`)
    importance: Literal["auto", "stated", "derived"] = "auto"  # IPA y axis; auto = stated when asked
    ipa_crosshair: Literal["grand_mean", "midpoint"] = "grand_mean"
    loyalty_attitude: Literal["recommend", "overall"] = "recommend"  # Dick & Basu relative attitude
    previous_wave: str | None = None  # default: the wave before the latest
    sla_days: float = Field(7, gt=0)  # complaint SLA when the log has none
    iceberg: IcebergSpec = Field(default_factory=IcebergSpec)
    lost_benchmark: dict[str, float] = Field(default_factory=_default_lost_benchmark)
    competitor_label: str = "main competitor"

    @field_validator("previous_wave", mode="before")
    @classmethod
    def _wave_as_text(cls, v: Any) -> Any:
        return None if v is None else str(v)  # a wave written as 2025 is the label "2025"

    @field_validator("lost_benchmark")
    @classmethod
    def _benchmark_sums(cls, v: dict[str, float]) -> dict[str, float]:
        if abs(sum(v.values()) - 1) > 1e-6:
            raise ValueError(f"lost_benchmark shares must add up to 1 (found {sum(v.values()):g})")
        return v


#: The five answers of a Kano question (Kano et al. 1984), in the order of the evaluation table.
KANO_ANSWERS = ("like", "must_be", "neutral", "live_with", "dislike")
_KanoAnswer = Literal["like", "must_be", "neutral", "live_with", "dislike"]


def _default_kano_answers() -> dict[str, _KanoAnswer]:
    return {"1": "like", "2": "must_be", "3": "neutral", "4": "live_with", "5": "dislike"}


def kano_code_key(value: Any) -> str | None:
    """The key under which a Kano answer code is looked up: numbers by value (``1``, ``1.0`` and
    ``"1"`` are the same code), text by its trimmed, case-folded NFC form; None for a blank."""
    if value is None:
        return None
    if isinstance(value, bool):  # YAML reads yes / true as a boolean
        return str(value).casefold()
    if isinstance(value, int | float):
        if value != value:  # NaN
            return None
        return f"{float(value):g}"
    text = unicodedata.normalize("NFC", str(value)).strip()
    if not text:
        return None
    try:
        return f"{float(text):g}"
    except ValueError:
        return text.casefold()


class KanoPair(_Model):
    """One feature asked the Kano way: a functional question ("if the feature is there, how do you
    feel?") and a dysfunctional one ("if it is not there?"). ``id`` is an attribute id (the label is
    the attribute's) or a feature of its own, which then needs a ``label``."""

    id: str
    label: str | None = None
    functional: str
    dysfunctional: str

    @field_validator("id")
    @classmethod
    def _id_is_identifier(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError(f"{v!r} is not a valid feature id: use letters, digits and _ (e.g. video_banking)")
        return v


class KanoSpec(_Model):
    """Kano questions (Kano et al. 1984; Berger et al. 1993): the feature pairs and the answer codes.

    ``answers`` maps each code found in the data (a number or a text) to one of the five answers
    :data:`KANO_ANSWERS`; the default is the usual numbering 1 like, 2 must-be, 3 neutral,
    4 live with, 5 dislike. Several codes may map to one answer (a text and its number)."""

    answers: dict[str, _KanoAnswer] = Field(default_factory=_default_kano_answers)
    pairs: list[KanoPair] = Field(min_length=1)

    @field_validator("answers", mode="before")
    @classmethod
    def _code_keys(cls, v: Any) -> Any:
        if not isinstance(v, dict):
            return v  # pydantic says "a mapping"
        out: dict[str, Any] = {}
        for code, answer in v.items():
            key = kano_code_key(code)
            if key is None:
                raise ValueError("a blank code cannot be a Kano answer — an empty cell is no answer")
            if key in out and out[key] != answer:
                raise ValueError(f"code {code!r} is given twice, as {out[key]!r} and {answer!r} — keep one")
            out[key] = answer
        return out

    @field_validator("answers")
    @classmethod
    def _every_answer(cls, v: dict[str, str]) -> dict[str, str]:
        missing = [a for a in KANO_ANSWERS if a not in v.values()]
        if missing:
            raise ValueError(f"no code for {', '.join(missing)} — map a code to each of the five answers "
                             f"{', '.join(KANO_ANSWERS)}, e.g. {{1: like, 2: must_be, 3: neutral, 4: live_with, "
                             "5: dislike}")
        return v

    def decode(self, values: Any) -> tuple[Any, Any]:
        """The Kano answers of a column: ``(answers, unknown)``.

        ``answers`` is an object Series of :data:`KANO_ANSWERS` names (None where the cell is
        blank or its code unknown); ``unknown`` is a boolean array, True where a non-blank cell
        holds a code that ``answers`` does not map.

        Examples
        --------
        >>> import pandas as pd
        >>> spec = KanoSpec(pairs=[{"id": "x", "label": "X", "functional": "f", "dysfunctional": "d"}])
        >>> answers, unknown = spec.decode(pd.Series([1, 5.0, None, 7]))
        >>> answers.tolist(), unknown.tolist()
        (['like', 'dislike', None, None], [False, False, False, True])
        """
        import numpy as np
        import pandas as pd

        s = pd.Series(values).astype(object)
        blank = s.isna().to_numpy(dtype=bool, copy=True)
        cache: dict[Any, str | None] = {}
        keys = [None if b else cache[v] if v in cache else cache.setdefault(v, kano_code_key(v))
                for v, b in zip(s.tolist(), blank, strict=True)]
        blank |= np.array([k is None for k in keys], dtype=bool)
        answers = pd.Series([None if k is None else self.answers.get(k) for k in keys], index=s.index, dtype=object)
        unknown = ~blank & answers.isna().to_numpy(dtype=bool)
        return answers, unknown


class OutcomesSpec(_Model):
    """What became of last wave's follow-up list: one row per customer on it (the list as
    stage 05 wrote it, ``follow_up.csv``, with its last columns filled in by the team)."""

    file: str
    id: str | None = None  # the customer id column; None = the study's responses.id
    contacted: str = "contacted"  # yes/no
    resolved: str = "resolved"  # yes/no (blank: not known or not contacted)
    still_customer: str = "still_customer"  # yes/no (blank: not known)


class FollowUpSpec(_Model):
    """Closing the loop (SPEC §1.7): who may be contacted, and what came of the last contacts."""

    consent: str  # yes/no column: the respondent agreed to be contacted about their answers
    dissatisfied_box: int | None = Field(None, ge=1)  # bottom k points of overall = dissatisfied; None = top_box
    lowest: int = Field(3, ge=1, le=20)  # lowest-rated attributes listed per customer
    outcomes: OutcomesSpec | None = None

    @field_validator("outcomes", mode="before")
    @classmethod
    def _file_short_form(cls, v: Any) -> Any:
        return {"file": v} if isinstance(v, str) else v


#: The ECSI model's paths (Tenenhaus, Esposito Vinzi, Chatelin & Lauro 2005, fig. 1; R plspm's
#: ``satisfaction`` example): the default of ``satisfaction_model.paths``.
ECSI_PATHS: tuple[tuple[str, str], ...] = (
    ("image", "expectation"), ("image", "satisfaction"), ("image", "loyalty"), ("expectation", "quality"),
    ("expectation", "value"), ("expectation", "satisfaction"), ("quality", "value"), ("quality", "satisfaction"),
    ("value", "satisfaction"), ("satisfaction", "loyalty"))


class SatisfactionModelSpec(_Model):
    """A satisfaction-index model estimated by PLS path modelling (SPEC §1.7; issue 15 part 1).

    ``blocks`` maps each latent variable to its items (Mode A); ``paths`` lists the arrows
    ``[from, to]`` — by default the ECSI model's, which needs the blocks image, expectation,
    quality, value, satisfaction and loyalty. ``index`` is the block reported on 0–100."""

    blocks: dict[str, list[str]] = Field(min_length=2)
    paths: list[tuple[str, str]] | None = None
    scheme: Literal["centroid", "factorial", "path"] = "centroid"  # R plspm's default
    index: str = "satisfaction"

    @model_validator(mode="after")
    def _recursive_model(self) -> SatisfactionModelSpec:
        from csm_helpers.core.graphs import find_cycle

        names = list(self.blocks)
        for name, items in self.blocks.items():
            if not _ID.match(name):
                raise ValueError(f"blocks.{name}: {name!r} is not a valid block name — use letters, digits and _")
            if not items:
                raise ValueError(f"blocks.{name} is empty — list the items that measure {name!r} (a block needs at "
                                 "least one), or remove the block and its paths")
        seen: dict[str, str] = {}
        for name, items in self.blocks.items():
            for item in items:
                if item in seen:
                    raise ValueError(f"item {item!r} is in blocks.{seen[item]} and blocks.{name} — an item measures "
                                     "one block: keep it in one")
                seen[item] = name
        if self.paths is None:
            missing = [b for b in dict.fromkeys(x for pair in ECSI_PATHS for x in pair) if b not in self.blocks]
            if missing:
                raise ValueError(f"no paths are given, and the default ECSI paths need the block(s) "
                                 f"{', '.join(missing)} — name the blocks image, expectation, quality, value, "
                                 "satisfaction and loyalty, or list your model's arrows in paths: [[from, to], ...]")
        edges = list(self.edges())
        for a, b in edges:
            for end in (a, b):
                if end not in self.blocks:
                    raise ValueError(f"paths: [{a}, {b}] names the block {end!r}, which is not in blocks "
                                     f"({', '.join(names)}) — fix the name or add the block")
            if a == b:
                raise ValueError(f"paths: [{a}, {b}] goes from a block to itself — remove it")
        cycle = find_cycle(names, edges)
        if cycle:
            raise ValueError(f"paths: a cycle {' -> '.join(cycle)} — a PLS path model must be recursive (no block may "
                             "lead back to itself): remove one of these arrows")
        linked = {x for pair in edges for x in pair}
        alone = [b for b in names if b not in linked]
        if alone:
            raise ValueError(f"blocks {', '.join(alone)} have no path — connect each block to the model in paths, or "
                             "remove it")
        if self.index not in self.blocks:
            raise ValueError(f"index is {self.index!r}, which is not a block ({', '.join(names)}) — name the block "
                             "whose 0–100 index the report gives")
        return self

    def edges(self) -> tuple[tuple[str, str], ...]:
        """The model's arrows: ``paths``, or the ECSI paths by default."""
        return tuple(self.paths) if self.paths is not None else ECSI_PATHS


class DiscoverySpec(_Model):
    saturation_k: int = Field(3, ge=1)
    questionnaire_scale: tuple[int, int] = (1, 5)


class ReportSpec(_Model):
    title: str | None = None
    subtitle: str | None = None
    organisation: str | None = None


class Study(_Model):
    """A validated study configuration (SPEC §2).

    Use :func:`load_study` to build one from ``study.yaml``; ``path`` is the YAML file and
    :meth:`resolve` turns a path from the config into an absolute path.
    """

    name: str
    language: Literal["en", "vi", "zh"] = "en"
    min_cell_size: int = Field(5, ge=1)
    seed: int = 20261123
    responses: ResponsesSpec
    scales: dict[str, tuple[float, float]] = Field(default_factory=lambda: {"default": (1, 5)})
    overall: str
    satisfaction_items: list[str] = Field(default_factory=list)
    recommend: str | None = None
    attributes: list[Attribute] = Field(min_length=1)
    loyalty: LoyaltySpec = Field(default_factory=LoyaltySpec)
    population: str | None = None  # CSV: segment, value, population [, invited]
    complaints: ComplaintsSpec | None = None
    lost_customers: LostCustomersSpec | None = None
    market: MarketSpec = Field(default_factory=MarketSpec)
    interviews: InterviewsSpec | None = None
    codebook: str | None = None
    goals: str | None = None
    discovery: DiscoverySpec = Field(default_factory=DiscoverySpec)
    measurement: MeasurementSpec = Field(default_factory=MeasurementSpec)
    analysis: AnalysisSpec = Field(default_factory=AnalysisSpec)
    report: ReportSpec = Field(default_factory=ReportSpec)
    kano: KanoSpec | None = None
    follow_up: FollowUpSpec | None = None
    satisfaction_model: SatisfactionModelSpec | None = None
    actions: str | None = None  # last wave's action register (05_action_register.csv), filled in by the team
    notebooks: str | None = None  # folder of the study's own stage notebooks, relative to study.yaml
    path: Path = Field(default=Path("study.yaml"), exclude=True)

    @field_validator("interviews", "complaints", "lost_customers", mode="before")
    @classmethod
    def _file_short_form(cls, v: Any) -> Any:
        return {"file": v} if isinstance(v, str) else v

    @field_validator("scales", mode="before")
    @classmethod
    def _scales_are_pairs(cls, v: Any) -> Any:
        if not isinstance(v, dict):
            return v  # pydantic says "a mapping"
        for key, pair in v.items():
            numbers = isinstance(pair, list | tuple) and all(
                isinstance(x, int | float) and not isinstance(x, bool) for x in pair)
            if not numbers or len(pair) != 2:
                raise ValueError(f"scale {key!r} is {pair!r}: a scale is two numbers, [min, max], for example "
                                 f"{key}: [1, 5]")
        return v

    @field_validator("scales")
    @classmethod
    def _scales_ordered(cls, v: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
        for key, (lo, hi) in v.items():
            if not lo < hi:
                raise ValueError(f"scale {key!r} is [{lo}, {hi}]: the minimum must be below the maximum")
        return v

    @model_validator(mode="after")
    def _cross_checks(self) -> Study:
        ids = [a.id for a in self.attributes]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"attribute ids must be unique; repeated: {', '.join(dupes)}")
        for i, a in enumerate(self.attributes):
            if a.performance == self.overall:
                raise ValueError(
                    f"attributes.{i}.performance ({a.id!r}) is {a.performance!r}, the same column as overall — "
                    "overall satisfaction is what the attributes explain, so it cannot be one of them; remove "
                    f"attribute {a.id!r} or set overall to the overall-satisfaction item")
        top = self.analysis.top_box
        for key, col in [("overall", self.overall),
                         *((f"satisfaction_items.{i}", c) for i, c in enumerate(self.satisfaction_items))]:
            lo, hi = self.scale_for(col, "overall" if key == "overall" else "satisfaction")
            points = int(hi - lo) + 1
            if top >= points:
                raise ValueError(
                    f"analysis.top_box is {top}, but {key} ({col!r}) has {points} points on its scale "
                    f"{lo:g}-{hi:g} (scales): the top-{top} box would hold every answer — set analysis.top_box "
                    f"below {points} (e.g. 1), or check the scale of {col!r} in scales")
        personal = set(self.responses.personal_data)
        if self.kano is not None:
            self._check_kano(personal)
        if self.satisfaction_model is not None:
            index = self.satisfaction_model.index
            scales = {self.scale_for(c, "model") for c in self.satisfaction_model.blocks[index]}
            if len(scales) > 1:
                raise ValueError(f"satisfaction_model.index: the items of block {index!r} are on different scales "
                                 f"({', '.join(f'{lo:g}-{hi:g}' for lo, hi in sorted(scales))}) — the 0–100 index "
                                 "needs one scale: put them on one (scales) or choose another index block")
        if self.follow_up is not None:
            if self.follow_up.consent in personal:
                raise ValueError(f"column {self.follow_up.consent!r} is follow_up.consent but is also listed in "
                                 "responses.personal_data — the consent answer is not personal data: remove it "
                                 "from responses.personal_data")
            if self.follow_up.consent in set(self.item_roles().values()):
                raise ValueError(f"follow_up.consent is {self.follow_up.consent!r}, a rated item — name the yes/no "
                                 "column that records the consent to be contacted")
        for role, col in self.item_roles().items():
            if col in personal:
                raise ValueError(
                    f"column {col!r} is used as {role} but is also listed in responses.personal_data"
                )
        return self

    def _check_kano(self, personal: set[str]) -> None:
        assert self.kano is not None
        labels = {a.id: a.label for a in self.attributes}
        seen: dict[str, int] = {}
        for i, p in enumerate(self.kano.pairs):
            if p.id in seen:
                raise ValueError(f"kano.pairs.{i}: feature {p.id!r} is already kano.pairs.{seen[p.id]} — each "
                                 "feature has one pair of questions: remove one or give it another id")
            seen[p.id] = i
            if p.label is None and p.id not in labels:
                raise ValueError(f"kano.pairs.{i}: {p.id!r} is not an attribute id, so the feature needs a label — "
                                 f"add label: \"...\" to it, or use one of the attribute ids "
                                 f"({', '.join(list(labels)[:4])}{' ...' if len(labels) > 4 else ''})")
            if p.functional == p.dysfunctional:
                raise ValueError(f"kano.pairs.{i} ({p.id!r}): functional and dysfunctional are both "
                                 f"{p.functional!r} — they are two questions, in two columns")
            for kind in ("functional", "dysfunctional"):
                col = getattr(p, kind)
                if col in personal:
                    raise ValueError(f"column {col!r} is used as kano.pairs.{i}.{kind} but is also listed in "
                                     "responses.personal_data")

    def model_scale(self) -> tuple[float, float]:
        """The scale of the satisfaction model's index block (one scale: checked when loaded)."""
        assert self.satisfaction_model is not None
        return self.scale_for(self.satisfaction_model.blocks[self.satisfaction_model.index][0], "model")

    def kano_features(self) -> dict[str, tuple[str, str, str]]:
        """Map ``feature id -> (label, functional column, dysfunctional column)`` of the Kano pairs
        (empty without ``kano``); a pair named by an attribute id takes the attribute's label."""
        if self.kano is None:
            return {}
        labels = {a.id: a.label for a in self.attributes}
        return {p.id: (p.label or labels[p.id], p.functional, p.dysfunctional) for p in self.kano.pairs}

    # -- helpers ---------------------------------------------------------------------
    @property
    def dir(self) -> Path:
        """The folder of ``study.yaml``: every path in the config is relative to it."""
        return self.path.parent

    @property
    def title(self) -> str:
        return self.report.title or self.name

    def resolve(self, relpath: str, *, key: str = "") -> Path:
        """Absolute path of a file named in the config; it must stay inside the study folder.

        Raises
        ------
        ConfigError
            When the path escapes the study folder (``../``, an absolute path elsewhere).
        """
        return _resolve_inside(self.dir, relpath, source=self.path, key=key)

    def file_keys(self) -> dict[str, str]:
        """Map ``config key -> relative path`` of every file the study names."""
        keys = {"responses.file": self.responses.file}
        for key in ("population", "codebook", "goals"):
            val = getattr(self, key)
            if val:
                keys[key] = val
        for key in ("interviews", "complaints", "lost_customers"):
            spec = getattr(self, key)
            if spec:
                keys[f"{key}.file"] = spec.file
        if self.follow_up is not None and self.follow_up.outcomes is not None:
            keys["follow_up.outcomes.file"] = self.follow_up.outcomes.file
        if self.actions:
            keys["actions"] = self.actions
        return keys

    def scale_for(self, item: str, group: str | None = None) -> tuple[float, float]:
        """Scale (min, max) of ``item``: ``scales[item]``, else ``scales[group]``, else default."""
        if item in self.scales:
            return self.scales[item]
        if group and group in self.scales:
            return self.scales[group]
        if group == "recommend":
            return (0, 10)
        return self.scales.get("default", (1, 5))

    def item_role_list(self) -> list[ItemRole]:
        """Every role a rated column plays, in config order (a column may play several).

        Examples
        --------
        >>> from csm_helpers.study.datasets import sample_study_path
        >>> load_study(sample_study_path()).item_role_list()[0]
        ItemRole(kind='overall', name='', column='overall_sat')
        """
        roles = [ItemRole("overall", "", self.overall)]
        if self.recommend:
            roles.append(ItemRole("recommend", "", self.recommend))
        roles += [ItemRole("satisfaction", str(i + 1), col) for i, col in enumerate(self.satisfaction_items)]
        for a in self.attributes:
            for kind in ("performance", "importance", "expectation", "competitor"):
                col = getattr(a, kind)
                if col:
                    roles.append(ItemRole(kind, a.id, col))
        if self.satisfaction_model is not None:
            for block, items in self.satisfaction_model.blocks.items():
                roles += [ItemRole("model", block, col) for col in items]
        return roles

    def item_roles(self) -> dict[str, str]:
        """Map ``role -> column`` for every rated item, the role in English for config messages
        (e.g. ``'performance of staff_courtesy'``; :meth:`item_role_list` for the parts)."""
        roles: dict[str, str] = {}
        for r in self.item_role_list():
            roles.setdefault(r.text(), r.column)
        return roles

    def rated_items(self) -> dict[str, tuple[float, float]]:
        """Every rated column with its scale, in config order."""
        out: dict[str, tuple[float, float]] = {self.overall: self.scale_for(self.overall, "overall")}
        for col in self.satisfaction_items:
            out[col] = self.scale_for(col, "satisfaction")
        if self.recommend:
            out[self.recommend] = self.scale_for(self.recommend, "recommend")
        for a in self.attributes:
            for kind in ("performance", "importance", "expectation", "competitor"):
                col = getattr(a, kind)
                if col:
                    out[col] = self.scale_for(col, kind)
        if self.satisfaction_model is not None:
            for items in self.satisfaction_model.blocks.values():
                for col in items:
                    out.setdefault(col, self.scale_for(col, "model"))
        return out


# --------------------------------------------------------------------------- goals.yaml
#: The forms a deadline may take, with the strptime format that checks a day or month exists.
_DEADLINE_FORMS = ((r"\d{4}-\d{2}-\d{2}", "%Y-%m-%d"), (r"\d{4}-\d{2}", "%Y-%m"),
                   (r"\d{4}-(Q[1-4]|H[12])", None), (r"\d{4}", None))


class KpiTarget(_Model):
    metric: str
    target: float
    deadline: str | None = None
    owner: str | None = None
    label: str | None = None
    unit: str | None = None

    @field_validator("deadline", mode="before")
    @classmethod
    def _date_to_str(cls, v: Any) -> Any:
        return None if v is None else str(v)

    @field_validator("deadline")
    @classmethod
    def _deadline_exists(cls, v: str | None) -> str | None:
        """A day, a month, a quarter, a half or a year that exists: 2026-12-31, 2026-12, 2026-Q4,
        2026-H2 or 2026 (quoted or not; "2026-02-30" is refused, not carried into every report)."""
        if v is None:
            return v
        text = v.strip()
        for form, fmt in _DEADLINE_FORMS:
            if re.fullmatch(form, text):
                try:
                    if fmt is not None:
                        datetime.datetime.strptime(text, fmt)  # the day and month must exist
                except ValueError:
                    break
                return text
        raise ValueError(f"deadline {v!r} is not a date that exists — write a day as YYYY-MM-DD (e.g. 2026-12-31), "
                         "or a month, quarter or year: 2026-12, 2026-Q4, 2026")

    @model_validator(mode="after")
    def _target_in_range(self) -> KpiTarget:
        ranges = {"csat_top2": (0, 1), "csi": (0, 100), "nps": (-100, 100)}
        if self.metric in ranges:
            lo, hi = ranges[self.metric]
            if not lo <= self.target <= hi:
                hint = " (CSAT is a proportion: write 0.8 for 80%)" if self.metric == "csat_top2" else ""
                raise ValueError(
                    f"target {self.target} for {self.metric} is outside [{lo}, {hi}]{hint}"
                )
        return self


class ReadinessStep(_Model):
    step: int = Field(ge=1, le=11)
    status: Literal["done", "in_progress", "not_started", "not_applicable"] = "not_started"
    owner: str | None = None
    note: str | None = None


class AssessmentItem(_Model):
    id: str
    label: str | None = None
    points: float | None = Field(None, gt=0)
    score: int = Field(ge=0, le=100)  # percent, in steps of 10
    evidence: str | None = None

    @field_validator("id", mode="before")
    @classmethod
    def _id_str(cls, v: Any) -> Any:
        return str(v)

    @field_validator("score")
    @classmethod
    def _ten_percent_steps(cls, v: int) -> int:
        if v % 10:
            raise ValueError(f"score {v} is not in 10% steps: use 0, 10, 20, ..., 100")
        return v


class SelfAssessment(_Model):
    preset: Literal["gbt19580", "mbnqa", "custom"] = "gbt19580"
    items: list[AssessmentItem] = Field(min_length=1)


class Charter(_Model):
    objectives: list[str] = Field(default_factory=list)
    owners: list[str] = Field(default_factory=list)
    strategy_links: list[str] = Field(default_factory=list)
    audiences: list[dict[str, str]] = Field(default_factory=list)  # {report:, audience:}
    sponsor: str | None = None
    period: str | None = None


class Goals(_Model):
    """Goal-setting inputs (SPEC §1.1): charter, KPI targets, readiness, self-assessment."""

    charter: Charter = Field(default_factory=Charter)
    kpi_targets: list[KpiTarget] = Field(default_factory=list)
    readiness: list[ReadinessStep] = Field(default_factory=list)
    self_assessment: SelfAssessment | None = None

    @field_validator("readiness")
    @classmethod
    def _unique_steps(cls, v: list[ReadinessStep]) -> list[ReadinessStep]:
        steps = [s.step for s in v]
        dupes = sorted({s for s in steps if steps.count(s) > 1})
        if dupes:
            raise ValueError(f"readiness steps must appear once each; repeated: {dupes}")
        return v


# --------------------------------------------------------------------------- codebook.yaml
class CodebookEntry(_Model):
    id: str
    label: str
    dimension: Literal["product", "process", "people"]
    theme: str | None = None
    keywords: list[str] = Field(default_factory=list)
    patterns: list[str] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _id_is_identifier(cls, v: str) -> str:
        # questionnaire items are named perf_<id>, imp_<id>, exp_<id>
        return Attribute._id_is_identifier(v)

    @field_validator("patterns")
    @classmethod
    def _patterns_compile(cls, v: list[str]) -> list[str]:
        import regex  # the engine code_verbatims searches with (time-limited, see PATTERN_TIMEOUT_S)

        for p in v:
            try:
                regex.compile(p, regex.V0)
            except regex.error as exc:
                raise ValueError(f"pattern {p!r} is not a valid regular expression ({exc})") from None
        return v

    @model_validator(mode="after")
    def _has_rule(self) -> CodebookEntry:
        if not self.keywords and not self.patterns:
            raise ValueError(f"codebook entry {self.id!r} has neither keywords nor patterns")
        return self


class Codebook(_Model):
    """The discovery codebook (SPEC §1.2): attributes with keywords/patterns in any language."""

    attributes: list[CodebookEntry] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Codebook:
        ids = [a.id for a in self.attributes]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"codebook ids must be unique; repeated: {', '.join(dupes)}")
        return self


# --------------------------------------------------------------------------- loading
def read_yaml(path: Path, *, what: str = "YAML file") -> Any:
    """Read a YAML file with a clear :class:`ConfigError` when missing or malformed."""
    path = Path(path)
    return _yaml_mapping(read_text_file(path, what=what, hint="check the path (it is relative to study.yaml)"), path)


def _yaml_mapping(text: str, path: Path) -> dict[str, Any]:
    """The mapping a YAML file's ``text`` holds; a :class:`ConfigError` naming ``path`` otherwise."""
    data = load_yaml(text, source=path)
    if data is None:
        raise ConfigError(f"{path}: the file is empty, and expected a mapping of keys (e.g. 'name: ...') — write "
                          "the settings in it (see README.md for the keys)")
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: expected a mapping of keys (e.g. 'name: ...'), found {type(data).__name__} — "
            "see README.md for the shape of the file"
        )
    return data


def _resolve_inside(base: Path, relpath: str, *, source: Path, key: str) -> Path:
    return resolve_path(base, relpath, where=f"{source}, key '{key or relpath}'")


def _format_validation(exc: ValidationError, source: Path, model: type[BaseModel]) -> str:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err["loc"]) or "(top level)"
        typ = err["type"]
        msg = err["msg"].removeprefix("Value error, ")
        if typ == "missing":
            parent = ".".join(map(str, err["loc"][:-1]))
            fix = f"add '{err['loc'][-1]}:' " + (f"under '{parent}'" if parent else "at the top level")
            lines.append(f"key '{loc}' is required but missing — {fix}")
        elif typ == "extra_forbidden":
            name = str(err["loc"][-1])
            known = _known_keys(model, err["loc"][:-1])
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"allowed keys here: {', '.join(sorted(known))}"
            lines.append(f"key '{loc}' is not a known setting — {hint}")
        else:
            found = err.get("input")
            # a whole mapping or list says nothing the message does not already say
            shown = repr(found)
            if isinstance(found, dict | list):
                shown = ("a mapping" if isinstance(found, dict) else "a list") if typ.endswith("_type") else ""
            if len(shown) > 80:
                shown = shown[:77] + "..."
            found_text = f" (found {shown})" if shown and shown not in msg else ""
            lines.append(f"key '{loc}': {msg}{found_text} — fix the value in {source.name}")
    return f"{source}: invalid configuration\n" + "\n".join(f"  - {x}" for x in lines)


def _known_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            return []
        current = _inner_model(field.annotation)
        if current is None:
            return []
    return [k for k, f in current.model_fields.items() if not f.exclude]


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


#: The value ``csm init`` writes where it cannot guess a key.
TODO = "TODO"


def todo_keys(data: Any, prefix: str = "") -> list[str]:
    """Key paths (``attributes.2.dimension``) whose value is still :data:`TODO`.

    Examples
    --------
    >>> todo_keys({"overall": "TODO", "attributes": [{"id": "a", "dimension": "TODO"}]})
    ['overall', 'attributes.0.dimension']
    """
    if isinstance(data, str):
        return [prefix or "(top level)"] if data.strip() == TODO else []
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else []
    return [k for key, value in items for k in todo_keys(value, f"{prefix}.{key}" if prefix else str(key))]


def load_study(path: str | Path) -> Study:
    """Load and validate ``study.yaml``.

    Parameters
    ----------
    path : str or Path
        The study's YAML file (or a folder holding ``study.yaml``).

    Returns
    -------
    Study
        The validated configuration; ``study.path`` is the absolute path of the YAML file.

    Raises
    ------
    ConfigError
        When the file is missing, not YAML, or a key is missing, unknown or of the wrong
        type; the message lists every problem with its key and the fix.

    Examples
    --------
    >>> from csm_helpers.study.datasets import sample_study_path
    >>> study = load_study(sample_study_path())
    >>> study.min_cell_size
    5
    """
    path = resolve_path(Path.cwd(), path, where="--study", inside=False)  # a name no file system holds, a loop
    if path.is_dir():
        path = path / "study.yaml"
    text = read_text_file(path, what="study configuration", hint="check the path (it is relative to study.yaml)")
    with _PARSED_LOCK:
        parsed = _PARSED.get((str(path), text))
    if parsed is None:
        parsed = _parse_study(path, text)
        with _PARSED_LOCK:
            _PARSED[(str(path), text)] = parsed
            while len(_PARSED) > _PARSED_KEEP:
                del _PARSED[next(iter(_PARSED))]
    study = parsed.model_copy(deep=True)  # a caller that changes a nested value changes its own copy
    # Every file the config names must stay inside the study folder (checked on every load:
    # the folder may have changed since the text was parsed).
    for key, rel in study.file_keys().items():
        study.resolve(rel, key=key)
    return study


#: The last few ``study.yaml`` texts parsed, by (path, text): the stages of a run and the
#: segments of a batch load the same file again and again, and parsing and validating it is
#: most of the cost. Keyed on the text, so an edited file is always parsed afresh.
_PARSED: dict[tuple[str, str], Study] = {}
_PARSED_KEEP = 8
_PARSED_LOCK = threading.Lock()


def _parse_study(path: Path, text: str) -> Study:
    """``text`` (the contents of ``path``) parsed and validated as a :class:`Study`."""
    data = _yaml_mapping(text, path)
    todo = todo_keys(data)
    if todo:
        raise ConfigError(f"{path}: {len(todo)} key(s) still say TODO — fill each in study.yaml "
                          "(the comment beside it says what is needed), then run csm validate again\n"
                          + "\n".join(f"  - {key}: TODO" for key in todo))
    try:
        return Study.model_validate({**data, "path": path})
    except ValidationError as exc:
        raise ConfigError(_format_validation(exc, path, Study)) from None


def _load_model(study: Study, key: str, model: type[BaseModel], *, what: str) -> Any:
    """The file named by ``study.<key>`` read and validated as ``model``; None when not named."""
    name = getattr(study, key)
    if not name:
        return None
    path = study.resolve(name, key=key)
    data = read_yaml(path, what=f"{what} (key '{key}' in study.yaml)")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_validation(exc, path, model)) from None


def load_goals(study: Study) -> Goals | None:
    """Load ``goals.yaml`` named by the study (None when the study names none).

    Raises
    ------
    ConfigError
        When the file is missing or invalid; the message names the key and the fix.

    Examples
    --------
    >>> from csm_helpers.study.datasets import sample_study_path
    >>> goals = load_goals(load_study(sample_study_path()))
    >>> len(goals.readiness)
    11
    """
    return _load_model(study, "goals", Goals, what="goals file")


def load_codebook(study: Study) -> Codebook | None:
    """Load the discovery codebook named by the study (None when the study names none).

    Raises
    ------
    ConfigError
        When the file is missing or invalid; the message names the key and the fix.

    Examples
    --------
    >>> from csm_helpers.study.datasets import sample_study_path
    >>> cb = load_codebook(load_study(sample_study_path()))
    >>> len(cb.attributes) >= 10
    True
    """
    return _load_model(study, "codebook", Codebook, what="codebook")
