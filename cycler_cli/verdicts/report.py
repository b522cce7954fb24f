"""The result types of ``cycler check``: :class:`Verdict`, :class:`FileReport`, :class:`CheckReport`.

Frozen dataclasses whose ``to_dict()`` is the only road to JSON (``docs/check-report.schema.json``
describes the result). Statuses:

* a verdict is ``pass``, ``warn``, ``fail`` or ``skip`` (the rule could not judge; ``message``
  says why);
* a file is the worst of its verdicts (``fail`` > ``warn`` > ``pass``; ``skip`` never fails),
  ``skip`` when every verdict skipped, or ``error`` when the file could not be read or analysed;
* the whole check is the worst file status (``error`` > ``fail`` > ``warn`` > ``pass`` > ``skip``).

The exit code follows from the files (:meth:`CheckReport.exit_code`): the largest of the
per-file codes, so 4 (internal) > 3 (input) > 1 (a verdict failed) > 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from cycler_cli.errors import EXIT_FAILED, EXIT_OK

#: Bump on any incompatible change of the JSON shape.
SCHEMA_VERSION = "1.0"

VERDICT_STATUSES = ("pass", "warn", "fail", "skip")
FILE_STATUSES = ("pass", "warn", "fail", "skip", "error")
#: Severity order used to combine statuses; the highest wins.
_SEVERITY = {"skip": 0, "pass": 1, "warn": 2, "fail": 3, "error": 4}
#: How ``value`` compares with ``threshold`` for the verdict to pass.
COMPARISONS = ("<=", ">=", "abs<=")


def json_number(x: Any) -> float | int | None:
    """A finite number or ``None`` (JSON has no NaN)."""
    if x is None or isinstance(x, bool):
        return None
    try:
        value = float(x)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(value):
        return None
    if isinstance(x, int):
        return int(x)
    return value


def json_safe(obj: Any) -> Any:
    """``obj`` with every non-finite float replaced by ``None`` (dicts, lists, tuples walked)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalars
        try:
            return json_safe(obj.item())
        except (TypeError, ValueError):
            return str(obj)
    return obj


def worst_status(statuses: list[str] | tuple[str, ...]) -> str:
    """The most severe status of ``statuses``; ``skip`` when empty."""
    return max(statuses, key=_SEVERITY.__getitem__, default="skip")


@dataclass(frozen=True)
class Verdict:
    """One rule's judgement of one file.

    ``value`` is the metric the rule judged (in ``unit``), ``threshold`` the limit it was held
    to, ``comparison`` how they must relate to pass (``<=``, ``>=``, ``abs<=``); any of these is
    ``None`` when the rule skipped. ``message`` is one sentence: the reason for every
    fail, warn and skip."""

    rule: str
    status: str
    value: float | None
    threshold: float | None
    unit: str
    message: str
    comparison: str | None = None

    def __post_init__(self) -> None:
        if self.status not in VERDICT_STATUSES:
            raise ValueError(f"verdict status must be one of {VERDICT_STATUSES}, not {self.status!r}")
        if self.comparison is not None and self.comparison not in COMPARISONS:
            raise ValueError(f"comparison must be one of {COMPARISONS}, not {self.comparison!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "status": self.status,
            "value": json_number(self.value),
            "threshold": json_number(self.threshold),
            "unit": self.unit,
            "comparison": self.comparison,
            "message": self.message,
        }


@dataclass(frozen=True)
class FileReport:
    """The verdicts on one file, or the error that stopped it being judged.

    ``analysis`` is the ``analyze(...).to_dict()`` the rules judged (``None`` on error);
    ``error`` is the one-line error and ``exit_code`` the code it maps to (3 input, 4 internal)."""

    source: str
    cell_type: str | None
    status: str
    verdicts: tuple[Verdict, ...] = ()
    analysis: dict[str, Any] | None = None
    error: str | None = None
    error_exit_code: int | None = None

    def __post_init__(self) -> None:
        if self.status not in FILE_STATUSES:
            raise ValueError(f"file status must be one of {FILE_STATUSES}, not {self.status!r}")

    @classmethod
    def judged(cls, source: str, cell_type: str | None, verdicts: list[Verdict], analysis: dict[str, Any] | None) -> "FileReport":
        """A report whose status is the worst verdict (``skip`` when all skipped)."""
        status = worst_status([v.status for v in verdicts])
        return cls(source=source, cell_type=cell_type, status=status, verdicts=tuple(verdicts), analysis=analysis)

    @classmethod
    def failed(cls, source: str, error: str, exit_code: int) -> "FileReport":
        return cls(source=source, cell_type=None, status="error", error=error, error_exit_code=exit_code)

    @property
    def exit_code(self) -> int:
        if self.status == "error":
            return int(self.error_exit_code or 4)
        return EXIT_FAILED if self.status == "fail" else EXIT_OK

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "cell_type": self.cell_type,
            "status": self.status,
            "exit_code": self.exit_code,
            "verdicts": [v.to_dict() for v in self.verdicts],
            "error": self.error,
            "analysis": json_safe(self.analysis),
        }


@dataclass(frozen=True)
class CheckReport:
    """All files of one ``cycler check`` run and the effective configuration (``config``)."""

    files: tuple[FileReport, ...]
    config: dict[str, Any] = field(default_factory=dict)
    schema_version: str = SCHEMA_VERSION

    @property
    def status(self) -> str:
        return worst_status([f.status for f in self.files])

    @property
    def exit_code(self) -> int:
        """The largest per-file exit code: 4 > 3 > 1 > 0 (2 never reaches a report)."""
        return max((f.exit_code for f in self.files), default=EXIT_OK)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "status": self.status,
            "exit_code": self.exit_code,
            "files": [f.to_dict() for f in self.files],
            "config": json_safe(self.config),
        }
