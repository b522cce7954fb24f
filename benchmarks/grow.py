"""Grow a real BioLogic ``.mpr`` file to any number of points, for the benchmarks.

The grown file is the source file with its data module's records repeated (and the last
repeat cut short) until it holds exactly ``n_points`` records. Each repeat ``k`` is shifted so
the run stays physically sensible for an analysis that sees many cycles:

* ``time/s`` by ``k * (t_last - t_first + median step)``, so time keeps increasing;
* cumulative charge columns (``(Q-Qo)/mA.h``, ``(Q-Qo)/C``) by ``k * (q_last - q_first)``, so
  the net charge stays continuous;
* counters (``half cycle``, ``cycle number``) by ``k * (last - first + 1)``, so every repeat
  brings new half-cycles and cycles.

Every other column (voltage, set point, flags, ``Ns``, ``dq/mA.h``, ...) is copied as is.
Only two header fields change: the data module's point count (first ``<u4`` of the module's
data) and the module's ``length`` field. The ``VMP loop`` module, where there is one, keeps
the source's row indices (still valid rows, but they no longer mark every loop).

Layout facts (module header v1 of 51 bytes, v2 of 59 bytes from EC-Lab 11.50 on, marked by
``0xFFFFFFFF`` at header bytes 35..39; data module versions 0, 2 and 3 with the records
starting at byte 100 or 1007, 405 and 406 of the module's data) follow galvani's
``BioLogic.py``, which reverse-engineered them. The per-column dtypes come from galvani's
``VMPdata_dtype_from_colIDs`` (a library call; galvani is a dependency of cycler).
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MPR_MAGIC = b"BIO-LOGIC MODULAR FILE\x1a".ljust(48) + b"\x00\x00\x00\x00"
MODULE_MAGIC = b"MODULE"
HEADER_V1_BYTES = 51  # shortname S10, longname S25, length u4, version u4, date S8
HEADER_V2_BYTES = 59  # shortname S10, longname S25, max length u4, length u4, version u4, ? u4, date S8

#: Bump when the growing rule changes, so cached grown files are rebuilt.
GROW_VERSION = 1

#: Columns shifted by the net change over one repeat (continuous cumulative quantities).
CUMULATIVE_COLUMNS = ("time/s", "(Q-Qo)/mA.h", "(Q-Qo)/C")
#: Counters shifted by (last - first + 1) per repeat, so each repeat adds new ones.
COUNTER_COLUMNS = ("half cycle", "cycle number")


class GrowError(ValueError):
    """The source file's layout is not one this grower understands."""


@dataclass(frozen=True)
class Module:
    shortname: bytes
    start: int  # offset of b"MODULE"
    length_at: int  # absolute offset of the module's <u4 length field
    length: int
    version: int
    data_start: int  # absolute offset of the module's data


@dataclass(frozen=True)
class DataLayout:
    """Where the records of the ``VMP data`` module are, and what they hold."""

    module: Module
    n_points: int
    col_ids: tuple[int, ...]
    records_start: int  # absolute offset of the first record
    record_bytes: int
    dtype_descr: list[tuple[str, str]]  # numpy structured dtype, galvani's field names

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self.dtype_descr)

    @property
    def records_end(self) -> int:
        return self.records_start + self.n_points * self.record_bytes


def parse_modules(buf: bytes) -> list[Module]:
    """The modules of an ``.mpr`` file held in ``buf`` (headers only)."""
    if buf[: len(MPR_MAGIC)] != MPR_MAGIC:
        raise GrowError("not a BioLogic .mpr file (bad magic)")
    pos = len(MPR_MAGIC)
    modules = []
    while pos < len(buf):
        if buf[pos : pos + 6] != MODULE_MAGIC:
            raise GrowError(f"expected a MODULE header at byte {pos}")
        hdr = pos + 6
        shortname = buf[hdr : hdr + 10]
        if buf[hdr + 35 : hdr + 39] == b"\xff\xff\xff\xff":
            length_at = hdr + 39
            (length, version) = struct.unpack_from("<II", buf, length_at)
            data_start = hdr + HEADER_V2_BYTES
        else:
            length_at = hdr + 35
            (length, version) = struct.unpack_from("<II", buf, length_at)
            data_start = hdr + HEADER_V1_BYTES
        modules.append(Module(shortname, pos, length_at, length, version, data_start))
        pos = data_start + length
    return modules


def data_layout(buf: bytes) -> DataLayout:
    """Locate the data module's records and their dtype."""
    from galvani.BioLogic import VMPdata_dtype_from_colIDs

    found = [m for m in parse_modules(buf) if m.shortname == b"VMP data  "]
    if len(found) != 1:
        raise GrowError(f"expected one 'VMP data' module, found {len(found)}")
    module = found[0]
    d = module.data_start
    (n_points,) = struct.unpack_from("<I", buf, d)
    n_columns = buf[d + 4]
    if module.version == 0:
        if buf[d + 5]:
            col_ids = tuple(buf[d + 5 : d + 5 + n_columns])
            records_at = 100
        else:  # EC-Lab >= 11.50 writes each id as two bytes, zero first
            col_ids = tuple(buf[d + 5 : d + 5 + 2 * n_columns][1::2])
            records_at = 1007
    elif module.version in (2, 3):
        col_ids = struct.unpack_from(f"<{n_columns}H", buf, d + 5)
        records_at = 405 if module.version == 2 else 406
    else:
        raise GrowError(f"data module version {module.version} is not known")
    dtype, _flags = VMPdata_dtype_from_colIDs(list(col_ids))
    payload = module.length - records_at
    if n_points == 0 or payload % n_points:
        raise GrowError(f"{payload} record bytes do not divide into {n_points} points")
    record_bytes = payload // n_points
    if record_bytes != dtype.itemsize:
        raise GrowError(f"records are {record_bytes} bytes but the columns make {dtype.itemsize}")
    return DataLayout(
        module=module,
        n_points=int(n_points),
        col_ids=tuple(int(c) for c in col_ids),
        records_start=d + records_at,
        record_bytes=record_bytes,
        dtype_descr=[(name, dtype.fields[name][0].str) for name in dtype.names],
    )


def repeat_shifts(records: np.ndarray) -> dict[str, float]:
    """The amount each shifted column moves by per repeat (see the module docstring)."""
    shifts: dict[str, float] = {}
    names = records.dtype.names or ()
    if "time/s" in names:
        t = records["time/s"].astype(np.float64)
        dt = np.diff(t)
        step = float(np.median(dt[dt > 0])) if np.any(dt > 0) else 1.0
        shifts["time/s"] = float(t[-1] - t[0]) + step
    for name in CUMULATIVE_COLUMNS[1:]:
        if name in names:
            q = records[name].astype(np.float64)
            shifts[name] = float(q[-1] - q[0])
    for name in COUNTER_COLUMNS:
        if name in names:
            c = records[name]
            shifts[name] = float(c[-1]) - float(c[0]) + 1
    return shifts


def grow_mpr(source: Path | str, n_points: int, dest: Path | str) -> Path:
    """Write ``dest``: ``source`` grown (or cut) to exactly ``n_points`` records.

    Writes in blocks of one repeat, so memory stays at a few copies of the source's records
    whatever ``n_points`` is. Returns ``dest``.
    """
    source, dest = Path(source), Path(dest)
    if n_points < 1:
        raise GrowError("n_points must be at least 1")
    buf = source.read_bytes()
    layout = data_layout(buf)
    records = np.frombuffer(buf, dtype=layout.dtype, count=layout.n_points, offset=layout.records_start)
    shifts = repeat_shifts(records)
    n0 = layout.n_points
    head = bytearray(buf[: layout.records_start])
    new_length = layout.module.length + (n_points - n0) * layout.record_bytes
    if new_length >= 2**32:
        raise GrowError(f"{n_points} points do not fit a <u4 module length")
    struct.pack_into("<I", head, layout.module.length_at, new_length)
    struct.pack_into("<I", head, layout.module.data_start, n_points)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    with open(tmp, "wb") as fh:
        fh.write(head)
        written = 0
        k = 0
        while written < n_points:
            block = records.copy()
            for name, shift in shifts.items():
                block[name] += np.asarray(k * shift).astype(block.dtype.fields[name][0])
            take = min(n0, n_points - written)
            fh.write(block[:take].tobytes())
            written += take
            k += 1
        fh.write(buf[layout.records_end :])
    tmp.replace(dest)
    return dest


def grown_path(source: Path | str, n_points: int, cache_dir: Path | str) -> Path:
    """Where the grown copy of ``source`` with ``n_points`` points is cached."""
    source = Path(source)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:12]
    return Path(cache_dir) / f"{source.stem}.{digest}.v{GROW_VERSION}.{n_points}.mpr"


def ensure_grown(source: Path | str, n_points: int, cache_dir: Path | str) -> Path:
    """The cached grown file, written first if it is missing or has the wrong size."""
    source = Path(source)
    dest = grown_path(source, n_points, cache_dir)
    buf_head = source.read_bytes()
    layout = data_layout(buf_head)
    want = len(buf_head) + (n_points - layout.n_points) * layout.record_bytes
    if not dest.is_file() or dest.stat().st_size != want:
        grow_mpr(source, n_points, dest)
    return dest
