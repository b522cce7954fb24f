"""Basytec text exports (``basytec-txt``).

Preamble lines start with ``~`` (``~Start of Test: 19.06.2023 17:56:53``); the header line also
starts with ``~`` (``~Time[s]``); tab-separated, latin-1, sometimes with a decimal comma.

==================================  ===============  =============================================
Basytec column                      canonical        note
==================================  ===============  =============================================
``Time[s]`` / ``Time[h]``           ``time_s``       unit from the header
``U[V]``                            ``voltage_v``
``I[A]``                            ``current_a``    signed, positive = charge (kept)
``Cyc-Count``                       ``cycle``
``Line``                            ``step``         the program line
``Ah-Cyc-Charge``/``-Discharge``    ``charge_ah``    accumulators, running sum of the increments
``T1[°C]``                          ``temperature_c``
==================================  ===============  =============================================

Uncertainty: no real Basytec file is in the project's test set; the mapping follows the column
list documented for PyProBE's Basytec sample (domain reference §4.6) and is tested on a
synthetic file.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from cycler_cli.io import tabular
from cycler_cli.io.tabular import TableSpec, names

ALIASES: dict[str, str] = {
    "time": "time_s",
    "u": "voltage_v",
    "i": "current_a",
    "cyc-count": "cycle",
    "line": "step",
    "ah-cyc-charge": "q_charge_ah",
    "ah-cyc-discharge": "q_discharge_ah",
    "t1": "temperature_c",
}

SPEC = TableSpec(
    name="basytec-txt",
    aliases=ALIASES,
    units={"time_s": "s", "voltage_v": "V", "current_a": "A", "q_charge_ah": "Ah", "q_discharge_ah": "Ah",
           "temperature_c": "°C"},
    signature=(names("time"), names("u"), names("i"), names("line", "cyc-count", "dataset")),
    charge_rule="accumulators",
)


class BasytecReader:
    name = "basytec-txt"
    description = "Basytec text export (~ preamble; ~Time[s], U[V], I[A], Line, Cyc-Count)"

    def sniff(self, head: bytes, path: Path) -> bool:
        return head.lstrip(b"\xef\xbb\xbf").startswith(b"~") and tabular.sniff_text(head, SPEC)

    def read(self, path: Path):
        raw = tabular.read_text_table(path, SPEC)
        for line in raw.preamble:
            text = line.lstrip("~").strip()
            if text.lower().startswith("start of test:"):
                try:
                    raw.meta.start_time = datetime.strptime(text.split(":", 1)[1].strip(), "%d.%m.%Y %H:%M:%S")
                except ValueError:
                    pass
        raw.meta.extra["header"] = [line.lstrip("~").strip() for line in raw.preamble if line.strip()]
        return tabular.canonicalise(raw, SPEC)


READER = BasytecReader()
