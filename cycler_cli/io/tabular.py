"""Shared machinery for the vendor table readers (CSV/TXT exports and Excel/binary frames).

This module owns what every non-BioLogic reader does the same way:

* **header units**: :func:`split_unit` splits ``Current (mA)``, ``Current(mA)``, ``Current [mA]``,
  ``Current / mA``, ``Current#mA`` and ``Current_mA`` into a name and a unit; :data:`UNIT_SCALES`
  turns the unit into a factor to the canonical unit (A, V, Ah, Wh, s, °C);
* **alias tables**: a :class:`TableSpec` maps normalised vendor names (lower case, unit removed)
  to *keys*: the canonical columns (``time_s``, ``voltage_v``, ``current_a``, ``cycle``, ``step``,
  ``energy_wh``, ``temperature_c``) or the helper keys ``state`` (a C/D/R or step-type label),
  ``q_charge_ah`` / ``q_discharge_ah`` (charge and discharge accumulators), ``q_step_ah`` (an
  unsigned capacity that resets every step) and ``q_net_ah`` (cumulative net charge) and ``datetime`` (the wall clock, for ``meta.start_time``);
* **text sniffing**: encoding (:mod:`cycler_cli.io.text`), the header line after any preamble,
  the field separator (tab, ``;`` or ``,``) and the decimal comma;
* **row accounting**: every line after the header is either a row of the frame or counted in
  ``meta.rows_skipped`` under a reason (blank line, repeated header, non-numeric value, wrong
  number of fields, a last line the file ends inside with fewer fields), so ``rows_read + sum(rows_skipped) == data lines in the file``;
* **sign and charge**: the current sign is taken from a state column when the file's current
  is unsigned (Maccor), and checked against it when signed (a file whose current is negative on
  charge steps is flipped, with a warning); ``charge_ah`` is rebuilt from the file's own
  capacity columns (:func:`net_charge_from_accumulators`, :func:`net_charge_from_step_capacity`).

Parsing: a table whose data part is plain numbers (digits, sign, decimal mark, exponent; no
quote, no blank line, every line the same field count; UTF-8) is parsed by :func:`numpy.loadtxt`
into a :class:`NumericTable`, and such a file is read without importing pandas (0.3-0.45 s of
start-up in every process that reads one); any other table by :func:`pandas.read_csv` (C
engine). Both give the same run, value for value: the numpy path is taken only where that holds
(see :func:`_read_numeric`), and the few steps that need pandas' own view of a column (row
reasons, state labels) ask for :attr:`RawTable.frame`, which re-parses the same bytes with pandas.
Nothing here loops over rows.
"""

from __future__ import annotations

import functools
import io
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from cycler_cli.errors import InputError, MissingColumnError, NoDataError
from cycler_cli.io.text import decode, sniff_decimal_comma
from cycler_cli.model import ColumnInfo, CyclingData, RunMeta

#: Unit (lower case, as written in a header) -> (family, factor to the canonical unit).
UNIT_SCALES: dict[str, tuple[str, float]] = {
    "a": ("current", 1.0), "amps": ("current", 1.0), "amp": ("current", 1.0),
    "ma": ("current", 1e-3), "µa": ("current", 1e-6), "μa": ("current", 1e-6), "ua": ("current", 1e-6),
    "na": ("current", 1e-9),
    "v": ("voltage", 1.0), "volts": ("voltage", 1.0), "mv": ("voltage", 1e-3),
    "ah": ("charge", 1.0), "a.h": ("charge", 1.0), "a-h": ("charge", 1.0), "amp-hr": ("charge", 1.0),
    "mah": ("charge", 1e-3), "ma.h": ("charge", 1e-3), "µah": ("charge", 1e-6), "uah": ("charge", 1e-6),
    "μah": ("charge", 1e-6),
    "wh": ("energy", 1.0), "w.h": ("energy", 1.0), "watt-hr": ("energy", 1.0), "mwh": ("energy", 1e-3),
    "mw.h": ("energy", 1e-3), "kwh": ("energy", 1e3), "µwh": ("energy", 1e-6), "uwh": ("energy", 1e-6),
    "s": ("time", 1.0), "sec": ("time", 1.0), "secs": ("time", 1.0), "seconds": ("time", 1.0),
    "ms": ("time", 1e-3), "min": ("time", 60.0), "mins": ("time", 60.0), "minutes": ("time", 60.0),
    "h": ("time", 3600.0), "hr": ("time", 3600.0), "hrs": ("time", 3600.0), "hours": ("time", 3600.0),
    "d": ("time", 86400.0), "days": ("time", 86400.0),
    "c": ("temperature", 1.0), "°c": ("temperature", 1.0), "℃": ("temperature", 1.0),
    "degc": ("temperature", 1.0), "deg c": ("temperature", 1.0), "øc": ("temperature", 1.0),
    "\ufffdc": ("temperature", 1.0), "ºc": ("temperature", 1.0),
}

#: Which unit family each key expects; keys not listed carry no unit (indices, labels).
KEY_FAMILY: dict[str, str] = {
    "time_s": "time", "step_time_s": "time", "voltage_v": "voltage", "current_a": "current",
    "q_charge_ah": "charge", "q_discharge_ah": "charge", "q_step_ah": "charge", "q_net_ah": "charge",
    "energy_wh": "energy", "temperature_c": "temperature",
}
_CANONICAL_UNIT = {"time": "s", "voltage": "V", "current": "A", "charge": "Ah", "energy": "Wh",
                   "temperature": "°C"}

_UNIT_PATTERNS = (
    re.compile(r"^(?P<name>.*?)\s*\((?P<unit>[^()]*)\)\s*$"),   # Current (A), Current(A)
    re.compile(r"^(?P<name>.*?)\s*\[(?P<unit>[^\[\]]*)\]\s*$"),  # Current [A]
    re.compile(r"^(?P<name>.*\S)\s+/\s+(?P<unit>\S+)\s*$"),      # Current / A   (BDF)
    re.compile(r"^(?P<name>.*?)#(?P<unit>[^#]+)$"),              # Current#A     (Digatron)
)
_SUFFIX_UNIT = re.compile(r"^(?P<name>.+?)[_ ](?P<unit>[A-Za-z°℃]+)$")  # Current_A, Time_s


def split_unit(header: str) -> tuple[str, str]:
    """``(name, unit)`` from a column header; ``unit`` is ``""`` when the header names none.

    ``Current_A``-style suffixes count as a unit only when the suffix is a known unit, so
    ``Cycle_Index`` stays whole."""
    text = header.strip().strip('"').strip()
    for pattern in _UNIT_PATTERNS:
        match = pattern.match(text)
        if match and match.group("name").strip():
            return match.group("name").strip(), match.group("unit").strip()
    name, slash, unit = text.rpartition("/")  # Landt "Current/mA", "time /s"
    if slash and name.strip() and unit.strip().lower() in UNIT_SCALES:
        return name.strip(), unit.strip()
    match = _SUFFIX_UNIT.match(text)
    if match and match.group("unit").lower() in UNIT_SCALES:
        return match.group("name").strip(), match.group("unit")
    return text, ""


def normalise(name: str) -> str:
    """Lower case, ``_`` as space, runs of space collapsed, BOM and quotes removed."""
    name = name.replace("\ufeff", "").strip().strip('"').lstrip("~").lower().replace("_", " ")
    return " ".join(name.split())


def unit_scale(unit: str, family: str, header: str, path: str | None = None) -> float:
    """Factor from ``unit`` to the canonical unit of ``family``; an unknown or mismatched unit
    raises :class:`InputError` naming the header."""
    key = unit.strip().lower()
    if key.startswith("hours in"):  # PEC "Hours in hh:mm:ss.xxx": parsed as a duration string
        key = "s"
    if key not in UNIT_SCALES or UNIT_SCALES[key][0] != family:
        raise InputError(
            f"column {header!r}: unit {unit!r} is not a {family} unit cycler knows",
            path=path,
            hint="re-export with standard units, or map the column with the generic reader "
            "(--reader generic-csv --columns NAME=COLUMN:UNIT)",
        )
    return UNIT_SCALES[key][1]


@dataclass(frozen=True)
class TableSpec:
    """A vendor's table layout.

    ``aliases`` maps a normalised header name (see :func:`normalise`, unit removed) to a key;
    ``units`` gives the unit a key takes when the header names none (Maccor writes no units);
    ``signature`` is a tuple of groups: a header line belongs to this vendor when every group has
    at least one of its names present (names are normalised full headers or bare names);
    ``forbid`` names whose presence means another format; ``state_signs`` maps a normalised
    state label to +1 (charge), -1 (discharge) or 0 (rest); ``state_modes`` maps it to a
    control mode (1 CC, 2 CV, 3 rest, 0 unknown); ``charge_rule`` picks how ``charge_ah`` is
    built (``"accumulators"``, ``"step"``, ``"net"`` or ``None``); ``reset_on_step`` says whether a
    ``q_step_ah`` accumulator restarts at every step (Maccor) or only where it falls (Novonix);
    ``force_units`` makes ``units`` override the header's units (the user's ``--columns`` map);
    ``head_bytes`` is how much of the file is searched for the header line."""

    name: str
    aliases: dict[str, str]
    signature: tuple[frozenset[str], ...]
    units: dict[str, str] = field(default_factory=dict)
    forbid: frozenset[str] = frozenset()
    state_signs: dict[str, int] = field(default_factory=dict)
    state_modes: dict[str, int] = field(default_factory=dict)
    charge_rule: str | None = None
    max_header_line: int = 200
    force_units: bool = False
    reset_on_step: bool = True
    head_bytes: int = 65536


def split_lines(text: str) -> list[str]:
    """Lines split on ``\n`` only (``str.splitlines`` also splits on control characters that
    vendor preambles contain), with any ``\r`` removed."""
    return [line.rstrip("\r") for line in text.split("\n")]


def _fields(line: str, sep: str) -> list[str]:
    return [f.strip().strip('"').strip() for f in line.split(sep)]


def header_names(fields: list[str]) -> set[str]:
    """Both the normalised full headers and the normalised bare names (unit removed)."""
    out = set()
    for f in fields:
        out.add(normalise(f))
        out.add(normalise(split_unit(f)[0]))
    out.discard("")
    return out


def matches(spec: TableSpec, names: set[str]) -> bool:
    if names & spec.forbid:
        return False
    return all(group & names for group in spec.signature)


SEPARATORS = ("\t", ";", ",")


@functools.lru_cache(maxsize=8192)
def _line_names(line: str, sep: str) -> frozenset[str]:
    # cached: every reader's sniffer looks at the same first lines of the same file
    return frozenset(header_names(_fields(line, sep)))


@functools.lru_cache(maxsize=16)
def _split_cached(text: str) -> tuple[str, ...]:
    return tuple(split_lines(text))


#: A letter (any script's) other than ``e``/``E``, and an ``e``/``E`` that is not a number's
#: exponent (``1.5e-3``). Every name in every spec's signature has a letter that is neither (a
#: test checks), so a line without one (a data line of numbers) cannot be a header line and is
#: not split into names: sniffing a 6,002-line CSV looked at 200 data lines for each of 12 specs.
_LETTER = re.compile(r"[^\W\d_eE]")
_LONE_E = re.compile(r"(?<![\d.])[eE]|[eE](?![-+\d])")


@functools.lru_cache(maxsize=8192)
def _has_letter(line: str) -> bool:
    """Whether ``line`` holds a letter other than an exponent's ``e`` (see :data:`_LETTER`)."""
    return _LETTER.search(line) is not None or _LONE_E.search(line) is not None


def locate_header(text: str, spec: TableSpec) -> tuple[int, str] | None:
    """``(line index, separator)`` of the first line that matches ``spec``'s signature, or ``None``."""
    for index, line in enumerate(_split_cached(text)[: spec.max_header_line]):
        if len(line) > 20000 or not _has_letter(line):  # not a header line
            continue
        for sep in SEPARATORS:
            if line.count(sep) < 2:
                continue
            if matches(spec, _line_names(line, sep)):
                return index, sep
    return None


_BIOLOGIC_MARKERS = ("ec-lab ascii file", "bt-lab ascii file", "nb header lines", "ox/red", "time/s",
                     "ewe/v", "ecell/v", "control/v/ma", "i/ma")


def looks_biologic(text: str) -> bool:
    """BioLogic text (owned by the biologic readers): never claimed by a vendor table reader."""
    low = text[:4000].lower()
    return any(marker in low for marker in _BIOLOGIC_MARKERS)


@functools.lru_cache(maxsize=4)
def _decode_cached(head: bytes) -> tuple[str, str]:
    return decode(head)


def sniff_text(head: bytes, spec: TableSpec) -> bool:
    """Does ``spec`` claim a text file whose first bytes are ``head``? Never raises."""
    try:
        if not head or b"\x00" in head[:4096] and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
            return False
        text, _ = _decode_cached(head)
        if looks_biologic(text):
            return False
        return locate_header(text, spec) is not None
    except Exception:
        return False


# --------------------------------------------------------------------------- reading text

class NumericTable:
    """A table parsed by numpy, every cell a finite number: ``values`` is a ``(rows, columns)``
    float64 array and ``columns`` the source headers (made unique, as in the frame).

    ``table[name]`` is that column (a float64 view), ``len(table)`` the number of rows;
    :meth:`to_pandas` is the frame the pandas path makes of the same bytes (integer columns
    as int64, exactly), for the rare steps that need pandas."""

    def __init__(self, values: np.ndarray, columns: list[str], to_pandas: Callable[[], object]) -> None:
        self.values = values
        self.columns = list(columns)
        self._index = {name: i for i, name in enumerate(self.columns)}
        self._to_pandas = to_pandas

    def __len__(self) -> int:
        return self.values.shape[0]

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[:, self._index[name]]

    def to_pandas(self):
        return self._to_pandas()


@dataclass
class RawTable:
    """Columns read from a file before canonicalisation: ``table`` is a pandas DataFrame with
    the source headers, or a :class:`NumericTable` when the numeric fast path read the file.
    :attr:`frame` is always a DataFrame (a vendor reader that needs one asks for it)."""

    table: object  # pandas.DataFrame or NumericTable, columns named by the source headers
    header: list[str]
    meta: RunMeta
    preamble: list[str] = field(default_factory=list)
    data_lines: int = 0

    @property
    def frame(self):
        """The table as a pandas DataFrame; a :class:`NumericTable` is converted once (and
        stays converted, so every later step sees the same frame)."""
        if isinstance(self.table, NumericTable):
            self.table = self.table.to_pandas()
        return self.table

    @frame.setter
    def frame(self, frame) -> None:
        self.table = frame


#: Private switch for tests: ``"auto"`` takes the numeric fast path where it is exact,
#: ``"pandas"`` never takes it (the pandas path, as before the fast path existed).
_PARSER = "auto"


def read_text_table(
    path: Path | str,
    spec: TableSpec,
    *,
    text_filter: Callable[[str], str] | None = None,
) -> RawTable:
    """Read a delimited vendor export into a :class:`RawTable` (every column, source headers).

    ``text_filter`` rewrites the data part before parsing (Novonix quotes every line). Lines
    pandas cannot split into the header's field count are counted as skipped, not dropped
    silently. A plain numeric data part is parsed by numpy (:func:`_read_numeric`), with the
    same result."""
    path = Path(path)
    with open(path, "rb") as fh:
        head_text, encoding = decode(fh.read(spec.head_bytes))
    located = locate_header(head_text, spec)
    if located is None:
        raise MissingColumnError(
            f"no {spec.name} header line found in the first {spec.max_header_line} lines",
            path=str(path), hint="check the file is a complete export, or pass --reader NAME",
        )
    header_index, sep = located
    lines = split_lines(head_text)
    header_fields = _fields(lines[header_index], sep)
    preamble = lines[:header_index]
    sample = "\n".join(lines[header_index + 1: header_index + 60])
    decimal = "," if sniff_decimal_comma(sample, sep) else "."

    read_encoding = "utf-8-sig" if encoding == "utf-8" else encoding
    # Fix the field count from the header and the first data lines (some templates end every
    # data line with a separator): pandas would otherwise take it from the first data line.
    counts = [line.count(sep) + 1 for line in lines[header_index + 1: header_index + 60] if line.strip()]
    usual = max(set(counts), key=counts.count) if counts else len(header_fields)
    width = max(len(header_fields), usual)
    common = dict(
        # every column is parsed (no usecols): with usecols pandas silently truncates a line with
        # more fields than the header instead of flagging it, and such a line must be counted
        sep=sep, header=None, names=list(range(width)), decimal=decimal, skip_blank_lines=False,
        encoding_errors="replace", quotechar='"',
        dtype=None, engine="c",
    )
    # rename instead of selecting: no copy of the parsed block; duplicate headers made unique
    seen: dict[str, int] = {}
    names_out = []
    for i in range(width):
        name = header_fields[i] if i < len(header_fields) and header_fields[i] else f"(column {i + 1})"
        if name in seen:
            seen[name] += 1
            name = f"{name} ({seen[name]})"
        else:
            seen[name] = 0
        names_out.append(name)

    table = None
    if _PARSER != "pandas" and text_filter is None and encoding in ("utf-8", "utf-8-sig"):
        table = _read_numeric(path, header_index, sep, decimal, width, names_out, sample, common, read_encoding)
    if table is not None:  # every data line a row: nothing skipped, no short last line
        data_lines, skipped_lines, cut_last = len(table), 0, False
    else:
        if text_filter is not None:
            full_lines = split_lines(path.read_bytes().decode(read_encoding, errors="replace"))
            if full_lines and full_lines[-1] == "":
                full_lines = full_lines[:-1]
            body = text_filter("\n".join(full_lines[header_index + 1:]))
            source, extra = io.StringIO(body), {}
        else:
            source, extra = path, {"skiprows": header_index + 1, "encoding": read_encoding}
        frame, skipped_lines = _parse(source, common, extra)
        data_lines = len(frame) + skipped_lines
        cut_last = len(frame) > 0 and _ends_inside_short_line(path, read_encoding, sep, usual, text_filter)
        if cut_last:  # pandas pads a short line with NaN: a line the file ends inside is not a row
            frame = frame.iloc[:-1]
        frame.columns = names_out
        table = frame
    meta = RunMeta(source=str(path), reader=spec.name)
    duplicated = sorted(name for name, extra_copies in seen.items() if extra_copies)
    if duplicated:
        meta.warnings.append(
            "duplicated column name(s) " + ", ".join(repr(n) for n in duplicated)
            + ": the first of each is used; the others are kept as 'NAME (2)', ..."
        )
    if encoding == "latin-1":
        meta.inferred.append("text is not UTF-8: decoded as latin-1 (Windows codepage)")
    if decimal == ",":
        meta.inferred.append("decimal comma detected")
    meta.extra["separator"] = {"\t": "tab", ";": ";", ",": ","}[sep]
    meta.extra["ignored_columns"] = [h for h in header_fields if h and _key_for(spec, h) is None]
    if skipped_lines:
        meta.rows_skipped["line with the wrong number of fields"] = skipped_lines
    if cut_last:
        meta.rows_skipped[PARTIAL_LAST_LINE] = 1
        meta.warnings.append("the file ends inside its last line (cut, or still being written): that line is skipped")
    return RawTable(table=table, header=header_fields, meta=meta, preamble=preamble, data_lines=data_lines)


#: Bytes a plain numeric data part may hold besides the separator, by decimal mark: digits,
#: sign, decimal mark, exponent and line ends. With only these, a cell that numpy reads as a
#: number is one pandas reads as the same number, and one it rejects pandas keeps as text
#: (checked on every string of up to 4 of these characters and 20,000 random ones:
#: tests/io/test_numeric_fast_path.py). No quote, space, letter, NaN/inf spelling or comment.
_NUMBER_BYTES = {".": b"0123456789+-.eE\r\n", ",": b"0123456789+-,eE\r\n"}

#: A file larger than this goes to pandas even when plain: np.loadtxt takes 3-5x pandas' parse
#: time (~25 ms per MB more, measured here), which beyond ~15 MB costs more than pandas' import.
_NUMERIC_MAX_BYTES = 8 << 20


def _read_numeric(path: Path, header_index: int, sep: str, decimal: str, width: int, names: list[str],
                  sample: str, common: dict, read_encoding: str) -> NumericTable | None:
    r"""The data part (the lines after the header line) as a :class:`NumericTable`, or ``None``
    where numpy's reading could differ from pandas' in any way; the caller then takes the pandas
    path, which decides rows, reasons and warnings exactly as before. Numpy reads it only when:

    * the data part holds only digits, ``+ - e E``, the decimal mark, the separator and line ends
      (``\r`` only in ``\r\n``): no quote, no text, no empty cell (``np.loadtxt`` rejects it);
    * pandas starts the data part where we do: in the preamble and header no lone ``\r`` (a line
      end to pandas) and a quote only as a whole quoted field (a quote opening a field that does
      not close on its line makes pandas skip across lines);
    * every data line has ``width`` fields and none is blank (``np.loadtxt`` raises on a change
      of field count and skips blank lines: its row count must equal the line count), so no
      line is padded, skipped or cut (a line the file ends inside has fewer fields);
    * every value is finite with ``|x| < 2**63`` (inf, and integers that pandas would not keep as
      int64, go to pandas), and no integer literal ``-0`` is present: pandas reads a run of
      integer literals as int64, where ``-0`` is ``+0``; ``np.loadtxt`` would keep ``-0.0``.

    Both parsers round every number correctly (pandas' C parser, 2.3 and 3.1 measured, and
    ``PyOS_string_to_double``), so the values are equal bit for bit; integer columns, int64 in
    pandas, are exact as float64 below 2**53 and rounded the same way above it."""
    sep_byte = sep.encode()
    allowed = _NUMBER_BYTES[decimal] + sep_byte
    if sample.encode("utf-8", "replace").translate(None, allowed):  # text in the first lines: no need to read on
        return None
    if path.stat().st_size > _NUMERIC_MAX_BYTES:
        return None
    data = path.read_bytes()
    start = 0
    for _ in range(header_index + 1):  # the data part starts after header_index + 1 line ends
        start = data.find(b"\n", start) + 1
        if start == 0:
            return None
    head, body = data[:start], data[start:]
    if not body or body.translate(None, allowed):
        return None
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        return None
    if b'"' in head and not all(_quotes_whole_fields(line, sep_byte)  # pandas reads past a BOM
                                for line in head.removeprefix(b"\xef\xbb\xbf").split(b"\n")):
        return None
    if b"\r" in body:
        body = body.replace(b"\r\n", b"\n")
    rows = body.count(b"\n") + (not body.endswith(b"\n"))
    text = (body.replace(b",", b".") if decimal == "," else body).decode("ascii")
    try:
        values = np.loadtxt(io.StringIO(text), delimiter=sep, dtype=np.float64, ndmin=2, comments=None,
                            quotechar=None)
    except Exception:  # a cell that is not a number, a change of field count: pandas decides
        return None
    del text
    if values.shape != (rows, width) or not (np.abs(values) < 2.0**63).all():
        return None
    if ((values == 0) & np.signbit(values)).any() and _int_minus_zero(body, sep):
        return None

    def to_pandas():
        frame, _ = _parse(io.BytesIO(data), common, {"skiprows": header_index + 1, "encoding": read_encoding})
        frame.columns = names
        return frame

    return NumericTable(values, names, to_pandas)


def _int_minus_zero(body: bytes, sep: str) -> bool:
    """Is some cell the integer literal ``-0`` (``-00``, ...)? (``-0.0``, ``-0e0`` are floats.)"""
    end = rb"-0+(?![^\n" + re.escape(sep.encode()) + rb"])"  # -0... then a cell end
    return (re.match(end, body) is not None
            or re.search(rb"[\n" + re.escape(sep.encode()) + rb"]" + end, body) is not None)


def _quotes_whole_fields(line: bytes, sep: bytes) -> bool:
    """Does every quote in this line belong to a field that is one quoted string (``"a","b"``)?
    Then pandas' skipping of the line ends at its line end, as ours does."""
    if b'"' not in line:
        return True
    field = rb'(?:"[^"]*"|[^"' + re.escape(sep) + rb']*)'
    return re.fullmatch(field + rb"(?:" + re.escape(sep) + field + rb")*\r?", line) is not None


PARTIAL_LAST_LINE = "partial last line (the file ends inside it)"


def _ends_inside_short_line(path: Path, encoding: str, sep: str, width: int, text_filter) -> bool:
    """Does the file end inside a line (no line end) that has fewer fields than the data lines?
    That is a record cut in two (a run still being written); a complete last line without a
    line end is common and is read. Only the file's last 64 KiB are looked at."""
    import csv

    with open(path, "rb") as fh:
        size = fh.seek(0, 2)
        start = max(0, size - 65536)
        if encoding.startswith("utf-16"):
            start += start % 2
        fh.seek(start)
        tail = fh.read()
    if not tail or tail.endswith(b"\n") or tail.endswith(b"\n\x00"):
        return False
    text = tail.decode(encoding, errors="replace")
    if "\n" not in text and start > 0:
        return False  # a last line longer than 64 KiB: not a record
    last = text.rsplit("\n", 1)[-1]
    if text_filter is not None:
        last = text_filter(last)
    if not last.strip():
        return False
    fields = len(next(csv.reader([last], delimiter=sep))) if '"' in last else last.count(sep) + 1
    return fields < width


def _parse(source, common: dict, extra: dict):
    """``(frame, lines skipped)``. A line with fewer fields than the header is padded with NaN by
    pandas; one with more raises. The fast path (``on_bad_lines="error"``, which lets pandas parse
    a large file on several threads) is exact when nothing raises; otherwise the file is parsed
    again with ``on_bad_lines="warn"`` and the "Skipping line" warnings are counted."""
    import pandas as pd

    def run(mode: str):
        if hasattr(source, "seek"):
            source.seek(0)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("ignore", pd.errors.DtypeWarning)  # mixed chunks: converted later
            warnings.simplefilter("always", pd.errors.ParserWarning)
            try:
                frame = pd.read_csv(source, on_bad_lines=mode, **common, **extra)
            except pd.errors.EmptyDataError:
                frame = pd.DataFrame(columns=common["names"])
        skipped = sum(str(w.message).count("Skipping line") for w in caught
                      if issubclass(w.category, pd.errors.ParserWarning))
        return frame, skipped

    try:
        return run("error")
    except pd.errors.ParserError:
        return run("warn")


def _key_for(spec: TableSpec, header: str) -> str | None:
    full = normalise(header)
    if full in spec.aliases:
        return spec.aliases[full]
    return spec.aliases.get(normalise(split_unit(header)[0]))


# --------------------------------------------------------------------------- canonicalising

_DURATION = re.compile(r"^\s*(?:(?P<d>\d+)\s*d\s*)?(?P<h>\d+):(?P<m>\d+):(?P<s>\d+(?:[.,]\d*)?)\s*$")


def _numpy_numbers(values, *, bools: bool) -> np.ndarray | None:
    """``values`` as float64 when it is a numpy array of numbers (bool counts only with
    ``bools``, as in pandas' checks below): the case that needs no pandas; else ``None``."""
    if isinstance(values, np.ndarray) and values.dtype.kind in ("biuf" if bools else "iuf"):
        return values.astype(np.float64, copy=False)
    return None


def _is_numeric(values) -> bool:
    """pandas' ``is_numeric_dtype`` for a Series, numpy's dtype kind for an array."""
    if isinstance(values, np.ndarray):
        return values.dtype.kind in "biufc"
    import pandas as pd

    return pd.api.types.is_numeric_dtype(values.dtype)


def to_seconds(series, scale: float):
    """Seconds from a time column: numbers × ``scale``, or ``[Nd ]h:mm:ss[.f]`` durations, or
    absolute datetimes (seconds since the first). Unparseable values become NaN.

    ``series`` is a pandas Series or a numpy array (a numeric one needs no pandas)."""
    numbers = _numpy_numbers(series, bools=True)
    if numbers is not None:
        return numbers * scale
    import pandas as pd

    series = pd.Series(series) if isinstance(series, np.ndarray) else series
    if pd.api.types.is_numeric_dtype(series.dtype):
        return series.to_numpy(dtype=np.float64) * scale
    text = series.astype("string").str.strip()
    parts = text.str.extract(_DURATION.pattern)
    has = parts["h"].notna()
    if has.sum() >= 0.5 * max(text.notna().sum(), 1):
        d = pd.to_numeric(parts["d"], errors="coerce").fillna(0.0)
        sec = pd.to_numeric(parts["s"].str.replace(",", ".", regex=False), errors="coerce")
        out = d * 86400 + pd.to_numeric(parts["h"], errors="coerce") * 3600 + pd.to_numeric(parts["m"], errors="coerce") * 60 + sec
        return out.to_numpy(dtype=np.float64, na_value=np.nan)
    numeric = pd.to_numeric(text.str.replace(",", ".", regex=False), errors="coerce")
    if numeric.notna().sum() >= 0.5 * max(text.notna().sum(), 1):
        return numeric.to_numpy(dtype=np.float64, na_value=np.nan) * scale
    stamps = pd.to_datetime(text, errors="coerce", format="mixed")
    valid = stamps.notna()
    if not valid.any():
        return np.full(len(series), np.nan)
    origin = stamps[valid].iloc[0]
    return ((stamps - origin).dt.total_seconds()).to_numpy(dtype=np.float64, na_value=np.nan)


def to_float(series, decimal_comma: bool = False) -> np.ndarray:
    """float64 from a column (pandas Series or numpy array); text that is not a number is NaN."""
    numbers = _numpy_numbers(series, bools=False)
    if numbers is not None:
        return numbers
    import pandas as pd

    series = pd.Series(series) if isinstance(series, np.ndarray) else series
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    text = series.astype("string").str.strip()
    if decimal_comma:
        text = text.str.replace(",", ".", regex=False)
    return pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def first_datetime(series):
    """The first parseable date-time of a column (month-first text, or Unix seconds), else None.

    Only that one value is parsed: it becomes ``meta.start_time`` (naive, the instrument's clock).
    A numeric numpy array needs no pandas."""
    numbers = _numpy_numbers(series, bools=False)
    if numbers is not None:
        valid = np.flatnonzero(~np.isnan(numbers))  # the first non-NaN, as first_valid_index
        if not valid.size:
            return None
        return _unix_seconds(numbers[valid[0]])
    import pandas as pd

    series = pd.Series(series) if isinstance(series, np.ndarray) else series
    first = series.first_valid_index()
    if first is None:
        return None
    value = series.loc[first]
    try:
        if isinstance(value, (int, float, np.integer, np.floating)):
            return _unix_seconds(value)
        stamp = pd.to_datetime(str(value).strip(), errors="coerce")
        return None if pd.isna(stamp) else stamp.to_pydatetime()
    except (ValueError, OverflowError, TypeError):
        return None


def _unix_seconds(value):
    """A number as a date-time when it looks like Unix seconds (Arbin DateTime in BEEP's exports)."""
    if 1e8 < float(value) < 1e10:
        from datetime import datetime, timezone

        return datetime.fromtimestamp(float(value), tz=timezone.utc).replace(tzinfo=None)
    return None


def increments_resetting(acc: np.ndarray, starts: np.ndarray | None = None) -> np.ndarray:
    """Per-point increments of an accumulator that resets (to ~0) now and then.

    ``acc`` is non-negative and grows within a segment; a segment starts where ``starts`` is
    True or where the value falls. At a segment start the increment is the value itself (the
    charge passed since the reset); the first point contributes nothing (charge counts from
    the start of the file). NaN counts as no increment."""
    acc = np.nan_to_num(np.abs(np.asarray(acc, dtype=np.float64)), nan=0.0)
    inc = np.diff(acc, prepend=acc[:1])
    reset = inc < 0
    if starts is not None:
        reset |= np.asarray(starts, dtype=bool)
    inc = np.where(reset, acc, inc)
    if inc.size:
        inc[0] = 0.0
    return inc


def net_charge_from_accumulators(q_charge_ah: np.ndarray, q_discharge_ah: np.ndarray) -> np.ndarray:
    """Cumulative net charge (Ah, + = charge) from separate charge and discharge accumulators
    (Arbin ``Charge/Discharge Capacity``, Neware ``Chg./DChg. Cap.``, PEC, BDF): the running sum
    of the charge increments minus the discharge increments, each reset-aware
    (:func:`increments_resetting`); 0 at the first point."""
    return np.cumsum(increments_resetting(q_charge_ah) - increments_resetting(q_discharge_ah))


def net_charge_from_step_capacity(q_step_ah: np.ndarray, sign: np.ndarray, step_starts: np.ndarray) -> np.ndarray:
    """Cumulative net charge (Ah) from an unsigned per-step capacity (Maccor ``Amp-hr``,
    Novonix ``Capacity``): increments within each step, signed by the point's direction
    (+1 charge, -1 discharge, 0 rest)."""
    return np.cumsum(increments_resetting(q_step_ah, step_starts) * np.asarray(sign, dtype=np.float64))


def elapsed_from_step_time(step_time_s: np.ndarray, segment: np.ndarray) -> np.ndarray:
    """Test time (s) from a step time that restarts at every step: each step continues from the
    end of the previous one. ``segment`` changes value where a new step starts."""
    step_time_s = np.asarray(step_time_s, dtype=np.float64)
    segment = np.asarray(segment)
    if not step_time_s.size:
        return step_time_s
    starts = np.r_[True, segment[1:] != segment[:-1]]
    index = np.cumsum(starts) - 1
    ends = np.r_[np.flatnonzero(starts)[1:] - 1, step_time_s.size - 1]
    offsets = np.r_[0.0, np.cumsum(np.nan_to_num(step_time_s[ends]))[:-1]]
    return step_time_s + offsets[index]


def state_sign(labels, spec: TableSpec) -> tuple[np.ndarray, np.ndarray]:
    """``(sign, mode)`` per point from a state/step-type label column (labels normalised)."""
    import pandas as pd

    text = (pd.Series(labels).astype("string").str.strip().str.lower()
            .str.replace("_", " ", regex=False).str.replace(r"\s+", " ", regex=True))
    sign = text.map(spec.state_signs).astype("Float64").fillna(0).to_numpy(dtype=np.int8)
    mode = text.map(spec.state_modes).astype("Float64").fillna(0).to_numpy(dtype=np.int8)
    return sign, mode


def orient_current(current_a: np.ndarray, sign: np.ndarray, meta: RunMeta, label: str) -> np.ndarray:
    """Apply the project's sign (+ = charge) using a per-point direction from the file's labels.

    * unsigned current (no negative value) with discharge labels: negate the discharge points;
    * signed current that mostly disagrees with the labels: negate it all, with a warning;
    * otherwise the file's sign is kept."""
    labelled = (sign != 0) & np.isfinite(current_a) & (current_a != 0)
    if not labelled.any():
        return current_a
    if not (current_a < 0).any() and (sign < 0).any():
        meta.inferred.append(f"current is magnitude-only in the file: sign taken from {label} (D = discharge = negative)")
        return np.where(sign < 0, -np.abs(current_a), current_a)
    agree = np.mean(np.sign(current_a[labelled]) == sign[labelled])
    if agree < 0.5:
        meta.warnings.append(
            f"current sign disagrees with {label} on {100 * (1 - agree):.0f} % of points: negated so that charge is positive"
        )
        meta.inferred.append(f"current negated to match {label} (file used positive = discharge)")
        return -current_a
    return current_a


def _classify_bad(frame, bad: np.ndarray, header: list[str]) -> dict[str, int]:
    """Reasons for rows that lack a numeric time/voltage/current."""
    if not bad.any():
        return {}
    sub = frame.loc[bad]
    as_text = sub.astype("string")
    blank = (as_text.isna() | (as_text.apply(lambda c: c.str.strip()) == "")).all(axis=1).to_numpy()
    first_col = frame.columns[0]
    repeated = (as_text[first_col].str.strip() == str(first_col).strip()).fillna(False).to_numpy(dtype=bool) & ~blank
    other = ~(blank | repeated)
    out = {}
    if blank.sum():
        out["blank line"] = int(blank.sum())
    if repeated.sum():
        out["repeated header line"] = int(repeated.sum())
    if other.sum():
        out["no numeric time, voltage or current (footer, comment or damaged line)"] = int(other.sum())
    return out


def canonicalise(
    raw: RawTable,
    spec: TableSpec,
    *,
    current_a: np.ndarray | None = None,
    current_source: str | None = None,
    time_s: np.ndarray | None = None,
    time_source: str | None = None,
    time_unit: str = "s",
) -> CyclingData:
    """Canonical :class:`CyclingData` from a :class:`RawTable` and its spec.

    Maps columns through the alias table with header units, drops rows without numeric time,
    voltage and current (counted by reason), applies the state sign rule, builds ``charge_ah``
    by the spec's rule, and keeps ``cycle``/``step`` from the file or derives them from the
    current sign (:mod:`cycler_cli.cycles`). ``current_a``/``time_s`` override the file's
    columns (readers that must derive them pass them in, with a source description)."""
    from cycler_cli.cycles import label_cycles, label_half_cycles

    table = raw.table  # a DataFrame, or a NumericTable (numpy columns, no pandas)
    meta = raw.meta
    path = meta.source
    decimal_comma = "decimal comma detected" in meta.inferred
    by_key: dict[str, str] = {}
    for header in table.columns:
        key = _key_for(spec, header)
        if key is None or key in by_key:
            continue
        unit = split_unit(header)[1].lower()
        family = KEY_FAMILY.get(key)
        if (family and unit and unit in UNIT_SCALES and UNIT_SCALES[unit][0] != family
                and not spec.force_units):
            continue  # e.g. PEC "Charge Capacity (mWh)" is an energy, not a charge
        by_key[key] = header

    values: dict[str, np.ndarray] = {}
    infos: dict[str, ColumnInfo] = {}
    for key, header in by_key.items():
        family = KEY_FAMILY.get(key)
        if family is None or (key == "time_s" and time_s is not None) or (key == "current_a" and current_a is not None):
            continue
        header_unit = split_unit(header)[1]
        if spec.force_units and spec.units.get(key):
            unit = spec.units[key]
        else:
            unit = header_unit or spec.units.get(key, "") or _CANONICAL_UNIT[family]
            if not header_unit and _is_numeric(table[header]):
                meta.inferred.append(f"column {header!r} has no unit in its header: read as {unit}")
        scale = unit_scale(unit, family, header, path)
        if family == "time":
            values[key] = to_seconds(table[header], scale)
        else:
            values[key] = to_float(table[header], decimal_comma) * scale
        infos[key] = ColumnInfo(key, header, unit)

    if time_s is not None:
        values["time_s"] = np.asarray(time_s, dtype=np.float64)
        infos["time_s"] = ColumnInfo("time_s", time_source or "derived", time_unit)
    if current_a is not None:
        values["current_a"] = np.asarray(current_a, dtype=np.float64)
        infos["current_a"] = ColumnInfo("current_a", current_source or "derived", "A")
    for needed in ("time_s", "voltage_v", "current_a"):
        if needed not in values:
            found = ", ".join(map(str, raw.header)) or "(none)"
            raise MissingColumnError(
                f"{spec.name}: no {needed} column (columns found: {found})",
                path=path,
                hint="map it with --reader generic-csv --columns " f"{needed}=COLUMN[:UNIT]",
            )

    good = np.isfinite(values["time_s"]) & np.isfinite(values["voltage_v"]) & np.isfinite(values["current_a"])
    keep_idx = None
    if not good.all():  # the reasons are read from the text as pandas has it (pandas imported only here)
        for reason, count in _classify_bad(raw.frame, ~good, raw.header).items():
            meta.rows_skipped[reason] = meta.rows_skipped.get(reason, 0) + count
        keep_idx = np.flatnonzero(good)

    def take(array):
        array = np.asarray(array)
        return array if keep_idx is None else array[keep_idx]

    values = {k: take(v) for k, v in values.items()}
    if not len(values["time_s"]):
        raise NoDataError(f"{spec.name}: no data rows with numeric time, voltage and current", path=path,
                          hint="check that the export holds data rows")

    out: dict[str, np.ndarray] = {"time_s": values["time_s"], "voltage_v": values["voltage_v"]}
    current = values["current_a"]

    sign = mode = None
    if "state" in by_key:
        # labels as pandas reads them (a numeric label column is int64 there: "1", not "1.0")
        sign, mode = state_sign(take(raw.frame[by_key["state"]].to_numpy()), spec)
        current = orient_current(current, sign, meta, f"column {by_key['state']!r}")
    out["current_a"] = current

    def index_column(key: str) -> np.ndarray | None:
        if key not in by_key:
            return None
        arr = to_float(table[by_key[key]])
        arr = take(arr)
        if not np.isfinite(arr).all():
            return None
        infos[key] = ColumnInfo(key, by_key[key], "")
        return arr.astype(np.int64)

    half = index_column("half_cycle")
    if half is None:
        half = label_half_cycles(current)
        meta.inferred.append("half_cycle derived from the current sign (the file does not number half-cycles)")
        infos["half_cycle"] = ColumnInfo("half_cycle", "derived: current sign", "")
    cycle = index_column("cycle")
    if cycle is None:
        cycle = label_cycles(half)
        meta.cycle_source = "derived from current sign"
        meta.inferred.append("cycle numbers derived from the current sign (the file has none)")
        infos["cycle"] = ColumnInfo("cycle", "derived: current sign", "")
    else:
        meta.cycle_source = "file"
    step = index_column("step")
    if step is None:
        step = np.zeros(len(current), dtype=np.int64)
        infos["step"] = ColumnInfo("step", "none in file: 0", "")
    out.update(cycle=cycle, half_cycle=half, step=step)

    charge = None
    rule = spec.charge_rule
    if rule == "net" and "q_net_ah" in values:
        charge = values["q_net_ah"] - values["q_net_ah"][0]
        infos["charge_ah"] = ColumnInfo("charge_ah", by_key["q_net_ah"], infos["q_net_ah"].unit)
    elif rule in ("accumulators", "net") and "q_charge_ah" in values and "q_discharge_ah" in values:
        charge = net_charge_from_accumulators(values["q_charge_ah"], values["q_discharge_ah"])
        infos["charge_ah"] = ColumnInfo(
            "charge_ah", f"derived: increments of {by_key['q_charge_ah']} minus {by_key['q_discharge_ah']}",
            infos["q_charge_ah"].unit)
    elif rule == "step" and "q_step_ah" in values:
        direction = sign if sign is not None and (sign != 0).any() else np.sign(current).astype(np.int8)
        starts = np.r_[True, step[1:] != step[:-1]] if "step" in by_key and spec.reset_on_step else None
        charge = net_charge_from_step_capacity(values["q_step_ah"], direction, starts)
        infos["charge_ah"] = ColumnInfo(
            "charge_ah", f"derived: per-step {by_key['q_step_ah']} signed by the point's direction",
            infos["q_step_ah"].unit)
    if charge is not None:
        out["charge_ah"] = charge
    if "energy_wh" in values:
        out["energy_wh"] = values["energy_wh"]
    if "temperature_c" in values:
        out["temperature_c"] = values["temperature_c"]
    if mode is not None and (mode != 0).any():
        out["control_mode"] = mode
        infos["control_mode"] = ColumnInfo("control_mode", f"derived: {by_key['state']}", "")

    if meta.start_time is None and "datetime" in by_key:
        meta.start_time = first_datetime(table[by_key["datetime"]])

    meta.columns = [infos[k] for k in out if k in infos]
    return CyclingData.from_columns(out, meta)


def read_with_spec(path: Path | str, spec: TableSpec, **kwargs) -> CyclingData:
    """The whole text path for a spec: :func:`read_text_table` then :func:`canonicalise`."""
    raw = read_text_table(path, spec, **kwargs)
    return canonicalise(raw, spec)


def frame_table(frame, spec: TableSpec, source: str, data_lines: int | None = None) -> RawTable:
    """A :class:`RawTable` from an in-memory frame (Excel sheets, NewareNDA output)."""
    header = [str(c) for c in frame.columns]
    frame = frame.copy()
    frame.columns = header
    meta = RunMeta(source=source, reader=spec.name)
    return RawTable(table=frame.reset_index(drop=True), header=header, meta=meta,
                    data_lines=len(frame) if data_lines is None else data_lines)


def names(*items: str) -> frozenset[str]:
    """A signature group from header spellings (normalised here)."""
    return frozenset(normalise(i) for i in items)
