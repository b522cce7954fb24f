"""Reader for BioLogic EC-Lab / BT-Lab binary ``.mpr`` files (reader name ``biologic-mpr``).

What it reads
    The file magic ``BIO-LOGIC MODULAR FILE\\x1a``, then ``MODULE`` blocks, each with a v1 header
    (EC-Lab < 11.50: short name, long name, length, version, date) or a v2 header (EC-Lab >=
    11.50: an extra max-length field and a second version word), as galvani documents them.
    The walk is the project's own: one ``open``, headers read at their offsets, offsets checked
    against the file size, so a declared length is never an allocation. The data records are
    streamed (a few MB at a time into one buffer) straight into the canonical columns, so the
    file's bytes are never all in memory: the read's peak is the columns themselves (about
    1.1 × the file for a GCPL file; ``docs/performance.md``).

    * ``VMP Set`` (settings): technique (first byte; id -> name after yadg), active material
      mass (f4 at 0x107, mg), electrode surface area (f4 at 0x211, unit code at 0x250:
      2 = cm², 3 = mm²), characteristic mass (f4 at 0x24C, unit code at 0x251: 1 = g,
      2 = mg). EC-Lab's placeholders (0.001 in any unit, 7000 mg, 0, NaN) come out as ``None``.
    * ``VMP data``: number of points, column IDs, then fixed-size records read with
      ``numpy.frombuffer`` and a structured dtype. Module versions 0 (IDs as bytes from 5,
      records from 100; or IDs as big-endian u2, records from 1007), 2 (little-endian u2 IDs,
      records from 405) and 3 (from 406). Column IDs -> names and types:
      :mod:`cycler_cli.io.ecl_columns` (galvani's map plus the IDs it lacks).
    * ``VMP LOG``: the start time, an OLE date (days since 1899-12-30, local time of the
      instrument PC, no time zone) at byte 465, 469, 473 or 585 (galvani's offsets).
    * ``VMP loop`` and ``VMP ExtDev`` are recognised and not used.

Schema
    The BioLogic-named columns go through :func:`cycler_cli.io.biologic_common.to_cycling_data`
    (voltage ``Ecell/V`` > ``Ewe-Ece/V`` > ``Ewe/V`` > ``<Ewe>/V``; current ``I/mA`` > ``<I>/mA`` >
    derived from ``control/V/mA`` and ``mode``, or ``dq/mA.h`` over the time step; rest-only
    files get 0 A). The ``.mpr`` stores ``Ewe`` and ``Ece`` but not their difference: when both
    are recorded (and the file is not an impedance file) the reader adds ``Ewe-Ece/V`` as
    EC-Lab's ``.mpt`` export does, so the cell voltage is the same from either file.
    ``meta.format_version`` is e.g. ``"data module v3"``; ``meta.extra`` keeps the module list,
    column IDs, how each ID was resolved, the technique id and title, and the raw settings.

Damaged files
    A file cut inside the data module reads every complete record; ``meta.warnings`` names the
    records and bytes cut and ``rows_skipped["partial last record"]`` is 1 when a record is cut
    in two. A file that ends before the data module's records start, or whose declared lengths
    contradict each other, raises :class:`~cycler_cli.errors.CorruptFileError` (exit 3).

Known uncertainties
    The format is reverse engineered (galvani, yadg). The meaning of an ID above 255 is taken
    from its low byte in v0 data modules (as galvani reads them), the settings offsets are
    yadg's and hold for EC-Lab 10.40-11.6x files seen so far, and the area / characteristic
    mass unit codes were read off pairs of ``.mpr`` and ``.mpt`` files: a code not seen yet
    leaves the value unset with a warning. Active material mass is taken to be in mg (every
    ``.mpt`` seen writes mg). Unknown column IDs are kept as ``unknown_<id>`` with a byte width
    inferred from the record length. Full notes: ``docs/formats/biologic-mpr.md``.
"""

from __future__ import annotations

import os
import stat
import struct
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from cycler_cli import arrays
from cycler_cli.errors import CorruptFileError, UnsupportedFormatError

MAGIC = b"BIO-LOGIC MODULAR FILE\x1a"
#: The magic padded with spaces to 48 bytes, then four zero bytes.
FILE_HEADER_BYTES = 52
MODULE_MAGIC = b"MODULE"
_HDR_V1 = struct.Struct("<10s25sII8s")  # short name, long name, length, version, date
_HDR_V2 = struct.Struct("<10s25sIIII8s")  # ..., max length, length, version, unknown2, date

#: Settings-module offsets (yadg ``mpr_columns.settings_dtypes``; unit codes from .mpr/.mpt pairs).
_OFF_TECHNIQUE = 0x000
_OFF_ACTIVE_MASS = 0x107
_OFF_MATERIAL = 0x11E
_OFF_AREA = 0x211
_OFF_REFERENCE = 0x215
_OFF_CHAR_MASS = 0x24C
_OFF_AREA_UNIT = 0x250
_OFF_CHAR_MASS_UNIT = 0x251
_SETTINGS_MIN_BYTES = 0x252
#: unit code -> (unit, factor to cm² or mg, as a decimal string so 113.1 mm² is exactly 1.131 cm²)
_AREA_UNITS_CM2 = {2: ("cm²", "1"), 3: ("mm²", "0.01")}
_MASS_UNITS_MG = {1: ("g", "1000"), 2: ("mg", "1")}

#: galvani's candidate offsets of the OLE start time in the LOG module, and its plausibility window.
_LOG_TIMESTAMP_OFFSETS = (465, 469, 473, 585)
_OLE_MIN_DAYS, _OLE_MAX_DAYS = 40000.0, 50000.0
_OLE_EPOCH = datetime(1899, 12, 30)

_UNKNOWN_WIDTH_DTYPES = {1: "u1", 2: "<u2", 4: "<f4", 8: "<f8"}


@dataclass
class Module:
    """One ``MODULE`` block as found in the file. ``start`` is the file offset of its payload,
    ``length`` the declared payload length, ``available`` how many of those bytes the file holds."""

    index: int
    short_name: str
    long_name: str
    header_version: int
    version: int
    version2: int | None
    length: int
    max_length: int | None
    date: str
    start: int
    available: int

    @property
    def truncated(self) -> bool:
        return self.available < self.length


@dataclass
class ModuleWalk:
    """Result of :func:`walk_modules`: the modules, and where the file ends early if it does."""

    modules: list[Module]
    cut_at: int | None = None  # file offset where a module header or payload is cut
    cut_in: str | None = None  # what was being read there
    trailing_bytes: int = 0
    warnings: list[str] = field(default_factory=list)


class _BytesSource:
    """The file's bytes, all in memory (:func:`parse_mpr`)."""

    def __init__(self, buf: bytes) -> None:
        self.buf = buf
        self.size = len(buf)

    def read(self, pos: int, n: int) -> bytes:
        return self.buf[pos : pos + n]

    def any_from(self, pos: int) -> bool:
        return any(self.buf[pos:])


class _FileSource:
    """An open regular file read at offsets, so the data records need never be in memory at
    once (:func:`read_mpr` streams them, :func:`_stage_columns`)."""

    def __init__(self, fh) -> None:
        self.fh = fh
        self.size = os.fstat(fh.fileno()).st_size

    def read(self, pos: int, n: int) -> bytes:
        n = max(0, min(n, self.size - pos))
        self.fh.seek(pos)
        out = bytearray(n)
        _readinto_full(self.fh, memoryview(out), pos)
        return bytes(out)

    def any_from(self, pos: int) -> bool:
        step = 1 << 20
        return any(any(self.read(p, step)) for p in range(pos, self.size, step))


def _readinto_full(fh, view: memoryview, pos: int) -> None:
    """Fill ``view`` from ``fh`` (positioned at file offset ``pos``); a file that ends first
    has changed since its size was taken."""
    got = 0
    while got < len(view):
        n = fh.readinto(view[got:])
        if not n:
            raise _ended(pos + got)
        got += n


def _pread_full(fd: int, view: memoryview, pos: int) -> None:
    """:func:`_readinto_full` at an explicit offset of file descriptor ``fd`` (``os.pread``,
    which leaves the file position alone, so two threads can read one file; for a few bytes)."""
    got = 0
    while got < len(view):
        part = os.pread(fd, len(view) - got, pos + got)
        if not part:
            raise _ended(pos + got)
        view[got : got + len(part)] = part
        got += len(part)


def _ended(at: int) -> CorruptFileError:
    return CorruptFileError(
        f"the file ended at byte {at} while it was read, before the size it had when opened",
        hint="EC-Lab may still be writing it; read it again once the run has ended",
    )


def walk_modules(buf) -> ModuleWalk:
    """Walk the ``MODULE`` blocks after the file header. Never raises on a short file: a cut
    is reported in ``cut_at``/``cut_in``; garbage where no module starts raises
    :class:`CorruptFileError` only when no module was found at all. ``buf`` is the file's
    bytes (or a source that reads them at offsets)."""
    src = buf if isinstance(buf, (_BytesSource, _FileSource)) else _BytesSource(buf)
    size = src.size
    pos = FILE_HEADER_BYTES
    walk = ModuleWalk(modules=[])
    while pos < size:
        block = src.read(pos, len(MODULE_MAGIC) + _HDR_V2.size)
        tail = block[: len(MODULE_MAGIC)]
        if tail != MODULE_MAGIC:
            if MODULE_MAGIC.startswith(tail):  # the file ends inside the word MODULE
                walk.cut_at, walk.cut_in = pos, f"the header of module {len(walk.modules) + 1}"
                break
            if not walk.modules:
                raise CorruptFileError(
                    f"no MODULE block after the file header (found {bytes(tail)!r} at byte {pos})",
                    hint="the file is damaged; copy it again from the instrument PC",
                )
            walk.trailing_bytes = size - pos
            if src.any_from(pos):
                walk.warnings.append(f"{size - pos} bytes after the last module are not a MODULE block; ignored")
            break
        hpos = pos + len(MODULE_MAGIC)
        if size - hpos < _HDR_V1.size:
            walk.cut_at, walk.cut_in = pos, f"the header of module {len(walk.modules) + 1}"
            break
        hdr = block[len(MODULE_MAGIC) :]
        is_v2 = hdr[35:39] == b"\xff\xff\xff\xff"
        if is_v2:
            if size - hpos < _HDR_V2.size:
                walk.cut_at, walk.cut_in = pos, f"the header of module {len(walk.modules) + 1}"
                break
            short, long_, max_len, length, version, version2, date = _HDR_V2.unpack_from(hdr)
            start = hpos + _HDR_V2.size
        else:
            short, long_, length, version, date = _HDR_V1.unpack_from(hdr)
            max_len, version2 = None, None
            start = hpos + _HDR_V1.size
        module = Module(
            index=len(walk.modules) + 1,
            short_name=short.decode("latin-1").strip(" \x00"),
            long_name=long_.decode("latin-1").strip(" \x00"),
            header_version=2 if is_v2 else 1,
            version=int(version),
            version2=None if version2 is None else int(version2),
            length=int(length),
            max_length=None if max_len is None else int(max_len),
            date=date.decode("latin-1").strip(" \x00"),
            start=start,
            available=max(0, min(int(length), size - start)),
        )
        walk.modules.append(module)
        if module.truncated:
            walk.cut_at, walk.cut_in = size, f"module {module.index} ({module.short_name or '?'})"
            break
        pos = start + module.length
    return walk


# --------------------------------------------------------------------------- settings, log


def _f4(buf: bytes, offset: int) -> float:
    return float(np.frombuffer(buf, dtype="<f4", count=1, offset=offset)[0])


def _as_typed(raw: float, factor: str) -> float:
    """The float32 ``raw`` as the decimal the user typed (its shortest float32 repr: 1.39, not
    1.3899999857), times ``factor``."""
    typed = Decimal(np.format_float_positional(np.float32(raw), unique=True, trim="-"))
    return float(typed * Decimal(factor))


def _placeholder(raw: float) -> bool:
    """EC-Lab's "not set": 0.001 (its default in every unit), zero, negative, NaN or inf."""
    return (not np.isfinite(raw)) or raw <= 0.0 or bool(np.isclose(raw, 0.001, rtol=1e-5, atol=0.0))


@dataclass
class Settings:
    technique_id: int | None = None
    technique: str | None = None
    active_mass_mg: float | None = None
    characteristic_mass_mg: float | None = None
    electrode_area_cm2: float | None = None
    raw: dict[str, Any] = field(default_factory=dict)


def parse_settings(payload: bytes, warnings: list[str]) -> Settings:
    """Technique, masses (mg) and area (cm²) from a ``VMP Set`` payload (see module docstring)."""
    from cycler_cli.io.ecl_columns import technique_name

    out = Settings()
    if len(payload) < 1:
        warnings.append("settings module is empty: technique, mass and area unknown")
        return out
    out.technique_id = payload[_OFF_TECHNIQUE]
    out.technique = technique_name(out.technique_id)
    if out.technique is None:
        warnings.append(f"technique id {out.technique_id} is not known to cycler; technique left unset")
    if len(payload) < _SETTINGS_MIN_BYTES:
        warnings.append(f"settings module has {len(payload)} bytes, fewer than the {_SETTINGS_MIN_BYTES} that hold mass and area; not read")
        return out
    # Pascal strings that must fit the gaps yadg documents; if not, the layout is another one.
    material_len = payload[_OFF_MATERIAL]
    reference_len = payload[_OFF_REFERENCE]
    if material_len > 0x1C0 - _OFF_MATERIAL - 1 or reference_len > _OFF_CHAR_MASS - _OFF_REFERENCE - 1:
        warnings.append("settings module layout not recognised (string fields overflow); mass and area not read")
        return out
    active_raw = _f4(payload, _OFF_ACTIVE_MASS)
    area_raw = _f4(payload, _OFF_AREA)
    char_raw = _f4(payload, _OFF_CHAR_MASS)
    area_code = payload[_OFF_AREA_UNIT]
    mass_code = payload[_OFF_CHAR_MASS_UNIT]
    out.raw = {
        "active_mass": active_raw,
        "electrode_area": area_raw,
        "electrode_area_unit_code": area_code,
        "characteristic_mass": char_raw,
        "characteristic_mass_unit_code": mass_code,
    }
    if not _placeholder(active_raw) and not np.isclose(active_raw, 7000.0):
        out.active_mass_mg = _as_typed(active_raw, "1")
    if not _placeholder(area_raw):
        if area_code in _AREA_UNITS_CM2:
            out.electrode_area_cm2 = _as_typed(area_raw, _AREA_UNITS_CM2[area_code][1])
        else:
            warnings.append(f"electrode area {area_raw:g} has an unknown unit code {area_code}; area left unset")
    if not _placeholder(char_raw):
        if mass_code in _MASS_UNITS_MG:
            value = _as_typed(char_raw, _MASS_UNITS_MG[mass_code][1])
            if not np.isclose(value, 7000.0):
                out.characteristic_mass_mg = value
        else:
            warnings.append(f"characteristic mass {char_raw:g} has an unknown unit code {mass_code}; left unset")
    return out


def parse_log_start(payload: bytes) -> datetime | None:
    """Start time from a ``VMP LOG`` payload (galvani's offsets and window), or ``None``."""
    for offset in _LOG_TIMESTAMP_OFFSETS:
        if offset + 8 > len(payload):
            continue
        days = float(np.frombuffer(payload, dtype="<f8", count=1, offset=offset)[0])
        if _OLE_MIN_DAYS < days < _OLE_MAX_DAYS:
            return _OLE_EPOCH + timedelta(days=days)
    return None


def _module_date(text: str):
    """A module header date (``mm/dd/yy`` and variants) via galvani, or ``None``."""
    from galvani.BioLogic import parse_BioLogic_date

    try:
        return parse_BioLogic_date(text)
    except (ValueError, UnicodeDecodeError):
        return None


# --------------------------------------------------------------------------- data module


@dataclass
class DataModule:
    """The parsed data module: BioLogic-named columns and what was learnt on the way."""

    columns: dict[str, np.ndarray]
    n_declared: int
    n_read: int
    column_ids: list[int]
    record_bytes: int
    version: int
    cut_record: bool = False
    via: dict[str, str] = field(default_factory=dict)
    #: non-flag record fields in file order: (column name, column ID)
    fields: list[tuple[str, int]] = field(default_factory=list)
    #: the records' structured dtype, the file offset of the first record, and the resolved
    #: (column spec, record field or None) pairs, for readers that stream the records
    record_dtype: np.dtype | None = None
    records_offset: int = 0
    layout: list = field(default_factory=list, repr=False)


def _record_layout(specs, n_points: int, payload_bytes: int | None, warnings: list[str]) -> tuple[np.dtype, list]:
    """The structured record dtype for resolved column specs; fills in unknown widths from
    ``payload_bytes / n_points`` (``payload_bytes`` = declared record bytes, or ``None``)."""
    known = 0
    seen_flags = False
    unknown = []
    for spec in specs:
        if spec.is_flag:
            if not seen_flags:
                known += 1
                seen_flags = True
        elif spec.dtype is None:
            unknown.append(spec)
        else:
            known += np.dtype(spec.dtype).itemsize
    widths: dict[int, int] = {}
    if unknown:
        ids = ", ".join(str(s.col_id) for s in unknown)
        if n_points == 0 or payload_bytes is None:
            widths = {s.col_id: 0 for s in unknown}
        else:
            if payload_bytes % n_points:
                raise CorruptFileError(
                    f"column ID(s) {ids} unknown and the record length cannot be worked out "
                    f"({payload_bytes} bytes for {n_points} points)",
                    hint="report the file to the cycler developers with the EC-Lab version that wrote it",
                )
            spare = payload_bytes // n_points - known
            each, rest = divmod(spare, len(unknown))
            if spare <= 0 or rest or each not in _UNKNOWN_WIDTH_DTYPES and len(unknown) > 1:
                raise CorruptFileError(
                    f"column ID(s) {ids} unknown; {spare} spare bytes per record cannot be split between them",
                    hint="report the file to the cycler developers with the EC-Lab version that wrote it",
                )
            widths = {s.col_id: each for s in unknown}
            for s in unknown:
                warnings.append(
                    f"column ID {s.col_id} is unknown to cycler and galvani: kept as unknown_{s.col_id} "
                    f"({each} bytes per record, inferred from the record length)"
                )
    fields: list[tuple[str, str]] = []
    names_used: dict[str, int] = {}
    layout = []  # (spec, field name or None)
    for spec in specs:
        if spec.is_flag:
            if "flags" not in names_used:
                fields.append(("flags", "u1"))
                names_used["flags"] = 1
            layout.append((spec, "flags"))
            continue
        if spec.dtype is None:
            width = widths.get(spec.col_id, 0)
            if width == 0:
                layout.append((spec, None))
                continue
            dtype = _UNKNOWN_WIDTH_DTYPES.get(width, f"V{width}")
        else:
            dtype = spec.dtype
        count = names_used.get(spec.name, 0) + 1
        names_used[spec.name] = count
        fname = spec.name if count == 1 else f"{spec.name} {count}"  # galvani's duplicate naming
        fields.append((fname, dtype))
        layout.append((spec, fname))
    return np.dtype(fields), layout


def parse_data_module(buf: bytes, module: Module, technique: str | None, warnings: list[str], rows_skipped: dict[str, int]) -> DataModule:
    """Columns from the ``VMP data`` module (see module docstring). ``buf`` is the whole file."""
    data = read_data_header(_BytesSource(buf), module, technique, warnings, rows_skipped)
    records = np.frombuffer(buf, dtype=data.record_dtype, count=data.n_read, offset=data.records_offset)
    for spec, fname in data.layout:
        if fname is None:
            continue
        if spec.is_flag:
            bits = records["flags"] & np.uint8(spec.flag_mask)
            data.columns[spec.name] = bits.astype(np.uint8) if spec.flag_dtype == "uint8" else bits != 0
        else:
            data.columns[fname] = records[fname]
    return data


#: The longest data-module header (version 0 with two-byte column IDs).
_DATA_HEADER_MAX = 1007


def read_data_header(src, module: Module, technique: str | None, warnings: list[str], rows_skipped: dict[str, int]) -> DataModule:
    """Everything about the ``VMP data`` module but its records: point count, column IDs,
    record layout, how many complete records the file holds (warnings and ``rows_skipped`` for
    a cut). ``src`` reads the file at offsets; ``columns`` is left empty."""
    from cycler_cli.io.ecl_columns import resolve_column

    start, avail = module.start, module.available
    if avail < 6:
        raise CorruptFileError(
            f"the data module holds only {avail} bytes, too few for its own header",
            hint="the file is truncated or damaged; copy it again once EC-Lab has finished writing it",
        )
    head = src.read(start, _DATA_HEADER_MAX)
    n_points = int.from_bytes(head[0:4], "little")
    n_cols = head[4]
    version = module.version
    if version == 0:
        if head[5]:
            id_bytes, data_offset = n_cols, 100
            ids = list(head[5 : 5 + n_cols])
        else:
            id_bytes, data_offset = 2 * n_cols, 1007
            ids = np.frombuffer(head, dtype=">u2", count=n_cols, offset=5).tolist() if avail >= 5 + id_bytes else []
    elif version in (2, 3):
        id_bytes, data_offset = 2 * n_cols, 405 if version == 2 else 406
        ids = np.frombuffer(head, dtype="<u2", count=n_cols, offset=5).tolist() if avail >= 5 + id_bytes else []
    else:
        raise UnsupportedFormatError(
            f"data module version {version} is not one cycler knows (0, 2, 3)",
            hint="export the run to .mpt from EC-Lab and read that file",
        )
    if 5 + id_bytes > data_offset:
        raise CorruptFileError(
            f"the data module lists {n_cols} columns, more than its header can hold",
            hint="the file is damaged; copy it again from the instrument PC",
        )
    if module.length < data_offset:
        raise CorruptFileError(
            f"the data module declares {module.length} bytes, fewer than its own {data_offset}-byte header",
            hint="the file is damaged; copy it again from the instrument PC",
        )
    if avail < data_offset:
        raise CorruptFileError(
            f"the file ends inside the data module's header (byte {start + avail} of {start + data_offset}), before any data record",
            hint="the file is truncated; copy it again once EC-Lab has finished writing it",
        )
    specs = [resolve_column(int(i), [int(j) for j in ids], version, technique) for i in ids]
    declared_payload = module.length - data_offset
    rec_dtype, layout = _record_layout(specs, n_points, declared_payload, warnings)
    itemsize = rec_dtype.itemsize
    if itemsize == 0:
        raise CorruptFileError("the data module lists no column", hint="the file is damaged")
    expected = n_points * itemsize
    if module.truncated and declared_payload != expected:
        raise CorruptFileError(
            f"the data module declares {module.length} bytes but the file holds only {avail} of them, "
            f"and the declared length does not match its {n_points} points of {itemsize} bytes",
            hint="the file is damaged; copy it again from the instrument PC",
        )
    payload = avail - data_offset
    if not module.truncated and declared_payload > expected:
        warnings.append(f"the data module holds {declared_payload - expected} bytes beyond its {n_points} declared records; ignored")
    # A truncated module has declared == expected (checked above), so this covers both cases.
    n_complete, cut_bytes = divmod(min(payload, expected), itemsize)
    n_read = min(n_points, n_complete)
    cut_record = False
    if n_read < n_points:
        missing = n_points - n_read
        if module.truncated:
            msg = f"the file ends inside the data module: {n_read} of {n_points} declared records read, {missing} missing"
        else:
            msg = f"the data module is shorter than its {n_points} declared records: {n_read} read, {missing} missing"
        if cut_bytes:
            msg += f"; the last record is cut after {cut_bytes} of its {itemsize} bytes"
            rows_skipped["partial last record"] = rows_skipped.get("partial last record", 0) + 1
            cut_record = True
        warnings.append(msg)
    via: dict[str, str] = {}
    ordered: list[tuple[str, int]] = []
    for spec, fname in layout:
        if fname is None:
            continue
        if spec.is_flag:
            via[spec.name] = f"column ID {spec.col_id} ({spec.via})"
        else:
            via[fname] = f"column ID {spec.col_id} ({spec.via})"
            ordered.append((fname, spec.col_id))
    return DataModule(
        {}, n_points, n_read, [int(i) for i in ids], itemsize, version, cut_record, via, ordered,
        record_dtype=rec_dtype, records_offset=start + data_offset, layout=layout,
    )


# --------------------------------------------------------------------------- reader


@dataclass
class MprContents:
    """Everything :func:`parse_mpr` learns from the bytes, before the canonical mapping."""

    walk: ModuleWalk
    settings: Settings
    data: DataModule
    start_time: datetime | None
    warnings: list[str]
    rows_skipped: dict[str, int]

    @property
    def columns(self) -> dict[str, np.ndarray]:
        """BioLogic-named columns (raw types, views into the file's bytes; flags unpacked).
        Filled by :func:`parse_mpr`; empty when :func:`read_mpr` streams the records instead."""
        return self.data.columns


def parse_mpr(buf: bytes) -> MprContents:
    """Parse the bytes of an ``.mpr`` file (see module docstring). Raises
    :class:`UnsupportedFormatError` without the magic, :class:`CorruptFileError` when the
    bytes contradict the format before any data record."""
    return _parse(_BytesSource(buf))


def _parse(src) -> MprContents:
    """:func:`parse_mpr` on a source that reads the file at offsets. For a
    :class:`_FileSource` the data module's records are not read (``data.columns`` is empty;
    :func:`_stage_columns` streams them)."""
    size = src.size
    head = src.read(0, len(MAGIC))
    if not head.startswith(MAGIC) and not (head and size <= len(MAGIC) and MAGIC.startswith(head)):
        raise UnsupportedFormatError(
            "not a BioLogic .mpr file (no BIO-LOGIC MODULAR FILE magic)",
            hint="pass --reader NAME for another format",
        )
    if size < FILE_HEADER_BYTES:
        raise CorruptFileError(
            f"the file ends after {size} bytes, inside its {FILE_HEADER_BYTES}-byte header",
            hint="the file is truncated; copy it again once EC-Lab has finished writing it",
        )
    warnings: list[str] = []
    rows_skipped: dict[str, int] = {}
    walk = walk_modules(src)
    warnings.extend(walk.warnings)
    by_name: dict[str, list[Module]] = {}
    for module in walk.modules:
        by_name.setdefault(module.short_name, []).append(module)
    data_modules = by_name.get("VMP data", [])
    settings_modules = by_name.get("VMP Set", [])
    if not data_modules:
        if walk.cut_at is not None:
            raise CorruptFileError(
                f"the file ends at byte {size}, inside {walk.cut_in}, before the data module",
                hint="the file is truncated; copy it again once EC-Lab has finished writing it",
            )
        names = ", ".join(m.short_name for m in walk.modules) or "none"
        raise CorruptFileError(
            f"no data module (VMP data) in the file (modules: {names})",
            hint="the file holds settings only; open the run's data file (the .mpr with the channel suffix)",
        )
    data_module = data_modules[0]
    if len(data_modules) > 1:
        warnings.append(f"{len(data_modules)} data modules; only the first is read")
    settings = Settings()
    if settings_modules:
        sm = settings_modules[0]
        if sm.truncated:  # only when the data module came first; EC-Lab writes settings first
            warnings.append("the settings module is cut; technique, mass and area not read")
        else:
            settings = parse_settings(src.read(sm.start, sm.length), warnings)
    else:
        warnings.append("no settings module (VMP Set): technique, mass and area unknown")

    if isinstance(src, _BytesSource):
        data = parse_data_module(src.buf, data_module, settings.technique, warnings, rows_skipped)
    else:
        data = read_data_header(src, data_module, settings.technique, warnings, rows_skipped)
    if data.n_declared == 0:
        warnings.append("no data records: the run holds 0 points")

    start_time = None
    log_modules = by_name.get("VMP LOG", [])
    if not log_modules and data_module.truncated:
        warnings.append("the start time is unknown: the LOG module would follow the cut")
    elif not log_modules:
        warnings.append("no LOG module: the start time is unknown")
    elif log_modules[0].truncated:
        warnings.append("the LOG module is cut: the start time is unknown")
    else:
        lm = log_modules[0]
        start_time = parse_log_start(src.read(lm.start, lm.length))
        if start_time is None:
            warnings.append("no start time found in the LOG module")
        elif settings_modules:
            set_date = _module_date(settings_modules[0].date)
            if set_date is not None and set_date != start_time.date():
                warnings.append(
                    f"the LOG start time {start_time.isoformat()} is not on the settings module's date {set_date.isoformat()}"
                )
    if walk.cut_at is not None and not data_module.truncated:
        warnings.append(f"the file ends inside {walk.cut_in}, after the data module")
    for name in by_name:
        if name not in ("VMP Set", "VMP data", "VMP LOG", "VMP loop", "VMP ExtDev"):
            warnings.append(f"module {name!r} is not one cycler knows; ignored")
    return MprContents(walk, settings, data, start_time, warnings, rows_skipped)


#: Bytes of records read at a time when :func:`read_mpr` streams the data module: large enough
#: that the per-chunk overhead vanishes, small enough that a chunk stays in the core's L2 cache
#: while its fields are copied out (strided gathers from a chunk that does not fit cost four
#: times as much; 512 KiB fits the 1-2 MiB L2 of current x86 cores with room for the columns'
#: blocks; measured at 10^6 points: 4 MiB 38.8 ms, 1 MiB 28.3, 512 KiB 27.7, 128 KiB 31.3).
_CHUNK_BYTES = 1 << 19


def read_mpr(path: Path | str):
    """Read an ``.mpr`` file into :class:`~cycler_cli.model.CyclingData` (see module docstring).

    Current is in A, positive = oxidation at the working electrode (BioLogic's own sign).

    The data records are streamed: read :data:`_CHUNK_BYTES` at a time into one reusable
    buffer, and only the fields the canonical columns need are copied out, already converted,
    into the arrays that become those columns (the current is derived on the way,
    :class:`~cycler_cli.io.biologic_common.CurrentDerivation`). Memory is the canonical
    columns plus one chunk, not the file plus the columns; the result is the same, bit for
    bit, as reading the whole file into memory (:func:`_read_mpr_buffer`)."""
    from cycler_cli.errors import CyclerError

    path = Path(path)
    with open(path, "rb", buffering=0) as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):  # a pipe or a device: nothing to read at offsets
            return _read_mpr_buffer(fh.readall(), path)
        try:
            contents = _parse(_FileSource(fh))
            staged = _stage_columns(fh, contents.data)
        except CyclerError as exc:
            exc.path = exc.path or str(path)
            raise
    return _to_cycling_data(path, contents, staged)


def _read_mpr_buffer(buf: bytes, path: Path | str):
    """:func:`read_mpr` on the file's bytes, all in memory: the columns are views into ``buf``
    (how a pipe is read, and the reference the streamed read is tested against)."""
    from cycler_cli.errors import CyclerError

    try:
        contents = parse_mpr(buf)
    except CyclerError as exc:
        exc.path = exc.path or str(path)
        raise
    return _to_cycling_data(Path(path), contents, None)


@dataclass
class _Staged:
    """What :func:`_stage_columns` hands to :func:`_to_cycling_data`."""

    columns: dict[str, np.ndarray]
    current_ma: Any  # derive_current_ma's result, or biologic_common._DERIVE
    cell_voltage: str | None  # "Ewe/V - Ece/V" when the cell voltage is computed


def _record_chunks(fh, data: DataModule):
    """``(slice of points, structured records)`` for consecutive chunks of the data module's
    complete records, read into one reusable buffer (each chunk is valid until the next)."""
    itemsize = data.record_bytes
    per_chunk = max(1, _CHUNK_BYTES // itemsize)
    buffer = arrays.empty(min(per_chunk, max(data.n_read, 1)) * itemsize, dtype=np.uint8)  # not zeroed
    view = memoryview(buffer)
    fh.seek(data.records_offset)
    done = 0
    while done < data.n_read:
        k = min(per_chunk, data.n_read - done)
        _readinto_full(fh, view[: k * itemsize], data.records_offset + done * itemsize)
        yield slice(done, done + k), np.frombuffer(buffer, dtype=data.record_dtype, count=k)
        done += k


def _stage_columns(fh, data: DataModule) -> _Staged:
    """Stream the records once: the columns :func:`~cycler_cli.io.biologic_common.columns_read`
    names, as contiguous arrays in its dtypes, the cell voltage ``Ewe - Ece`` when
    :func:`_cell_voltage` would compute it, and the derived current when there is no current
    column."""
    from cycler_cli.io.biologic_common import _DERIVE, CURRENT_PRIORITY, CurrentDerivation, _first, columns_read

    fields: dict[str, tuple[str, Any]] = {}  # BioLogic name -> (record field, flag spec or None)
    for spec, fname in data.layout:
        if fname is not None:
            fields[spec.name if spec.is_flag else fname] = ("flags", spec) if spec.is_flag else (fname, None)
    pair = _cell_voltage_pair(fields)
    names = dict.fromkeys([*fields, "Ewe-Ece/V"] if pair else fields)
    n = data.n_read
    columns: dict[str, np.ndarray] = {}
    for name, dtype in columns_read(names).items():
        if name == "Ewe-Ece/V" and pair:
            columns[name] = arrays.empty(n)
            continue
        fname, flag = fields[name]
        if dtype is None:
            dtype = (np.uint8 if flag.flag_dtype == "uint8" else np.bool_) if flag else data.record_dtype[fname]
        columns[name] = arrays.empty(n, dtype=dtype)
    current_ma: Any = _DERIVE
    derivation = None
    if n and "time/s" in columns and _first(names, CURRENT_PRIORITY) is None:
        derivation = CurrentDerivation(names, n)
        if derivation.kind is None:
            current_ma, derivation = None, None
    kernels, by_kernel, derive_plan = _native_plan(data, fields, columns, pair, derivation)
    by_numpy = {name: out for name, out in columns.items() if name not in by_kernel}
    kernel_fields = list(by_kernel.values())
    one_call = (
        kernels is not None
        and hasattr(kernels, "stage")
        and n > 0
        and not by_numpy
        and "time/s" in columns
        and (derivation is None or derive_plan is not None)
    )
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        if one_call:
            _stage_native(fh, data, kernels, kernel_fields, derivation, derive_plan, columns, _two_threads(data))
        else:
            for sl, records in _record_chunks(fh, data):
                if kernel_fields:
                    kernels.gather(records, records.size, data.record_bytes, sl.start, kernel_fields)
                for name, out in by_numpy.items():
                    if name == "Ewe-Ece/V" and pair:
                        np.subtract(records[pair[0]], records[pair[1]], out=out[sl], dtype=np.float64)
                        continue
                    fname, flag = fields[name]
                    if flag is None:
                        out[sl] = records[fname]
                    elif flag.flag_dtype == "uint8":
                        np.bitwise_and(records["flags"], np.uint8(flag.flag_mask), out=out[sl])
                    else:
                        out[sl] = (records["flags"] & np.uint8(flag.flag_mask)) != 0
                if derive_plan is not None:
                    derivation.add_native(
                        kernels, derive_plan, records, records.size, data.record_bytes, columns["time/s"], columns.get("mode")
                    )
                elif derivation is not None:
                    time_s = columns["time/s"]
                    derivation.add(
                        time_s[sl],
                        **{key: columns[name][sl] if key == "mode" else records[fields[name][0]] for key, name in derivation.needs.items()},
                    )

        def whole_columns() -> dict[str, np.ndarray]:
            """The columns the derivation reads, whole: a second pass over the records."""
            assert derivation is not None
            whole = {"time/s": columns["time/s"]}
            raw = [name for key, name in derivation.needs.items() if key != "mode"]
            for name in raw:
                whole[name] = arrays.empty(n, dtype=data.record_dtype[fields[name][0]])
            if derivation.mode is not None:
                whole["mode"] = columns["mode"]
            for sl, records in _record_chunks(fh, data):
                for name in raw:
                    whole[name][sl] = records[fields[name][0]]
            return whole

        if derivation is not None:
            current_ma = derivation.finish(whole_columns)
    return _Staged(columns, current_ma, f"{pair[0]} - {pair[1]}" if pair else None)


#: A data module of this many chunks or more is read on two threads (:func:`_stage_native`, when
#: :func:`cycler_cli.threads.enabled`); a shorter read gains less than a thread costs to start.
TWO_THREADS_MIN_CHUNKS = 8


def _two_threads(data: DataModule) -> bool:
    """Will :func:`_stage_native` read these records on two threads?"""
    from cycler_cli import threads

    chunks = -(-data.n_read // max(1, _CHUNK_BYTES // data.record_bytes))
    return chunks >= TWO_THREADS_MIN_CHUNKS and threads.enabled()


def _halves_cut(n: int) -> int:
    """Where :func:`_stage_native` cuts ``n`` records in two (the second half's first record)."""
    return n // 2


def _stage_native(fh, data: DataModule, kernels, kernel_fields, derivation, plan, columns, two: bool) -> None:
    """The chunk loop of :func:`_stage_columns` when the compiled kernels do all of it, as one
    ``_native.stage`` call: the reads (``pread``), field copies and current derivation of every
    chunk without the GIL and without a Python step per chunk. ``two``: on two threads, this one
    doing the first half of the records and a second thread the other half, each into a buffer
    of its own.

    The columns are the same, value for value, as from the chunk loop: every value is converted
    on its own, and the current's time step at the second half's first point is taken from the
    record before it. The derivation's counts are added up once both halves are done; an error
    in either half (the first half's first) is raised after both threads have stopped."""
    from cycler_cli.native import F8
    from cycler_cli.threads import Side

    n, rec = data.n_read, data.record_bytes
    per_chunk = max(1, _CHUNK_BYTES // rec)
    fd = fh.fileno()
    time_s, mode = columns["time/s"], columns.get("mode")
    current = derivation.current if derivation is not None else None
    derive = derivation.stage_args(plan) if derivation is not None else None
    time_field = next((f for f in kernel_fields if f[2] is time_s), None)

    def stretch(lo: int, hi: int) -> list[int]:
        buffer = arrays.empty(min(per_chunk, hi - lo) * rec, dtype=np.uint8)
        last_time = np.nan
        if lo > 0 and derivation is not None:  # the point before this stretch: its time, converted as gather does
            assert time_field is not None
            _pread_full(fd, memoryview(buffer)[:rec], data.records_offset + (lo - 1) * rec)
            before = np.empty(1)
            kernels.gather(buffer, 1, rec, 0, [(time_field[0], time_field[1], before, F8, 0)])
            last_time = float(before[0])
        status, where, *counts = kernels.stage(
            fd, data.records_offset, lo, hi, rec, per_chunk, buffer, kernel_fields, derive, time_s, mode, current, last_time
        )
        if status == 1:
            raise _ended(where)
        if status == 2:
            raise OSError(where, os.strerror(where))
        return counts

    cut = _halves_cut(n) if two else n
    second = Side(lambda: stretch(cut, n), "cycler-read-half") if cut < n else None
    results: list[Any] = []
    for part in [lambda: stretch(0, cut)] + ([second.result] if second is not None else []):
        try:
            results.append(part())
        except BaseException as exc:  # the first half's error first, raised once both stopped
            results.append(exc)
    for got in results:
        if isinstance(got, BaseException):
            raise got
    if derivation is not None:
        derivation.add_native_counts(n, float(time_s[n - 1]), *[sum(c) for c in zip(*results)])


def _native_plan(data: DataModule, fields, columns, pair, derivation):
    """What the compiled kernels (:mod:`cycler_cli.native`) do in :func:`_stage_columns`:
    ``(kernels, {column name: gather field}, derive plan)``; ``(None, {}, None)`` when they
    are off. A column the kernel does not convert, and the cell voltage ``Ewe - Ece``, stay
    with numpy; the derivation goes to the kernel when it covers the run's kind and field types
    and the mode column is the uint8 flag."""
    from cycler_cli.native import field_code, kernels as native_kernels

    kernels = native_kernels()
    if kernels is None:
        return None, {}, None
    offsets = {name: (offset, dtype.str) for name, (dtype, offset, *_) in data.record_dtype.fields.items()}
    by_kernel: dict[str, tuple[int, int, np.ndarray, int, int]] = {}
    for name, out in columns.items():
        if name == "Ewe-Ece/V" and pair:
            continue
        fname, flag = fields[name]
        mask = int(flag.flag_mask or 0) if flag is not None else 0
        if flag is not None and not mask:
            continue
        offset, src = offsets[fname]
        codes = field_code(src, out.dtype.str, mask)
        if codes is not None and out.flags.c_contiguous:
            by_kernel[name] = (offset, codes[0], out, codes[1], mask)
    plan = None
    if derivation is not None:
        mode = columns.get("mode")
        if derivation.mode is None or (mode is not None and mode.dtype == np.uint8 and "mode" in by_kernel):
            plan = derivation.native_plan(lambda name: offsets[fields[name][0]])
    return kernels, by_kernel, plan


def _to_cycling_data(path: Path, contents: MprContents, staged: _Staged | None):
    """The :class:`~cycler_cli.model.CyclingData` of parsed contents: from the whole-buffer
    columns (``staged`` is ``None``) or from the streamed ones."""
    from cycler_cli.io.biologic_common import _DERIVE, to_cycling_data
    from cycler_cli.model import ColumnInfo, RunMeta

    data, settings = contents.data, contents.settings
    if staged is None:
        columns = dict(data.columns)
        cell_voltage = _cell_voltage(columns)
        cell_how = None
        if cell_voltage is not None:
            columns["Ewe-Ece/V"], cell_how = cell_voltage
        current_ma, consume = _DERIVE, False
    else:
        columns, current_ma, cell_how, consume = staged.columns, staged.current_ma, staged.cell_voltage, True
    inferred: list[str] = []
    if cell_how is not None:
        inferred.append(f"cell voltage Ewe-Ece/V computed as {cell_how}, as EC-Lab's .mpt export does")

    meta = RunMeta(
        source=str(path),
        reader=READER.name,
        format_version=f"data module v{data.version}",
        technique=settings.technique,
        start_time=contents.start_time,
        active_mass_mg=settings.active_mass_mg,
        characteristic_mass_mg=settings.characteristic_mass_mg,
        electrode_area_cm2=settings.electrode_area_cm2,
        warnings=contents.warnings,
        inferred=inferred,
        rows_skipped=contents.rows_skipped,
        extra={
            "modules": [
                {"name": m.short_name, "header": f"v{m.header_version}", "version": m.version, "length": m.length}
                for m in contents.walk.modules
            ],
            "column_ids": data.column_ids,
            "columns_via": data.via,
            "points_declared": data.n_declared,
            "record_bytes": data.record_bytes,
            "technique_id": settings.technique_id,
            "technique_title": _technique_title(settings.technique),
            "settings_raw": settings.raw,
        },
    )
    # A damaged record may hold signalling NaNs or huge values: numpy's cast warnings would only
    # reach stderr as noise, the values themselves stay in the frame as NaN / inf.
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        result = to_cycling_data(columns, meta, current_ma=current_ma, consume=consume)
    if cell_how is not None:
        result.meta.columns = [
            ColumnInfo(c.canonical, f"derived: {cell_how}", c.unit) if c.source == "Ewe-Ece/V" else c
            for c in result.meta.columns
        ]
    return result


def _technique_title(short: str | None) -> str | None:
    from cycler_cli.io.ecl_columns import TECHNIQUE_TITLES

    return TECHNIQUE_TITLES.get(short) if short else None


#: (WE potential, CE potential) pairs for the cell voltage, instantaneous pairs first.
_CELL_VOLTAGE_PAIRS = (
    ("Ewe/V", "Ece/V"),
    ("<Ewe>/V", "<Ece>/V"),
    ("Ewe/V", "<Ece>/V"),
    ("<Ewe>/V", "Ece/V"),
)


def _cell_voltage_pair(names) -> tuple[str, str] | None:
    """``(WE, CE)`` column names whose difference is the cell voltage (see :func:`_cell_voltage`)."""
    if "freq/Hz" in names or "Ecell/V" in names or "Ewe-Ece/V" in names:
        return None
    for we, ce in _CELL_VOLTAGE_PAIRS:
        if we in names and ce in names:
            return we, ce
    return None


def _cell_voltage(columns: dict[str, np.ndarray]) -> tuple[np.ndarray, str] | None:
    """``Ewe - Ece`` (V, float64) when the file records the counter electrode, as EC-Lab's
    export writes ``Ewe-Ece/V``; ``None`` for impedance files (``freq/Hz``), whose exports
    carry no such column, or when a cell voltage is already recorded."""
    pair = _cell_voltage_pair(columns)
    if pair is None:
        return None
    we, ce = pair
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.asarray(columns[we], dtype=np.float64) - np.asarray(columns[ce], dtype=np.float64)
    return diff, f"{we} - {ce}"


class _MprReader:
    name = "biologic-mpr"
    description = "BioLogic EC-Lab / BT-Lab binary .mpr (settings, data and log modules)"

    def sniff(self, head: bytes, path: Path) -> bool:
        return head.startswith(MAGIC)

    def read(self, path: Path):
        return read_mpr(path)


READER = _MprReader()
