"""The data contract between readers (``io/``) and analysis: :class:`CyclingData`.

A reader returns ``CyclingData(frame, meta)`` or ``CyclingData.from_columns(columns, meta)``
(numpy arrays, no pandas). Either way the run has one row per recorded point and
canonical columns whose names carry their units:

=================  =======  ==============================================================
column             dtype    meaning
=================  =======  ==============================================================
``time_s``         float64  seconds since the start of the run (the file's own origin)
``voltage_v``      float64  cell voltage, V (BioLogic priority: Ecell > Ewe-Ece > Ewe)
``current_a``      float64  A; **positive = charge = oxidation at the working electrode**
``cycle``          int64    cycle index as the file numbers it, else derived (see meta)
``half_cycle``     int64    half-cycle index as the file numbers it, else derived
``step``           int64    program step / sequence index (BioLogic ``Ns``), else 0
=================  =======  ==============================================================

Optional columns, present only when the file carries them:

``charge_ah`` (float64, cumulative net charge since the start, same sign as ``current_a``;
BioLogic ``(Q-Qo)``), ``energy_wh`` (float64), ``temperature_c`` (float64),
``control_mode`` (int8: 1 galvanostatic, 2 potentiostatic, 3 rest/open circuit, 0 unknown).

Raw vendor column names never appear in the frame; ``meta.columns`` records which source
column each canonical column came from. The run is checked once, when it is built (a column
made on use, see :meth:`CyclingData.from_columns`, when it is made).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pandas costs ~0.4 s to import; a run read from columns never needs it
    import pandas as pd

REQUIRED_COLUMNS: dict[str, str] = {
    "time_s": "float64",
    "voltage_v": "float64",
    "current_a": "float64",
    "cycle": "int64",
    "half_cycle": "int64",
    "step": "int64",
}
OPTIONAL_COLUMNS: dict[str, str] = {
    "charge_ah": "float64",
    "energy_wh": "float64",
    "temperature_c": "float64",
    "control_mode": "int8",
}
CANONICAL_COLUMNS: dict[str, str] = {**REQUIRED_COLUMNS, **OPTIONAL_COLUMNS}
CANONICAL_UNITS: dict[str, str] = {
    "time_s": "s",
    "voltage_v": "V",
    "current_a": "A",
    "cycle": "",
    "half_cycle": "",
    "step": "",
    "charge_ah": "Ah",
    "energy_wh": "Wh",
    "temperature_c": "°C",
    "control_mode": "",
}


@dataclass(frozen=True)
class ColumnInfo:
    """Where a canonical column came from: ``source`` is the vendor's column name (or a
    description such as ``derived: control/V/mA where mode == 1``), ``unit`` the unit the
    source used before scaling."""

    canonical: str
    source: str
    unit: str

    def to_dict(self) -> dict[str, str]:
        return dataclasses.asdict(self)


@dataclass
class RunMeta:
    """What is known about a run besides its points.

    Masses are in mg and areas in cm²; ``None`` means "not set" (EC-Lab's placeholder
    defaults 0.001 mg, 0.001 cm², 7000 mg come out as ``None``).
    ``inferred`` lists every guess the reader made, in words a user can check;
    ``warnings`` lists problems that did not stop the read. ``rows_skipped`` maps a reason to
    the number of rows skipped for it: ``rows_read + sum(rows_skipped.values())`` is the
    number of data rows in the file.
    """

    source: str
    reader: str
    sha256: str = ""
    format_version: str | None = None
    technique: str | None = None
    start_time: datetime | None = None
    active_mass_mg: float | None = None
    characteristic_mass_mg: float | None = None
    electrode_area_cm2: float | None = None
    columns: list[ColumnInfo] = field(default_factory=list)
    inferred: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rows_read: int = 0
    rows_skipped: dict[str, int] = field(default_factory=dict)
    cycle_source: str = "file"  # "file" or "derived from current sign"
    extra: dict[str, Any] = field(default_factory=dict)

    def file_sha256(self) -> str:
        """SHA-256 of the source file's bytes, computed on first use and kept in ``sha256``.

        Lazy because hashing reads the whole file a second time (0.4 s per GB here), and only
        ``inspect`` and joined runs report it."""
        if not self.sha256 and self.source:
            import hashlib
            import os

            if not os.path.isfile(self.source):  # a run built in memory (simulated, joined)
                return self.sha256

            digest = hashlib.sha256()
            with open(self.source, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
            self.sha256 = digest.hexdigest()
        return self.sha256

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "reader": self.reader,
            "sha256": self.file_sha256(),
            "format_version": self.format_version,
            "technique": self.technique,
            "start_time": self.start_time.isoformat() if self.start_time else None,
            "active_mass_mg": self.active_mass_mg,
            "characteristic_mass_mg": self.characteristic_mass_mg,
            "electrode_area_cm2": self.electrode_area_cm2,
            "columns": [c.to_dict() for c in self.columns],
            "inferred": list(self.inferred),
            "warnings": list(self.warnings),
            "rows_read": self.rows_read,
            "rows_skipped": dict(self.rows_skipped),
            "cycle_source": self.cycle_source,
        }


class ContractError(ValueError):
    """A reader built a frame that breaks the contract: a bug in cycler, not in the file."""


class CyclingData:
    """One run: its points (canonical columns, see module docstring) and ``meta``.

    Built either from a pandas ``frame`` (``CyclingData(frame, meta)``) or, without importing
    pandas, from a dict of numpy arrays (:meth:`from_columns`); ``frame`` is then made on first
    use, sharing the arrays. The analysis reads points through :meth:`column` and
    :meth:`has_column`, so ``cycler cycles``/``check`` on a binary file never import pandas.
    """

    def __init__(self, frame: pd.DataFrame, meta: RunMeta) -> None:
        import pandas as pd

        self.meta = meta
        missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
        if missing:
            raise ContractError(f"reader {meta.reader!r} left out columns {missing}")
        unknown = [c for c in frame.columns if c not in CANONICAL_COLUMNS]
        if unknown:
            raise ContractError(f"reader {meta.reader!r} left non-canonical columns {unknown}")
        for name in frame.columns:
            want = CANONICAL_COLUMNS[name]
            if str(frame[name].dtype) != want:
                raise ContractError(f"reader {meta.reader!r}: column {name} is {frame[name].dtype}, not {want}")
        if not isinstance(frame.index, pd.RangeIndex) or frame.index.start != 0:
            raise ContractError(f"reader {meta.reader!r}: frame index must be a RangeIndex from 0")
        self._frame: pd.DataFrame | None = frame
        self._columns: dict[str, np.ndarray] | None = None
        self._lazy: dict[str, Any] = {}
        self._names: list[str] = [str(c) for c in frame.columns]
        self._n = len(frame)
        meta.rows_read = self._n

    @classmethod
    def from_columns(cls, columns: dict[str, Any], meta: RunMeta) -> CyclingData:
        """A run from canonical arrays, each cast to its contract dtype (no copy when it already
        has it); the same checks as a frame: required names present, no other names, equal
        lengths.

        A column's value may also be a function of no arguments that returns its array: it is
        called, cast and checked the first time the column is asked for (:meth:`column`,
        :attr:`frame`). The ``.mpr`` reader hands ``cycle`` and ``step`` over this way: the
        analysis never reads them, and at 10^6 points making them costs as much as a tenth of
        reading the file (two 8 MB int64 arrays the kernel has to map and zero)."""
        lazy = {name: make for name, make in columns.items() if callable(make)}
        arrays = _canonical_arrays({name: v for name, v in columns.items() if name not in lazy})
        unknown = [name for name in lazy if name not in CANONICAL_COLUMNS]
        if unknown:
            raise ContractError(f"non-canonical column {unknown[0]!r}")
        missing = [c for c in REQUIRED_COLUMNS if c not in arrays and c not in lazy]
        if missing:
            raise ContractError(f"reader {meta.reader!r} left out columns {missing}")
        if "time_s" not in arrays:
            raise ContractError(f"reader {meta.reader!r}: time_s must be an array, not made on use")
        lengths = {name: len(a) for name, a in arrays.items()}
        if len(set(lengths.values())) > 1:
            raise ContractError(f"reader {meta.reader!r}: columns of different lengths {lengths}")
        for name, a in arrays.items():
            if a.ndim != 1:
                raise ContractError(f"reader {meta.reader!r}: column {name} is not one-dimensional")
        self = cls.__new__(cls)
        self.meta = meta
        self._frame = None
        self._columns = arrays
        self._lazy = lazy
        self._names = [c for c in CANONICAL_COLUMNS if c in arrays or c in lazy]
        self._n = lengths["time_s"]
        meta.rows_read = self._n
        return self

    def _materialise(self, name: str) -> np.ndarray:
        """Make a column handed over as a function (:meth:`from_columns`), cast and checked."""
        assert self._columns is not None
        values = _canonical_arrays({name: self._lazy.pop(name)()})[name]
        if values.ndim != 1 or len(values) != self._n:
            raise ContractError(
                f"reader {self.meta.reader!r}: column {name} made on use has shape {values.shape}, not ({self._n},)"
            )
        self._columns[name] = values
        return values

    @property
    def frame(self) -> pd.DataFrame:
        """The points as a pandas DataFrame (made on first use for a run built from columns)."""
        if self._frame is None:
            import pandas as pd

            assert self._columns is not None
            for name in list(self._lazy):
                self._materialise(name)
            # copy=False: pandas would otherwise consolidate the float columns into one new
            # block, a second full copy of the run (0.9 s and ~0.5 GB at 10^7 points,
            # docs/performance.md). Read-only views are fine: under copy-on-write pandas copies
            # a column only if someone writes to it.
            self._frame = pd.DataFrame({c: self._columns[c] for c in self._names}, copy=False)
        return self._frame

    @property
    def column_names(self) -> list[str]:
        if self._columns is not None:
            return list(self._names)
        assert self._frame is not None
        return [str(c) for c in self._frame.columns]

    def has_column(self, name: str) -> bool:
        return name in self.column_names

    def __len__(self) -> int:
        return self._n

    @property
    def is_empty(self) -> bool:
        return self._n == 0

    def column(self, name: str) -> np.ndarray:
        """The column as a numpy array (no copy where pandas allows)."""
        if self._columns is not None:
            if name in self._lazy:
                return self._materialise(name)
            return self._columns[name]
        assert self._frame is not None
        return self._frame[name].to_numpy()


def _canonical_arrays(columns: dict[str, Any]) -> dict[str, np.ndarray]:
    """Cast each array to its contract dtype (no copy when it has it), in canonical order."""
    out: dict[str, np.ndarray] = {}
    for name, values in columns.items():
        if name not in CANONICAL_COLUMNS:
            raise ContractError(f"non-canonical column {name!r}")
        out[name] = np.asarray(values).astype(CANONICAL_COLUMNS[name], copy=False)
    return {c: out[c] for c in CANONICAL_COLUMNS if c in out}


def build_frame(
    columns: dict[str, np.ndarray],
) -> pd.DataFrame:
    """Assemble a contract frame from canonical arrays, casting each to its contract dtype.

    Missing index columns (``cycle``, ``half_cycle``, ``step``) must be filled by the caller
    (see :func:`cycler_cli.cycles.label_cycles`). Unknown names raise :class:`ContractError`.
    Readers that do not otherwise need pandas use :meth:`CyclingData.from_columns` instead.
    """
    import pandas as pd

    # copy=False: see CyclingData.frame
    return pd.DataFrame(_canonical_arrays(columns), copy=False)
