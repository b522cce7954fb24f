"""Rich rendering of :func:`cycler_cli.inspect.describe`."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text


def _fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds >= 3600:
        return f"{seconds / 3600:.2f} h"
    if seconds >= 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:.1f} s"


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "not set"
    if isinstance(value, float):
        return f"{value:.6g}{(' ' + unit) if unit else ''}"
    return f"{value}{(' ' + unit) if unit else ''}"


def render_inspect(info: dict[str, Any]) -> Group:
    # the path on a line of its own: as the table's title it wrapped to the table's width
    head = Table(show_header=False, box=None, pad_edge=False)
    head.add_column(style="bold")
    head.add_column()
    skipped = sum(info["rows_skipped"].values())
    rows = f"{info['rows']}" + (f" (+{skipped} skipped: " + ", ".join(
        f"{n} {why}" for why, n in info["rows_skipped"].items()) + ")" if skipped else "")
    head.add_row("reader", f"{info['reader']}" + (f" (format {info['format_version']})" if info["format_version"] else ""))
    head.add_row("technique", _fmt(info["technique"]) if info["technique"] else "-")
    head.add_row("rows", rows)
    head.add_row("start", info["start_time"] or "-")
    head.add_row("duration", _fmt_duration(info["duration_s"]))
    head.add_row("cycles", f"{info['cycles']} ({info['half_cycles']} half-cycles, {info['cycle_source']})")
    head.add_row("active mass", _fmt(info["mass_mg"], "mg"))
    head.add_row("electrode area", _fmt(info["area_cm2"], "cm²"))

    cols = Table(show_lines=False, title_justify="left")
    cols.add_column("column")
    cols.add_column("from")
    cols.add_column("unit in file")
    for col in info["columns"]:
        cols.add_row(col["canonical"], col["source"], col["unit"] or "-")

    parts: list[Any] = [Text(info["path"], style="bold"), head, cols]
    for line in info["inferred"]:
        parts.append(Text(f"inferred: {line}", style="cyan"))
    for line in info["warnings"]:
        parts.append(Text(f"warning: {line}", style="yellow"))
    return Group(*parts)
