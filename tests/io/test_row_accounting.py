"""Row accounting on the real files: for every reader, rows read + rows skipped = rows in the file.

The rows in each file are counted here independently of the readers: for text formats, the
lines after the column-header line (found by a per-format marker, blank lines included, since a
blank line in the data is a skipped row); for ``.mpr``, the point count in the data module's
own header, found by walking the ``MODULE`` blocks in this test; for workbooks and Neware's
binary files, the rows the file's own library gives. Every reader that has a real file is
covered, and the test fails if a reader with real files drops out of the list.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest

from tests.conftest import REALDATA, SAMPLES, realdata_dir

# ---------------------------------------------------------------- independent counts


def _mpr_points(raw: bytes) -> int:
    """n_points (u32) at the start of the ``VMP data`` payload, walking the module headers."""
    pos = 52
    while pos < len(raw):
        assert raw[pos : pos + 6] == b"MODULE"
        short = raw[pos + 6 : pos + 16]
        v2 = raw[pos + 41 : pos + 45] == b"\xff\xff\xff\xff"
        if v2:
            length = struct.unpack_from("<I", raw, pos + 45)[0]
            start = pos + 6 + 59
        else:
            length = struct.unpack_from("<I", raw, pos + 41)[0]
            start = pos + 6 + 51
        if short.startswith(b"VMP data"):
            return struct.unpack_from("<I", raw, start)[0]
        pos = start + length
    raise AssertionError("no data module")


def _decode(raw: bytes) -> list[str]:
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return raw.decode("utf-16").splitlines()
    return raw.decode("latin-1").splitlines()


def _lines_after(lines: list[str], header_at: int) -> int:
    return len(lines) - header_at - 1


def _first(lines: list[str], pattern: str) -> int:
    rx = re.compile(pattern)
    for i, line in enumerate(lines[:300]):
        if rx.search(line):
            return i
    raise AssertionError(f"no header line matching {pattern!r}")


def _mpt_header_at(lines: list[str]) -> int:
    for line in lines[:5]:
        m = re.match(r"Nb header lines\s*:\s*(\d+)", line)
        if m:
            return int(m.group(1)) - 1
    return 0  # a headerless export: the column names are line 1


#: reader -> how to find the column-header line in a text file
HEADER_AT = {
    "biologic-mpt": _mpt_header_at,
    "arbin-csv": lambda lines: 0,
    "bdf-csv": lambda lines: 0,
    "generic-csv": lambda lines: 0,
    "neware-csv": lambda lines: 0,
    "maccor-txt": lambda lines: _first(lines, r"^(Rec#?|Rec\b)[\t,]"),
    "pec-csv": lambda lines: _first(lines, r"^Test,Cell,"),
    "novonix-csv": lambda lines: _first(lines, r"^\[Data\]") + 1,
}


def rows_in_file(path: Path, reader: str) -> int:
    raw = path.read_bytes()
    if reader == "biologic-mpr":
        return _mpr_points(raw)
    if reader == "excel":
        import pandas as pd

        sheets = pd.read_excel(path, sheet_name=None, engine="calamine", header=None)
        data = {n: s for n, s in sheets.items() if re.match(r"Channel_\d+_\d+$", n)}
        assert data, f"no Arbin channel sheet in {sorted(sheets)}"
        return sum(len(s) - 1 for s in data.values())  # one header row per sheet
    if reader == "neware-csv" and path.suffix.lower() in (".nda", ".ndax"):
        import NewareNDA

        return len(NewareNDA.read(str(path)))
    lines = _decode(raw)
    return _lines_after(lines, HEADER_AT[reader](lines))


# ---------------------------------------------------------------- the real files


def _data_files() -> list[Path]:
    files = [p for p in sorted(SAMPLES.iterdir()) if p.suffix in (".mpr", ".mpt", ".csv")]
    if REALDATA.is_dir():
        files += [p for p in sorted(REALDATA.rglob("*")) if p.is_file()]
    return files


def _read_or_none(path: Path):
    from cycler_cli.errors import InputError
    from cycler_cli.io.registry import read

    try:
        return read(path)
    except InputError:
        return None


@pytest.fixture(scope="module")
def accounted():
    """(path, reader, rows read, rows skipped, rows counted here) for every file a reader reads."""
    realdata_dir()
    out = []
    for path in _data_files():
        data = _read_or_none(path)
        if data is None:
            continue
        reader = data.meta.reader
        out.append((path, reader, data.meta.rows_read, dict(data.meta.rows_skipped), rows_in_file(path, reader)))
    return out


def test_rows_read_plus_skipped_equals_rows_in_the_file(accounted):
    wrong = [
        f"{path.relative_to(path.parents[1])} ({reader}): read {read} + skipped {skipped} != {counted} rows in the file"
        for path, reader, read, skipped, counted in accounted
        if read + sum(skipped.values()) != counted
    ]
    assert not wrong, "\n".join(wrong)


def test_every_reader_with_a_real_file_is_accounted(accounted):
    from cycler_cli.io.registry import readers

    covered = {reader for _, reader, *_ in accounted}
    # basytec has no real file in ../shared/realdata; every other reader must be checked here
    expected = {r.name for r in readers()} - {"basytec-txt", "basytec"}
    assert expected <= covered, f"readers without a real file checked: {sorted(expected - covered)}"
    assert len(accounted) >= 100


def test_skip_reasons_are_named_and_counts_positive(accounted):
    for path, reader, _, skipped, _ in accounted:
        for reason, count in skipped.items():
            assert isinstance(reason, str) and reason.strip(), (path, reason)
            assert isinstance(count, int) and count > 0, (path, reason, count)


def test_a_file_with_skipped_rows_is_in_the_set(accounted):
    """The equality above is not only checked on clean files: some real files skip rows."""
    assert any(sum(skipped.values()) > 0 for *_, skipped, _ in accounted)


def test_mpr_point_count_helper_agrees_with_galvani(realdata):
    from galvani.BioLogic import MPRfile

    path = realdata / "yadg" / "gcpl.issue_149.mpr"
    with open(path, "rb") as fh:
        n = len(MPRfile(fh).data)
    assert _mpr_points(path.read_bytes()) == n == 132
