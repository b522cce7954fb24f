"""BioLogic EC-Lab / BT-Lab text exports (``.mpt``, ``.txt``, headerless ``.csv``): the reader.

What it reads (by content, whatever the file is named):

* **full exports**: line 1 ``EC-Lab ASCII FILE`` or ``BT-Lab ASCII FILE``, line 2
  ``Nb header lines : N``, the column header on line N. N = 3 means no metadata block (exports
  made from an ``.mpr``). The lines in between are the settings block this module mines for
  metadata (below);
* **headerless exports**: the first line is already the column header, made of BioLogic column
  names (``mode\\tox/red\\t…`` from EC-Lab's "export as text" without the header option; the
  ``;``-separated auto-export CSV that BT-Lab writes, with a leading unnamed index column).

Text details handled: CRLF or LF; UTF-8 (with or without BOM) or a Windows code page
(latin-1/cp1252: µ = 0xB5, ° = 0xB0, ² = 0xB2), sniffed; a decimal comma or point, sniffed from
the data (``1,9999814E+005`` under FR/DE locales); tab, ``;`` or ``,`` separators, sniffed from
the column header; a trailing separator at the end of each line; column names with stray
spaces or a ``°``/``µ`` turned into U+FFFD by an earlier re-encoding (``Temperature/\\ufffdC``).

The data block is parsed with one ``pandas.read_csv`` call. Lines that are not data points are
skipped and counted in ``meta.rows_skipped`` by reason: ``blank line``, ``repeated column
header``, ``short row (fewer fields than the column header)``, ``time/s is not a number or
date``, ``partial last line (the file ends inside it)``. A non-numeric value in any other
column becomes NaN and is reported in ``meta.warnings`` with its count.

A file still being written (or cut) usually ends inside a line. That last line, when it has no
line end, is skipped as partial if it has fewer fields than the header, or if its last value is
shorter than EC-Lab's fixed scientific format (``1.2345678E+002``) that the line before it shows;
otherwise it is read (many complete exports end without a final line end). A cut that leaves a
shorter but well-formed last value in another format cannot be told from a complete line
(docs/reliability.md).

Then :func:`cycler_cli.io.biologic_common.to_cycling_data` maps the BioLogic columns to the
canonical frame (voltage, current, cycle choices are documented there), the same path the
``.mpr`` reader takes, so a run reads the same from either format.

Reader-specific choices, recorded in ``meta.inferred`` when they apply:

* ``time/s`` written as an absolute date-time (``%m/%d/%Y %H:%M:%S.%f``, BT-Lab's "absolute
  time" export) becomes seconds since the first point, and ``start_time`` that first point;
* ``mode`` / ``ox`` / ``error`` columns holding the whole BioLogic flag byte (seen in BT-Lab
  auto-export CSVs: every flag column repeats one number up to 255) are masked to the mode
  bits (``& 0x03``);
* an index column (``mode``, ``Ns``, ``half cycle``, ``cycle number``, ``ox/red``) with missing
  values is not used (a warning says so), so cycles are derived instead of invented.

Metadata from the header block:

* ``technique``: line 4 of a full header mapped to EC-Lab's short name, as the ``.mpr`` reader
  gives it (``Galvanostatic Cycling with Potential Limitation`` -> ``GCPL``, ``Modulo Bat`` ->
  ``MB``; an unknown title is kept as written); the title itself goes to
  ``meta.extra["technique_title"]``;
* ``format_version``: ``EC-Lab v11.50`` / ``BT-Lab v1.79`` from the ``… for windows vX
  (software)`` line;
* ``start_time``: ``Acquisition started on : MM/DD/YYYY HH:MM:SS(.fff)`` (naive, local time of
  the instrument PC, as EC-Lab writes it);
* ``active_mass_mg`` (``Mass of active material``), ``characteristic_mass_mg``
  (``Characteristic mass``, g or mg) and ``electrode_area_cm2`` (``Electrode surface area``,
  cm² or mm²), with a decimal comma where the locale wrote one. The printed value ``0``, EC-Lab's
  placeholder ``0.001`` (whatever the mass unit: older versions print ``0.001 g``, newer
  ``0.001 mg``) and ``7000 mg`` mean "not set" and give ``None``;
* ``Battery capacity`` in mAh goes to ``meta.extra["battery_capacity_mah"]``.

Known uncertainties: EC-Lab writes the header in the Windows locale of the acquiring PC, so
month/day order is assumed to be US (``MM/DD/YYYY``) as in every file seen; files whose
``time/s`` is a date-time lose sub-millisecond precision; the ``0.001`` placeholder rule
would misread a real 1 µg (or 1 mg written as ``0.001 g``) electrode as "not set".
"""

from __future__ import annotations

import io
import re
from datetime import datetime
from pathlib import Path

import numpy as np

from cycler_cli.errors import CorruptFileError, MissingColumnError
from cycler_cli.io import text as textio
from cycler_cli.io.biologic_common import VOLTAGE_PRIORITY
from cycler_cli.model import CyclingData, RunMeta

NAME = "biologic-mpt"
DESCRIPTION = "BioLogic EC-Lab / BT-Lab text export (.mpt, .txt, headerless .csv)"

_MAGIC = re.compile(r"^\ufeff?\s*(EC-Lab|BT-Lab) ASCII FILE\s*$", re.IGNORECASE)
_NB_HEADER = re.compile(r"^\s*Nb header lines\s*:\s*(\d+)\s*$", re.IGNORECASE)
_SEPARATORS = ("\t", ";", ",")

#: Column names EC-Lab / BT-Lab write (after U+FFFD repair), used to recognise a headerless
#: export by its first line. Not exhaustive: a first line with ``time/s`` and a voltage column
#: is claimed whatever else it holds.
KNOWN_COLUMNS: frozenset[str] = frozenset((
    "mode", "ox/red", "ox", "error", "control changes", "Ns changes", "counter inc.", "Ns", "I Range",
    "time/s", "step time/s", "cycle time/s", "charge time/s", "discharge time/s",
    "control/V/mA", "control/V", "control/mA", "Ewe/V", "Ecell/V", "Ece/V", "Ewe-Ece/V",
    "<Ewe>/V", "<Ewe/V>", "<Ece>/V", "<Ewe-Ece>/V", "<EcellX>/V", "I/mA", "<I>/mA",
    "dq/mA.h", "dQ/mA.h", "DQ/mA.h", "(Q-Qo)/mA.h", "(Q-Qo)/C", "dQ/C", "Q charge/discharge/mA.h",
    "Q charge/mA.h", "Q discharge/mA.h", "Capacity/mA.h", "Efficiency/%", "half cycle", "cycle number",
    "z cycle", "x", "P/W", "Pwe/W", "R/Ohm", "Rapp/Ohm", "Rcmp/Ohm", "|Energy|/W.h", "Energy/W.h",
    "Energy charge/W.h", "Energy discharge/W.h", "Energy we charge/W.h", "Energy we discharge/W.h",
    "Energy ce charge/W.h", "Energy ce discharge/W.h", "Capacitance charge/µF", "Capacitance discharge/µF",
    "Temperature/°C", "T/°C", "control/°C", "freq/Hz", "Re(Z)/Ohm", "-Im(Z)/Ohm", "|Z|/Ohm", "Phase(Z)/deg",
    "|Ewe|/V", "|I|/A", "Cs/µF", "Cp/µF", "Analog IN 1/V", "Analog IN 2/V", "Analog OUT/V", "Tech Num",
    "Loop", "cycle_index",
))

#: Columns that index points (integers in the contract): unusable when any value is missing.
INDEX_COLUMNS = ("mode", "ox/red", "Ns", "half cycle", "cycle number")
#: Header-less BT-Lab CSVs spell some columns differently.
ALIASES = {"ox": "ox/red"}

REASON_BLANK = "blank line"
REASON_HEADER = "repeated column header"
REASON_SHORT = "short row (fewer fields than the column header)"
REASON_TIME = "time/s is not a number or date"
REASON_PARTIAL = "partial last line (the file ends inside it)"
_SCIENTIFIC = re.compile(rb"-?\d[.,](\d+)E[+-]\d{3}")

#: Header metadata lines: ``label : value unit``.
_META_LINE = re.compile(r"^\s*(?P<label>[^:]+?)\s*:\s*(?P<value>.*?)\s*$")
_NUMBER_UNIT = re.compile(r"^(?P<num>[-+]?\d+(?:[.,]\d*)?(?:[eE][-+]?\d+)?)\s*(?P<unit>\S*)")
_VERSION = re.compile(r"^\s*(EC-Lab|BT-Lab)\s+for\s+windows\s+v\s*([\d.]+)", re.IGNORECASE)

_MASS_TO_MG = {"mg": 1.0, "g": 1000.0, "µg": 1e-3, "ug": 1e-3, "kg": 1e6}
_AREA_TO_CM2 = {"cm²": 1.0, "cm2": 1.0, "mm²": 0.01, "mm2": 0.01, "m²": 1e4, "m2": 1e4}
_CAPACITY_TO_MAH = {"mA.h": 1.0, "A.h": 1000.0, "µA.h": 1e-3, "uA.h": 1e-3, "mAh": 1.0, "Ah": 1000.0}


# ----------------------------------------------------------------------------------------------
# sniffing


def _split_names(line: str, sep: str) -> list[str]:
    return [repair_name(name) for name in line.split(sep)]


def _guess_separator(header_line: str) -> str:
    """The separator of a column-header line: the candidate that splits it most (tab wins ties)."""
    counts = {sep: header_line.count(sep) for sep in _SEPARATORS}
    best = max(_SEPARATORS, key=lambda sep: counts[sep])
    return best if counts[best] > 0 else "\t"


def repair_name(name: str) -> str:
    """A column name as EC-Lab meant it: spaces stripped, a U+FFFD left by a lossy re-encoding
    turned back into ``°`` (before ``C``) or ``µ`` (anywhere else), aliases applied."""
    name = name.strip()
    if "\ufffd" in name:
        name = re.sub("\ufffd(?=[Cc])", "°", name).replace("\ufffd", "µ")
    return ALIASES.get(name, name)


def looks_like_header(line: str) -> bool:
    """Is ``line`` a BioLogic column header? ``time/s`` plus a voltage column, or a voltage
    column and nothing but known BioLogic names (at least two)."""
    names = [n for n in _split_names(line, _guess_separator(line)) if n]
    if not any(n in VOLTAGE_PRIORITY for n in names):
        return False
    return "time/s" in names or (len(names) >= 2 and all(n in KNOWN_COLUMNS for n in names))


def sniff(head: bytes, path: Path) -> bool:
    """Claim a file whose first line is the EC-Lab/BT-Lab magic or a BioLogic column header."""
    text, _ = textio.decode(head[:8192])
    first = text.split("\n", 1)[0].rstrip("\r")
    if _MAGIC.match(first):
        return True
    return looks_like_header(first)


# ----------------------------------------------------------------------------------------------
# header block


def _number(text: str) -> tuple[float, str] | None:
    match = _NUMBER_UNIT.match(text.strip())
    if not match:
        return None
    return float(match.group("num").replace(",", ".")), match.group("unit")


def _parse_datetime(value: str) -> datetime | None:
    value = value.strip().replace(",", ".")
    for fmt in ("%m/%d/%Y %H:%M:%S.%f", "%m/%d/%Y %H:%M:%S"):
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            continue
    return None


def _scaled(value_unit: tuple[float, str] | None, table: dict[str, float]) -> tuple[float | None, str | None]:
    """``(value in the table's unit, None)`` or ``(None, problem)``."""
    if value_unit is None:
        return None, "no number"
    value, unit = value_unit
    # a µ or ² lost to U+FFFD by an earlier re-encoding: µ leads a unit, ² ends one
    unit = re.sub("^\ufffd", "µ", unit)
    unit = re.sub("\ufffd$", "²", unit)
    if unit not in table:
        return None, f"unknown unit {unit!r}"
    return value * table[unit], None


def parse_header(lines: list[str], meta: RunMeta) -> None:
    """Fill ``meta`` from the metadata lines of a full header (lines 3 .. N-1; see the module
    docstring for which labels are read and how placeholders are treated)."""
    if len(lines) >= 2:
        title = lines[1].strip()  # line 4 of the file: lines[] starts at line 3
        if title and ":" not in title:
            # One vocabulary for both BioLogic readers: the short name the .mpr settings module
            # gives (GCPL, MB, ...); the title EC-Lab printed is kept in meta.extra.
            from cycler_cli.io.ecl_columns import TECHNIQUE_TITLES

            short = {v: k for k, v in TECHNIQUE_TITLES.items()}.get(title)
            meta.technique = short or title
            meta.extra["technique_title"] = title
    for line in lines:
        version = _VERSION.match(line)
        if version and meta.format_version is None:
            product = "EC-Lab" if version.group(1).upper() == "EC-LAB" else "BT-Lab"
            meta.format_version = f"{product} v{version.group(2)}"
            continue
        match = _META_LINE.match(line)
        if not match:
            continue
        label, value = match.group("label").strip().lower(), match.group("value")
        if label == "acquisition started on" and meta.start_time is None:
            meta.start_time = _parse_datetime(value)
            if meta.start_time is None:
                meta.warnings.append(f"could not read the acquisition start {value!r}")
        elif label == "mass of active material":
            meta.active_mass_mg = _setting(value, _MASS_TO_MG, "active mass", meta)
        elif label == "characteristic mass":
            meta.characteristic_mass_mg = _setting(value, _MASS_TO_MG, "characteristic mass", meta)
        elif label == "electrode surface area":
            meta.electrode_area_cm2 = _setting(value, _AREA_TO_CM2, "electrode surface area", meta)
        elif label == "battery capacity":
            capacity, _ = _scaled(_number(value), _CAPACITY_TO_MAH)
            if capacity:
                meta.extra["battery_capacity_mah"] = capacity


def _setting(value: str, table: dict[str, float], what: str, meta: RunMeta) -> float | None:
    number = _number(value)
    if number is not None and (number[0] == 0.0 or number[0] == 0.001 or (number == (7000.0, "mg"))):
        return None  # EC-Lab's "not set" placeholders
    scaled, problem = _scaled(number, table)
    if problem:
        meta.warnings.append(f"{what} {value!r} not understood ({problem}); left unset")
    return scaled


# ----------------------------------------------------------------------------------------------
# data block


def _locate(text: str, path: Path) -> tuple[list[str], str, str, int]:
    """Split the decoded file into ``(metadata lines, column header line, data text, N)``;
    N is the announced number of header lines, 0 for a headerless export."""
    first_end = text.find("\n")
    first = (text if first_end < 0 else text[:first_end]).rstrip("\r")
    if not _MAGIC.match(first):
        if not looks_like_header(first):
            raise CorruptFileError(
                "neither the EC-Lab/BT-Lab ASCII magic line nor a BioLogic column header on line 1",
                path=str(path), hint="export the run from EC-Lab with 'Export as text', or pass --reader NAME",
            )
        return [], first, "" if first_end < 0 else text[first_end + 1:], 0
    # Only the header block is split into a list; the data block stays one string.
    head_lines: list[str] = []
    pos = first_end + 1
    end = text.find("\n", pos)
    second = text[pos:end if end >= 0 else len(text)].rstrip("\r")
    nb_match = _NB_HEADER.match(second)
    if nb_match is None:
        raise CorruptFileError(
            f"line 2 should read 'Nb header lines : N', not {second[:60]!r}",
            path=str(path), hint="re-export the run from EC-Lab; the header block is damaged",
        )
    n_header = int(nb_match.group(1))
    if n_header < 3:
        raise CorruptFileError(
            f"'Nb header lines : {n_header}' is below 3, the smallest EC-Lab writes",
            path=str(path), hint="re-export the run from EC-Lab; the header block is damaged",
        )
    pos = end + 1 if end >= 0 else len(text)
    # The count is the file's word: check it against the lines present before looping on it.
    available = 0 if pos >= len(text) else text.count("\n", pos) + (not text.endswith("\n"))
    if n_header - 2 > available:
        raise CorruptFileError(
            f"the header announces {n_header} lines but the file ends after {2 + available}",
            path=str(path), hint="the export is truncated; re-export the run from EC-Lab",
        )
    for _ in range(n_header - 2):  # lines 3..N: a loop over header lines, not data rows
        if pos >= len(text):
            raise CorruptFileError(
                f"the header announces {n_header} lines but the file ends after {2 + len(head_lines)}",
                path=str(path), hint="the export is truncated; re-export the run from EC-Lab",
            )
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end
        head_lines.append(text[pos:end].rstrip("\r"))
        pos = end + 1
    column_line = head_lines.pop()
    return head_lines, column_line, text[pos:], n_header


def _column_names(column_line: str, sep: str, meta: RunMeta, path: Path) -> list[str | None]:
    """Names per field position; ``None`` for fields to drop (unnamed, duplicate)."""
    raw = _split_names(column_line, sep)
    while raw and raw[-1] == "":  # EC-Lab ends the header line with a separator
        raw.pop()
    names: list[str | None] = []
    seen: set[str] = set()
    for position, name in enumerate(raw):  # a loop over columns
        if not name:
            meta.inferred.append(f"column {position + 1} has no name and is ignored")
            names.append(None)
        elif name in seen:
            meta.warnings.append(f"duplicate column {name!r}: the first one is used")
            names.append(None)
        else:
            seen.add(name)
            names.append(name)
    if "time/s" not in seen and not any(n in seen for n in VOLTAGE_PRIORITY):
        raise CorruptFileError(
            f"the column header has neither time/s nor a voltage column: {column_line[:80]!r}",
            path=str(path), hint="check 'Nb header lines' on line 2 points at the column header",
        )
    return names


class _Lines:
    """Per-line facts about a data block, computed on its bytes with numpy (no loop over rows).

    ``n_fields`` counts separators + 1, ``blank`` marks lines with nothing but white space,
    ``header`` marks repeats of the column header line (found with ``bytes.find``, so the
    only Python loop runs over the repeats themselves)."""

    def __init__(self, raw: bytes, sep: str, column_line: str):
        buf = np.frombuffer(raw, dtype=np.uint8)
        newline = np.flatnonzero(buf == 10)
        starts = np.concatenate(([0], newline + 1))
        ends = np.concatenate((newline, [len(buf)]))
        if len(buf) == 0 or ends[-1] == starts[-1]:  # no text after the last newline
            starts, ends = starts[:-1], ends[:-1]
        self.raw, self.starts, self.ends, self.count = raw, starts, ends, len(starts)

        def per_line(mask: np.ndarray) -> np.ndarray:
            """How many marked bytes each line holds (positions are sorted: binary search)."""
            at = np.flatnonzero(mask)
            return np.searchsorted(at, ends) - np.searchsorted(at, starts)

        self.n_fields = per_line(buf == ord(sep)) + 1
        white = (buf == 32) | (buf == 9) | (buf == 13)
        self.blank = per_line(white) == ends - starts
        target = column_line.strip().encode("utf-8")
        self.header = np.zeros(self.count, dtype=bool)
        found = raw.find(target) if target else -1
        while found >= 0:  # one pass per repeated header, not per row
            i = int(np.searchsorted(starts, found, side="right")) - 1
            self.header[i] = raw[starts[i]:ends[i]].strip() == target
            found = raw.find(target, ends[i] + 1) if ends[i] < len(raw) else -1

    def select(self, keep: np.ndarray) -> bytes:
        """The bytes of the kept lines, each with its own newline."""
        buf = np.frombuffer(self.raw, dtype=np.uint8)
        # +1 where a kept line starts, -1 after its newline; the running sum marks its bytes
        # (lines never overlap, so the sum is 0 or 1: int8 keeps it at one byte per byte of text)
        marks = np.zeros(len(buf) + 2, dtype=np.int8)
        marks[self.starts[keep]] += 1
        marks[self.ends[keep] + 1] -= 1
        inside = np.cumsum(marks[: len(buf)], dtype=np.int8).view(bool)
        return buf[inside].tobytes()


def _cut_inside_last_value(lines: _Lines, sep: str, good: np.ndarray) -> bool:
    """Is the unterminated last line cut inside its last value? Only decidable when the line
    before it ends in EC-Lab's fixed scientific format: the same column must then show the same
    number of mantissa digits and an exponent."""
    before = np.flatnonzero(good[:-1])
    if before.size == 0:
        return False
    i = int(before[-1])
    sep_b = sep.encode()

    def last_value(k: int) -> bytes:
        return lines.raw[lines.starts[k]:lines.ends[k]].rstrip(b"\r").rsplit(sep_b, 1)[-1].strip()

    model = _SCIENTIFIC.fullmatch(last_value(i))
    if model is None:
        return False
    value = _SCIENTIFIC.fullmatch(last_value(lines.count - 1))
    return value is None or len(value.group(1)) != len(model.group(1))


def _parse_block(data: str, column_line: str, names: list[str | None], sep: str, decimal: str,
                 meta: RunMeta) -> dict[str, np.ndarray]:
    """Parse the data text into ``{name: array}``, counting skipped lines in ``meta``."""
    import pandas as pd

    names = list(names)
    n_named = len(names)
    raw = data.encode("utf-8")
    lines = _Lines(raw, sep, column_line)
    blank, header, n_fields = lines.blank, lines.header, lines.n_fields
    candidates = ~blank & ~header
    unterminated = lines.count > 0 and not raw.endswith(b"\n")
    complete = candidates.copy()
    if unterminated:
        complete[-1] = False  # a line the file ends inside says nothing about the width
    if complete.any() and int(n_fields[complete].max()) < n_named:
        # Every row is narrower than the header: the header names columns the data never
        # holds (EC-Lab 11.61 PEIS writes "...\t\tEwe-Ece/V" after the last data column).
        width_data = int(n_fields[complete].max())
        empty = [name for name in names[width_data:] if name is not None]
        if empty:
            meta.warnings.append(
                f"the column header names {', '.join(map(repr, empty))} but no data row reaches "
                "that far: those columns are left out"
            )
        names = names[:width_data]
        n_named = width_data
    short = (n_fields < n_named) & candidates
    partial = np.zeros(lines.count, dtype=bool)
    if unterminated and candidates[-1]:
        partial[-1] = bool(short[-1]) or _cut_inside_last_value(lines, sep, ~(blank | header | short))
        short[-1] &= ~partial[-1]
    good = ~(blank | header | short | partial)
    for reason, mask in ((REASON_BLANK, blank), (REASON_HEADER, header), (REASON_SHORT, short),
                         (REASON_PARTIAL, partial)):
        count = int(mask.sum())
        if count:
            meta.rows_skipped[reason] = meta.rows_skipped.get(reason, 0) + count
    n_good = int(good.sum())
    if n_good == 0:
        return {name: np.zeros(0) for name in names if name is not None}
    width = max(int(n_fields[good].max()), n_named)
    source = raw if n_good == lines.count else lines.select(good)
    frame = pd.read_csv(
        io.BytesIO(source), encoding="utf-8", sep=sep, decimal=decimal, header=None, index_col=False,
        names=list(range(width)), skip_blank_lines=False, engine="c", low_memory=False,
    )
    extra = frame.iloc[:, n_named:]
    if extra.shape[1] and extra.notna().to_numpy().any():
        meta.warnings.append("values after the last named column are ignored")
    out: dict[str, np.ndarray] = {}
    keep = np.ones(len(frame), dtype=bool)
    for position, name in enumerate(names):  # a loop over columns
        if name is None:
            continue
        column = frame[position]
        if name == "time/s":
            values, bad = _time_column(column, decimal, meta)
            keep &= ~bad
        elif column.dtype.kind in "fiub":
            values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            numeric = pd.to_numeric(column.astype("string").str.replace(",", ".", regex=False)
                                    if decimal == "," else column, errors="coerce")
            lost = int((numeric.isna() & column.notna()).sum())
            if lost:
                meta.warnings.append(f"{lost} non-numeric value(s) in column {name!r} read as missing")
            values = numeric.to_numpy(dtype=np.float64, na_value=np.nan)
        out[name] = values
    dropped = int((~keep).sum())
    if dropped:
        meta.rows_skipped[REASON_TIME] = meta.rows_skipped.get(REASON_TIME, 0) + dropped
        out = {name: values[keep] for name, values in out.items()}
    return out


def _time_column(column, decimal: str, meta: RunMeta) -> tuple[np.ndarray, np.ndarray]:
    """``time/s`` as seconds, and a mask of rows whose time cannot be read.

    Absolute date-times become seconds since the first readable point; ``meta.start_time``
    becomes that point."""
    import pandas as pd

    if column.dtype.kind in "fiu":  # the usual case: seconds, parsed by read_csv
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        return values, np.isnan(values)
    text = column.astype("string").str.strip()
    numeric = pd.to_numeric(text.str.replace(",", ".", regex=False) if decimal == "," else text, errors="coerce")
    if numeric.notna().sum() * 2 >= text.notna().sum() or not text.notna().any():
        values = numeric.to_numpy(dtype=np.float64, na_value=np.nan)
        return values, np.isnan(values)
    stamp = text.str.replace(",", ".", regex=False)
    parsed = pd.to_datetime(stamp, format="%m/%d/%Y %H:%M:%S.%f", errors="coerce")
    missing = parsed.isna() & stamp.notna()
    if missing.any():
        parsed = parsed.fillna(pd.to_datetime(stamp, format="%m/%d/%Y %H:%M:%S", errors="coerce"))
    bad = parsed.isna().to_numpy()
    if bad.all():
        return np.full(len(text), np.nan), bad
    first = parsed[~bad].iloc[0]
    seconds = (parsed - first).dt.total_seconds().to_numpy(dtype=np.float64, na_value=np.nan)
    meta.start_time = first.to_pydatetime()
    meta.inferred.append(
        "time/s holds absolute date-times (MM/DD/YYYY hh:mm:ss.fff): time_s counts seconds from the "
        f"first point, {first.isoformat()}, which is taken as the start time"
    )
    return seconds, bad


# ----------------------------------------------------------------------------------------------
# column fixes before the common mapping


def _fix_columns(columns: dict[str, np.ndarray], meta: RunMeta) -> None:
    """Reader-level repairs (flag bytes, unusable index columns); see the module docstring."""
    mode = columns.get("mode")
    finite = mode[np.isfinite(mode)] if mode is not None else np.zeros(0)
    integral = finite == np.round(finite)
    if finite.size and not np.all(integral & (finite >= 0) & (finite <= 3)):
        ox = columns.get("ox/red")
        is_byte = bool(np.all(integral & (finite >= 0) & (finite <= 255)))
        if is_byte and (ox is None or np.array_equal(ox, mode, equal_nan=True)):
            byte = np.nan_to_num(mode).astype(np.int64)
            columns["mode"] = np.where(np.isnan(mode), np.nan, byte & 0x03)
            if ox is not None:
                columns["ox/red"] = np.where(np.isnan(mode), np.nan, (byte >> 2) & 0x01)
            flags = [n for n in ("mode", "ox/red", "error") if n in columns]
            meta.inferred.append(
                f"{', '.join(flags)} hold BioLogic's whole flag byte (values up to {int(finite.max())}): "
                "mode taken as its two low bits, ox/red as bit 2"
            )
        else:
            del columns["mode"]
            meta.warnings.append("column 'mode' holds values other than 0-3 and is not used")
    for name in INDEX_COLUMNS:
        values = columns.get(name)
        if values is not None and not np.isfinite(values).all():
            del columns[name]
            meta.warnings.append(
                f"column {name!r} has {int((~np.isfinite(values)).sum())} missing value(s) and is not used"
            )


# ----------------------------------------------------------------------------------------------
# the reader


def read_columns(path: Path | str) -> tuple[dict[str, np.ndarray], RunMeta]:
    """The file's data as ``{BioLogic column name: float64 array}`` plus the metadata, before the
    canonical mapping. ``meta.rows_skipped`` is filled; ``meta.rows_read`` is the row count."""
    from cycler_cli.io.registry import SNIFF_BYTES

    path = Path(path)
    raw = path.read_bytes()
    encoding = textio.detect_encoding(raw[:SNIFF_BYTES])
    text = raw.decode(encoding, errors="replace")
    del raw  # memory stays a small multiple of the file size: one copy of the text at a time
    if text.startswith("\ufeff"):
        text = text[1:]
    meta = RunMeta(source=str(path), reader=NAME)
    meta.extra["encoding"] = encoding
    if encoding == "latin-1":
        meta.inferred.append("text decoded as latin-1/cp1252 (the bytes are not UTF-8)")

    head_lines, column_line, data, n_header = _locate(text, path)
    del text
    meta.extra["header_lines"] = n_header
    meta.extra["header_block"] = n_header > 3  # N = 3: magic, count and column header only
    if head_lines:
        parse_header(head_lines, meta)
    sep = _guess_separator(column_line)
    names = _column_names(column_line, sep, meta, path)
    decimal = "," if textio.sniff_decimal_comma(data[:SNIFF_BYTES], sep) else "."
    meta.extra["separator"] = sep
    meta.extra["decimal"] = decimal
    if decimal == ",":
        meta.inferred.append("decimal comma (sniffed from the data)")
    columns = _parse_block(data, column_line, names, sep, decimal, meta)
    meta.rows_read = len(columns.get("time/s", next(iter(columns.values()), np.zeros(0))))
    return columns, meta


def read(path: Path | str) -> CyclingData:
    """Read an EC-Lab / BT-Lab text export into :class:`CyclingData` (see module docstring)."""
    from cycler_cli.io.biologic_common import to_cycling_data

    columns, meta = read_columns(path)
    if "time/s" not in columns:
        raise MissingColumnError(
            f"no time/s column (the file has only {', '.join(columns)}), so neither time nor current can be known",
            path=str(path),
            hint="re-export the run from EC-Lab with time/s, I/mA and Ewe/V (or Ecell/V) selected, or read the .mpr",
        )
    if meta.rows_read == 0:
        meta.warnings.append("the file has a column header but no data rows: an empty run")
    _fix_columns(columns, meta)
    return to_cycling_data(columns, meta)


class _Reader:
    name = NAME
    description = DESCRIPTION

    @staticmethod
    def sniff(head: bytes, path: Path) -> bool:
        return sniff(head, path)

    @staticmethod
    def read(path: Path) -> CyclingData:
        return read(path)


READER = _Reader()
