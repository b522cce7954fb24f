"""The analysis core: :class:`~cycler_cli.model.CyclingData` in, :class:`CycleReport` out.

``analyze(data, cell=..., mass_mg=..., area_cm2=..., ...)`` segments the run from its current
(:mod:`.segment`), decides the cell type (:mod:`.celltype`) and computes the rows and summary of a
symmetric cell (:mod:`.symmetric`, one row per half-cycle) or a full cell (:mod:`.full`, one row
per cycle). Every definition is in docs/metrics.md and, in short, in the report's
``definitions``. This package never imports typer or rich; only the commands that analyse
import it (it pulls in numpy and, through :mod:`cycler_cli.model`, pandas).
"""

from __future__ import annotations

import math

import numpy as np

from cycler_cli import threads
from cycler_cli.analysis.celltype import detect_cell_type
from cycler_cli.analysis.segment import Segments, charge_from_column, integrate, segment_run
from cycler_cli.analysis.table import SCHEMA_VERSION, CycleReport
from cycler_cli.errors import ConfigError, NoDataError
from cycler_cli.model import CyclingData

__all__ = ["analyze", "CycleReport", "Segments", "segment_run", "SCHEMA_VERSION", "CELL_TYPES"]

CELL_TYPES = ("auto", "symmetric", "full")
#: The file's own charge column and the integrated current may differ by this much per
#: half-cycle before a warning is raised.
CHARGE_COLUMN_TOLERANCE = 0.005
#: Runs of this many points or more are analysed on two threads (:mod:`cycler_cli.threads`):
#: the integrals and the charge column's capacities on the second, the cell type here.
TWO_THREADS_MIN_POINTS = 1 << 18


def _positive(name: str, value: float | None) -> float | None:
    if value is None:
        return None
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise ConfigError(f"{name} must be a positive number, got {value!r}", hint=f"pass {name} > 0")
    return float(value)


def _distinct_on(labels: np.ndarray, sign: np.ndarray) -> int:
    """Number of distinct ``labels`` on the current-on points (``sign != 0``), without gathering
    them: labels that never decrease from one on-point to the next (the usual case) are counted
    by their changes, found from where ``labels`` changes at all (a few hundred places) and the
    runs of on-points; otherwise ``np.unique`` decides. Consecutive on-points are either
    neighbours inside a run of on-points or the two ends of a gap between runs."""
    on = sign != 0
    n = on.size
    if not on.any():
        return 0
    edges = np.flatnonzero(on[1:] != on[:-1])
    edges += 1
    bounds = np.concatenate(([0], edges, [n]))
    first = bounds[:-1][on[bounds[:-1]]]  # each run of on-points: first point ...
    stop = bounds[1:][on[bounds[:-1]]]  # ... and the point after its last
    change = np.flatnonzero(labels[1:] != labels[:-1])  # pair (j, j+1) differs (NaN differs)
    run = np.searchsorted(first, change, side="right") - 1
    inside = (run >= 0) & (change + 1 < stop[np.maximum(run, 0)])  # both points in one run
    pairs = change[inside]
    before, after = labels[stop[:-1] - 1], labels[first[1:]]  # across each gap
    if np.any(labels[pairs + 1] < labels[pairs]) or np.any(after < before):
        return int(np.unique(labels[on]).size)
    return 1 + int(pairs.size) + int(np.count_nonzero(after != before))


def _charge_from_file(seg: Segments, charge_ah: np.ndarray | None) -> np.ndarray | None:
    """Per-half-cycle capacity from the file's charge column (None without one)."""
    if charge_ah is None or seg.n_half == 0:
        return None
    return charge_from_column(seg, charge_ah)


def _check_charge_column(seg: Segments, from_file: np.ndarray | None) -> tuple[float | None, list[str]]:
    """Largest relative difference between integrated and file-column capacity per half-cycle
    (``from_file``: :func:`_charge_from_file`)."""
    if from_file is None:
        return None, []
    integ = seg.charge_ah
    ok = integ > 0
    if not ok.any():
        return None, []
    rel = np.abs(from_file[ok] - integ[ok]) / integ[ok]
    worst = float(rel.max())
    warnings = []
    bad = int(np.count_nonzero(rel > CHARGE_COLUMN_TOLERANCE))
    if bad:
        hc = int(np.flatnonzero(ok)[int(np.argmax(rel))]) + 1
        warnings.append(
            f"capacity from the integrated current and from the file's charge column differ by more than "
            f"{100 * CHARGE_COLUMN_TOLERANCE:g} % in {bad} half-cycle(s) (worst {100 * worst:.2f} % in half-cycle {hc}); "
            "the table reports the integrated current"
        )
    return worst, warnings


def _classify(data: CyclingData, seg: Segments, cell: str) -> tuple[str, str, int | None]:
    """``(cell type, reason, half-cycles the file numbers)`` of a segmented run (the last
    ``None`` when the file has no half-cycle column); :class:`NoDataError` when there is no
    half-cycle. Needs only the segments' labels, not their integrals."""
    meta = data.meta
    if seg.n_half == 0:
        current_a = data.column("current_a")
        flowing = int(np.count_nonzero(np.abs(np.where(np.isfinite(current_a), current_a, 0.0)) > seg.threshold_a))
        problem = (
            f"no half-cycle to analyse: the {flowing} point(s) with current are too few or too short-lived "
            "to be a half-cycle, so there are no cycles"
            if flowing
            else "no current flows in this run (every point is a rest), so there are no cycles"
        )
        raise NoDataError(
            problem,
            path=meta.source,
            hint="`cycler cycles` needs a galvanostatic cycling run; check the current column with `cycler inspect`",
        )
    if cell == "auto":
        cell_type, reason = detect_cell_type(seg)
    else:
        cell_type, reason = cell, f"--cell {cell}"
    # distinct labels on current-on points: BioLogic counts from 0, derived labels from 1
    file_half = _distinct_on(data.column("half_cycle"), seg.sign) if meta.cycle_source == "file" else None
    return cell_type, reason, file_half


def analyze(
    data: CyclingData,
    *,
    cell: str = "auto",
    mass_mg: float | None = None,
    area_cm2: float | None = None,
    reference_cycle: int = 1,
    thickness_mm: float | None = None,
    conductivity_s_cm: float | None = None,
) -> CycleReport:
    """Per-cycle table and summary of one run.

    ``cell``: ``"auto"`` (decide from the signal, see :mod:`.celltype`), ``"symmetric"`` or
    ``"full"``. ``mass_mg`` (active material, mg) and ``area_cm2`` (electrode area, cm²)
    override ``data.meta``; without either, the columns that need it are null and a warning
    says why. ``reference_cycle`` is the cycle retention is relative to (full cells).
    ``thickness_mm`` with ``conductivity_s_cm`` (S/cm) splits a symmetric cell's ASR into bulk
    and per-interface parts.

    Raises :class:`NoDataError` when no current flows, :class:`ConfigError` for bad options.
    """
    if cell not in CELL_TYPES:
        raise ConfigError(f"unknown cell type {cell!r}", hint="use --cell auto, symmetric or full")
    mass_mg = _positive("--mass-mg", mass_mg)
    area_cm2 = _positive("--area-cm2", area_cm2)
    thickness_mm = _positive("--thickness-mm", thickness_mm)
    conductivity_s_cm = _positive("--conductivity-s-cm", conductivity_s_cm)
    if (thickness_mm is None) != (conductivity_s_cm is None):
        raise ConfigError(
            "--thickness-mm and --conductivity-s-cm go together (bulk ASR = thickness / conductivity)",
            hint="pass both, or neither",
        )
    if not isinstance(reference_cycle, int) or reference_cycle < 1:
        raise ConfigError(f"--reference-cycle must be a cycle number >= 1, got {reference_cycle!r}", hint="pass --reference-cycle 1 or later")

    meta = data.meta
    if data.is_empty:
        raise NoDataError("no data rows to analyse", path=meta.source, hint="check the file with `cycler inspect`")
    control_mode = data.column("control_mode") if data.has_column("control_mode") else None
    seg = segment_run(data.column("time_s"), data.column("voltage_v"), data.column("current_a"), control_mode, integrals=False)
    file_charge = data.column("charge_ah") if data.has_column("charge_ah") else None

    def second_pass() -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        return (*integrate(seg), _charge_from_file(seg, file_charge))

    # a long run: the integrals and the charge column's capacities on a second thread, the cell type here
    two = len(data) >= TWO_THREADS_MIN_POINTS and seg.n_half > 0 and threads.enabled()
    side = threads.Side(second_pass, "cycler-integrals") if two else None
    try:
        cell_type, reason, file_half = _classify(data, seg, cell)
    except BaseException:
        if side is not None:
            side.join()
        raise
    seg.charge_ah, seg.energy_wh, from_file = side.result() if side is not None else second_pass()

    warnings: list[str] = [f"reader: {w}" for w in meta.warnings]
    mass = mass_mg if mass_mg is not None else meta.active_mass_mg
    area = area_cm2 if area_cm2 is not None else meta.electrode_area_cm2
    if seg.spurious_segments:
        warnings.append(
            f"{seg.spurious_segments} spurious current segment(s) (fewer than 2 points, or under 0.1 % of the "
            "largest segment's charge) were treated as rest"
        )
    if file_half is not None:
        if file_half != seg.n_half:
            warnings.append(
                f"the file numbers {file_half} half-cycles, the current's sign gives {seg.n_half}: "
                "the table follows the current"
            )
    backwards = seg.time_backwards
    if backwards is None:
        backwards = int(np.count_nonzero(np.diff(data.column("time_s")) < 0))
    if backwards:
        warnings.append(
            f"time goes backwards at {backwards} point(s) (files joined without a time offset?): "
            "those intervals count as zero duration"
        )
    worst, charge_warnings = _check_charge_column(seg, from_file)
    warnings += charge_warnings

    if cell_type == "symmetric":
        from cycler_cli.analysis.symmetric import DEFINITIONS, analyze_symmetric

        if area is None:
            warnings.append("no electrode area: current density and ASR are null (pass --area-cm2)")
        rows, summary, more = analyze_symmetric(
            seg, area_cm2=area, thickness_mm=thickness_mm, conductivity_s_cm=conductivity_s_cm
        )
    else:
        from cycler_cli.analysis.full import DEFINITIONS, analyze_full

        if mass is None:
            warnings.append("no active mass: specific capacities (mAh/g) are null (pass --mass-mg)")
        if area is None:
            warnings.append("no electrode area: areal capacities (mAh/cm2) are null (pass --area-cm2)")
        rows, summary, more = analyze_full(seg, mass_mg=mass, area_cm2=area, reference_cycle=reference_cycle)
    summary["capacity_check_max_rel_diff"] = worst
    warnings += more
    definitions = {
        "half_cycle": "a maximal run of one current sign (rests attached to the half-cycle before); CC and CV of one sign together",
        "cycle": "the first direction seen plus the next opposite half-cycle (discharge-first runs pair discharge -> charge)",
        "capacity_check_max_rel_diff": "largest per-half-cycle relative difference between integrated current and the file's charge column (null without one)",
        **DEFINITIONS,
    }
    return CycleReport(
        source=meta.source,
        cell_type=cell_type,
        cell_type_reason=reason,
        mass_mg=mass,
        area_cm2=area,
        cycles=rows,
        summary=summary,
        warnings=warnings,
        definitions=definitions,
        input={"reader": meta.reader, "rows_read": meta.rows_read, "rows_skipped": dict(meta.rows_skipped)},
    )
