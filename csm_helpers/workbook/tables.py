"""The gated analysis tables of a stage notebook: the methods of :class:`~csm_helpers.workbook.context.StageContext`
that compute a KPI, driver, gap or priority table on the reported base and withhold what the
privacy rules (SPEC §4) and the minimum n do not allow, with the reason."""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from csm_helpers.workbook.cache import cached
from csm_helpers.workbook.segment import parse_segment, select_segment, with_withheld_attributes

__all__ = ["AnalysisTables"]


class AnalysisTables:
    """Mixin of :class:`~csm_helpers.workbook.context.StageContext`: the analysis tables, computed from
    the context's data (``analysis_data``, ``by_wave``, ``labels`` …) and gated."""

    def segment_table(self, key: str, required: tuple[str, ...] = ()) -> tuple[pd.DataFrame, bool]:
        """A study table (``complaints``, ``lost_customers``, ``outcomes``) for this segment; the
        ``required`` columns must be in it (else the error names the file, the column and the key).

        Returns ``(rows, segmented)``: the rows of the segment when the table has the segment's
        column, else every row with ``segmented=False`` (the report then says the figures are
        company-wide).
        """
        data = self._table(key, required)
        parsed = parse_segment(self.segment, self.study)
        if parsed is None:
            return data, True
        column, value = parsed
        if column not in data.columns:
            return data, False
        return data.loc[(data[column].astype("string") == value).fillna(False).to_numpy()].copy(), True

    @cached_property
    def complaint_summary(self) -> tuple[dict[str, Any], bool] | None:
        """The complaint log's figures for this report (:func:`complaints.complaint_summary` with
        the study's customer base, SLA and minimum cell size) and whether they are the segment's
        (False: the log has no segment column, the figures are company-wide); None without
        ``complaints``. Company-wide figures are computed once per warm kernel, not per segment."""
        from csm_helpers.analysis.complaints import complaint_summary

        s = self.study
        if s.complaints is None:
            return None
        log, segmented = self.segment_table("complaints")
        summary = cached(s, ("complaint_summary", self.segment if segmented else None), lambda: complaint_summary(
            log, spec=s.complaints, customers=s.market.customers, sla_days=s.analysis.sla_days, min_n=s.min_cell_size))
        return summary, segmented

    def withheld(self, columns: list[str] | tuple[str, ...], *, how: str = "all", wave: str | None = None) -> bool:
        """Whether this segment must hide a figure computed on the respondents who answered
        ``columns`` (every one with ``how="all"``, any with ``how="any"``) in ``wave`` (default:
        the reported wave), after the data-quality exclusions.

        For "all": fewer than ``min_cell_size`` such respondents. For a segment: its value is
        hidden by primary or complementary suppression among the values of its column on that
        base (:func:`csm_helpers.analysis.disclosure.hidden_values`), so that "all" minus the other
        segments' reports cannot reveal a small group's figure.
        """
        from csm_helpers.analysis.disclosure import answered_mask, hidden_values, value_codes, wave_rows

        wave = self.latest_wave if wave is None else wave
        key = (tuple(columns), how, wave)
        cache = self.__dict__.setdefault("_withheld", {})
        if key not in cache:
            def base() -> pd.DataFrame:
                if wave == self.latest_wave:
                    return self.reported_all
                bases = self.__dict__.setdefault("_wave_base", {})  # an earlier wave's rows, selected once
                if wave not in bases:
                    bases[wave] = wave_rows(self.kept_responses, self.study, wave)
                return bases[wave]

            min_n = self.study.min_cell_size
            parsed = parse_segment(self.segment, self.study)
            if parsed is None:
                cache[key] = int(answered_mask(base(), list(columns), how=how).sum()) < min_n
            else:
                column, value = parsed

                def hidden() -> frozenset[str]:
                    partition = self.__dict__.setdefault("_partition", {})  # the column read once per wave
                    if wave not in partition:
                        partition[wave] = value_codes(base()[column])
                    answered = answered_mask(base(), list(columns), how=how)
                    return frozenset(hidden_values(partition[wave], min_n=min_n, answered=answered))

                # the same for every value of the column: a warm kernel's segments share it (data
                # cache; one entry per column, wave and figure base, so all of it goes in the family)
                family = ("withheld", column, wave, how, min_n, tuple(columns))
                cache[key] = value in cached(self.study, (family,), hidden)
        return cache[key]

    def kpi_columns(self) -> dict[str, tuple[list[str], str]]:
        """``kpi -> (items, how)``: the answers each headline KPI is computed from."""
        s = self.study
        out = {"csat_top2": ([s.overall], "all"), "csi": ([s.overall, *s.satisfaction_items], "any")}
        if s.recommend:
            out["nps"] = ([s.recommend], "all")
        return out

    def _withhold_rows(self, table: pd.DataFrame, hide: list[bool], keep: list[str], *, n: str = "n") -> pd.DataFrame:
        """``table`` with the ``hide`` rows suppressed as :func:`stats.suppress` does; a table of
        per-attribute tests (``p_adj``) is adjusted again over the rows still shown, so that a
        withheld row neither counts in the family nor shows through the others' adjusted p."""
        from csm_helpers.analysis.stats import adjust_family, suppress

        if not any(hide):
            return table
        out = suppress(table, n=n, min_n=0, keep=[c for c in keep if c in table.columns], hide=hide)
        if "p_adj" in out.columns and "p_adjust" in table.attrs:
            out = adjust_family(out, method=table.attrs["p_adjust"], level=table.attrs.get("level", 0.95))
        return out

    @cached_property
    def kpi_table(self) -> pd.DataFrame:
        """The headline KPIs of the reported wave (:func:`kpis.kpi_summary`), each gated on its own
        base: a KPI that this segment must hide is suppressed (SPEC §4)."""
        from csm_helpers.analysis import kpis

        def compute() -> pd.DataFrame:
            s = self.study
            table = kpis.kpi_summary(self.current, scale=s.scale_for(s.overall, "overall"), targets=self.kpi_targets,
                                     **self.satisfaction, **self.common, **self.boot)
            cols = self.kpi_columns()
            hide = [self.withheld(cols[k][0], how=cols[k][1]) for k in table["kpi"]]
            out = self._withhold_rows(table, hide, ["kpi", "method", "target"])
            if any(hide):
                out.loc[hide, "status"] = "suppressed"
                out["met"] = out["met"].astype(object)
                out.loc[hide, "met"] = None
            return out

        return self._segment_cached("kpi_table", compute)

    @cached_property
    def kpi_change_table(self) -> pd.DataFrame | None:
        """KPIs of the previous vs the reported wave (:func:`kpis.kpi_change`), None with one wave.

        A KPI this segment must hide in the reported wave is suppressed; one it must hide in the
        previous wave loses its previous value and the change (which would reveal it)."""
        from csm_helpers.analysis import kpis

        if self.previous_wave is None:
            return None

        def compute() -> pd.DataFrame:
            s = self.study
            table = kpis.kpi_change(self.analysis_data, wave=s.responses.wave, previous=self.previous_wave,
                                    latest=self.latest_wave, **self.satisfaction, **self.common, **self.boot)
            cols = self.kpi_columns()
            latest = [self.withheld(cols[k][0], how=cols[k][1]) for k in table["kpi"]]
            previous = [self.withheld(cols[k][0], how=cols[k][1], wave=self.previous_wave) for k in table["kpi"]]
            out = self._withhold_rows(table, [a or b for a, b in zip(latest, previous, strict=True)],
                                      ["kpi", "wave_previous", "wave_latest", "n_previous", "n_latest", "test"])
            for i, (a, b) in enumerate(zip(latest, previous, strict=True)):
                if b and not a:  # the reported wave itself may be shown; its change may not
                    for c in ("latest", "latest_ci_low", "latest_ci_high"):
                        out.loc[out.index[i], c] = table[c].iloc[i]
            return out

        return self._segment_cached("kpi_change_table", compute)

    def gate(self, table: pd.DataFrame, columns: list[str] | tuple[str, ...], *, how: str = "all",
             keep: list[str] | tuple[str, ...] = ()) -> pd.DataFrame:
        """``table`` (one figure's rows, computed on the reported wave) with every row suppressed
        when this segment must hide a figure on ``columns`` (:meth:`withheld`).

        Examples
        --------
        >>> from csm_helpers.workbook import open_stage
        >>> ctx = open_stage("04_analysis", segment="region=Hanoi")
        >>> t = pd.DataFrame({"quadrant": ["Loyalty"], "n": [40], "share": [0.3]})
        >>> bool(ctx.gate(t, ["recommend", "repeat_12m"], keep=["quadrant"])["share"].notna().all())
        True
        """
        return self._withhold_rows(table, [self.withheld(list(columns), how=how)] * len(table), list(keep))

    def gate_rows(self, table: pd.DataFrame, *, key: str, columns: dict[str, list[str]] | None = None,
                  how: str = "all", keep: list[str] | tuple[str, ...] = ()) -> pd.DataFrame:
        """``table`` with each row suppressed whose figure this segment must hide.

        A row's items are ``columns[row[key]]``; without ``columns``, ``row[key]`` names the one
        response column the row was computed from (e.g. the ``source`` of
        :func:`loyalty.loyalty_measures`). Rows whose key names no response column (figures
        from the study file, such as the customer base) are left as they are.
        """
        known = set(self.all_responses.columns)
        hide = []
        for value in table[key]:
            items = columns.get(str(value)) if columns is not None else [str(value)]
            items = [c for c in (items or []) if c in known]
            hide.append(bool(items) and self.withheld(items, how=how))
        return self._withhold_rows(table, hide, [key, *keep])

    @cached_property
    def scorecard_table(self) -> pd.DataFrame:
        """The invisible scorecard of the reported wave (:func:`kpis.scorecard`), each dimension
        gated on the respondents who answered any of its items."""
        from csm_helpers.analysis import kpis
        from csm_helpers.analysis.measurement import study_dimensions

        dims = study_dimensions(self.study)
        return self._segment_cached("scorecard", lambda: self.gate_rows(
            kpis.scorecard(self.current, dimensions=dims, scales=self.scales, **self.common, **self.boot),
            key="dimension", columns=dims, how="any", keep=["n_items", "method"]))

    @cached_property
    def progress_table(self) -> pd.DataFrame:
        """Every KPI by wave (:func:`action.progress`), each wave's KPI gated on that wave's base;
        the change from a hidden wave is hidden too (it would give the hidden value away)."""
        from csm_helpers.analysis.action import progress

        def compute() -> pd.DataFrame:
            data, column = self.by_wave
            table = progress(data, wave=column, waves=self.waves or None, targets=self.kpi_targets,
                             **self.satisfaction, **self.common, **self.boot)
            if not self.waves:
                return self.gate_rows(table, key="kpi", columns={k: v[0] for k, v in self.kpi_columns().items()},
                                      keep=["wave", "method", "target", "note"])
            cols = self.kpi_columns()
            hidden = {(w, k): self.withheld(cols[k][0], how=cols[k][1], wave=w)
                      for w, k in zip(table["wave"].astype(str), table["kpi"], strict=True)}
            hide = [hidden[(str(w), k)] for w, k in zip(table["wave"], table["kpi"], strict=True)]
            out = self._withhold_rows(table, hide, ["wave", "kpi", "method", "target", "previous_wave", "note"])
            for i, (pw, k) in enumerate(zip(table["previous_wave"], table["kpi"], strict=True)):
                if not hide[i] and pd.notna(pw) and hidden.get((str(pw), k)):
                    out.loc[out.index[i], ["change", "statistic", "p_value"]] = np.nan
                    out.loc[out.index[i], "significant"] = None
            return out

        return self._segment_cached("progress", compute)

    def attribute_change_table(self, *, attributes: list[str] | None = None, **options: Any) -> pd.DataFrame | None:
        """Each attribute's mean performance, previous vs reported wave (:func:`action.attribute_change`),
        None with one wave; an attribute this segment must hide in either wave is suppressed.
        ``attributes`` limits the family to these attribute ids (default: every attribute);
        ``options`` go to the helper (``weights``, ``level`` and ``min_n`` are the study's)."""
        from csm_helpers.analysis.action import attribute_change

        if self.previous_wave is None:
            return None
        table = attribute_change(self.analysis_data, wave=self.study.responses.wave, previous=self.previous_wave,
                                 latest=self.latest_wave,
                                 attributes={a.id: a.performance for a in self.study.attributes
                                             if attributes is None or a.id in attributes},
                                 **{**self.common, **options})
        hide = [self.attribute_withheld(a, ("performance",)) or
                self.attribute_withheld(a, ("performance",), wave=self.previous_wave) for a in table["attribute"]]
        return self._withhold_rows(table, hide, ["attribute", "wave_previous", "wave_latest", "n_previous"],
                                   n="n_latest")  # the table has no `n`: one per wave

    @cached_property
    def csat_detail(self) -> pd.DataFrame:
        """Top-2 box, bottom-2 box and mean of the overall item (:func:`kpis.csat`), gated as CSAT."""
        from csm_helpers.analysis import kpis

        s = self.study
        table = kpis.csat(self.current, item=s.overall, scale=s.scale_for(s.overall, "overall"),
                          top_box=s.analysis.top_box, **self.common)
        return self.gate(table, [s.overall], keep=["method"])

    @cached_property
    def exclusion_table(self) -> pd.DataFrame:
        """The headline KPIs of the reported wave with and without the data-quality exclusions
        (:func:`measurement.exclusion_sensitivity`); the responses without exclusions are raked
        on their own when the study is weighted."""
        from csm_helpers.analysis.disclosure import wave_rows
        from csm_helpers.analysis.measurement import exclusion_sensitivity, study_weights
        from csm_helpers.analysis.stats import WEIGHT_COLUMN

        def compute() -> pd.DataFrame:
            s = self.study
            received = self.all_responses
            if self.weights:  # the raking of every received response: the same for each segment of a kernel
                w = cached(s, ("received_weights",),
                           lambda: np.asarray(study_weights(received, s, population=self.population), dtype=float))
                received = received.assign(**{WEIGHT_COLUMN: w})
            received = wave_rows(select_segment(received, s, self.segment), s, self.latest_wave)
            table = exclusion_sensitivity(self.current, received, overall=s.overall,
                                          satisfaction_items=s.satisfaction_items, scales=self.scales,
                                          scale=s.scale_for(s.overall, "overall"), recommend=s.recommend,
                                          top_box=s.analysis.top_box, weights=self.weights)
            shown = set(self.kpi_table.loc[~self.kpi_table["suppressed"].astype(bool), "kpi"])
            return table.loc[table["kpi"].isin(shown)].reset_index(drop=True)  # a hidden KPI stays hidden

        return self._segment_cached("exclusion_table", compute)

    def attribute_withheld(self, attribute: str, kinds: tuple[str, ...], *, wave: str | None = None) -> bool:
        """:meth:`withheld` for the items of ``kinds`` (performance, importance, ...) of one attribute."""
        a = next(x for x in self.study.attributes if x.id == attribute)
        return self.withheld([getattr(a, k) for k in kinds if getattr(a, k)], wave=wave)

    @cached_property
    def driver_table(self) -> pd.DataFrame:
        """Key drivers of overall satisfaction on the latest wave (:func:`drivers.key_drivers`).

        Below the model's documented minimum (:func:`drivers.driver_minimum_n`, at least 30
        respondents, far above the cell size) nothing is estimated and
        ``attrs["suppressed_reason"]`` says why. No complementary suppression applies: the table
        publishes correlations and weights, not the sums they come from, and every published
        model rests on at least 30 respondents."""
        from csm_helpers.analysis.drivers import key_drivers

        return self._segment_cached("driver_table", lambda: key_drivers(
            self.current, outcome=self.study.overall, drivers={a.id: a.performance for a in self.study.attributes},
            weights=self.weights, level=self.study.analysis.level, degenerate="withhold", **self.boot))

    @cached_property
    def ipa_table(self) -> pd.DataFrame:
        """Importance–performance analysis of the latest wave (:func:`drivers.ipa`).

        An attribute this segment must hide (its items answered by too few, here or by
        difference) is left out of the analysis — also of the cross-hairs, whose grand mean
        would otherwise give its value away — and listed with ``suppressed`` True. With derived
        importance and key drivers withheld (too few respondents), every attribute is.
        ``p_quadrant`` is the bootstrap probability of each attribute's quadrant
        (:func:`drivers.ipa_quadrant_probability`, the study's seed and bootstrap size); it is
        missing below that function's minimum n, with the reason in ``attrs["p_quadrant_reason"]``."""
        from csm_helpers.analysis.drivers import attribute_table, ipa, ipa_quadrant_probability

        def compute() -> pd.DataFrame:
            attrs = attribute_table(self.study)
            mode = self.importance_mode
            kinds = ("performance", "importance") if mode == "stated" else ("performance",)
            derived = self.driver_table if mode == "derived" else None
            if derived is not None and derived.attrs.get("suppressed"):
                hidden = list(attrs["attribute"])
            else:
                hidden = [a for a in attrs["attribute"] if self.attribute_withheld(a, kinds)]
            shown = attrs.loc[~attrs["attribute"].isin(hidden)]
            if len(shown):
                table = ipa(self.current, attributes=shown, importance=mode, derived=derived,
                            crosshair=self.study.analysis.ipa_crosshair, scale=self.performance_scale,
                            weights=self.weights)
                sure = ipa_quadrant_probability(self.current, attributes=shown, importance=mode,
                                                outcome=self.study.overall,
                                                crosshair=self.study.analysis.ipa_crosshair,
                                                scale=self.performance_scale, weights=self.weights, **self.boot)
                table["p_quadrant"] = table["attribute"].map(sure.set_index("attribute")["p_quadrant"]).astype(float)
                table.attrs["p_quadrant_reason"] = sure.attrs.get("suppressed_reason")
                table["suppressed"] = False
            else:
                table = None
            return with_withheld_attributes(table, attrs, hidden, mode, derived)

        return self._segment_cached("ipa_table", compute)

    def _gated_pairs(self, table: pd.DataFrame, kinds: tuple[str, str], keep: list[str]) -> pd.DataFrame:
        hide = [self.attribute_withheld(a, kinds) for a in table["attribute"]]
        return self._withhold_rows(table, hide, keep)

    @cached_property
    def gap_table(self) -> pd.DataFrame | None:
        """Expectation–perception gaps of the latest wave, or None without expectation items;
        an attribute this segment must hide is suppressed."""
        from csm_helpers.analysis.gaps import expectation_gaps, gap_pairs

        pairs = gap_pairs(self.study, "expectation")
        if not pairs:
            return None
        return self._segment_cached("gap_table", lambda: self._gated_pairs(
            expectation_gaps(self.current, pairs=pairs, **self.common), ("performance", "expectation"),
            ["attribute", "perception", "expectation"]))

    @cached_property
    def competitor_table(self) -> pd.DataFrame | None:
        """Own vs competitor ratings of the latest wave, or None without competitor items; an
        attribute this segment must hide is suppressed."""
        from csm_helpers.analysis.gaps import competitor_benchmark, gap_pairs

        pairs = gap_pairs(self.study, "competitor")
        if not pairs:
            return None
        return self._segment_cached("competitor_table", lambda: self._gated_pairs(
            competitor_benchmark(self.current, pairs=pairs, **self.common), ("performance", "competitor"),
            ["attribute", "own_column", "competitor_column"]))

    @cached_property
    def follow_up_table(self) -> pd.DataFrame | None:
        """The customers of this report's wave and segment to call back (:func:`action.follow_up_list`),
        or None without ``follow_up`` in the study. Every respondent counts, whatever the
        data-quality checks said: a speeder who is unhappy and agreed to a call is still owed one.
        The rows hold personal data: write them with :func:`action.write_follow_up`, never in a report."""
        from csm_helpers.analysis.action import follow_up_list
        from csm_helpers.analysis.disclosure import wave_rows

        s = self.study
        spec = s.follow_up
        if spec is None:
            return None
        attributes = {a.id: (a.label, a.performance, s.scale_for(a.performance, "performance")) for a in s.attributes}
        columns = [c for c in (s.responses.wave, *s.responses.segments) if c]
        return follow_up_list(wave_rows(self.responses, s, self.latest_wave), id=s.responses.id, consent=spec.consent,
                              overall=s.overall, overall_scale=s.scale_for(s.overall, "overall"),
                              dissatisfied_box=spec.dissatisfied_box or s.analysis.top_box, recommend=s.recommend,
                              attributes=attributes, columns=list(dict.fromkeys(columns)),
                              comments=s.responses.comments, lowest=spec.lowest)

    @cached_property
    def follow_up_outcomes_table(self) -> pd.DataFrame | None:
        """What came of last wave's follow-up list (:func:`action.follow_up_outcomes`), for this
        segment when the outcome file has its column (``attrs["segmented"]`` says), or None
        without ``follow_up.outcomes``."""
        from csm_helpers.analysis.action import follow_up_outcomes

        spec = self.study.follow_up
        if spec is None or spec.outcomes is None:
            return None
        o = spec.outcomes
        rows, segmented = self.segment_table("outcomes", (o.id or self.study.responses.id, o.contacted, o.resolved,
                                                          o.still_customer))
        table = follow_up_outcomes(rows, spec=spec.outcomes, id=self.study.responses.id,
                                   level=self.study.analysis.level, min_n=self.study.min_cell_size,
                                   where=spec.outcomes.file)
        table.attrs["segmented"] = segmented
        return table

    @cached_property
    def action_check_table(self) -> pd.DataFrame | None:
        """Last wave's actions (the ``actions`` register) against this wave's change of their
        attribute (:func:`action.check_actions`; Welch t, Benjamini–Hochberg over the attributes
        with an action), or None without ``actions`` or without a previous wave."""
        from csm_helpers.analysis.action import actions_taken, check_actions

        if not self.study.actions or self.previous_wave is None:
            return None
        register = self._table("actions", ("attribute", "action"))
        known = {a.id for a in self.study.attributes}
        acted = [a for a in dict.fromkeys(actions_taken(register)["attribute"].astype(str)) if a in known]
        change = self.attribute_change_table(attributes=acted) if acted else pd.DataFrame(columns=["attribute"])
        return check_actions(register, change, labels=self.attribute_labels)

    def satisfaction_model_inputs(self) -> tuple[dict[str, list[str]], list[tuple[str, str]], int, int]:
        """The study's model as :func:`pls_pm.pls_pm` takes it — ``(blocks, paths)`` — with the
        respondents of this report who answered every item of it and the fewest it is shown on
        (:func:`pls_pm.reporting_minimum_n`)."""
        from csm_helpers.analysis.pls_pm import reporting_minimum_n

        spec = self.study.satisfaction_model
        if spec is None:
            raise ValueError("satisfaction_model_inputs: the study has no satisfaction_model")
        blocks = {b: list(items) for b, items in spec.blocks.items()}
        paths = list(spec.edges())
        items = [c for v in blocks.values() for c in v]
        complete = int(self.current[items].apply(pd.to_numeric, errors="coerce").notna().all(axis=1).sum())
        return blocks, paths, complete, reporting_minimum_n(blocks, paths)

    @cached_property
    def satisfaction_model(self) -> dict[str, Any] | None:
        """The study's PLS path model of the reported wave (:func:`pls_pm.pls_pm`), or None without
        ``satisfaction_model``. A dict: ``result`` (:class:`~csm_helpers.analysis.pls_pm.PlsResult`),
        ``bootstrap`` (seeded percentile intervals of the paths and the index, the study's seed
        and bootstrap size), ``index`` (0–100, Fornell's ACSI rescaling), ``index_block``,
        ``scale`` (of the index block's items) and ``weighted`` (the study's weights are not used:
        PLS-PM has no survey weights) — or ``withheld`` with the reason, when the segment has fewer
        complete answers than :func:`pls_pm.reporting_minimum_n` or must hide its items."""
        from csm_helpers.analysis.pls_pm import bootstrap_pls, pls_pm, satisfaction_index
        from csm_helpers.core.i18n import _
        from csm_helpers.present.catalogue import format_count

        spec = self.study.satisfaction_model
        if spec is None:
            return None

        def compute() -> dict[str, Any]:
            s = self.study
            blocks, paths, complete, need = self.satisfaction_model_inputs()
            small = complete < s.min_cell_size
            hidden = self.withheld([c for v in blocks.values() for c in v], how="all")
            if small or (complete < need and not hidden):
                return {"withheld": _("The satisfaction model is not estimated in this report: {n} respondents "
                                      "answered every item of it, and a PLS path model of this size needs at least "
                                      "{need} (ten times its largest block or number of arrows into a block).",
                                      n=format_count(complete, suppressed=small, min_n=s.min_cell_size), need=need)}
            if hidden:  # to protect a smaller segment: this one's size would give that one away, so it is not said
                return {"withheld": _("The satisfaction model is not shown in this report: its answers are hidden to "
                                      "protect a smaller segment (minimum cell size {min_n}).", min_n=s.min_cell_size)}
            scale = s.model_scale()
            result = pls_pm(self.current, blocks=blocks, paths=paths, scheme=spec.scheme)
            boot = bootstrap_pls(self.current, blocks=blocks, paths=paths, scheme=spec.scheme,
                                 n_boot=s.analysis.bootstrap, seed=s.seed, level=s.analysis.level,
                                 index_block=spec.index, scale=scale)
            return {"result": result, "bootstrap": boot, "index_block": spec.index, "scale": scale,
                    "index": satisfaction_index(self.current, result, block=spec.index, scale=scale),
                    "weighted": bool(self.weights), "level": s.analysis.level}

        return self._segment_cached("satisfaction_model", compute)

    @cached_property
    def kano_table(self) -> pd.DataFrame | None:
        """Kano categories and Better/Worse of the latest wave (:func:`kano.kano_table`), or None
        when the study has no ``kano`` pairs; a feature this segment must hide (its two questions
        answered by too few, here or by difference) is suppressed."""
        from csm_helpers.analysis.kano import kano_table

        features = self.study.kano_features()
        if not features:
            return None

        def compute() -> pd.DataFrame:
            table = kano_table(self.current, features=features, spec=self.study.kano, weights=self.weights,
                               level=self.study.analysis.level, min_n=self.study.min_cell_size)
            hide = [self.withheld([f, d]) for _label, f, d in features.values()]
            return self._withhold_rows(table, hide, ["feature", "label"])

        return self._segment_cached("kano_table", compute)

    @cached_property
    def priorities(self) -> pd.DataFrame:
        """The reconciled priority list: :func:`action.priority_list` (importance × room to the
        scale top) with stated and derived importance ranks side by side, the quadrant's
        bootstrap probability, the Kano category where the study asked for it, and each rank's
        reason (:func:`action.reconcile_priorities`)."""
        from csm_helpers.analysis.action import priority_list, reconcile_priorities

        def compute() -> pd.DataFrame:
            base = priority_list(self.ipa_table, drivers=self.driver_table, gaps=self.gap_table,
                                 competitor=self.competitor_table, scale=self.performance_scale, reference="scale_max")
            return reconcile_priorities(base, ipa_table=self.ipa_table, stated=self._stated_importance(),
                                        drivers=self.driver_table, kano=self.kano_table)

        return self._segment_cached("priorities", compute)

    def _stated_importance(self) -> dict[str, float] | None:
        """Mean stated importance per attribute when the IPA uses derived importance but the
        study asked for importance too (the IPA table holds it otherwise); an attribute this
        segment must hide is left out."""
        from csm_helpers.analysis.stats import get_weights, weighted_mean

        if self.importance_mode == "stated":
            return None
        w = get_weights(self.current, self.weights)
        out = {}
        for a in self.study.attributes:
            if not a.importance or a.importance not in self.current.columns or \
                    self.attribute_withheld(a.id, ("importance",)):
                continue
            mean = weighted_mean(pd.to_numeric(self.current[a.importance], errors="coerce").to_numpy(dtype=float), w)
            if np.isfinite(mean):
                out[a.id] = mean
        return out or None
