"""Excel workbooks from cyclers (``excel``): Arbin, Neware and Landt ``.xlsx``/``.xls``.

Needs the optional ``python-calamine`` package (``pip install 'cycler-cli[excel]'``); pandas
reads the sheets with ``engine="calamine"``. Without it the read stops with exit 3 and that hint.

Which sheets: Arbin's ``Channel_<n>_1``, ``Channel_<n>_2``… (a long test is split over them,
after a ``Global_Info`` header sheet and before ``Statistics…`` summaries) when there are any,
else Neware's ``record`` sheet, else every sheet not named like a summary (``Stat…``,
``cycle``, ``step``, ``Global…``, ``Info…``); of these, every sheet whose header row (searched
in its first 30 rows) matches one vendor layout is read, in workbook order, and concatenated. Neware's data sheet is
``record``; Landt's ``Record``-style sheets use ``Index, time /s, Current/mA, Voltage/V,
Capacity/mAh`` (the header may not be on the first row). Column mapping, signs and
``charge_ah`` then follow the vendor's CSV reader (:mod:`cycler_cli.io.arbin`,
:mod:`cycler_cli.io.neware`); for Landt the capacity is per step, signed by the current.

Sniffing is by content: a ZIP whose directory names ``xl/`` parts (xlsx), or the OLE2 signature
(legacy ``.xls``). Uncertainty: Landt workbooks are supported from their documented column names
only (no Landt file in the test set).
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from cycler_cli.errors import CorruptFileError, MissingColumnError, MissingExtraError
from cycler_cli.io import tabular
from cycler_cli.io.tabular import TableSpec, names

LANDT_SPEC = TableSpec(
    name="excel",
    aliases={"time": "time_s", "test time": "time_s", "testtime": "time_s", "current": "current_a",
             "voltage": "voltage_v", "cycle": "cycle", "step": "step", "capacity": "q_step_ah"},
    units={"time_s": "s", "current_a": "mA", "voltage_v": "V", "q_step_ah": "mAh"},
    signature=(names("index", "record"), names("current"), names("voltage"), names("time", "test time", "testtime")),
    charge_rule="step",
    max_header_line=30,
)

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _specs() -> list[TableSpec]:
    from cycler_cli.io import arbin, neware

    return [arbin.SPEC, neware.SPEC, LANDT_SPEC]


class ExcelReader:
    name = "excel"
    description = "Arbin/Neware/Landt Excel workbook (.xlsx/.xls; needs [excel])"

    def sniff(self, head: bytes, path: Path) -> bool:
        if head.startswith(b"PK\x03\x04"):
            return b"xl/" in head or b"[Content_Types].xml" in head and b"xl" in head
        return head.startswith(_OLE2)

    def read(self, path: Path):
        return read_excel(Path(path))


_ARBIN_DATA = re.compile(r"^channel_\d+_\d+$", re.IGNORECASE)
_SUMMARY = re.compile(r"^(stat|cycle|step|global|info|test|summary)", re.IGNORECASE)


def _candidate_sheets(names: list[str]) -> list[str]:
    """Data sheets first and only: Arbin ``Channel_<n>_<k>``, else Neware ``record``, else every
    sheet that is not a summary (``Statistics…``, ``cycle``, ``step``, ``Global_Info``)."""
    arbin = [n for n in names if _ARBIN_DATA.match(n)]
    if arbin:
        return arbin
    record = [n for n in names if n.strip().lower() == "record"]
    if record:
        return record
    return [n for n in names if not _SUMMARY.match(n.strip())] or names


def _sheet(pd, book, path: Path, sheet: str, **kwargs):
    """One sheet through calamine; a damaged sheet (bad XML, a corrupt deflate stream) raises
    calamine's own error types, turned into :class:`CorruptFileError` here."""
    try:
        return pd.read_excel(book, sheet_name=sheet, **kwargs)
    except Exception as exc:  # noqa: BLE001 - calamine's errors have no common base to name
        raise CorruptFileError(f"sheet {sheet!r} cannot be read ({type(exc).__name__}: {exc})", path=str(path),
                               hint="open and re-save it in Excel, or export CSV from the cycler software") from exc


def read_excel(path: Path):
    """Canonical data from the data sheets of a cycler workbook (see module docstring)."""
    try:
        import python_calamine  # noqa: F401
    except ImportError as exc:
        raise MissingExtraError(
            "reading Excel workbooks needs the python-calamine package",
            path=str(path), hint="pip install 'cycler-cli[excel]'",
        ) from exc
    import pandas as pd

    try:
        book = pd.ExcelFile(path, engine="calamine")
    except Exception as exc:  # calamine raises its own error types for damaged workbooks
        raise CorruptFileError(f"not a readable workbook ({type(exc).__name__}: {exc})", path=str(path),
                               hint="open and re-save it in Excel, or export CSV from the cycler software") from exc
    chosen_spec = None
    parts = []
    used = []
    for sheet in _candidate_sheets([str(n) for n in book.sheet_names]):
        top = _sheet(pd, book, path, sheet, header=None, nrows=30)
        for row_index in range(len(top)):
            fields = [str(v) for v in top.iloc[row_index].tolist() if pd.notna(v)]
            spec = next((s for s in _specs() if tabular.matches(s, tabular.header_names(fields))), None)
            if spec is not None:
                break
        else:
            continue
        if chosen_spec is not None and spec is not chosen_spec:
            continue
        chosen_spec = spec
        frame = _sheet(pd, book, path, sheet, header=row_index)
        parts.append(frame)
        used.append(sheet)
    if chosen_spec is None:
        raise MissingColumnError(
            f"no sheet has a cycler data header (sheets: {', '.join(map(str, book.sheet_names))})",
            path=str(path), hint="export the test as CSV, or save the data sheet as CSV and use --reader generic-csv",
        )
    frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    excel_spec = dataclasses.replace(chosen_spec, name="excel")
    raw = tabular.frame_table(frame, excel_spec, str(path))
    raw.meta.extra["sheets"] = used
    raw.meta.format_version = {"arbin-csv": "Arbin xlsx", "neware-csv": "Neware xlsx"}.get(chosen_spec.name, "Landt xlsx")
    raw.meta.inferred.append(f"data read from sheet(s) {', '.join(map(str, used))}")
    return tabular.canonicalise(raw, excel_spec)


READER = ExcelReader()
