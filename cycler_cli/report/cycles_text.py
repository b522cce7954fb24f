"""Terminal rendering of ``cycler cycles``: a rich table of the rows, the summary below it.

Input is ``CycleReport.to_dict()``. Display units (mV, µA, kΩ·cm², mAh/g, %) appear only here;
the report itself keeps SI-with-suffix names (``overpotential_v``, ``asr_ohm_cm2``, ...).
"""

from __future__ import annotations

from typing import Any

# The renderer never imports numpy or the analysis: it reads the report's plain dict.

from rich.console import Group
from rich.table import Table
from rich.text import Text

# (header, key, scale, format)
SYMMETRIC_COLUMNS: list[tuple[str, str, float, str]] = [
    ("half", "half_cycle", 1, "d"),
    ("dir", "direction", 1, "s"),
    ("start h", "start_s", 1 / 3600, ".2f"),
    ("dur h", "duration_s", 1 / 3600, ".2f"),
    ("I µA", "current_a", 1e6, ".3g"),
    ("j µA/cm²", "current_density_a_cm2", 1e6, ".3g"),
    ("η mV", "overpotential_v", 1e3, ".1f"),
    ("η end", "overpotential_end_v", 1e3, ".1f"),
    ("η peak", "overpotential_peak_v", 1e3, ".1f"),
    ("R_dc kΩ", "r_dc_ohm", 1e-3, ".3g"),
    ("ASR kΩ·cm²", "asr_ohm_cm2", 1e-3, ".3g"),
    ("ASR/int", "asr_interface_ohm_cm2", 1e-3, ".3g"),
    ("IR kΩ", "ir_step_ohm", 1e-3, ".3g"),
    ("Δt s", "ir_dt_s", 1, ".3g"),
]
FULL_COLUMNS: list[tuple[str, str, float, str]] = [
    ("cycle", "cycle", 1, "d"),
    ("Q ch mAh", "charge_mah", 1, ".4g"),
    ("Q dis mAh", "discharge_mah", 1, ".4g"),
    ("Q ch mAh/g", "charge_mah_g", 1, ".4g"),
    ("Q dis mAh/g", "discharge_mah_g", 1, ".4g"),
    ("CE %", "coulombic_efficiency", 100, ".2f"),
    ("EE %", "energy_efficiency", 100, ".2f"),
    ("V̄ ch V", "mean_charge_v", 1, ".4g"),
    ("V̄ dis V", "mean_discharge_v", 1, ".4g"),
    ("ret %", "retention", 100, ".1f"),
    ("R_dc Ω", "r_dc_ohm", 1, ".4g"),
]
SUMMARY_FIELDS: dict[str, list[tuple[str, str, float, str]]] = {
    "symmetric": [
        ("half-cycles", "half_cycles", 1, "d"),
        ("duration h", "duration_s", 1 / 3600, ".1f"),
        ("η reference mV", "overpotential_ref_v", 1e3, ".1f"),
        ("η final mV", "overpotential_final_v", 1e3, ".1f"),
        ("η drift mV/h", "overpotential_drift_v_per_h", 1e3, ".3g"),
        ("η drift %/100 h", "overpotential_drift_pct_per_100h", 1, ".3g"),
        ("R_dc median kΩ", "r_dc_ohm_median", 1e-3, ".3g"),
        ("ASR median kΩ·cm²", "asr_ohm_cm2_median", 1e-3, ".3g"),
        ("ASR bulk kΩ·cm²", "asr_bulk_ohm_cm2", 1e-3, ".3g"),
        ("ASR per interface kΩ·cm²", "asr_interface_ohm_cm2_median", 1e-3, ".3g"),
        ("sampling interval s", "sampling_interval_s", 1, ".3g"),
    ],
    "full": [
        ("cycles (complete)", "cycles", 1, "d"),
        ("first half", "first_half", 1, "s"),
        ("duration h", "duration_s", 1 / 3600, ".1f"),
        ("reference cycle", "reference_cycle", 1, "d"),
        ("reference Q dis mAh", "reference_discharge_mah", 1, ".4g"),
        ("reference Q dis mAh/g", "reference_discharge_mah_g", 1, ".4g"),
        ("fade %/cycle", "capacity_fade_pct_per_cycle", 1, ".3g"),
        ("final retention %", "retention_final", 100, ".1f"),
        ("cycles to 80 %", "cycles_to_80pct", 1, "d"),
        ("CE median %", "coulombic_efficiency_median", 100, ".2f"),
    ],
}


def _fmt(value: Any, scale: float, spec: str) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if spec == "s":
        return str(value)
    if spec == "d":
        return f"{int(value):d}"
    return format(value * scale, spec)


def render_cycles(report: dict[str, Any]) -> Group:
    """The rows as a table, then the summary and warnings, for a rich Console."""
    kind = report["cell_type"]
    columns = SYMMETRIC_COLUMNS if kind == "symmetric" else FULL_COLUMNS
    rows = report["cycles"]
    # leave out columns that are null in every row (no mass, no area, no thickness), and the
    # absolute forms when the normalised ones are there (the JSON and CSV keep everything)
    shown = [c for c in columns if any(r.get(c[1]) is not None for r in rows)]
    keys = {c[1] for c in shown}
    replaced = {"current_a": "current_density_a_cm2", "r_dc_ohm": "asr_ohm_cm2", "charge_mah": "charge_mah_g",
                "discharge_mah": "discharge_mah_g"}
    if kind != "symmetric":
        replaced.pop("r_dc_ohm")
    shown = [c for c in shown if replaced.get(c[1]) not in keys]
    title = f"{report['source']} — {kind} cell ({report['cell_type_reason']})"
    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    for header, *_ in shown:
        table.add_column(header, justify="right")
    table.add_column("", justify="left")
    for row in rows:
        flag = "" if row.get("complete", True) else "incomplete"
        table.add_row(*(_fmt(row.get(key), scale, spec) for _, key, scale, spec in shown), flag)

    summary = report["summary"]
    lines = Text()
    for label, key, scale, spec in SUMMARY_FIELDS[kind]:
        if key == "cycles" and kind == "full":
            text = f"{summary['cycles']} ({summary.get('complete_cycles', summary['cycles'])})"
        else:
            text = _fmt(summary.get(key), scale, spec)
        lines.append(f"{label}: ", style="bold")
        lines.append(f"{text}\n")
    if kind == "symmetric":
        lo, hi = summary.get("overpotential_drift_ci95_v_per_h") or (None, None)
        if lo is not None and hi is not None:
            lines.append("η drift 95 % interval mV/h: ", style="bold")
            lines.append(f"[{lo * 1e3:.3g}, {hi * 1e3:.3g}]\n")
        lines.append("short circuit: ", style="bold")
        if summary.get("short_circuit"):
            lines.append(f"{summary['short_circuit_kind']} at half-cycle {summary['short_circuit_half_cycle']}\n", style="red")
        else:
            lines.append("none detected\n")
    lines.append("mass: ", style="bold")
    lines.append(f"{_fmt(report.get('mass_mg'), 1, '.4g')} mg   ")
    lines.append("area: ", style="bold")
    lines.append(f"{_fmt(report.get('area_cm2'), 1, '.4g')} cm²\n")
    for warning in report.get("warnings", []):
        lines.append(f"warning: {warning}\n", style="yellow")
    lines.rstrip()
    return Group(table, Text(""), lines)
