"""Arbin MITS Pro / MITS 8 CSV exports (``arbin-csv``).

Reads the record table Arbin's Data Watcher / MITS Pro writes, in both dialects:
``Test Time (s), Current (A), Voltage (V), Cycle Index, Step Index, Charge Capacity (Ah), ...``
(MITS Pro, UTF-8 with BOM, a tab before ``Date Time``) and the ``.res``-style underscore names
``Test_Time(s)`` / ``Test_Time``, ``Current(A)`` / ``Current``, ``Cycle_Index``, ``Step_Index``,
``Charge_Capacity``, ``Discharge_Capacity`` (headers without units are read as s, A, V, Ah, Wh).

* current: Arbin's own sign, positive = charge (kept);
* ``cycle`` = ``Cycle Index``, ``step`` = ``Step Index``; half-cycles from the current sign;
* ``charge_ah``: running sum of the increments of ``Charge Capacity`` minus those of
  ``Discharge Capacity``. The two accumulators reset at schedule-defined points, so a fall in
  either starts a new segment whose first value is counted as its increment;
* ``temperature_c`` from ``Aux_Temperature_1 (C)`` or ``Temperature``; other auxiliary columns
  are listed in ``meta.extra["ignored_columns"]``.

Files that also carry Battery Data Format columns (``Test Time / s``) are left to ``bdf-csv``.
Uncertainty: ``Charge/Discharge Capacity`` may be reset by the schedule at any point; a reset to a
non-zero value would be counted as charge passed.
"""

from __future__ import annotations

from pathlib import Path

from cycler_cli.io import tabular
from cycler_cli.io.tabular import TableSpec, names

ALIASES: dict[str, str] = {
    "date time": "datetime",
    "datetime": "datetime",
    "test time": "time_s",
    "voltage": "voltage_v",
    "current": "current_a",
    "cycle index": "cycle",
    "step index": "step",
    "charge capacity": "q_charge_ah",
    "discharge capacity": "q_discharge_ah",
    "aux temperature 1": "temperature_c",
    "temperature": "temperature_c",
}

SPEC = TableSpec(
    name="arbin-csv",
    aliases=ALIASES,
    units={"time_s": "s", "voltage_v": "V", "current_a": "A", "q_charge_ah": "Ah", "q_discharge_ah": "Ah",
           "temperature_c": "°C"},
    signature=(
        names("test time"),
        names("cycle index"),
        names("step index"),
        names("current"),
        names("voltage"),
        names("charge capacity", "discharge capacity", "data point", "date time", "datetime", "step time"),
    ),
    forbid=names("test time / s", "current / a", "voltage / v", "cycle count / 1"),
    charge_rule="accumulators",
)


class ArbinCsvReader:
    name = "arbin-csv"
    description = "Arbin MITS Pro / MITS 8 CSV export (Test Time, Current, Voltage, Cycle Index, Step Index)"

    def sniff(self, head: bytes, path: Path) -> bool:
        return tabular.sniff_text(head, SPEC)

    def read(self, path: Path):
        return tabular.read_with_spec(path, SPEC)


READER = ArbinCsvReader()
