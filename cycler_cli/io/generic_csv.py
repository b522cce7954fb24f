"""Any delimited table, with the user's column map or the project's canonical names (``generic-csv``).

Two ways in:

* a CSV whose header already uses canonical names (``time_s,voltage_v,current_a`` and optionally
  ``cycle``, ``half_cycle``, ``step``, ``charge_ah``, ``energy_wh``, ``temperature_c``; the
  project's own sample CSVs) reads as it is: units are those in the names, the sign is the
  project's (positive = charge), and ``cycle``/``half_cycle``/``step`` are kept when present;
* any other table reads with a map ``{canonical: "SOURCE"}`` or ``{canonical: "SOURCE:UNIT"}``
  (:func:`read_generic`; on the command line ``--columns time_s=Test_Time(s),voltage_v=Volts,
  current_a=Amps:mA``, parsed by :func:`parse_column_map`). The unit after ``:`` wins over a unit
  in the header; without either, the canonical unit is assumed (and said in ``meta.inferred``).
  ``time_s``, ``voltage_v`` and ``current_a`` are required; the current must already follow the
  project's sign (positive = charge).

Without a map, an unrecognised table is refused (exit 3) with the columns found and the map to
pass. The header line is the first line (of the first 200) that holds every mapped name, or,
without a map, the line with the most non-numeric fields; separators tab, ``;`` and ``,`` and a
decimal comma are sniffed. Binary files and BioLogic text are never claimed.
"""

from __future__ import annotations

import re
from pathlib import Path

from cycler_cli.errors import ConfigError, MissingColumnError
from cycler_cli.io import tabular
from cycler_cli.io.tabular import TableSpec, names
from cycler_cli.io.text import decode

#: Canonical names a user may map, and the tabular key each becomes.
MAPPABLE: dict[str, str] = {
    "time_s": "time_s", "voltage_v": "voltage_v", "current_a": "current_a", "cycle": "cycle",
    "half_cycle": "half_cycle", "step": "step", "charge_ah": "q_net_ah", "energy_wh": "energy_wh",
    "temperature_c": "temperature_c",
}
_CANONICAL_UNITS = {"time_s": "s", "voltage_v": "V", "current_a": "A", "q_net_ah": "Ah", "energy_wh": "Wh",
                    "temperature_c": "°C"}

CANONICAL_SPEC = TableSpec(
    name="generic-csv",
    aliases={tabular.normalise(k): v for k, v in MAPPABLE.items()},
    units=_CANONICAL_UNITS,
    signature=(names("time_s"), names("voltage_v"), names("current_a")),
    charge_rule="net",
    force_units=True,
)


def parse_column_map(text: str) -> dict[str, str]:
    """``"time_s=Test_Time(s),voltage_v=Volts,current_a=Amps:mA"`` → ``{"time_s": "Test_Time(s)", ...}``.

    Raises :class:`ConfigError` (exit 2) for an unknown canonical name or a malformed item."""
    out: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, source = item.partition("=")
        name = name.strip()
        if not sep or not source.strip():
            raise ConfigError(f"--columns item {item!r} is not NAME=COLUMN[:UNIT]",
                              hint="e.g. --columns time_s=Test_Time(s),voltage_v=Volts,current_a=Amps:mA")
        if name not in MAPPABLE:
            raise ConfigError(f"--columns: {name!r} is not a canonical column",
                              hint=f"use one of: {', '.join(MAPPABLE)}")
        out[name] = source.strip()
    return out


def _split_source(source: str) -> tuple[str, str]:
    """``"Amps:mA"`` → ``("Amps", "mA")``; a ``:`` that is part of the name stays when no unit
    follows it."""
    name, sep, unit = source.rpartition(":")
    if sep and unit.strip().lower() in tabular.UNIT_SCALES:
        return name.strip(), unit.strip()
    return source.strip(), ""


def spec_for_map(columns: dict[str, str]) -> TableSpec:
    """A :class:`TableSpec` from a user's map (see :func:`parse_column_map`)."""
    aliases: dict[str, str] = {}
    units: dict[str, str] = {}
    required = []
    for canonical, source in columns.items():
        if canonical not in MAPPABLE:
            raise ConfigError(f"column map: {canonical!r} is not a canonical column",
                              hint=f"use one of: {', '.join(MAPPABLE)}")
        key = MAPPABLE[canonical]
        name, unit = _split_source(source)
        aliases[tabular.normalise(name)] = key
        if unit:
            units[key] = unit
        required.append(frozenset({tabular.normalise(name)}))
    return TableSpec(name="generic-csv", aliases=aliases, units=units, signature=tuple(required),
                     charge_rule="net", force_units=True)


def _header_guess(text: str) -> tuple[int, str, list[str]] | None:
    """The line (of the first 200) with the most non-numeric, non-empty fields (two at least:
    a table that lacks one of time, voltage and current is claimed, so that the error can name
    the columns it has)."""
    best = None
    for index, line in enumerate(tabular.split_lines(text)[:200]):
        for sep in tabular.SEPARATORS:
            if line.count(sep) < 1:
                continue
            fields = [f.strip().strip('"') for f in line.split(sep)]
            words = [f for f in fields if f and not re.fullmatch(r"[-+]?[\d.,eE+-]+", f)]
            if len(words) >= 2 and (best is None or len(words) > len(best[2])):
                best = (index, sep, fields)
    return best


_NUMBER = re.compile(r"[-+]?(\d+([.,]\d*)?|[.,]\d+)([eE][-+]?\d+)?")


def _has_numeric_rows(text: str, index: int, sep: str, wanted: int = 2) -> bool:
    """At least ``wanted`` lines after the header line whose fields are mostly numbers: a table
    of data, not prose or a Markdown table that happens to contain the separator."""
    found = 0
    for line in tabular.split_lines(text)[index + 1 : index + 50]:
        fields = [f.strip().strip('"') for f in line.split(sep)]
        filled = [f for f in fields if f]
        if len(filled) >= 2 and sum(bool(_NUMBER.fullmatch(f)) for f in filled) * 2 >= len(filled):
            found += 1
            if found >= wanted:
                return True
    return False


_CANONICAL = ("time_s", "voltage_v", "current_a")


def _canonical_in(fields: list[str]) -> bool:
    """Whether a header line holds any of the canonical column names (time_s, voltage_v, current_a)."""
    names = tabular.header_names(fields)
    return any(tabular.normalise(c) in names for c in _CANONICAL)


def _suggest(fields: list[str]) -> str:
    picks = {}
    for canonical, words in (("time_s", ("test time", "test_time", "time")), ("voltage_v", ("volt", "potential", "ewe", "ecell")),
                             ("current_a", ("current", "amps", "curr"))):
        for f in fields:
            if any(w in f.lower() for w in words):
                picks[canonical] = f
                break
    if len(picks) == 3:
        return ",".join(f"{k}={v}" for k, v in picks.items())
    return "time_s=COLUMN,voltage_v=COLUMN,current_a=COLUMN[:UNIT]"


class GenericCsvReader:
    name = "generic-csv"
    description = "Any CSV/TSV: canonical headers (time_s, voltage_v, current_a) or a --columns map"

    def sniff(self, head: bytes, path: Path) -> bool:
        try:
            if not head or (b"\x00" in head[:4096] and not head.startswith((b"\xff\xfe", b"\xfe\xff"))) or head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
                return False
            text, _ = decode(head)
            if tabular.looks_biologic(text):
                return False
            if tabular.locate_header(text, CANONICAL_SPEC) is not None:  # even with no data rows
                return True
            guess = _header_guess(text)
            if guess is not None and _canonical_in(guess[2]):  # ours, a column short: read() says which
                return True
            return guess is not None and _has_numeric_rows(text, guess[0], guess[1])
        except Exception:
            return False

    def read(self, path: Path, columns: dict[str, str] | None = None):
        """See :func:`read_generic`; ``columns`` is the optional map."""
        return read_generic(path, columns)


def read_generic(path: Path | str, columns: dict[str, str] | None = None):
    """Read any delimited table into :class:`~cycler_cli.model.CyclingData`.

    ``columns`` maps canonical names to source headers, optionally with a unit after ``:``
    (``{"current_a": "Amps:mA"}``); ``None`` accepts only a table with canonical headers.
    Raises :class:`MissingColumnError` (exit 3) listing the columns found when the table cannot
    be mapped, :class:`ConfigError` (exit 2) for a bad map."""
    path = Path(path)
    with open(path, "rb") as fh:
        head = fh.read(65536)
    text, _ = decode(head)
    if columns:
        for needed in ("time_s", "voltage_v", "current_a"):
            if needed not in columns:
                raise ConfigError(f"--columns must map {needed}",
                                  hint="e.g. --columns time_s=Test_Time(s),voltage_v=Volts,current_a=Amps:mA")
        spec = spec_for_map(columns)
        if tabular.locate_header(text, spec) is None:
            guess = _header_guess(text)
            found = ", ".join(f for f in (guess[2] if guess else []) if f) or "(none)"
            missing = [s for s in columns.values() if tabular.normalise(_split_source(s)[0])
                       not in tabular.header_names(guess[2] if guess else [])]
            raise MissingColumnError(
                f"no header line holds the mapped columns {missing}; columns found: {found}",
                path=str(path), hint="spell the names as in the file's header (case and spaces are ignored)",
            )
        raw = tabular.read_text_table(path, spec)
        raw.meta.inferred.append("columns mapped by the user: " + ", ".join(f"{k}={v}" for k, v in columns.items()))
        return tabular.canonicalise(raw, spec)
    if tabular.locate_header(text, CANONICAL_SPEC) is not None:
        raw = tabular.read_text_table(path, CANONICAL_SPEC)
        return tabular.canonicalise(raw, CANONICAL_SPEC)
    guess = _header_guess(text)
    fields = [f for f in (guess[2] if guess else []) if f]
    found = ", ".join(fields) or "(no header line found)"
    names = set(tabular.header_names(fields))
    if _canonical_in(fields):  # canonical headers, some missing: say which
        lacking = [c for c in _CANONICAL if tabular.normalise(c) not in names]
        raise MissingColumnError(
            f"no {' or '.join(lacking)} column (the table has {found})",
            path=str(path),
            hint=f"export the run with {', '.join(lacking)}, or map a column of another name: --columns "
            "time_s=COLUMN,voltage_v=COLUMN,current_a=COLUMN[:UNIT]",
        )
    raise MissingColumnError(
        f"no reader recognises these columns: {found}",
        path=str(path),
        hint=f"map them: --reader generic-csv --columns {_suggest(guess[2] if guess else [])} "
        "(add :UNIT such as :mA or :min when the header has none)",
    )


READER = GenericCsvReader()
