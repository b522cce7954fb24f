"""The stability rules: stable kebab-case ids, their thresholds, and the functions that judge.

A rule is a small function over the analysis dict (``analyze(...).to_dict()``: ``cycles`` rows
and ``summary``), its thresholds and the run options; it returns one :class:`Verdict` and
never raises on odd input (missing or non-finite metrics give ``skip`` with the reason).
Rules belong to one cell type (``symmetric`` or ``full``); a file is judged only by the rules of
its own cell type (the other type's rules are not reported). ``min-duration`` exists for both.

Every id, meaning, default and unit is documented in ``docs/rules.md``; a test keeps the two in
step. Thresholds are set per cell type (``docs/config.md``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cycler_cli.verdicts.report import Verdict, json_number

CELL_TYPES = ("symmetric", "full")


@dataclass(frozen=True)
class Param:
    """One threshold of a rule: its config key (kebab-case), type, default and unit.
    ``default=None`` means "off until the user sets it"."""

    key: str
    type: type
    default: float | int | None
    unit: str
    doc: str


@dataclass(frozen=True)
class Rule:
    """A rule: ``id`` (stable, kebab-case), ``cell_type``, one-line ``summary``, ``params``, and
    ``judge(analysis, thresholds, options) -> Verdict``. ``switch`` names the param whose
    being unset turns the rule off by default (``None``: the rule is on by default)."""

    id: str
    cell_type: str
    summary: str
    params: tuple[Param, ...]
    judge: Callable[[Mapping[str, Any], Mapping[str, Any], Mapping[str, Any]], Verdict]
    switch: str | None = None

    @property
    def on_by_default(self) -> bool:
        return self.switch is None

    def param(self, key: str) -> Param:
        for p in self.params:
            if p.key == key:
                return p
        raise KeyError(key)

    def defaults(self) -> dict[str, Any]:
        return {p.key: p.default for p in self.params}


# --------------------------------------------------------------------------------------------
# helpers


def _num(mapping: Mapping[str, Any] | None, key: str) -> float | None:
    """``mapping[key]`` as a finite float, else ``None`` (missing, null, NaN, bool, text)."""
    if not isinstance(mapping, Mapping):
        return None
    value = json_number(mapping.get(key))
    return None if value is None else float(value)


def _summary(analysis: Mapping[str, Any]) -> Mapping[str, Any]:
    s = analysis.get("summary") if isinstance(analysis, Mapping) else None
    return s if isinstance(s, Mapping) else {}


def _rows(analysis: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    rows = analysis.get("cycles") if isinstance(analysis, Mapping) else None
    if not isinstance(rows, list):
        return []
    return [r for r in rows if isinstance(r, Mapping)]


def _g(x: float | None, digits: int = 3) -> str:
    """A number with ``digits`` significant digits (no exponent for everyday magnitudes)."""
    if x is None:
        return "n/a"
    if x == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(x)))
    if -4 <= magnitude < 6:
        decimals = max(digits - 1 - magnitude, 0)
        return f"{x:.{decimals}f}"
    return f"{x:.{digits - 1}e}"


def _lim(x: float) -> str:
    """A threshold as the user wrote it (20, 0.5, 99.5)."""
    return f"{x:g}"


def _signed(x: float, digits: int = 3) -> str:
    return ("+" if x > 0 else "") + _g(x, digits)


def _skip(rule: str, unit: str, message: str, threshold: float | None = None) -> Verdict:
    return Verdict(rule, "skip", None, threshold, unit, message)


def _too_short(options: Mapping[str, Any]) -> str | None:
    reason = options.get("too_short")
    return str(reason) if reason else None


# --------------------------------------------------------------------------------------------
# symmetric cells


def _sym_min_duration(analysis, thresholds, options) -> Verdict:
    rule, unit = "min-duration", "half-cycles"
    need = int(thresholds["min-half-cycles"])
    have = _num(_summary(analysis), "half_cycles")
    if have is None:
        return _skip(rule, unit, "the analysis gives no half-cycle count", need)
    have = int(have)
    if have < need:
        return Verdict(
            rule, "warn", have, need, unit,
            f"run too short to judge: {have} half-cycles < {need}; overpotential-drift is skipped",
            ">=",
        )
    return Verdict(rule, "pass", have, need, unit, f"{have} half-cycles (at least {need} needed to judge drift)", ">=")


def min_half_cycles_gate(analysis: Mapping[str, Any], min_half_cycles: int) -> str | None:
    """Why a symmetric run is too short to judge drift, or ``None`` when it is long enough."""
    have = _num(_summary(analysis), "half_cycles")
    if have is None or have < min_half_cycles:
        shown = "unknown" if have is None else str(int(have))
        return f"run too short to judge (min-duration: {shown} half-cycles, at least {min_half_cycles} needed)"
    return None


def _overpotential_drift(analysis, thresholds, options) -> Verdict:
    rule, unit = "overpotential-drift", "%/100h"
    limit = float(thresholds["max-pct-per-100h"])
    short = _too_short(options)
    if short:
        return _skip(rule, unit, short, limit)
    s = _summary(analysis)
    drift = _num(s, "overpotential_drift_pct_per_100h")
    if drift is None:
        return _skip(rule, unit, "the analysis gives no relative overpotential drift (no reference overpotential?)", limit)
    ref_v = _num(s, "overpotential_ref_v")
    rate_v_h = _num(s, "overpotential_drift_v_per_h")
    ci = s.get("overpotential_drift_ci95_v_per_h")  # [low, high] V/h
    ci_v_h = [_num({"x": c}, "x") for c in ci] if isinstance(ci, (list, tuple)) and len(ci) == 2 else [None, None]
    detail = []
    if ref_v is not None:
        detail.append(f"reference {_g(ref_v)} V")
    if rate_v_h is not None:
        interval = ""
        if None not in ci_v_h:
            interval = f", 95 % interval {_g(ci_v_h[0] * 1e3)} to {_g(ci_v_h[1] * 1e3)}"
        detail.append(f"{_signed(rate_v_h * 1e3)} mV/h{interval}")
    tail = f" ({', '.join(detail)})" if detail else ""
    trend = "rose" if drift > 0 else "fell"
    if abs(drift) > limit:
        return Verdict(
            rule, "fail", drift, limit, unit,
            f"overpotential {trend} {_g(abs(drift))} % per 100 h{tail}, beyond the ±{_lim(limit)} % limit",
            "abs<=",
        )
    return Verdict(rule, "pass", drift, limit, unit, f"overpotential drift {_signed(drift)} % per 100 h{tail}", "abs<=")


def _overpotential_max(analysis, thresholds, options) -> Verdict:
    rule, unit = "overpotential-max", "V"
    limit = thresholds.get("max-v")
    if limit is None:
        return _skip(rule, unit, "off: set symmetric.overpotential-max.max-v to enable")
    limit = float(limit)
    best: tuple[float, Any] | None = None
    for row in _rows(analysis):
        eta = _num(row, "overpotential_v")
        if eta is not None and (best is None or abs(eta) > best[0]):
            best = (abs(eta), row.get("half_cycle"))
    if best is None:
        return _skip(rule, unit, "the analysis gives no per-half-cycle overpotential", limit)
    eta, half = best
    if eta > limit:
        return Verdict(
            rule, "fail", eta, limit, unit,
            f"overpotential plateau reached {_g(eta)} V in half-cycle {half}, above the {_lim(limit)} V limit", "<=",
        )
    return Verdict(rule, "pass", eta, limit, unit, f"highest overpotential plateau {_g(eta)} V (half-cycle {half})", "<=")


def _short_circuit(analysis, thresholds, options) -> Verdict:
    rule, unit = "short-circuit", "half-cycle"
    s = _summary(analysis)
    flag = s.get("short_circuit")
    if not isinstance(flag, bool):
        return _skip(rule, unit, "the analysis gives no short-circuit detection")
    if flag:
        half = s.get("short_circuit_half_cycle")
        half_num = _num(s, "short_circuit_half_cycle")
        kind = s.get("short_circuit_kind") or ""
        where = f" in half-cycle {half}" if half is not None else ""
        soft = s.get("soft_short_half_cycles")
        if isinstance(soft, list) and len(soft) > 1:
            shown = ", ".join(str(h) for h in soft[:10]) + (", ..." if len(soft) > 10 else "")
            where += f" (soft-short events in {len(soft)} half-cycles: {shown})"
        return Verdict(
            rule, "fail", None if half_num is None else int(half_num), None, unit,
            f"{str(kind) + ' ' if kind else ''}short circuit detected{where}",
        )
    dt_s = _num(s, "sampling_interval_s")
    max_dt_s = thresholds.get("max-sampling-interval-s")
    if dt_s is not None and max_dt_s is not None and dt_s > float(max_dt_s):
        return Verdict(
            rule, "warn", None, None, unit,
            f"no short detected, but points are {_g(dt_s)} s apart (> {_lim(float(max_dt_s))} s): "
            "short events can fall between samples",
        )
    return Verdict(rule, "pass", None, None, unit, "no short circuit detected")


def _resistance_consistency(analysis, thresholds, options) -> Verdict:
    rule, unit = "resistance-consistency", "%"
    tolerance = float(thresholds["tolerance-pct"])
    eis = options.get("asr_ohm_cm2")
    if eis is None:
        return _skip(rule, unit, "no impedance ASR given: pass --asr-ohm-cm2 (or set asr-ohm-cm2 in the config)", tolerance)
    eis = float(eis)
    dc = _num(_summary(analysis), "asr_ohm_cm2_median")
    if dc is None:
        return _skip(rule, unit, "no DC ASR: the electrode area is unknown; pass --area-cm2", tolerance)
    deviation = 100.0 * (dc - eis) / eis
    text = (
        f"median DC ASR {_g(dc)} Ω·cm² (whole cell) vs impedance {_g(eis)} Ω·cm²: "
        f"{_signed(deviation)} %"
    )
    if abs(deviation) > tolerance:
        return Verdict(rule, "fail", deviation, tolerance, unit, f"{text}, outside ±{_lim(tolerance)} %", "abs<=")
    return Verdict(rule, "pass", deviation, tolerance, unit, text, "abs<=")


# --------------------------------------------------------------------------------------------
# full (and half) cells


def _complete_cycles(analysis: Mapping[str, Any]) -> int | None:
    rows = _rows(analysis)
    if rows:
        return sum(1 for r in rows if r.get("complete", True) is True)
    n = _num(_summary(analysis), "cycles")
    return None if n is None else int(n)


def min_cycles_gate(analysis: Mapping[str, Any], min_cycles: int) -> str | None:
    """Why a full-cell run is too short to judge retention and fade, or ``None``."""
    have = _complete_cycles(analysis)
    if have is None or have < min_cycles:
        shown = "unknown" if have is None else str(have)
        return f"run too short to judge (min-duration: {shown} complete cycles, at least {min_cycles} needed)"
    return None


def _full_min_duration(analysis, thresholds, options) -> Verdict:
    rule, unit = "min-duration", "cycles"
    need = int(thresholds["min-cycles"])
    have = _complete_cycles(analysis)
    if have is None:
        return _skip(rule, unit, "the analysis gives no cycle count", need)
    if have < need:
        return Verdict(
            rule, "warn", have, need, unit,
            f"run too short to judge: {have} complete cycles < {need}; capacity-retention and capacity-fade are skipped",
            ">=",
        )
    return Verdict(rule, "pass", have, need, unit, f"{have} complete cycles (at least {need} needed)", ">=")


def _capacity_retention(analysis, thresholds, options) -> Verdict:
    rule, unit = "capacity-retention", "%"
    limit = float(thresholds["min-pct"])
    short = _too_short(options)
    if short:
        return _skip(rule, unit, short, limit)
    s = _summary(analysis)
    retention = _num(s, "retention_final")
    if retention is None:
        return _skip(rule, unit, "the analysis gives no final retention (no reference discharge capacity?)", limit)
    pct = 100.0 * retention
    ref = s.get("reference_cycle", "the reference cycle")
    to80 = s.get("cycles_to_80pct")
    tail = f"; below 80 % from cycle {to80}" if to80 is not None else ""
    if pct < limit:
        return Verdict(
            rule, "fail", pct, limit, unit,
            f"final discharge capacity is {_g(pct)} % of cycle {ref}'s, below the {_lim(limit)} % limit{tail}", ">=",
        )
    return Verdict(rule, "pass", pct, limit, unit, f"final discharge capacity is {_g(pct)} % of cycle {ref}'s", ">=")


def _capacity_fade(analysis, thresholds, options) -> Verdict:
    rule, unit = "capacity-fade", "%/cycle"
    limit = float(thresholds["max-pct-per-cycle"])
    short = _too_short(options)
    if short:
        return _skip(rule, unit, short, limit)
    fade = _num(_summary(analysis), "capacity_fade_pct_per_cycle")
    if fade is None:
        return _skip(rule, unit, "the analysis gives no capacity fade rate", limit)
    if fade > limit:
        return Verdict(
            rule, "fail", fade, limit, unit,
            f"discharge capacity fades {_g(fade)} % per cycle, above the {_lim(limit)} % limit", "<=",
        )
    word = "fades" if fade >= 0 else "grows"
    return Verdict(rule, "pass", fade, limit, unit, f"discharge capacity {word} {_g(abs(fade))} % per cycle", "<=")


def _coulombic_efficiency(analysis, thresholds, options) -> Verdict:
    rule, unit = "coulombic-efficiency", "%"
    limit = float(thresholds["min-pct"])
    warn_above = thresholds.get("warn-above-pct")
    all_rows = _rows(analysis)
    known = [c for r in all_rows if (c := _num(r, "cycle")) is not None]
    first = min(known) if known else None  # the first cycle of the run, complete or not
    rows = [r for r in all_rows if r.get("complete", True) is True]
    cycles = [_num(r, "cycle") for r in rows]
    values = sorted(
        100.0 * ce
        for r, c in zip(rows, cycles)
        if c is not None and c > first and (ce := _num(r, "coulombic_efficiency")) is not None
    )
    if not values:
        return _skip(rule, unit, "no complete cycle after the first with a coulombic efficiency", limit)
    n = len(values)
    median = values[n // 2] if n % 2 else 0.5 * (values[n // 2 - 1] + values[n // 2])
    text = f"median coulombic efficiency {_g(median, 4)} % over {n} cycles after the first"
    if median < limit:
        return Verdict(rule, "fail", median, limit, unit, f"{text}, below the {_lim(limit)} % limit", ">=")
    if warn_above is not None and median > float(warn_above):
        return Verdict(
            rule, "warn", median, limit, unit,
            f"{text}, above {_lim(float(warn_above))} %: usually a wrong charge/discharge pairing "
            "(a discharge-first cell analysed charge-first) or carry-over from an incomplete half-cycle",
            ">=",
        )
    return Verdict(rule, "pass", median, limit, unit, text, ">=")


def _specific_capacity(analysis, thresholds, options) -> Verdict:
    rule, unit = "specific-capacity", "mAh/g"
    limit = thresholds.get("min-mah-g")
    if limit is None:
        return _skip(rule, unit, "off: set full.specific-capacity.min-mah-g to enable")
    limit = float(limit)
    s = _summary(analysis)
    q = _num(s, "reference_discharge_mah_g")
    if q is None:
        return _skip(rule, unit, "no specific capacity: the active mass is unknown; pass --mass-mg", limit)
    ref = s.get("reference_cycle", "the reference cycle")
    if q < limit:
        return Verdict(
            rule, "fail", q, limit, unit,
            f"cycle {ref} discharged {_g(q)} mAh/g, below the {_lim(limit)} mAh/g minimum", ">=",
        )
    return Verdict(rule, "pass", q, limit, unit, f"cycle {ref} discharged {_g(q)} mAh/g", ">=")


# --------------------------------------------------------------------------------------------
# the registry (order = report order)

RULES: tuple[Rule, ...] = (
    Rule(
        "min-duration", "symmetric",
        "Enough half-cycles to judge drift; shorter runs warn and skip overpotential-drift.",
        (Param("min-half-cycles", int, 4, "half-cycles", "fewest half-cycles that can be judged"),),
        _sym_min_duration,
    ),
    Rule(
        "short-circuit", "symmetric",
        "No hard or soft short circuit; warns when sampling is too coarse to see one.",
        (Param("max-sampling-interval-s", float, 60.0, "s", "warn when the median point spacing is above this"),),
        _short_circuit,
    ),
    Rule(
        "overpotential-drift", "symmetric",
        "Relative overpotential drift per 100 h stays within ± the limit.",
        (Param("max-pct-per-100h", float, 20.0, "%/100h", "largest |relative drift| per 100 h"),),
        _overpotential_drift,
    ),
    Rule(
        "overpotential-max", "symmetric",
        "No half-cycle's overpotential plateau exceeds the limit (off until max-v is set).",
        (Param("max-v", float, None, "V", "highest allowed |overpotential| plateau"),),
        _overpotential_max,
        switch="max-v",
    ),
    Rule(
        "resistance-consistency", "symmetric",
        "Median DC ASR agrees with the impedance ASR given by --asr-ohm-cm2 (skip when not given).",
        (Param("tolerance-pct", float, 30.0, "%", "largest |relative difference| DC vs impedance"),),
        _resistance_consistency,
    ),
    Rule(
        "min-duration", "full",
        "Enough complete cycles to judge retention and fade; shorter runs warn and skip them.",
        (Param("min-cycles", int, 3, "cycles", "fewest complete cycles that can be judged"),),
        _full_min_duration,
    ),
    Rule(
        "capacity-retention", "full",
        "Final discharge capacity as a percentage of the reference cycle's is at least the limit.",
        (Param("min-pct", float, 80.0, "%", "lowest final retention"),),
        _capacity_retention,
    ),
    Rule(
        "capacity-fade", "full",
        "Discharge-capacity fade per cycle (positive = fading) is at most the limit.",
        (Param("max-pct-per-cycle", float, 0.5, "%/cycle", "largest fade per cycle"),),
        _capacity_fade,
    ),
    Rule(
        "coulombic-efficiency", "full",
        "Median coulombic efficiency of the complete cycles after the first is at least the limit.",
        (
            Param("min-pct", float, 99.0, "%", "lowest median CE"),
            Param("warn-above-pct", float, 100.5, "%", "warn (pairing problem) when the median CE is above this"),
        ),
        _coulombic_efficiency,
    ),
    Rule(
        "specific-capacity", "full",
        "Reference-cycle discharge capacity per gram of active material is at least the limit (off until set).",
        (Param("min-mah-g", float, None, "mAh/g", "lowest specific discharge capacity"),),
        _specific_capacity,
        switch="min-mah-g",
    ),
)

#: Every rule id, in report order, without duplicates.
RULE_IDS: tuple[str, ...] = tuple(dict.fromkeys(r.id for r in RULES))


def rules_for(cell_type: str) -> tuple[Rule, ...]:
    """The rules that judge a cell of ``cell_type``, in report order."""
    return tuple(r for r in RULES if r.cell_type == cell_type)


def get_rule(cell_type: str, rule_id: str) -> Rule | None:
    for r in RULES:
        if r.cell_type == cell_type and r.id == rule_id:
            return r
    return None
