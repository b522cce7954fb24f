"""The project's EC-Lab ``.mpr`` column-ID table: galvani's map plus the IDs galvani 0.5.0 lacks.

An ``.mpr`` data module lists one numeric column ID per column; the ID fixes the column's name
and binary type. galvani's ``VMPdata_colID_dtype_map`` / ``VMPdata_colID_flag_map`` are the
base. :data:`EXTRA_COLUMNS` adds IDs taken as published facts from yadg's
``extractors/eclab/mpr_columns.py`` (dgbowl/yadg) and checked against EC-Lab's own ``.mpt``
exports of the same runs in ``../shared/realdata/yadg`` (names as EC-Lab writes them in
``.mpt`` headers).

How an ID is resolved (:func:`resolve_column`), first match wins:

1. flag IDs (1, 2, 3, 21, 31, 65): bits of one shared ``flags`` byte;
2. two context rules from yadg: ID 174 is ``Phase(Zwe-ce)/deg`` when ID 6 or 77 is also
   present (else ``<Ewe>/V``); ID 6 is ``Ecell/V`` in the BCD technique (else ``Ewe/V``);
3. data module v2/v3 (IDs stored as little-endian u2): the full ID in :data:`RENAMED`
   (galvani's name corrected from an ``.mpt`` export), galvani's map, :data:`EXTRA_COLUMNS`;
4. the low byte of the ID (``ID % 256``) in the same three tables. In data module v0 files
   this is the *only* lookup, because that is how galvani reads them (it keeps the low byte of
   each big-endian ID); EC-Lab >= 11.50 writes IDs such as 295, 326, 368, 424, 468, 981 whose
   low byte names the quantity the ``.mpt`` export shows (39 I Range, 70 P/W, 112 Energy
   we/W.h, 168 Rcmp/Ohm, 212 half cycle, 213 z cycle);
5. otherwise the ID is unknown: the reader infers its byte width from the record length and
   carries it as ``unknown_<id>`` with a warning.

galvani is imported here at module level; import this module only from inside a reader function
(``cycler --version`` stays fast).
"""

from __future__ import annotations

from dataclasses import dataclass

from galvani.BioLogic import VMPdata_colID_dtype_map, VMPdata_colID_flag_map

#: IDs galvani 0.5.0 does not know: ID -> (name as in EC-Lab's .mpt header, numpy dtype).
#: Source: yadg ``mpr_columns.py`` ``data_columns`` (dtype and quantity), EC-Lab ``.mpt``
#: headers (spelling). 112, 182, 185, 215 occur in ../shared/realdata (directly or as the low
#: byte of a v0 ID) and were checked against the paired ``.mpt`` column order.
EXTRA_COLUMNS: dict[int, tuple[str, str]] = {
    15: ("Phase(Z1)/deg", "<f4"),
    45: ("|Z1|/Ohm", "<f4"),
    46: ("|Z2|/Ohm", "<f4"),
    105: ("-Im(Z1)/Ohm", "<f4"),
    106: ("-Im(Z2)/Ohm", "<f4"),
    110: ("Energy ce/W.h", "<f8"),
    112: ("Energy we/W.h", "<f8"),
    115: ("Energy ce charge/W.h", "<f8"),
    116: ("Energy ce discharge/W.h", "<f8"),
    135: ("<E1>/V", "<f4"),
    136: ("<E2>/V", "<f4"),
    166: ("Phase(Zstack)/deg", "<f4"),
    167: ("|Zstack|/Ohm", "<f4"),
    175: ("|Zwe-ce|/Ohm", "<f4"),
    176: ("Re(Zwe-ce)/Ohm", "<f4"),
    177: ("-Im(Zwe-ce)/Ohm", "<f4"),
    182: ("step time/s", "<f8"),
    185: ("<Ece>/V", "<f4"),
    206: ("Temperature/°C", "<f4"),
    215: ("<Ece>/V", "<f4"),
    219: ("THD Ece/%", "<f4"),
    222: ("NSD Ece/%", "<f4"),
    225: ("NSR Ece/%", "<f4"),
    243: ("|Ece h3|/V", "<f4"),
    244: ("|Ece h4|/V", "<f4"),
    245: ("|Ece h5|/V", "<f4"),
    246: ("|Ece h6|/V", "<f4"),
    247: ("|Ece h7|/V", "<f4"),
    248: ("Rac/Ohm", "<f4"),
    249: ("Rdc/Ohm", "<f4"),
    253: ("Acir/Dcir Control", "<u1"),
}

#: Corrections to galvani's names, checked against the .mpt export of the same file
#: (yadg/cp.mpr writes ID 441 where cp.mpt shows ``<Ece>/V``; galvani calls it ``<Ecv>/V``).
RENAMED: dict[int, tuple[str, str]] = {
    441: ("<Ece>/V", "<f4"),
}

#: yadg's conflict rule: ID 174 means Phase(Zwe-ce) when either of these IDs is present.
_PHASE_ZWECE_IF = (6, 77)

#: EC-Lab's technique id (first byte of the settings module) -> short name (yadg
#: ``techniques.py`` ``technique_params_dtypes``).
TECHNIQUES: dict[int, str] = {
    0x04: "GCPL",
    0x06: "CV",
    0x0B: "OCV",
    0x16: "MP",
    0x18: "CA",
    0x19: "CP",
    0x1C: "WAIT",
    0x1D: "PEIS",
    0x1E: "GEIS",
    0x30: "CV",
    0x32: "ZIR",
    0x33: "CVA",
    0x6C: "LSV",
    0x75: "coV",
    0x76: "coC",
    0x77: "GCPL",
    0x7F: "MB",
    0x88: "BCD",
}


#: Short name -> the title EC-Lab writes on line 4 of an ``.mpt`` export (checked against the
#: yadg exports; MP from EC-Lab's technique list).
TECHNIQUE_TITLES: dict[str, str] = {
    "BCD": "Battery Capacity Determination",
    "CA": "Chronoamperometry / Chronocoulometry",
    "CP": "Chronopotentiometry",
    "CV": "Cyclic Voltammetry",
    "CVA": "Cyclic Voltammetry Advanced",
    "coC": "Constant Current",
    "coV": "Constant Voltage",
    "GCPL": "Galvanostatic Cycling with Potential Limitation",
    "GEIS": "Galvano Electrochemical Impedance Spectroscopy",
    "LSV": "Linear Sweep Voltammetry",
    "MB": "Modulo Bat",
    "MP": "Modular Potentio",
    "OCV": "Open Circuit Voltage",
    "PEIS": "Potentio Electrochemical Impedance Spectroscopy",
    "WAIT": "Wait",
    "ZIR": "IR compensation (PEIS)",
}


@dataclass(frozen=True)
class ColumnSpec:
    """One column ID resolved: ``name`` (EC-Lab spelling), ``dtype`` (numpy type string, or
    ``None`` when unknown), ``flag_mask``/``flag_dtype`` for flag IDs, ``via`` saying how it
    was resolved (``galvani``, ``cycler``, ``galvani (low byte)``, ``cycler (low byte)``,
    ``rule``, ``unknown``)."""

    col_id: int
    name: str
    dtype: str | None
    via: str
    flag_mask: int | None = None
    flag_dtype: str | None = None

    @property
    def is_flag(self) -> bool:
        return self.flag_mask is not None


def _lookup(key: int) -> tuple[str, str, str] | None:
    if key in RENAMED:
        name, dtype = RENAMED[key]
        return name, dtype, "cycler (renamed from galvani's)"
    if key in VMPdata_colID_dtype_map:
        name, dtype = VMPdata_colID_dtype_map[key]
        return name, dtype, "galvani"
    if key in EXTRA_COLUMNS:
        name, dtype = EXTRA_COLUMNS[key]
        return name, dtype, "cycler"
    return None


def resolve_column(col_id: int, all_ids: list[int], data_version: int, technique: str | None) -> ColumnSpec:
    """Resolve one column ID (see the module docstring for the order of the rules)."""
    if col_id in VMPdata_colID_flag_map:
        name, mask, flag_type = VMPdata_colID_flag_map[col_id]
        return ColumnSpec(col_id, name, "u1", "galvani", flag_mask=int(mask), flag_dtype=str(flag_type.__name__))
    low = col_id & 0xFF
    if low == 174 and any(i & 0xFF in _PHASE_ZWECE_IF for i in all_ids):
        return ColumnSpec(col_id, "Phase(Zwe-ce)/deg", "<f4", "rule")
    if low == 6 and technique == "BCD":
        return ColumnSpec(col_id, "Ecell/V", "<f4", "rule")
    keys: list[tuple[int, str]] = []
    if data_version in (2, 3):
        keys.append((col_id, ""))
    if low != col_id or data_version not in (2, 3):
        keys.append((low, " (low byte)" if low != col_id else ""))
    for key, how in keys:
        found = _lookup(key)
        if found is not None:
            name, dtype, via = found
            return ColumnSpec(col_id, name, dtype, via + how)
    return ColumnSpec(col_id, f"unknown_{col_id}", None, "unknown")


def technique_name(technique_id: int) -> str | None:
    """Short technique name (``GCPL``, ``MB``, ...) for EC-Lab's technique id, or ``None``."""
    return TECHNIQUES.get(technique_id)
