"""What the BioLogic readers (.mpr binary and .mpt/.txt text) share: BioLogic column names ->
the canonical :class:`~cycler_cli.model.CyclingData`.

Both readers hand :func:`to_cycling_data` a dict ``{BioLogic column name: numpy array}`` using
the names EC-Lab writes in ``.mpt`` headers (galvani uses the same names for ``.mpr`` columns),
so the same run read from either format goes through one code path and gives the same
``CyclingData`` (the cross-format test relies on this).

Choices, each recorded in ``meta.inferred`` when it applies:

* voltage: ``Ecell/V`` > ``Ewe-Ece/V`` > ``Ewe/V`` > ``<Ewe>/V`` > ``<Ewe/V>``;
* current (A, positive = oxidation at the working electrode = charge, BioLogic's own sign):
  ``I/mA`` > ``<I>/mA`` > derived. Raw GCPL ``.mpr`` files usually carry no current column:
  then galvanostatic points (``mode == 1``) take the set point ``control/V/mA`` (or
  ``control/mA``) unless it disagrees with the charge increments by more than 5 %, rest
  points (``mode == 3``) take 0, and every other point takes ``dq/mA.h ÷ Δt`` (mAh → mA·s,
  so ``× 3600 / Δt``); a rest-only run with no current column (OCV) gets 0 A;
* cycle / half-cycle: the file's ``half cycle`` + 1 when present and not stuck (EC-Lab counts
  from 0), with ``cycle = ceil(half_cycle / 2)``,
  else derived from the current sign (:mod:`cycler_cli.cycles`);
* ``charge_ah``: ``(Q-Qo)/mA.h`` when present, else the running sum of ``dq/mA.h``.
"""

from __future__ import annotations

import numpy as np

from cycler_cli.cycles import label_cycles, label_half_cycles
from cycler_cli.errors import MissingColumnError
from cycler_cli.model import ColumnInfo, CyclingData, RunMeta

VOLTAGE_PRIORITY = ("Ecell/V", "Ewe-Ece/V", "Ewe/V", "<Ewe>/V", "<Ewe/V>")
CURRENT_PRIORITY = ("I/mA", "<I>/mA")
CONTROL_CURRENT = ("control/V/mA", "control/mA")
DQ_COLUMNS = ("dq/mA.h", "dQ/mA.h")
TEMPERATURE_COLUMNS = ("Temperature/°C", "T/°C", "Temperature/\xb0C")

MODE_CC, MODE_CV, MODE_REST = 1, 2, 3


def _first(columns: dict[str, np.ndarray], names: tuple[str, ...]) -> str | None:
    for name in names:
        if name in columns:
            return name
    return None


#: A set point that disagrees with the measured charge increments by more than this (median
#: ratio over galvanostatic points) is not trusted as the current.
SET_POINT_TOLERANCE = 0.05


def derive_current_ma(columns: dict[str, np.ndarray]) -> tuple[np.ndarray, str] | None:
    """Current in mA rebuilt from set point, mode and charge increments, with a description.

    * galvanostatic points (``mode == 1``) take the set point ``control/V/mA`` (mA in this
      mode) or ``control/mA``, unless its median ratio to ``dq/mA.h × 3600 / Δt`` over those
      points is off by more than :data:`SET_POINT_TOLERANCE`: then ``dq``/Δt is used there too;
    * rest points (``mode == 3``) take 0;
    * other points take ``dq/mA.h × 3600 / Δt`` (NaN on a point with no earlier point, or
      without a charge column).

    With neither set point nor charge column, a run with rest points (OCV) gets 0 mA on them
    and NaN elsewhere. Returns ``None`` when the columns do not allow any of this."""
    time_s = np.asarray(columns["time/s"], dtype=np.float64)
    mode = columns.get("mode")
    control = _first(columns, CONTROL_CURRENT)
    dq = _first(columns, DQ_COLUMNS)
    from_dq = None
    if dq is not None:
        # dq × 3600 / Δt where Δt > 0, else NaN; worked in place (one new array besides Δt)
        dt = np.empty(time_s.size)
        dt[:1] = np.nan
        np.subtract(time_s[1:], time_s[:-1], out=dt[1:])
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            from_dq = np.multiply(columns[dq], 3600.0, dtype=np.float64)
            from_dq /= dt
        from_dq[~(dt > 0)] = np.nan
        del dt
    if mode is not None and control is not None:
        mode = np.asarray(mode)
        current = np.array(columns[control], dtype=np.float64)  # a copy, filled in place
        cc = mode == MODE_CC
        how_cc = f"{control} where mode is galvanostatic"
        if from_dq is not None:
            ratio = from_dq[cc]
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio /= current[cc]
            ratio = ratio[np.isfinite(ratio)]
            median = float(np.median(ratio, overwrite_input=True)) if ratio.size else 1.0
            del ratio
            if abs(median - 1.0) > SET_POINT_TOLERANCE:
                np.copyto(current, from_dq, where=cc)
                how_cc = (
                    f"{dq} / time step where mode is galvanostatic ({control} disagrees with it by a "
                    f"median factor {median:.3g})"
                )
        other = np.logical_not(cc, out=cc)
        if from_dq is not None:
            np.copyto(current, from_dq, where=other)
            how = f"{how_cc}, {dq} / time step elsewhere"
        else:
            np.copyto(current, np.nan, where=other)
            how = f"{how_cc} (no charge column for other points)"
        np.equal(mode, MODE_REST, out=other)
        np.copyto(current, 0.0, where=other)
        return current, how
    if from_dq is not None:
        if mode is not None:
            from_dq = np.where(np.asarray(mode) == MODE_REST, 0.0, from_dq)
            return from_dq, f"{dq} / time step, 0 where mode is rest"
        return from_dq, f"{dq} / time step"
    if mode is not None and np.any(np.asarray(mode) == MODE_REST):
        current = np.where(np.asarray(mode) == MODE_REST, 0.0, np.nan)
        return current, "mode (0 where mode is rest; the file has no current, set point or charge column)"
    return None


def to_cycling_data(columns: dict[str, np.ndarray], meta: RunMeta, source_units: dict[str, str] | None = None) -> CyclingData:
    """Canonical data from BioLogic-named columns (see module docstring).

    ``columns`` maps BioLogic names to 1-D arrays of equal length; ``meta`` is completed in place
    (``columns``, ``inferred``, ``cycle_source``)."""
    if "time/s" not in columns:
        raise MissingColumnError(
            "no time/s column", hint="export the run from EC-Lab with the time/s column"
        )
    n = len(columns["time/s"])
    # contiguous: a reader's column may be a strided view into the file's bytes (.mpr records);
    # one copy here is cheaper than the many strided passes the analysis makes over time, and
    # the frame then keeps no view that holds the whole file buffer alive
    out: dict[str, np.ndarray] = {"time_s": np.ascontiguousarray(columns["time/s"], dtype=np.float64)}
    info = [ColumnInfo("time_s", "time/s", "s")]

    vname = _first(columns, VOLTAGE_PRIORITY)
    if vname is None:
        raise MissingColumnError(
            "no voltage column (Ecell/V, Ewe-Ece/V or Ewe/V)",
            hint="export the run with Ewe/V or Ecell/V",
        )
    out["voltage_v"] = np.asarray(columns[vname], dtype=np.float64)
    info.append(ColumnInfo("voltage_v", vname, "V"))

    iname = _first(columns, CURRENT_PRIORITY)
    if iname is not None:
        out["current_a"] = np.asarray(columns[iname], dtype=np.float64) / 1000.0
        info.append(ColumnInfo("current_a", iname, "mA"))
    else:
        # the contiguous time column, not the reader's (possibly strided) one
        derived = derive_current_ma({**columns, "time/s": out["time_s"]}) if n else (np.zeros(0), "empty run")
        if derived is None:
            raise MissingColumnError(
                "no current: neither I/mA nor a set point (control/V/mA with mode) nor dq/mA.h",
                hint="export the run with I/mA, or use an .mpr that records control/V/mA",
            )
        current_ma, how = derived
        meta.inferred.append(f"current derived from {how}")
        missing = int(np.count_nonzero(~np.isfinite(current_ma)))
        if missing:
            meta.warnings.append(f"{missing} of {n} points have no current (no current column, set point or time step to derive it from)")
        info.append(ColumnInfo("current_a", f"derived: {how}", "mA"))
        current_ma /= 1000.0  # derived: our own array, scaled in place
        out["current_a"] = current_ma

    half_file = columns.get("half cycle")
    # one (strided) pass to copy the file's labels; the range check then runs on the copy
    half = np.array(half_file, dtype=np.int64) if half_file is not None and n else None
    if half is not None and np.ptp(half) > 0:
        # EC-Lab counts half-cycles from 0 (the opening rest shares 0 with the first step);
        # the project counts from 1 (cycler_cli.cycles), so shift by one. The opening rest stays
        # with the first step, as in the file: zeroing it by the current's sign would make the
        # .mpr (derived current, 0 on the first point) and the .mpt (printed <I>) disagree.
        # EC-Lab's own ``cycle number`` (only in exports, counted charge-first) is not used:
        # cycle = ceil(half_cycle / 2) in every BioLogic file, so both formats get the same cycles.
        half += 1
        out["half_cycle"] = half
        out["cycle"] = label_cycles(half)
        info.append(ColumnInfo("half_cycle", "half cycle + 1", ""))
        info.append(ColumnInfo("cycle", "derived: ceil((half cycle + 1) / 2)", ""))
        meta.cycle_source = "file"
    else:  # derived only here: the labels of the current's sign are not needed otherwise
        del half
        derived_half = label_half_cycles(out["current_a"])
        out["half_cycle"] = derived_half
        out["cycle"] = label_cycles(derived_half)
        info.append(ColumnInfo("half_cycle", "derived: sign of current", ""))
        info.append(ColumnInfo("cycle", "derived: sign of current", ""))
        meta.cycle_source = "derived from current sign"
        if n and derived_half.max() > 0:
            why = "is stuck" if half_file is not None else "is absent"
            meta.inferred.append(f"half-cycles and cycles derived from the sign of the current (the file's half cycle column {why})")

    if "Ns" in columns:
        out["step"] = np.asarray(columns["Ns"], dtype=np.int64)
        info.append(ColumnInfo("step", "Ns", ""))
    else:
        out["step"] = np.zeros(n, dtype=np.int64)

    if "(Q-Qo)/mA.h" in columns:
        out["charge_ah"] = np.asarray(columns["(Q-Qo)/mA.h"], dtype=np.float64) / 1000.0
        info.append(ColumnInfo("charge_ah", "(Q-Qo)/mA.h", "mAh"))
    else:
        dq = _first(columns, DQ_COLUMNS)
        if dq is not None:
            out["charge_ah"] = np.cumsum(np.nan_to_num(np.asarray(columns[dq], dtype=np.float64))) / 1000.0
            info.append(ColumnInfo("charge_ah", f"derived: running sum of {dq}", "mAh"))

    tname = _first(columns, TEMPERATURE_COLUMNS)
    if tname is not None:
        out["temperature_c"] = np.asarray(columns[tname], dtype=np.float64)
        info.append(ColumnInfo("temperature_c", tname, "°C"))

    if "mode" in columns:
        out["control_mode"] = np.asarray(columns["mode"], dtype=np.int8)
        info.append(ColumnInfo("control_mode", "mode", ""))

    meta.columns = info
    return CyclingData.from_columns(out, meta)
