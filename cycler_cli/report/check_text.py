"""The terminal table of ``cycler check``: one line per rule, coloured status, value against
threshold with display units; under the table, the reason for every failure, warning and skip
as one ``rule: reason`` line each (a reason column would wrap into an unreadable strip on an
80-column terminal); the analysis's own warnings follow as dim ``note:`` lines.

Takes ``CheckReport.to_dict()``; returns a rich renderable. Display units live here only.
"""

from __future__ import annotations

import math
from typing import Any

STYLES = {"pass": "green", "warn": "yellow", "fail": "bold red", "skip": "dim", "error": "bold red"}
_DISPLAY_UNITS = {"%/100h": "% / 100 h", "%/cycle": "% / cycle", "mAh/g": "mAh/g"}


def _g(x: Any) -> str:
    if x is None:
        return ""
    if isinstance(x, int) and not isinstance(x, bool):
        return str(x)
    x = float(x)
    if x == 0 or not math.isfinite(x):
        return str(x if x else 0)
    magnitude = math.floor(math.log10(abs(x)))
    if -4 <= magnitude < 6:
        return f"{x:.{max(2 - magnitude, 0)}f}"
    return f"{x:.2e}"


def _with_unit(text: str, unit: str) -> str:
    if not text:
        return ""
    unit = _DISPLAY_UNITS.get(unit, unit)
    return f"{text} {unit}" if unit else text


def _threshold(v: dict[str, Any]) -> str:
    t = v.get("threshold")
    if t is None:
        return ""
    symbol = {"<=": "≤ ", ">=": "≥ ", "abs<=": "± "}.get(v.get("comparison") or "", "")
    return _with_unit(symbol + _g(t), v.get("unit", ""))


def render_check(report: dict[str, Any]):
    """A rich ``Group``: one table per file, then a one-line total."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    parts = []
    for f in report.get("files", []):
        status = f.get("status", "")
        title = Text.assemble(
            (str(f.get("source", "")), "bold"),
            f"  {f.get('cell_type') or ''}  ",
            (status.upper(), STYLES.get(status, "")),
        )
        table = Table(title=title, title_justify="left", expand=False, show_edge=False, pad_edge=False)
        table.add_column("rule", no_wrap=True)
        table.add_column("status", no_wrap=True)
        table.add_column("value", justify="right", no_wrap=True)
        table.add_column("limit", justify="right", no_wrap=True)
        reasons = []
        if status == "error":
            table.add_row("read", Text("ERROR", STYLES["error"]), "", "")
            reasons.append(Text.assemble(("  read: ", "bold"), (str(f.get("error", "")), STYLES["error"])))
        for v in f.get("verdicts", []):
            s = v.get("status", "")
            table.add_row(
                str(v.get("rule", "")),
                Text(s.upper(), STYLES.get(s, "")),
                _with_unit(_g(v.get("value")), v.get("unit", "")),
                _threshold(v),
            )
            if s != "pass":
                reasons.append(
                    Text.assemble((f"  {v.get('rule', '')}: ", "bold"), (str(v.get("message", "")), STYLES.get(s, "")))
                )
        parts.append(table)
        parts.extend(reasons)
        analysis = f.get("analysis") or {}
        for note in analysis.get("warnings") or []:
            parts.append(Text(f"  note: {note}", "dim"))
        parts.append(Text(""))
    counts: dict[str, int] = {}
    for f in report.get("files", []):
        counts[f.get("status", "")] = counts.get(f.get("status", ""), 0) + 1
    n = len(report.get("files", []))
    summary = ", ".join(f"{k} {counts[k]}" for k in ("fail", "error", "warn", "pass", "skip") if counts.get(k))
    overall = report.get("status", "")
    parts.append(
        Text.assemble(
            f"{n} file{'s' if n != 1 else ''}: {summary or 'nothing judged'} -> ",
            (str(overall).upper(), STYLES.get(overall, "")),
            f" (exit {report.get('exit_code')})",
        )
    )
    return Group(*parts)
