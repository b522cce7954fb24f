"""Neware exports (``neware-csv``): BTSDA record-table CSV, the BTS 7.x three-level
cycle/step/record CSV, and the binary ``.nda``/``.ndax`` files through the optional
``NewareNDA`` package (``pip install 'cycler-cli[neware]'``).

Column mapping (units from the header: ``Current(mA)`` or ``Current(A)``, ``Chg. Cap.(Ah)`` or
``(mAh)``; Chinese headers ``电流``/``电压``/``总时间``/``循环号``/``工步号``/``工步类型`` too):

=========================================  ================  =================================
Neware column                              canonical         note
=========================================  ================  =================================
``Total Time``/``Cumulative Time``/        ``time_s``        ``h:mm:ss`` durations or datetimes
``Realtime``                                                 (seconds since the first)
``Voltage(V)``                             ``voltage_v``
``Current(mA|A)``                          ``current_a``     signed: discharge is negative
``Cycle Index``/``Cycle ID``               ``cycle``
``Step Index``/``Step ID``                 ``step``
``Step Type``/``Step Name``/``Status``     (direction)       ``CC Chg`` +, ``CC DChg`` -, ``Rest`` 0
``Chg. Cap.``/``DChg. Cap.``               ``charge_ah``     per-step accumulators (below)
``T1(℃)``                                  ``temperature_c``
=========================================  ================  =================================

* **sign**: Neware writes discharge current negative; the step type is used to check it (and
  to sign a magnitude-only current, should an export have one). ``control_mode`` comes from the
  step type (CC 1, CV 2, Rest 3, CCCV 0).
* **charge_ah**: ``Chg. Cap.`` and ``DChg. Cap.`` restart at every step; the running sum of
  their increments (charge minus discharge) from the start of the file.
* **three-level CSV** (BTS 7.x: a ``Cycle ID`` line, a ``,Step ID`` line and a ``,,Record ID``
  header line, then cycle, step and record rows interleaved): the record rows are the data; each
  takes the cycle, step and step name of the summary rows above it; the summary rows are counted
  in ``meta.rows_skipped`` ("cycle summary line", "step summary line"). Time is ``Realtime``
  (seconds since the first record) when present, else the running sum of the record's
  ``Time(h:min:s.ms)`` step time over the steps.
* **.nda/.ndax**: NewareNDA's ``Time`` is the step time; the test time is the running sum of
  the step times (each step continues from the end of the previous one). ``Timestamp`` gives
  ``meta.start_time``.

Uncertainty: BTSDA's ``Time`` column is the step time and is not used; ``Total Time`` strings
are read to the second or to the millisecond as written.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from cycler_cli.errors import MissingExtraError
from cycler_cli.io import tabular
from cycler_cli.io.tabular import TableSpec, names

ALIASES: dict[str, str] = {
    "date": "datetime",
    "total time": "time_s",
    "cumulative time": "time_s",
    "realtime": "time_s",
    "总时间": "time_s",
    "voltage": "voltage_v",
    "电压": "voltage_v",
    "current": "current_a",
    "电流": "current_a",
    "cycle index": "cycle",
    "cycle id": "cycle",
    "循环号": "cycle",
    "step index": "step",
    "step id": "step",
    "工步号": "step",
    "step type": "state",
    "step name": "state",
    "工步类型": "state",
    "status": "state",
    "chg. cap.": "q_charge_ah",
    "capacitance chg": "q_charge_ah",
    "charge capacity": "q_charge_ah",
    "dchg. cap.": "q_discharge_ah",
    "capacitance dchg": "q_discharge_ah",
    "discharge capacity": "q_discharge_ah",
    "t1": "temperature_c",
}

_LABELS: dict[str, tuple[int, int]] = {
    "cc chg": (1, 1), "cc dchg": (-1, 1), "cv chg": (1, 2), "cv dchg": (-1, 2),
    "cccv chg": (1, 0), "cccv dchg": (-1, 0), "cp chg": (1, 0), "cp dchg": (-1, 0),
    "cr dchg": (-1, 0), "rest": (0, 3), "ocv": (0, 3), "pause": (0, 3),
    "恒流充电": (1, 1), "恒流放电": (-1, 1), "恒压充电": (1, 2), "恒流恒压充电": (1, 0), "搁置": (0, 3),
}

SPEC = TableSpec(
    name="neware-csv",
    aliases=ALIASES,
    units={"voltage_v": "V", "current_a": "mA", "q_charge_ah": "mAh", "q_discharge_ah": "mAh",
           "temperature_c": "°C"},
    signature=(
        names("current", "电流"),
        names("voltage", "电压"),
        names("step type", "工步类型", "step name"),
        names("total time", "cumulative time", "realtime", "总时间"),
    ),
    state_signs={k: v[0] for k, v in _LABELS.items()},
    state_modes={k: v[1] for k, v in _LABELS.items()},
    charge_rule="accumulators",
)

#: Three-level BTS 7.x layout: the record header line.
RECORD_SPEC = TableSpec(
    name="neware-csv",
    aliases=ALIASES,
    units=SPEC.units,
    signature=(names("record id"), names("current"), names("voltage")),
    state_signs=SPEC.state_signs,
    state_modes=SPEC.state_modes,
    charge_rule="accumulators",
    max_header_line=5,
)

#: NewareNDA's frame.
NDA_SPEC = TableSpec(
    name="neware-csv",
    aliases={"voltage": "voltage_v", "current": "current_a", "cycle": "cycle", "step": "step", "status": "state",
             "charge capacity": "q_charge_ah", "discharge capacity": "q_discharge_ah"},
    units={"voltage_v": "V", "current_a": "mA", "q_charge_ah": "mAh", "q_discharge_ah": "mAh"},
    signature=(),
    state_signs=SPEC.state_signs,
    state_modes=SPEC.state_modes,
    charge_rule="accumulators",
)


def _is_nda(head: bytes) -> bool:
    return head.startswith(b"NEWARE")


def _is_ndax(head: bytes) -> bool:
    return head.startswith(b"PK\x03\x04") and (b"data.ndc" in head or b"VersionInfo.xml" in head or b"TestInfo.xml" in head)


def _is_three_level(text: str) -> bool:
    lines = tabular.split_lines(text)[:3]
    return (len(lines) == 3 and tabular.normalise(lines[0]).startswith("cycle id")
            and tabular.normalise(lines[1].lstrip(",\t")).startswith("step id")
            and tabular.normalise(lines[2].lstrip(",\t")).startswith("record id"))


class NewareReader:
    name = "neware-csv"
    description = "Neware BTSDA CSV (record table or 3-level cycle/step/record) and .nda/.ndax (needs [neware])"

    def sniff(self, head: bytes, path: Path) -> bool:
        if _is_nda(head) or _is_ndax(head):
            return True
        if tabular.sniff_text(head, SPEC):
            return True
        try:
            text, _ = tabular.decode(head)
            return _is_three_level(text)
        except Exception:
            return False

    def read(self, path: Path):
        path = Path(path)
        with open(path, "rb") as fh:
            head = fh.read(65536)
        if _is_nda(head) or _is_ndax(head):
            return read_nda(path)
        text, _ = tabular.decode(head)
        if _is_three_level(text):
            return read_three_level(path)
        return tabular.read_with_spec(path, SPEC)


def read_nda(path: Path):
    """A Neware ``.nda``/``.ndax`` binary file through NewareNDA (optional extra)."""
    try:
        import NewareNDA
    except ImportError as exc:
        raise MissingExtraError(
            "reading Neware .nda/.ndax files needs the NewareNDA package",
            path=str(path), hint="pip install 'cycler-cli[neware]'",
        ) from exc
    try:
        frame = NewareNDA.read(str(path))
    except Exception as exc:  # noqa: BLE001 - NewareNDA raises TypeError, zipfile.BadZipFile, zlib.error, ...
        from cycler_cli.errors import CorruptFileError

        raise CorruptFileError(f"NewareNDA cannot read it ({type(exc).__name__}: {exc})", path=str(path),
                               hint="re-export the test from BTSDA as CSV") from exc
    seg_key = frame["Step_Index"].to_numpy() if "Step_Index" in frame.columns else frame["Step"].to_numpy()
    time_s = tabular.elapsed_from_step_time(frame["Time"].to_numpy(dtype=np.float64), seg_key)
    keep = [c for c in frame.columns if c not in ("Time", "Timestamp", "Index")]
    raw = tabular.frame_table(frame[keep], NDA_SPEC, str(path))
    if "Timestamp" in frame.columns and len(frame):
        raw.meta.start_time = frame["Timestamp"].iloc[0].to_pydatetime()
    raw.meta.inferred.append("test time = running sum of NewareNDA step times (Time restarts every step)")
    raw.meta.format_version = "ndax" if path.suffix.lower() == ".ndax" or not head_is_nda(path) else "nda"
    return tabular.canonicalise(raw, NDA_SPEC, time_s=time_s, time_source="derived: running sum of step Time (s)")


def head_is_nda(path: Path) -> bool:
    with open(path, "rb") as fh:
        return _is_nda(fh.read(8))


def read_three_level(path: Path):
    """BTS 7.x CSV with cycle, step and record rows interleaved (see module docstring)."""
    import pandas as pd

    raw_bytes = path.read_bytes()
    text, encoding = tabular.decode(raw_bytes)
    lines = tabular.split_lines(text)
    if lines and lines[-1] == "":
        lines = lines[:-1]
    sep = "\t" if lines[2].count("\t") > lines[2].count(",") else ","
    step_fields = [f.strip() for f in lines[1].split(sep)]
    record_fields = [f.strip() for f in lines[2].split(sep)]
    width = max(len(step_fields), len(record_fields), len(lines[0].split(sep)))
    body = "\n".join(lines[3:])
    frame = pd.read_csv(io.StringIO(body), sep=sep, header=None, names=list(range(width)), dtype="string",
                        skip_blank_lines=False, on_bad_lines="skip", engine="c")
    empty = frame.isna() | (frame.apply(lambda c: c.str.strip()) == "")
    is_cycle = ~empty[0]
    is_step = empty[0] & ~empty[1]
    is_record = empty[0] & empty[1] & ~empty[2]
    cycle_id = frame[0].where(is_cycle).ffill()
    step_id = frame[1].where(is_step).ffill()
    step_name_col = next((i for i, f in enumerate(step_fields) if tabular.normalise(f) in ("step name", "step type")), None)
    record = frame.loc[is_record, [i for i, f in enumerate(record_fields) if f]].copy()
    record.columns = [record_fields[i] for i in record.columns]
    record["Cycle ID"] = cycle_id[is_record]
    record["Step ID"] = step_id[is_record]
    if step_name_col is not None:
        record["Step Name"] = frame[step_name_col].where(is_step).ffill()[is_record]
    record = record.reset_index(drop=True)
    time_s = time_source = None
    realtime = next((c for c in record.columns if tabular.normalise(c) == "realtime"), None)
    step_time = next((c for c in record.columns if tabular.normalise(tabular.split_unit(c)[0]) == "time"
                      or tabular.normalise(c) == "time(h:min:s.ms)"), None)
    if realtime is None and step_time is not None:
        # the record level's Time(h:min:s.ms) is the step time: accumulate it over the steps
        time_s = tabular.elapsed_from_step_time(tabular.to_seconds(record[step_time], 1.0),
                                                  record["Cycle ID"].astype(str) + "/" + record["Step ID"].astype(str))
        time_source = f"derived: running sum of {step_time} over steps"
    if step_time is not None:
        record = record.drop(columns=step_time)
    raw = tabular.frame_table(record, RECORD_SPEC, str(path))
    raw.meta.format_version = "BTS 7.x three-level CSV"
    skipped = {"cycle summary line": int(is_cycle.sum()), "step summary line": int(is_step.sum())}
    other = int(len(frame) - is_cycle.sum() - is_step.sum() - is_record.sum())
    if other:
        skipped["blank line"] = other
    bad = len(lines) - 3 - len(frame)
    if bad > 0:
        skipped["line with the wrong number of fields"] = bad
    raw.meta.rows_skipped.update({k: v for k, v in skipped.items() if v})
    if encoding == "latin-1":
        raw.meta.inferred.append("text is not UTF-8: decoded as latin-1 (Windows codepage)")
    return tabular.canonicalise(raw, RECORD_SPEC, time_s=time_s, time_source=time_source)


READER = NewareReader()
