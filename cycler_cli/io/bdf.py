"""Battery Data Format (BDF) CSV and battery-archive / batterydata.energy.gov tables (``bdf-csv``).

Two naming schemes of "standardised" cycling tables:

* **BDF** (battery-data-alliance): ``Test Time / s``, ``Voltage / V``, ``Current / A``,
  ``Cycle Count / 1``, ``Step Index / 1``, ``Charging Capacity / Ah``, ``Discharging Capacity / Ah``,
  ``Step Type / 1``, ``Temperature T1 / degC`` (``name / unit``; also ``Test Time / h``);
* **battery-archive** (batteryarchive.org, batterydata.energy.gov, ROVI battery-data-toolkit):
  ``Time_s``, ``Voltage_V``, ``Current_A``, ``Cycle_Index``, ``Step``, ``Charge_Capacity_Ah``,
  ``Discharge_Capacity_Ah``, ``Cell_Temperature_C`` (``name_unit``).

Both say positive current = charge. ``charge_ah`` is the running sum of the increments of the
charge accumulator minus those of the discharge accumulator (both restart at the producer's
choice, so a fall starts a new segment). When a ``Step Type`` column labels steps ``charge`` /
``discharge`` / ``rest`` and the current's sign disagrees with it on most points (cellpy's
``batmo_bdf.csv`` writes discharge current positive), the current is negated and a warning says
so. A file that carries both Arbin and BDF columns (datalab's ``arbin_example.bdf.csv``) is read
here from its BDF columns.

A CSV whose header is exactly the project's canonical names (``time_s,voltage_v,current_a``)
is left to ``generic-csv``.
"""

from __future__ import annotations

from pathlib import Path

from cycler_cli.io import tabular
from cycler_cli.io.tabular import TableSpec, names

ALIASES: dict[str, str] = {
    "test time": "time_s",
    "time": "time_s",
    "voltage": "voltage_v",
    "current": "current_a",
    "cycle count": "cycle",
    "cycle index": "cycle",
    "step index": "step",
    "step": "step",
    "charging capacity": "q_charge_ah",
    "charge capacity": "q_charge_ah",
    "discharging capacity": "q_discharge_ah",
    "discharge capacity": "q_discharge_ah",
    "step type": "state",
    "temperature t1": "temperature_c",
    "cell temperature": "temperature_c",
}
#: Full (unit-bearing) BDF names take precedence over the vendor columns of mixed files.
BDF_ALIASES: dict[str, str] = {
    **{k: v for k, v in ALIASES.items() if k not in ("time", "step", "cycle index")},
    "test time / s": "time_s", "test time / h": "time_s", "test time / min": "time_s",
    "voltage / v": "voltage_v", "current / a": "current_a", "cycle count / 1": "cycle",
    "step index / 1": "step", "charging capacity / ah": "q_charge_ah", "discharging capacity / ah": "q_discharge_ah",
    "step type / 1": "state",
}

_STATES = {"charge": 1, "discharge": -1, "rest": 0, "chg": 1, "dchg": -1, "pause": 0, "ocv": 0}

BDF_SPEC = TableSpec(
    name="bdf-csv",
    aliases=BDF_ALIASES,
    signature=(names("test time / s", "test time / h", "test time / min"), names("current / a"), names("voltage / v")),
    state_signs=_STATES,
    state_modes={"rest": 3},
    charge_rule="accumulators",
)

ARCHIVE_SPEC = TableSpec(
    name="bdf-csv",
    aliases=ALIASES,
    signature=(names("time s"), names("current a"), names("voltage v"), names("cycle index")),
    state_signs=_STATES,
    state_modes={"rest": 3},
    charge_rule="accumulators",
)

_CANONICAL_TRIPLE = (b"time_s", b"voltage_v", b"current_a")


def _is_canonical(head: bytes) -> bool:
    first = head.split(b"\n", 1)[0]
    fields = {f.strip().strip(b'"') for f in first.replace(b";", b",").replace(b"\t", b",").split(b",")}
    return all(name in fields for name in _CANONICAL_TRIPLE)


class BdfReader:
    name = "bdf-csv"
    description = "Battery Data Format CSV (Test Time / s, Current / A, ...) and battery-archive tables (Time_s, Current_A)"

    def sniff(self, head: bytes, path: Path) -> bool:
        if _is_canonical(head):
            return False
        return tabular.sniff_text(head, BDF_SPEC) or tabular.sniff_text(head, ARCHIVE_SPEC)

    def read(self, path: Path):
        with open(path, "rb") as fh:
            head = fh.read(65536)
        spec = BDF_SPEC if tabular.sniff_text(head, BDF_SPEC) else ARCHIVE_SPEC
        raw = tabular.read_text_table(path, spec)
        raw.meta.format_version = "BDF" if spec is BDF_SPEC else "battery-archive"
        if spec is BDF_SPEC:
            # mixed files (vendor + BDF columns): keep only the BDF-named columns for the mapped keys
            bdf_named = [h for h in raw.frame.columns if " / " in h or tabular._key_for(spec, h) is None]
            raw.frame = raw.frame[[h for h in raw.frame.columns if h in bdf_named or " / " in h]]
            _check_mixed_current(path, raw)
        return tabular.canonicalise(raw, spec)


def _check_mixed_current(path: Path, raw: tabular.RawTable) -> None:
    """Warn when a vendor ``Current`` column beside ``Current / A`` disagrees in scale."""
    import numpy as np
    import pandas as pd

    if "Current / A" not in raw.frame.columns:
        return
    try:
        vendor = pd.read_csv(path, usecols=["Current"], skiprows=0, nrows=5000)["Current"].to_numpy(dtype=float)
    except (ValueError, KeyError):
        return
    bdf = tabular.to_float(raw.frame["Current / A"])[: len(vendor)]
    mask = (np.abs(bdf) > 0) & np.isfinite(vendor) & (np.abs(vendor) > 0)
    if mask.sum() < 3:
        return
    ratio = float(np.median(vendor[mask] / bdf[mask]))
    if not 0.99 < abs(ratio) < 1.01:
        raw.meta.warnings.append(
            f"the file's vendor column 'Current' is {ratio:.4g} x its 'Current / A': "
            "read as labelled (Current / A); check the converter's units"
        )


READER = BdfReader()
