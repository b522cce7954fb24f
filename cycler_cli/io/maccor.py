"""Maccor text exports (``maccor-txt``): ``.001``/``.002``/``.0NN``, ``.txt`` and ``.csv`` templates.

Maccor has many export templates; this reader finds the header line after a 1-15 line preamble
(``Today's Date ...``, ``Name:``/``Channel:``/``SCap`` blocks) and maps, tab/``,``/``;``
separated, with or without a decimal comma:

=========================================  ==============  ===================================
Maccor column                              canonical       note
=========================================  ==============  ===================================
``Test (Sec)``/``Test (Min)``/``TestTime``/ ``time_s``     unit from the header; ``Nd hh:mm:ss``
``Test Time (sec)``                                        durations parsed; no unit: inferred
``Volts``/``Voltage``/``Voltage [V]``      ``voltage_v``
``Amps``/``Current``/``Current [A]``       ``current_a``   sign rule below
``Cyc#``/``Cycle C``                       ``cycle``       the file's cycle counter
``Step``                                   ``step``
``Amp-hr``/``Capacity``/``Cap. [Ah]``      ``charge_ah``   per-step, unsigned (see below)
``State``/``Md``                           (direction)     C charge, D discharge, R rest
``Temp 1``                                 ``temperature_c``
=========================================  ==============  ===================================

* **sign**: some templates write the current as a magnitude; then ``State``/``Md`` = ``D`` points
  are negated. A signed current is kept (and checked against the state column).
* **time unit**: headers without a unit (``TestTime`` with plain numbers) are scaled by the
  factor (1, 60 or 3600) that makes the test-time span match the ``DPt Time`` clock span;
  the choice is written to ``meta.inferred``.
* **charge_ah**: ``Amp-hr`` resets at every step; its increments within a step, signed by the
  state (C +, D -, other 0), summed from the start of the file.
* Each file of a multi-file run (``.001``, ``.002``) reads alone; the later file's test time
  continues the first (Maccor writes it so), but nothing joins them.
* ``MACCOR, INC. AC Impedance Test`` EIS (``.EDA``) exports are recognised and refused with exit 3:
  they hold impedance spectra, not cycling data.
* The preamble lines go to ``meta.extra["preamble"]`` and the test procedure name
  (``Procedure: ...``) to ``meta.technique``.
* Energy (``Watt-hr``) is per step and unsigned: not mapped; auxiliary ``Aux #n``/``VARn`` columns
  are ignored (listed in ``meta.extra["ignored_columns"]``).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from cycler_cli.errors import UnsupportedFormatError
from cycler_cli.io import tabular
from cycler_cli.io.tabular import TableSpec, names

ALIASES: dict[str, str] = {
    "test": "time_s",
    "test time": "time_s",
    "testtime": "time_s",
    "volts": "voltage_v",
    "voltage": "voltage_v",
    "amps": "current_a",
    "current": "current_a",
    "cyc#": "cycle",
    "cycle c": "cycle",
    "step": "step",
    "amp-hr": "q_step_ah",
    "capacity": "q_step_ah",
    "cap.": "q_step_ah",
    "state": "state",
    "md": "state",
    "temp 1": "temperature_c",
}

SPEC = TableSpec(
    name="maccor-txt",
    aliases=ALIASES,
    units={"voltage_v": "V", "current_a": "A", "q_step_ah": "Ah", "temperature_c": "°C"},
    signature=(
        names("rec#", "rec"),
        names("cyc#", "cycle c"),
        names("step"),
        names("amps", "current"),
        names("volts", "voltage"),
    ),
    state_signs={"c": 1, "d": -1, "r": 0},
    state_modes={"r": 3},
    charge_rule="step",
)

_DATETIME_COLUMNS = ("dpt time", "dpt-time")


class MaccorReader:
    name = "maccor-txt"
    description = "Maccor text export (.0NN/.txt/.csv: Rec#, Cyc#, Step, Test Time, Amps, Volts, State)"

    def sniff(self, head: bytes, path: Path) -> bool:
        if head.startswith(b"MACCOR, INC.") and b"AC Impedance" in head[:200]:
            return True
        return tabular.sniff_text(head, SPEC)

    def read(self, path: Path):
        path = Path(path)
        with open(path, "rb") as fh:
            head = fh.read(512)
        if head.startswith(b"MACCOR, INC.") and b"AC Impedance" in head:
            raise UnsupportedFormatError(
                "Maccor AC-impedance (EIS/EDA) export: impedance spectra, not cycling data",
                path=str(path), hint="export the cycling data (the .0NN record table) instead",
            )
        raw = tabular.read_text_table(path, SPEC)
        raw.meta.extra["preamble"] = [" ".join(line.split()) for line in raw.preamble if line.strip()][:20]
        procedure = next((line.split("Procedure", 1)[1].lstrip(": \t").split("\t")[0].strip()
                          for line in raw.preamble if "Procedure" in line), None)
        raw.meta.technique = procedure or None
        time_s, time_source, time_unit = _infer_time(raw)
        data = tabular.canonicalise(raw, SPEC, time_s=time_s, time_source=time_source, time_unit=time_unit)
        return data


#: Maccor clock formats pandas does not guess (12-hour clock, unpadded month and hour)
_CLOCK_FORMATS = ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M")


def _infer_time(raw: tabular.RawTable):
    """Test time in s; when the header names no unit, pick s/min/h from the DPt Time clock."""
    import pandas as pd

    frame = raw.frame
    time_header = next((h for h in frame.columns if tabular._key_for(SPEC, h) == "time_s"), None)
    clock = next((h for h in frame.columns if tabular.normalise(h) in _DATETIME_COLUMNS), None)
    if clock is not None:
        from pandas.tseries.api import guess_datetime_format

        text = frame[clock].astype("string").str.strip()
        # one format, guessed from the first values that look like a date (a damaged first row
        # must not decide), applied to all: vectorised, ~25x faster than format="mixed", which
        # parses every value on its own (dateutil)
        head = text.dropna().head(50)
        guessed = next((f for f in map(guess_datetime_format, head) if f), None)
        fmt = None
        for candidate in ([guessed] if guessed else []) + list(_CLOCK_FORMATS):  # a loop over formats
            if pd.to_datetime(head, errors="coerce", format=candidate).notna().sum() * 2 >= len(head):
                fmt = candidate
                break
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            stamps = pd.to_datetime(text, errors="coerce", format=fmt) if fmt else None
            if stamps is None or stamps.notna().sum() * 2 < text.notna().sum():
                stamps = pd.to_datetime(text, errors="coerce", format="mixed")
        valid = stamps.dropna()
        if len(valid):
            raw.meta.start_time = valid.iloc[0].to_pydatetime()
    if time_header is None or tabular.split_unit(time_header)[1]:
        return None, None, "s"
    seconds = tabular.to_seconds(frame[time_header], 1.0)
    if pd.api.types.is_numeric_dtype(frame[time_header].dtype) or not np.isnan(seconds).all():
        is_duration = not pd.api.types.is_numeric_dtype(frame[time_header].dtype)
        if is_duration or clock is None:
            if not is_duration:
                raw.meta.inferred.append(f"column {time_header!r} has no unit and no clock column: read as s")
            return seconds, time_header, ("d hh:mm:ss" if is_duration else "s")
        finite = np.isfinite(seconds)
        ok = finite & stamps.notna().to_numpy()
        if ok.sum() >= 2:
            idx = np.flatnonzero(ok)
            span_clock = (stamps.iloc[idx[-1]] - stamps.iloc[idx[0]]).total_seconds()
            span_num = seconds[idx[-1]] - seconds[idx[0]]
            if span_clock > 0 and span_num > 0:
                factors = np.array([1.0, 60.0, 3600.0])
                best = factors[np.argmin(np.abs(np.log(span_clock / (span_num * factors))))]
                unit = {1.0: "s", 60.0: "min", 3600.0: "h"}[best]
                raw.meta.inferred.append(
                    f"column {time_header!r} has no unit: read as {unit}, the unit that makes its span match {clock!r}"
                )
                return seconds * best, f"{time_header} (unit inferred from {clock})", unit
        raw.meta.inferred.append(f"column {time_header!r} has no unit: read as s")
        return seconds, time_header, "s"
    return None, None, "s"


READER = MaccorReader()
