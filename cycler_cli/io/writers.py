"""Writers: :class:`~cycler_cli.model.CyclingData` -> BioLogic ``.mpr`` / ``.mpt`` and generic CSV.

Used by ``cycler simulate`` and to build ``sample_runs/``; the files are meant to look like what a
real instrument writes, so the readers are tested on the quirks they will meet.

``.mpr`` (BioLogic modular file, layout as reverse-engineered by galvani and yadg):

* magic ``BIO-LOGIC MODULAR FILE\\x1a`` padded to 48 bytes + 4 zero bytes;
* ``VMP Set`` (settings, version 0, 6934 bytes, module header of EC-Lab < 11.50: short name,
  long name, length, version, date ``MM/DD/YY`` = start date): technique id ``0x04`` (GCPL) at
  0x0000, comments (Pascal string) at 0x0007, active material mass (mg, ``<f4``) at 0x0107,
  electrode material at 0x011E, electrolyte at 0x01C0, electrode area (cm², ``<f4``) at 0x0211,
  characteristic mass (mg, ``<f4``) at 0x024C, unit codes 2 (cm²) at 0x0250 and 2 (mg) at
  0x0251 (codes read off real ``.mpr``/``.mpt`` pairs by the ``.mpr`` reader). Unset masses/areas are written as EC-Lab's
  placeholder 0.001. The technique parameter table is not written (zeros);
* ``VMP data`` (version 3): number of points ``<u4``, number of columns ``u1``, the column ids
  ``<u2``, zeros up to byte 405, ``0x01`` at 405, records from byte 406. Columns are those of a
  raw GCPL file: flags (mode, ox/red, error, control changes, Ns changes, counter inc.; bit 0x40
  set on the last point, as EC-Lab does), ``Ns`` (131), ``time/s`` (4), ``dq/mA.h`` (7),
  ``(Q-Qo)/mA.h`` (13), ``control/V/mA`` (5), ``Ewe/V`` (6), ``I Range`` (39), ``half cycle``
  (468). **No ``I/mA``**: readers must rebuild the current from ``control/V/mA`` and ``mode``;
* ``VMP LOG`` (version 0, date = date of the last point): the start time as an OLE date (days
  since 1899-12-30, ``<f8``) at 0x0249, and the file name / EC-Lab version as Pascal strings.

``half cycle`` follows EC-Lab: it counts changes of current direction from 0, so the opening
rest and the first current step are both half cycle 0, and a rest keeps the number of the step
before it. ``.mpt`` writes EC-Lab's export: ``EC-Lab ASCII FILE``, CRLF, latin-1,
``Nb header lines : N``, a GCPL header with the acquisition start, mass and area, then tab-
separated columns ``mode ox/red error control changes Ns changes counter inc. Ns time/s
control/V/mA Ewe/V I/mA dq/mA.h (Q-Qo)/mA.h half cycle cycle number`` (f8 columns as
``%.15E`` and f4 columns as ``%.7E`` with three-digit exponents; ``decimal=","`` writes a
FR/DE-locale file). ``cycle number`` is EC-Lab's ``floor(half cycle / 2)``.

CSV (generic layout, UTF-8, LF, comma-separated, one header row)::

    time_s,voltage_v,current_a,charge_ah,cycle,half_cycle,step

in s, V, A (positive = charge = oxidation at the working electrode), Ah (cumulative net
charge), and the project's cycle / half-cycle labels (:mod:`cycler_cli.cycles`) and step index.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from cycler_cli.cycles import label_half_cycles
from cycler_cli.errors import ConfigError
from cycler_cli.model import CyclingData

MPR_MAGIC = b"BIO-LOGIC MODULAR FILE\x1a".ljust(48) + b"\x00\x00\x00\x00"
OLE_EPOCH = datetime(1899, 12, 30)
GCPL_TECHNIQUE_ID = 0x04
EC_LAB_PLACEHOLDER = 0.001  # what EC-Lab stores when mass/area are not set
SETTINGS_LENGTH = 6934
LOG_LENGTH = 0x0930
DATA_HEADER_LENGTH = 405  # version 3: one more byte (0x01), records from 406

# settings module offsets (yadg ``settings_dtypes``)
SET_COMMENTS = 0x0007
SET_ACTIVE_MASS = 0x0107
SET_AT_X = 0x010B
SET_MOLECULAR_WEIGHT = 0x010F
SET_ATOMIC_WEIGHT = 0x0113
SET_ELECTRODE_MATERIAL = 0x011E
SET_ELECTROLYTE = 0x01C0
SET_ELECTRODE_AREA = 0x0211
SET_REFERENCE = 0x0215
SET_CHARACTERISTIC_MASS = 0x024C
SET_AREA_UNIT = 0x0250  # 2 = cm² (read off .mpr/.mpt pairs, see cycler_cli.io.biologic_mpr)
SET_CHARACTERISTIC_MASS_UNIT = 0x0251  # 2 = mg
# log module offsets (yadg ``log_dtypes``)
LOG_CHANNEL = 0x0009
LOG_EWE_MIN = 0x01F8
LOG_EWE_MAX = 0x01FC
LOG_OLE_TIMESTAMP = 0x0249
LOG_FILENAME = 0x0251
LOG_EC_LAB_VERSION = 0x03B7

#: (colID, EC-Lab name, dtype) of the data module, in record order; flags first.
MPR_FLAG_BITS = {"mode": (1, 0, 0x03), "ox/red": (2, 2, 0x04), "error": (3, 3, 0x08),
                 "control changes": (21, 4, 0x10), "Ns changes": (31, 5, 0x20), "counter inc.": (65, 7, 0x80)}
MPR_STOP_BIT = 0x40
MPR_COLUMNS = (
    (131, "Ns", "<u2"),
    (4, "time/s", "<f8"),
    (7, "dq/mA.h", "<f8"),
    (13, "(Q-Qo)/mA.h", "<f8"),
    (5, "control/V/mA", "<f4"),
    (6, "Ewe/V", "<f4"),
    (39, "I Range", "<u2"),
    (468, "half cycle", "<u4"),
)

MPT_COLUMNS = (
    ("mode", "int"), ("ox/red", "int"), ("error", "int"), ("control changes", "int"),
    ("Ns changes", "int"), ("counter inc.", "int"), ("Ns", "int"), ("time/s", "f8"),
    ("control/V/mA", "f4"), ("Ewe/V", "f4"), ("I/mA", "f4"), ("dq/mA.h", "f8"),
    ("(Q-Qo)/mA.h", "f8"), ("half cycle", "int"), ("cycle number", "f8"),
)
CSV_COLUMNS = ("time_s", "voltage_v", "current_a", "charge_ah", "cycle", "half_cycle", "step")
CSV_FORMATS = {"time_s": "%.3f", "voltage_v": "%.7f", "current_a": "%.9e", "charge_ah": "%.9e",
               "cycle": "%d", "half_cycle": "%d", "step": "%d"}


# --------------------------------------------------------------------------------------------
# shared: canonical -> EC-Lab columns


def i_range_code(current_a: np.ndarray) -> int:
    """EC-Lab's ``I Range`` code for the largest |I| (12 = 1 mA, 13 = 100 µA, 14 = 10 µA)."""
    peak = float(np.max(np.abs(current_a))) if current_a.size else 0.0
    for code, limit_a in ((14, 1e-5), (13, 1e-4), (12, 1e-3), (11, 1e-2), (10, 1e-1)):
        if peak <= limit_a:
            return code
    return 9


def eclab_half_cycle(current_a: np.ndarray) -> np.ndarray:
    """EC-Lab's ``half cycle``: changes of current direction counted from 0 (the opening rest and
    the first current step are both 0; a rest keeps the number of the step before it)."""
    return np.maximum(label_half_cycles(current_a) - 1, 0)


def biologic_columns(data: CyclingData) -> dict[str, np.ndarray]:
    """The run as EC-Lab GCPL columns (names as in an ``.mpt`` header; mA, mAh, V, s).

    Needs ``charge_ah`` (else the running trapezoid integral of the current is used)."""
    f = data.frame
    time_s = f["time_s"].to_numpy(dtype=np.float64)
    current_a = f["current_a"].to_numpy(dtype=np.float64)
    n = time_s.size
    if "charge_ah" in f.columns:
        charge_ah = f["charge_ah"].to_numpy(dtype=np.float64)
    else:
        inc = np.diff(time_s, prepend=time_s[:1]) * (current_a + np.concatenate([current_a[:1], current_a[:-1]])) / 2
        charge_ah = np.cumsum(inc) / 3600.0
    if "control_mode" in f.columns:
        mode = f["control_mode"].to_numpy().astype(np.uint8)
    else:
        mode = np.where(current_a != 0, 1, 3).astype(np.uint8)
    step = f["step"].to_numpy(dtype=np.int64)
    sign = np.sign(current_a)
    last_on = np.where(sign != 0, np.arange(n), -1)
    np.maximum.accumulate(last_on, out=last_on)
    ox = np.where(last_on >= 0, sign[np.clip(last_on, 0, None)] > 0, True).astype(np.uint8)
    step_change = np.concatenate([[False], step[1:] != step[:-1]]) if n else np.zeros(0, bool)
    mode_change = np.concatenate([[False], mode[1:] != mode[:-1]]) if n else np.zeros(0, bool)
    loops = np.cumsum(np.concatenate([[False], step[1:] < step[:-1]])) if n else np.zeros(0, np.int64)
    half = eclab_half_cycle(current_a)
    charge_mah = charge_ah * 1000.0
    dq_mah = np.diff(charge_mah, prepend=0.0)
    return {
        "mode": mode,
        "ox/red": ox,
        "error": np.zeros(n, np.uint8),
        "control changes": (step_change | mode_change).astype(np.uint8),
        "Ns changes": step_change.astype(np.uint8),
        "counter inc.": (loops % 2).astype(np.uint8),
        "Ns": step,
        "time/s": time_s,
        "control/V/mA": np.where(mode == 1, current_a * 1000.0, 0.0),
        "Ewe/V": f["voltage_v"].to_numpy(dtype=np.float64),
        "I/mA": current_a * 1000.0,
        "dq/mA.h": dq_mah,
        "(Q-Qo)/mA.h": charge_mah,
        "I Range": np.full(n, i_range_code(current_a), np.uint16),
        "half cycle": half,
        "cycle number": (half // 2).astype(np.float64),
    }


def _start_time(data: CyclingData) -> datetime:
    if data.meta.start_time is None:
        raise ConfigError("the run has no start time", hint="set meta.start_time (writers never read the clock)")
    return data.meta.start_time.replace(tzinfo=None)


def _or_placeholder(value: float | None) -> float:
    return EC_LAB_PLACEHOLDER if value is None else float(value)


# --------------------------------------------------------------------------------------------
# .mpr


def _pascal(buf: bytearray, offset: int, text: str, room: int) -> None:
    raw = text.encode("latin-1", errors="replace")[: min(room - 1, 255)]
    buf[offset] = len(raw)
    buf[offset + 1: offset + 1 + len(raw)] = raw


def _put(buf: bytearray, offset: int, dtype: str, value: float) -> None:
    raw = np.array([value], dtype=dtype).tobytes()
    buf[offset: offset + len(raw)] = raw


def _module(short: str, long: str, version: int, date: datetime, payload: bytes) -> bytes:
    header = np.zeros(1, dtype=[("shortname", "S10"), ("longname", "S25"), ("length", "<u4"),
                                ("version", "<u4"), ("date", "S8")])
    header["shortname"] = short.ljust(10).encode("ascii")
    header["longname"] = long.ljust(25).encode("ascii")
    header["length"] = len(payload)
    header["version"] = version
    header["date"] = date.strftime("%m/%d/%y").encode("ascii")
    return b"MODULE" + header.tobytes() + payload


def _settings_payload(data: CyclingData) -> bytes:
    meta = data.meta
    sim = meta.extra.get("simulation", {})
    buf = bytearray(SETTINGS_LENGTH)
    buf[0] = GCPL_TECHNIQUE_ID
    _pascal(buf, SET_COMMENTS, _comment(data), SET_ACTIVE_MASS - SET_COMMENTS)
    _put(buf, SET_ACTIVE_MASS, "<f4", _or_placeholder(meta.active_mass_mg))
    _put(buf, SET_AT_X, "<f4", 0.0)
    _put(buf, SET_MOLECULAR_WEIGHT, "<f4", 387.6 if sim.get("kind") == "full" else EC_LAB_PLACEHOLDER)
    _put(buf, SET_ATOMIC_WEIGHT, "<f4", 6.94)
    material, electrolyte = _materials(data)
    _pascal(buf, SET_ELECTRODE_MATERIAL, material, SET_ELECTROLYTE - SET_ELECTRODE_MATERIAL)
    _pascal(buf, SET_ELECTROLYTE, electrolyte, SET_ELECTRODE_AREA - SET_ELECTROLYTE)
    _put(buf, SET_ELECTRODE_AREA, "<f4", _or_placeholder(meta.electrode_area_cm2))
    _pascal(buf, SET_REFERENCE, "Li", SET_CHARACTERISTIC_MASS - SET_REFERENCE)
    _put(buf, SET_CHARACTERISTIC_MASS, "<f4", _or_placeholder(meta.characteristic_mass_mg))
    buf[SET_AREA_UNIT] = 2
    buf[SET_CHARACTERISTIC_MASS_UNIT] = 2
    return bytes(buf)


def _log_payload(data: CyclingData, start: datetime, filename: str) -> bytes:
    buf = bytearray(LOG_LENGTH)
    buf[LOG_CHANNEL] = 2
    _put(buf, LOG_EWE_MIN, "<f4", -10.0)
    _put(buf, LOG_EWE_MAX, "<f4", 10.0)
    _put(buf, LOG_OLE_TIMESTAMP, "<f8", (start - OLE_EPOCH) / timedelta(days=1))
    _pascal(buf, LOG_FILENAME, filename, 0x0100)
    _pascal(buf, LOG_EC_LAB_VERSION, "11.50", 7)
    return bytes(buf)


def _data_payload(cols: dict[str, np.ndarray]) -> bytes:
    n = cols["time/s"].size
    ids = [cid for cid, _, _ in MPR_FLAG_BITS.values()] + [cid for cid, _, _ in MPR_COLUMNS]
    dtype = np.dtype([("flags", "u1")] + [(name, dt) for _, name, dt in MPR_COLUMNS])
    records = np.zeros(n, dtype=dtype)
    flags = np.zeros(n, dtype=np.uint8)
    for name, (_, shift, mask) in MPR_FLAG_BITS.items():
        flags |= ((cols[name].astype(np.uint8) << shift) & mask).astype(np.uint8)
    if n:
        flags[-1] |= MPR_STOP_BIT
    records["flags"] = flags
    for _, name, _ in MPR_COLUMNS:
        records[name] = cols[name]
    header = bytearray(DATA_HEADER_LENGTH + 1)
    header[0:4] = np.array([n], "<u4").tobytes()
    header[4] = len(ids)
    header[5: 5 + 2 * len(ids)] = np.array(ids, "<u2").tobytes()
    header[DATA_HEADER_LENGTH] = 0x01
    return bytes(header) + records.tobytes()


def write_mpr(data: CyclingData, path: Path | str) -> Path:
    """Write ``data`` as a raw EC-Lab GCPL ``.mpr`` (layout in the module docstring)."""
    path = Path(path)
    start = _start_time(data)
    cols = biologic_columns(data)
    end = start + timedelta(seconds=float(cols["time/s"][-1]) if cols["time/s"].size else 0.0)
    body = (
        MPR_MAGIC
        + _module("VMP Set", "VMP settings", 0, start, _settings_payload(data))
        + _module("VMP data", "VMP data", 3, start, _data_payload(cols))
        + _module("VMP LOG", "VMP LOG", 0, end, _log_payload(data, start, path.name))
    )
    path.write_bytes(body)
    return path


# --------------------------------------------------------------------------------------------
# .mpt


def _comment(data: CyclingData) -> str:
    sim = data.meta.extra.get("simulation")
    if not sim:
        return "written by cycler"
    return f"simulated by cycler ({sim['kind']} model, seed {sim.get('seed', 0)})"


def _materials(data: CyclingData) -> tuple[str, str]:
    kind = data.meta.extra.get("simulation", {}).get("kind")
    if kind == "full":
        return "LiTi2(PO4)3", "LiZr2(PO4)3"
    if kind == "symmetric":
        return "Li", "LiZr2(PO4)3"
    return "", ""


def _fmt_e(values: np.ndarray, digits: int) -> np.ndarray:
    """``%.{digits}E`` per value (the exponent is widened to EC-Lab's three digits later)."""
    return np.char.mod(f"%.{digits}E", values)


_EXP = re.compile(r"E([+-])(\d\d)(?=\t|\r|$)")


def _hms(seconds: float) -> str:
    seconds = max(float(seconds), 0.0)
    h = int(seconds // 3600)
    m = int((seconds - 3600 * h) // 60)
    s = seconds - 3600 * h - 60 * m
    return f"{h}:{m:02d}:{s:.4f}"


def _segments(cols: dict[str, np.ndarray]) -> dict[int, dict[str, float]]:
    """Per Ns: set current (mA), median current-on and rest durations (s)."""
    ns = cols["Ns"]
    t = cols["time/s"]
    mode = cols["mode"]
    out: dict[int, dict[str, float]] = {}
    if t.size == 0:
        return out
    key = ns * 4 + mode
    starts = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))
    lasts = np.concatenate([starts[1:] - 1, [t.size - 1]])
    on_seg = mode[starts] == 1
    # a current segment records its own end point; a rest runs from the end of the segment
    # before it (its first point is one interval later) to the start of the next one
    prev_end = np.concatenate([[t[0]], t[lasts[:-1]]])
    next_start = np.concatenate([t[starts[1:]], [t[-1]]])
    dur = np.where(on_seg, t[lasts] - t[starts], next_start - np.where(np.arange(starts.size) > 0, prev_end, t[0]))
    for value in np.unique(ns):
        sel = ns[starts] == value
        on = sel & (mode[starts] == 1)
        off = sel & (mode[starts] != 1)
        current = cols["control/V/mA"][starts][on]
        out[int(value)] = {
            "is_ma": float(current[0]) if current.size else 0.0,
            "t1_s": float(np.median(dur[on])) if on.any() else float(np.median(dur[off])) if off.any() else 0.0,
            "tr_s": float(np.median(dur[off])) if on.any() and off.any() else 0.0,
        }
    return out


def _mpt_header(data: CyclingData, cols: dict[str, np.ndarray], start: datetime, name: str, num) -> list[str]:
    meta = data.meta
    sim = meta.extra.get("simulation", {})
    material, electrolyte = _materials(data)
    segs = _segments(cols)
    ns_values = sorted(segs)
    width = 20

    def row(label: str, values: list[str]) -> str:
        return label.ljust(width) + "".join(v.ljust(width) for v in values)

    def current_text(ma: float) -> tuple[str, str]:
        if ma == 0 or abs(ma) >= 1:
            return num(f"{ma:.3f}"), "mA"
        return num(f"{ma * 1000:.3f}"), "µA"

    is_vals, units, signs = [], [], []
    for k in ns_values:
        text, unit = current_text(segs[k]["is_ma"])
        is_vals.append(text)
        units.append(unit)
        signs.append("< 0" if segs[k]["is_ma"] < 0 else "> 0")
    loops = int(cols["Ns"].size and np.sum(cols["Ns"][1:] < cols["Ns"][:-1]))
    v_lo, v_hi = (sim.get("v_min", -5.0), sim.get("v_max", 5.0)) if sim.get("kind") == "full" else (-5.0, 5.0)
    em = [num(f"{(v_hi if segs[k]['is_ma'] >= 0 else v_lo):.3f}") for k in ns_values]
    mass = _or_placeholder(meta.active_mass_mg)
    cmass = _or_placeholder(meta.characteristic_mass_mg)
    area = _or_placeholder(meta.electrode_area_cm2)
    lines = [
        "",
        "Galvanostatic Cycling with Potential Limitation",
        "",
        "Run on channel : 3 (SN 20417)",
        "User : ",
        "CE vs. WE compliance from -10 V to 10 V",
        "Electrode connection : standard",
        "Potential control : Ewe",
        f"Ewe ctrl range : min = {num('-10.00')} V, max = {num('10.00')} V",
        "Safety Limits :",
        "\tDo not start on E overload",
        f"Acquisition started on : {start.strftime('%m/%d/%Y %H:%M:%S')}.{start.microsecond // 1000:03d}",
        "Loaded Setting File : NONE",
        "Saved on :",
        f"\tFile : {Path(name).with_suffix('.mpr').name}",
        "\tDirectory : C:\\Data\\cycler\\",
        "\tHost : 192.168.0.2",
        "Device : VMP3 (SN 1234)",
        "Address : 192.168.0.12",
        "EC-LAB for windows v11.50 (software)",
        "Internet server v11.50 (firmware)",
        "Command interpretor v11.50 (firmware)",
        f"Electrode material : {material}",
        "Initial state : ",
        f"Electrolyte : {electrolyte}",
        f"Comments : {_comment(data)}",
        f"Mass of active material : {num(f'{mass:.3f}')} mg",
        f" at x = {num('0.000')}",
        f"Molecular weight of active material (at x = 0) : {num('387.600' if sim.get('kind') == 'full' else '0.001')} g/mol",
        f"Atomic weight of intercalated ion : {num('6.940')} g/mol",
        f"Acquisition started at : xo = {num('0.000')}",
        "Number of e- transfered per intercalated ion : 1",
        f"for DX = 1, DQ = {num('0.000')} mA.h",
        f"Battery capacity : {num('0.000')} mA.h",
        f"Electrode surface area : {num(f'{area:.3f}')} cm²",
        f"Characteristic mass : {num(f'{cmass:.3f}')} mg",
        f"Volume (V) : {num('0.001')} cm³",
        "Cycle Definition : Charge/Discharge alternance",
        row("Ns", [str(k) for k in ns_values]),
        row("Set I/C", ["I"] * len(ns_values)),
        row("Is", is_vals),
        row("unit Is", units),
        row("vs.", ["<None>"] * len(ns_values)),
        row("N", [num("1.00")] * len(ns_values)),
        row("I sign", signs),
        row("t1 (h:m:s)", [num(_hms(segs[k]["t1_s"])) for k in ns_values]),
        row("I Range", ["100 µA"] * len(ns_values)),
        row("Bandwidth", ["5"] * len(ns_values)),
        row("dE1 (mV)", [num("0.00")] * len(ns_values)),
        row("dt1 (s)", [num(f"{float(np.median(np.diff(cols['time/s']))) if cols['time/s'].size > 1 else 0.0:.2f}")] * len(ns_values)),
        row("EM (V)", em),
        row("tM (h:m:s)", [num(_hms(0))] * len(ns_values)),
        row("tR (h:m:s)", [num(_hms(segs[k]["tr_s"])) for k in ns_values]),
        row("goto Ns'", ["0"] * (len(ns_values) - 1) + [str(ns_values[1] if len(ns_values) > 1 else 0)]),
        row("nc cycles", ["0"] * (len(ns_values) - 1) + [str(loops)]),
        "",
    ]
    return lines


def write_mpt(data: CyclingData, path: Path | str, *, decimal: str = ".") -> Path:
    """Write ``data`` as an EC-Lab ASCII export (``.mpt``; layout in the module docstring).

    ``decimal`` is ``"."`` or ``","`` (a FR/DE Windows locale). Encoding latin-1, CRLF."""
    if decimal not in (".", ","):
        raise ConfigError(f"decimal separator must be '.' or ',', got {decimal!r}", hint="use . or ,")
    path = Path(path)
    start = _start_time(data)
    cols = biologic_columns(data)

    def num(text: str) -> str:
        return text.replace(".", decimal)

    header = _mpt_header(data, cols, start, path.name, num)
    names = [name for name, _ in MPT_COLUMNS]
    n_header = len(header) + 3  # magic line, "Nb header lines", column names
    parts = []
    for name, kind in MPT_COLUMNS:
        values = cols[name]
        if kind == "int":
            parts.append(np.char.mod("%d", values.astype(np.int64)))
        elif kind == "f4":
            parts.append(_fmt_e(values.astype(np.float32).astype(np.float64), 7))
        else:
            parts.append(_fmt_e(values.astype(np.float64), 15))
    rows = parts[0]
    for part in parts[1:]:
        rows = np.char.add(np.char.add(rows, "\t"), part)
    body = "\r\n".join(rows.tolist())
    body = _EXP.sub(lambda m: f"E{m.group(1)}0{m.group(2)}", body)
    if decimal == ",":
        body = body.replace(".", ",")
    text = (
        "EC-Lab ASCII FILE\r\n"
        + f"Nb header lines : {n_header}".ljust(46) + "\r\n"
        + "\r\n".join(header) + "\r\n"
        + "\t".join(names) + "\t\r\n"
        + body + ("\r\n" if body else "")
    )
    path.write_bytes(text.encode("latin-1"))
    return path


# --------------------------------------------------------------------------------------------
# CSV


def write_csv(data: CyclingData, path: Path | str) -> Path:
    """Write ``data`` in the generic CSV layout (``CSV_COLUMNS``; units in the names; UTF-8, LF)."""
    path = Path(path)
    f = data.frame
    missing = [c for c in CSV_COLUMNS if c not in f.columns and c != "charge_ah"]
    if missing:
        raise ConfigError(f"the run lacks columns {missing}", hint="build it with cycler_cli.model.build_frame")
    cols = dict(f.items())
    if "charge_ah" not in cols:
        cols["charge_ah"] = biologic_columns(data)["(Q-Qo)/mA.h"] / 1000.0
    rows = None
    for name in CSV_COLUMNS:
        values = np.asarray(cols[name])
        part = np.char.mod(CSV_FORMATS[name], values)
        rows = part if rows is None else np.char.add(np.char.add(rows, ","), part)
    lines = [",".join(CSV_COLUMNS)] + (rows.tolist() if rows is not None else [])
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="\n")
    return path


FORMATS = ("mpr", "mpt", "csv")


def write(data: CyclingData, path: Path | str, *, format: str | None = None) -> Path:
    """Write ``data`` to ``path`` in ``format`` (``mpr``, ``mpt`` or ``csv``; default: the suffix)."""
    path = Path(path)
    fmt = (format or path.suffix.lstrip(".")).lower()
    if fmt == "mpr":
        return write_mpr(data, path)
    if fmt == "mpt":
        return write_mpt(data, path)
    if fmt == "csv":
        return write_csv(data, path)
    raise ConfigError(
        f"cannot write format {fmt!r}", path=str(path), hint="use --format mpr, mpt or csv (or a .mpr/.mpt/.csv name)"
    )
