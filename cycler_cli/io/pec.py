"""PEC (SBT) CSV exports (``pec-csv``).

A ``Key:,value`` preamble (``Test:``, ``TestRegime Name:``, ``Start Time:``, results-check
block) is followed by the record header ``Test,Cell,Rack,Shelf,Position,Cell ID,Step,Cycle,...``.
Two dialects are read: times in seconds (``Total Time (Seconds)``) and, in newer exports, as
``hh:mm:ss.xxx`` strings (``Total Time (Hours in hh:mm:ss.xxx)``); voltage in ``mV`` or ``V``,
current in ``mA`` or ``A`` (units from the header).

=================================  ================  ============================================
PEC column                         canonical         note
=================================  ================  ============================================
``Total Time``                     ``time_s``
``Voltage (mV|V)``                 ``voltage_v``
``Current (mA|A)``                 ``current_a``     signed, discharge negative (kept)
``Cycle``                          ``cycle``
``Step``                           ``step``
``Charge/Discharge Capacity (mAh)``  ``charge_ah``   accumulators: running sum of increments
                                                     (charge minus discharge), reset-aware
``Cell surface temperature (°C)``  ``temperature_c``  or ``Temp (°C)``
=================================  ================  ============================================

``Charge Capacity (mWh)`` (an energy despite its name) is recognised by its unit and not taken
as a charge. Preamble ``Key:,value`` pairs go to ``meta.extra["header"]``.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from cycler_cli.io import tabular
from cycler_cli.io.tabular import TableSpec, names

ALIASES: dict[str, str] = {
    "total time": "time_s",
    "voltage": "voltage_v",
    "current": "current_a",
    "cycle": "cycle",
    "step": "step",
    "charge capacity": "q_charge_ah",
    "discharge capacity": "q_discharge_ah",
    "cell surface temperature": "temperature_c",
    "temp": "temperature_c",
}

SPEC = TableSpec(
    name="pec-csv",
    aliases=ALIASES,
    units={},
    signature=(names("test"), names("cell"), names("rack"), names("total time"), names("current"),
               names("voltage")),
    charge_rule="accumulators",
)


class PecReader:
    name = "pec-csv"
    description = "PEC (SBT) CSV export (Test, Cell, Rack, ..., Total Time, Voltage, Current)"

    def sniff(self, head: bytes, path: Path) -> bool:
        return tabular.sniff_text(head, SPEC)

    def read(self, path: Path):
        raw = tabular.read_text_table(path, SPEC)
        header = {}
        for line in raw.preamble:
            key, sep, value = line.partition(":,")
            if sep:
                header[key.strip()] = value.strip().rstrip(",")
        raw.meta.extra["header"] = header
        raw.meta.technique = header.get("TestRegime Name") or None
        start = header.get("Start Time")
        if start:
            try:
                raw.meta.start_time = datetime.strptime(start, "%m/%d/%Y %H:%M:%S")
            except ValueError:
                pass
        return tabular.canonicalise(raw, SPEC)


READER = PecReader()
