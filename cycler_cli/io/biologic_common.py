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

import functools
from typing import Any

import numpy as np

from cycler_cli import arrays
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


#: Points per chunk when :func:`derive_current_ma` works through whole columns: the chunk's
#: temporaries stay in cache, and none of them is a full-length array.
_DERIVE_CHUNK = 1 << 16

#: A median ratio of set point to charge increments surely inside this window needs no exact
#: median (see :class:`CurrentDerivation`); it is well inside :data:`SET_POINT_TOLERANCE`.
_RATIO_LOW, _RATIO_HIGH = 0.96, 1.04


def derive_current_ma(columns: dict[str, np.ndarray]) -> tuple[np.ndarray, str] | None:
    """Current in mA rebuilt from set point, mode and charge increments, with a description.

    * galvanostatic points (``mode == 1``) take the set point ``control/V/mA`` (mA in this
      mode) or ``control/mA``, unless its median ratio to ``dq/mA.h × 3600 / Δt`` over those
      points is off by more than :data:`SET_POINT_TOLERANCE`: then ``dq``/Δt is used there too;
    * rest points (``mode == 3``) take 0;
    * other points take ``dq/mA.h × 3600 / Δt`` (NaN on a point with no earlier point, or
      without a charge column).

    With neither set point nor charge column, a run with rest points (OCV) gets 0 mA on them
    and NaN elsewhere. Returns ``None`` when the columns do not allow any of this.

    Worked chunk by chunk (:class:`CurrentDerivation`); the result is the same, bit for bit, as
    :func:`_derive_current_ma_whole`, the whole-column reference it falls back on."""
    time_s = np.asarray(columns["time/s"], dtype=np.float64)
    n = time_s.size
    derivation = CurrentDerivation(columns, n)
    if derivation.kind is None:
        return None
    raw = {key: np.asarray(columns[name]) for key, name in derivation.needs.items()}
    for start in range(0, n, _DERIVE_CHUNK):
        sl = slice(start, start + _DERIVE_CHUNK)
        derivation.add(time_s[sl], **{key: column[sl] for key, column in raw.items()})
    return derivation.finish(lambda: columns)


class CurrentDerivation:
    """:func:`derive_current_ma` fed consecutive chunks of the run, so a reader can derive the
    current while it streams its records, with no full-length temporary.

    ``names`` are the run's BioLogic column names, ``n`` its number of points. Call
    :meth:`add` with each chunk in order (``time_s`` as float64, and the raw columns listed in
    :attr:`needs`, keyed ``mode``/``control``/``dq``), then :meth:`finish`.

    The one step that needs the whole run is the set-point check (median ratio of ``dq``/Δt
    to the set point over galvanostatic points). The chunks only count ratios below
    :data:`_RATIO_LOW` and above :data:`_RATIO_HIGH`: when those counts put the middle of the
    sorted ratios inside that window, the median is within :data:`SET_POINT_TOLERANCE` of 1
    whatever its exact value, and the set point is trusted. Otherwise (a set point that
    disagrees, or a median near the tolerance) :meth:`finish` asks the caller for whole
    columns and runs :func:`_derive_current_ma_whole`, whose message quotes the exact median."""

    def __init__(self, names, n: int) -> None:
        self.mode = "mode" if "mode" in names else None
        self.control = _first(names, CONTROL_CURRENT)
        self.dq = _first(names, DQ_COLUMNS)
        if self.mode is not None and self.control is not None:
            self.kind: str | None = "set point"
        elif self.dq is not None:
            self.kind = "charge"
        elif self.mode is not None:
            self.kind = "rest"
        else:
            self.kind = None
        #: raw columns :meth:`add` wants: keyword -> BioLogic name
        self.needs: dict[str, str] = {}
        if self.kind is not None:
            for key, name in (("mode", self.mode), ("control", self.control), ("dq", self.dq)):
                if name is not None and (key != "control" or self.kind == "set point"):
                    self.needs[key] = name
        self.current = arrays.empty(n) if self.kind is not None else None
        self._pos = 0
        self._last_time = np.nan  # so the first point's Δt is NaN, as in the whole-column code
        self._n_ratios = self._n_low = self._n_high = 0
        self._any_rest = False
        self._scratch: tuple[np.ndarray, ...] | None = None

    def _buffers(self, k: int) -> tuple[np.ndarray, ...]:
        """Chunk-sized scratch arrays (3 float64, 2 bool), reused from chunk to chunk."""
        if self._scratch is None or self._scratch[0].size < k:
            self._scratch = (*(np.empty(k) for _ in range(3)), *(np.empty(k, dtype=bool) for _ in range(2)))
        return tuple(a[:k] for a in self._scratch)

    def add(self, time_s: np.ndarray, mode=None, control=None, dq=None) -> None:
        """The next ``len(time_s)`` points (see the class docstring)."""
        k = time_s.size
        if k == 0:
            return
        assert self.current is not None
        current = self.current[self._pos : self._pos + k]
        self._pos += k
        dt, from_dq, ratio, mask, mask2 = self._buffers(k)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if dq is not None:
                # dq × 3600 / Δt, NaN where Δt is not > 0 (made NaN before the division); Δt of
                # the chunk's first point from the last point of the previous chunk
                dt[0] = time_s[0] - self._last_time
                np.subtract(time_s[1:], time_s[:-1], out=dt[1:])
                np.copyto(dt, np.nan, where=np.less_equal(dt, 0, out=mask))
                np.multiply(dq, 3600.0, out=from_dq, dtype=np.float64)
                from_dq /= dt
            else:
                from_dq = None
            self._last_time = time_s[-1]
            if self.kind == "set point":
                current[...] = control  # one strided read of the set point, then contiguous
                not_cc = np.not_equal(mode, MODE_CC, out=mask)
                if from_dq is not None:
                    # the whole-column code's ratios are from_dq / set point on galvanostatic
                    # points, finite ones only; here the others are NaN and the ratios are
                    # counted, not kept. An infinite ratio is counted as below or above the
                    # window too: that can only send finish() to the exact median, never past it
                    np.divide(from_dq, current, out=ratio)
                    np.copyto(ratio, np.nan, where=not_cc)
                    self._n_ratios += int(np.count_nonzero(np.isfinite(ratio, out=mask2)))
                    self._n_low += int(np.count_nonzero(np.less(ratio, _RATIO_LOW, out=mask2)))
                    self._n_high += int(np.count_nonzero(np.greater(ratio, _RATIO_HIGH, out=mask2)))
                np.copyto(current, np.nan if from_dq is None else from_dq, where=not_cc)
                np.copyto(current, 0.0, where=np.equal(mode, MODE_REST, out=mask))
            elif self.kind == "charge":
                current[...] = from_dq
                if mode is not None:
                    np.copyto(current, 0.0, where=np.equal(mode, MODE_REST, out=mask))
            else:  # rest points only
                rest = np.equal(mode, MODE_REST, out=mask)
                self._any_rest = self._any_rest or bool(rest.any())
                current[...] = np.nan
                np.copyto(current, 0.0, where=rest)

    def native_plan(self, field: Any) -> tuple[int, int, int, int, int] | None:
        """The arguments ``(kind, control offset, control code, dq offset, dq code)`` with
        which ``_native.derive`` does what :meth:`add` does, or ``None`` when it does not
        cover this run (the ``rest`` kind; a field type it does not convert). ``field(name)``
        gives a raw column's ``(offset in the record, dtype string)``."""
        from cycler_cli.native import field_code

        if self.kind not in ("set point", "charge"):
            return None
        plan = [0 if self.kind == "set point" else 1, -1, 0, -1, 0]
        for key, at in (("control", 1), ("dq", 3)):
            if key in self.needs:
                offset, dtype = field(self.needs[key])
                codes = field_code(dtype, "<f8")  # the kernel reads it as float64, as add() converts it
                if codes is None:
                    return None
                plan[at : at + 2] = [offset, codes[0]]
        return tuple(plan)  # type: ignore[return-value]

    def add_native(self, kernels: Any, plan: tuple[int, ...], records: Any, k: int, record_bytes: int, time_s: np.ndarray, mode: np.ndarray | None) -> None:
        """:meth:`add` for the next ``k`` points, by ``_native.derive`` straight from their
        ``records`` (a buffer of ``k`` records); ``time_s`` and ``mode`` (uint8) are the whole
        columns, filled at least up to these points."""
        if k == 0:
            return
        assert self.current is not None
        kind, off_c, code_c, off_q, code_q = plan
        counts = kernels.derive(
            records, k, record_bytes, kind, off_c, code_c, off_q, code_q, time_s, mode, self._pos,
            float(self._last_time), self.current, _RATIO_LOW, _RATIO_HIGH,
        )
        self.add_native_counts(self._pos + k, time_s[self._pos + k - 1], *counts)

    def stage_args(self, plan: tuple[int, ...]) -> tuple:
        """The ``derive`` argument of ``_native.stage``: :meth:`native_plan`'s ``plan`` and the
        ratio window."""
        return (*plan, _RATIO_LOW, _RATIO_HIGH)

    def add_native_counts(self, pos: int, last_time: float, n_ratios: int, n_low: int, n_high: int) -> None:
        """Record that the points up to ``pos`` are derived (the last at ``last_time``), with the
        ratio counts ``_native.derive`` or ``_native.stage`` returned for them."""
        self._pos = pos
        self._last_time = last_time
        self._n_ratios += n_ratios
        self._n_low += n_low
        self._n_high += n_high

    def _set_point_surely_trusted(self) -> bool:
        m = self._n_ratios
        if m == 0:  # the whole-column code takes the median as 1 then
            return True
        # the middle element(s) of the sorted ratios, indices (m - 1) // 2 and m // 2, are
        # neither among the n_low smallest nor among the n_high largest
        return self._n_low <= (m - 1) // 2 and self._n_high <= m - 1 - m // 2

    def finish(self, whole_columns) -> tuple[np.ndarray, str] | None:
        """``(current in mA, description)`` or ``None``, as :func:`derive_current_ma` returns.
        ``whole_columns()`` gives the run's columns (``time/s`` and those in :attr:`needs`)
        when the set-point check needs the exact median; it is not called otherwise."""
        if self.kind is None:
            return None
        if self.kind == "set point":
            how_cc = f"{self.control} where mode is galvanostatic"
            if self.dq is None:
                return self.current, f"{how_cc} (no charge column for other points)"
            if not self._set_point_surely_trusted():
                self.current = None  # free it before the whole-column pass
                return _derive_current_ma_whole(whole_columns())
            return self.current, f"{how_cc}, {self.dq} / time step elsewhere"
        if self.kind == "charge":
            if self.mode is not None:
                return self.current, f"{self.dq} / time step, 0 where mode is rest"
            return self.current, f"{self.dq} / time step"
        if self._any_rest:
            return self.current, "mode (0 where mode is rest; the file has no current, set point or charge column)"
        return None


def _derive_current_ma_whole(columns: dict[str, np.ndarray]) -> tuple[np.ndarray, str] | None:
    """:func:`derive_current_ma` on whole columns at once: the reference the chunked
    :class:`CurrentDerivation` must equal, and its fallback when the set-point check needs the
    exact median."""
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
        dt[dt <= 0] = np.nan  # so the quotient is NaN there
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            from_dq = np.multiply(columns[dq], 3600.0, dtype=np.float64)
            from_dq /= dt
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


def columns_read(names) -> dict[str, str | None]:
    """The BioLogic columns :func:`to_cycling_data` reads from a run with columns ``names``,
    each with the dtype it converts it to (``None``: used as it is), the current derivation's
    set point and charge increments aside (:class:`CurrentDerivation` says what it needs).

    A reader that streams its records stages just these columns, already in these dtypes, and
    passes them with ``consume=True``: they then become the canonical columns without a copy."""
    staged: dict[str, str | None] = {"time/s": "float64"} if "time/s" in names else {}
    for name in (_first(names, VOLTAGE_PRIORITY), _first(names, CURRENT_PRIORITY)):
        if name is not None:
            staged[name] = "float64"
    if "half cycle" in names:
        staged["half cycle"] = "int64"
    if "Ns" in names:
        staged["Ns"] = None  # the file's own (small) integers: ``step`` is made from them on use
    charge = "(Q-Qo)/mA.h" if "(Q-Qo)/mA.h" in names else _first(names, DQ_COLUMNS)
    for name in (charge, _first(names, TEMPERATURE_COLUMNS)):
        if name is not None:
            staged[name] = "float64"
    if "mode" in names:
        staged["mode"] = None
    return staged


#: ``to_cycling_data(current_ma=...)`` not given: derive the current there if needed.
_DERIVE = object()


def _scaled(values, factor: float, consume: bool) -> np.ndarray:
    """``float64(values) / factor``, in place when ``values`` is the caller's float64 to give away."""
    if consume and isinstance(values, np.ndarray) and values.dtype == np.float64:
        return np.divide(values, factor, out=values)
    return np.asarray(values, dtype=np.float64) / factor


def to_cycling_data(
    columns: dict[str, np.ndarray],
    meta: RunMeta,
    source_units: dict[str, str] | None = None,
    *,
    current_ma=_DERIVE,
    consume: bool = False,
) -> CyclingData:
    """Canonical data from BioLogic-named columns (see module docstring).

    ``columns`` maps BioLogic names to 1-D arrays of equal length; ``meta`` is completed in place
    (``columns``, ``inferred``, ``cycle_source``). ``current_ma`` is what
    :func:`derive_current_ma` returns for these columns when the caller derived it already
    (chunk by chunk, :class:`CurrentDerivation`); it is used only where the current is derived.
    ``consume=True`` hands the arrays over: those already in the dtype :func:`columns_read`
    names become canonical columns and are scaled in place (same values as with copies)."""
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
        out["current_a"] = _scaled(columns[iname], 1000.0, consume)
        info.append(ColumnInfo("current_a", iname, "mA"))
    else:
        # the contiguous time column, not the reader's (possibly strided) one
        if not n:
            derived = (np.zeros(0), "empty run")
        elif current_ma is not _DERIVE:
            derived = current_ma
        else:
            derived = derive_current_ma({**columns, "time/s": out["time_s"]})
        if derived is None:
            raise MissingColumnError(
                "no current: neither I/mA nor a set point (control/V/mA with mode) nor dq/mA.h",
                hint="export the run with I/mA, or use an .mpr that records control/V/mA",
            )
        current_ma, how = derived
        meta.inferred.append(f"current derived from {how}")
        missing = n - int(np.count_nonzero(np.isfinite(current_ma)))
        if missing:
            meta.warnings.append(f"{missing} of {n} points have no current (no current column, set point or time step to derive it from)")
        info.append(ColumnInfo("current_a", f"derived: {how}", "mA"))
        current_ma /= 1000.0  # derived: our own array, scaled in place
        out["current_a"] = current_ma

    half_file = columns.get("half cycle")
    # one (strided) pass to copy the file's labels; the range check then runs on the copy
    if half_file is None or not n:
        half = None
    elif consume and isinstance(half_file, np.ndarray) and half_file.dtype == np.int64:
        half = half_file  # the caller's staged int64 copy, shifted in place below
    else:
        half = np.array(half_file, dtype=np.int64)
    if half is not None and np.ptp(half) > 0:
        # EC-Lab counts half-cycles from 0 (the opening rest shares 0 with the first step);
        # the project counts from 1 (cycler_cli.cycles), so shift by one. The opening rest stays
        # with the first step, as in the file: zeroing it by the current's sign would make the
        # .mpr (derived current, 0 on the first point) and the .mpt (printed <I>) disagree.
        # EC-Lab's own ``cycle number`` (only in exports, counted charge-first) is not used:
        # cycle = ceil(half_cycle / 2) in every BioLogic file, so both formats get the same cycles.
        half += 1
        out["half_cycle"] = half
        out["cycle"] = functools.partial(label_cycles, half)  # made on use (CyclingData.from_columns)
        info.append(ColumnInfo("half_cycle", "half cycle + 1", ""))
        info.append(ColumnInfo("cycle", "derived: ceil((half cycle + 1) / 2)", ""))
        meta.cycle_source = "file"
    else:  # derived only here: the labels of the current's sign are not needed otherwise
        del half
        derived_half = label_half_cycles(out["current_a"])
        out["half_cycle"] = derived_half
        out["cycle"] = functools.partial(label_cycles, derived_half)
        info.append(ColumnInfo("half_cycle", "derived: sign of current", ""))
        info.append(ColumnInfo("cycle", "derived: sign of current", ""))
        meta.cycle_source = "derived from current sign"
        if n and derived_half.max() > 0:
            why = "is stuck" if half_file is not None else "is absent"
            meta.inferred.append(f"half-cycles and cycles derived from the sign of the current (the file's half cycle column {why})")

    if "Ns" in columns:
        ns = columns["Ns"]
        # made on use when the caller handed over its own copy (consume); a reader's view into
        # the file's bytes is converted now, so that the run does not keep the buffer alive
        out["step"] = functools.partial(np.asarray, ns, dtype=np.int64) if consume else np.asarray(ns, dtype=np.int64)
        info.append(ColumnInfo("step", "Ns", ""))
    else:
        out["step"] = functools.partial(np.zeros, n, dtype=np.int64)

    if "(Q-Qo)/mA.h" in columns:
        out["charge_ah"] = _scaled(columns["(Q-Qo)/mA.h"], 1000.0, consume)
        info.append(ColumnInfo("charge_ah", "(Q-Qo)/mA.h", "mAh"))
    else:
        dq = _first(columns, DQ_COLUMNS)
        if dq is not None:
            values = columns[dq]
            if consume and isinstance(values, np.ndarray) and values.dtype == np.float64:
                charge = np.cumsum(np.nan_to_num(values, copy=False), out=values)
                out["charge_ah"] = np.divide(charge, 1000.0, out=charge)
            else:
                out["charge_ah"] = np.cumsum(np.nan_to_num(np.asarray(values, dtype=np.float64))) / 1000.0
            info.append(ColumnInfo("charge_ah", f"derived: running sum of {dq}", "mAh"))

    tname = _first(columns, TEMPERATURE_COLUMNS)
    if tname is not None:
        out["temperature_c"] = np.asarray(columns[tname], dtype=np.float64)
        info.append(ColumnInfo("temperature_c", tname, "°C"))

    if "mode" in columns:
        mode = columns["mode"]
        if consume and isinstance(mode, np.ndarray) and mode.dtype == np.uint8:
            out["control_mode"] = mode.view(np.int8)  # the same bytes astype(np.int8) gives
        else:
            out["control_mode"] = np.asarray(mode, dtype=np.int8)
        info.append(ColumnInfo("control_mode", "mode", ""))

    meta.columns = info
    return CyclingData.from_columns(out, meta)
