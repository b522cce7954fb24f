"""Novonix HPC/UHPC CSV exports (``novonix-csv``).

The file has a ``[Summary]`` … ``[End Summary]`` block (channel, protocol, ``Mass (g)``,
``Capacity (Ah)``, ``Area (cm2)``, ``Started``), a ``[Protocol]`` block, then ``[Data]``
followed by the header line and the records. Newer software quotes every whole line
(``"2022-04-11 10:58:07 AM,1,0,..."``); the quotes are removed before parsing.

===============================  ==============  ================================================
Novonix column                   canonical       note
===============================  ==============  ================================================
``Run Time (h)``                 ``time_s``      hours in the file, × 3600
``Potential (V)``                ``voltage_v``
``Current (A)``                  ``current_a``   sign rule below
``Cycle Number``                 ``cycle``
``Step Number``                  ``step``
``Step Type``                    (direction)     0 rest, 1 CC chg, 2 CC dchg, 7 CCCV chg,
                                                 8 CV hold chg, 9 CCCV dchg, 10 CV hold dchg
``Capacity (Ah)``                ``charge_ah``   unsigned; counts on across the CC and CV steps of
                                                 one direction, restarts when it falls
``Temperature (°C)``             ``temperature_c``
===============================  ==============  ================================================

* **sign**: a current that is never negative is signed by the step type (discharge codes 2, 9, 10
  negative); a signed current is checked against it.
* Summary values (mass, nominal capacity, area, software version) go to ``meta.extra["summary"]``;
  the mass is not taken as the active mass (it is often the placeholder 1.000 g).
* Uncertainty: the short sample here has no discharge step, so the sign of a discharge current as
  written by the instrument is not verified on a real file.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from cycler_cli.io import tabular
from cycler_cli.io.tabular import TableSpec, names

ALIASES: dict[str, str] = {
    "run time": "time_s",
    "potential": "voltage_v",
    "current": "current_a",
    "cycle number": "cycle",
    "step number": "step",
    "step type": "state",
    "capacity": "q_step_ah",
    "temperature": "temperature_c",
}

_CODES: dict[str, tuple[int, int]] = {
    "0": (0, 3), "1": (1, 1), "2": (-1, 1), "7": (1, 0), "8": (1, 2), "9": (-1, 0), "10": (-1, 2),
}

SPEC = TableSpec(
    name="novonix-csv",
    aliases=ALIASES,
    units={"time_s": "h", "voltage_v": "V", "current_a": "A", "q_step_ah": "Ah"},
    signature=(names("run time"), names("potential"), names("current"), names("step type"), names("cycle number")),
    state_signs={k: v[0] for k, v in _CODES.items()},
    state_modes={k: v[1] for k, v in _CODES.items()},
    charge_rule="step",
    reset_on_step=False,
    max_header_line=20000,
    head_bytes=4 << 20,  # the [Protocol] block before [Data] can be long
)


class NovonixReader:
    name = "novonix-csv"
    description = "Novonix HPC/UHPC CSV ([Summary] ... [Data] blocks; Run Time (h), Potential (V), Current (A))"

    def sniff(self, head: bytes, path: Path) -> bool:
        if b"[Summary]" not in head[:200] or b"Novonix" not in head[:400]:
            return False
        return True  # the [Data] header may lie beyond the sniffing window, after a long protocol

    def read(self, path: Path):
        raw = tabular.read_text_table(path, SPEC, text_filter=lambda body: body.replace('"', ""))
        summary = {}
        for line in raw.preamble:
            if ":" in line and not line.startswith("[") and not line.startswith(" "):
                key, _, value = line.partition(":")
                summary[key.strip()] = value.strip()
            if line.strip() == "[End Summary]":
                break
        raw.meta.extra["summary"] = summary
        raw.meta.format_version = summary.get("Version")
        started = summary.get("Started")
        if started:
            for fmt in ("%Y-%m-%d %I:%M:%S %p", "%Y-%m-%d %H:%M:%S"):
                try:
                    raw.meta.start_time = datetime.strptime(started, fmt)
                    break
                except ValueError:
                    continue
        return tabular.canonicalise(raw, SPEC)


READER = NovonixReader()
