"""``cycler plot``: figures of one run (matplotlib, an optional extra imported only here).

This module owns the figures (docs/plot.md). Kinds:

* ``voltage``: cell voltage (V) vs time (h), every point;
* ``overpotential`` (symmetric cells): the per-half-cycle overpotential ``overpotential_v`` (V,
  from the cycle table) at each half-cycle's mid-time ``start_s + duration_s / 2`` (h), strip
  and plate marked apart, with the drift line: slope = the table's Theil-Sen
  ``overpotential_drift_v_per_h``, intercept = the median of ``η_k - slope · t_k`` over the
  complete half-cycles (the Theil-Sen intercept); a hard short is marked where it starts;
* ``voltage-capacity`` (full cells): voltage (V) vs the charge passed since the start of each
  half-cycle (mAh/g with an active mass, else mAh), on-current points only, one line per
  half-cycle, the selected cycles coloured (default: up to 10 spread over the run) and the
  others grey. The charge is the same trapezoid integral of ``|I|`` the analysis uses;
* ``capacity`` (full cells): discharge and charge capacity vs cycle, the retention threshold
  as a horizontal line at ``retention_pct`` % of the reference cycle's discharge capacity, and
  coulombic efficiency (%) on a second axis;
* ``auto``: symmetric cells ``voltage`` over ``overpotential``; full cells
  ``voltage-capacity`` beside ``capacity``.

The figure is ``width_px x height_px`` pixels at ``dpi`` (the PNG has exactly that size); the
format follows the output's suffix (``.png``, ``.svg``, ``.pdf``). Titles and axes carry units.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cycler_cli.errors import ConfigError, MissingExtraError

KINDS = ("auto", "voltage", "overpotential", "voltage-capacity", "capacity")
FORMATS = ("png", "svg", "pdf")
_SYMMETRIC_ONLY = ("overpotential",)
_FULL_ONLY = ("voltage-capacity", "capacity")


def _matplotlib():
    try:
        import matplotlib
    except ImportError as exc:
        raise MissingExtraError(
            "cycler plot needs matplotlib, which is not installed", hint="pip install 'cycler-cli[plot]'"
        ) from exc
    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    return Figure


def half_cycle_capacity_ah(seg) -> "Any":
    """Per point, the charge (Ah, >= 0) passed since the start of its half-cycle: trapezoid
    ``½(|I_i| + |I_(i+1)|)·Δt`` over intervals whose both ends are on current in the same
    half-cycle (as :mod:`cycler_cli.analysis.segment` integrates); 0 before the first current."""
    import numpy as np

    current = np.abs(seg.current_a)
    dt = np.diff(seg.time_s)
    same = (seg.sign[1:] != 0) & (seg.sign[1:] == seg.sign[:-1]) & (seg.half_cycle[1:] == seg.half_cycle[:-1])
    dq = np.where(same & (dt > 0), 0.5 * (current[1:] + current[:-1]) * dt, 0.0) / 3600.0
    cumulative = np.concatenate([[0.0], np.cumsum(dq)])
    out = np.zeros_like(cumulative)
    hc = seg.half_cycle
    on = hc >= 1
    out[on] = cumulative[on] - cumulative[seg.first_on[hc[on] - 1]]
    return np.maximum(out, 0.0)


def _selected_cycles(n_cycles: int, cycles: list[int] | None) -> list[int]:
    if cycles:
        return sorted(set(c for c in cycles if 1 <= c <= n_cycles))
    if n_cycles <= 10:
        return list(range(1, n_cycles + 1))
    import numpy as np

    return sorted(set(np.linspace(1, n_cycles, 10).round().astype(int).tolist()))


def _name(report: dict[str, Any]) -> str:
    return Path(str(report["source"]).split(" + ")[0]).name


def _panel_voltage(ax, data, report) -> None:
    import numpy as np

    t_h = data.column("time_s") / 3600.0
    ax.plot(t_h, data.column("voltage_v"), lw=0.6, color="tab:blue")
    ax.set_xlabel("time (h)")
    ax.set_ylabel("cell voltage (V)")
    ax.set_title(f"{_name(report)}: voltage vs time ({report['cell_type']} cell)")
    ax.axhline(0.0, color="0.6", lw=0.5) if np.nanmin(data.column("voltage_v")) < 0 else None
    ax.grid(alpha=0.3)


def _panel_overpotential(ax, report) -> None:
    import numpy as np

    rows = report["cycles"]
    summary = report["summary"]
    mid_h = np.array([(r["start_s"] + r["duration_s"] / 2) / 3600.0 for r in rows], dtype=float)
    eta = np.array([np.nan if r["overpotential_v"] is None else r["overpotential_v"] for r in rows], dtype=float)
    strip = np.array([r["direction"] == "strip" for r in rows])
    complete = np.array([bool(r["complete"]) for r in rows])
    ax.plot(mid_h[strip], eta[strip], "o", ms=4, color="tab:red", label="strip (WE oxidised)")
    ax.plot(mid_h[~strip], eta[~strip], "s", ms=4, color="tab:blue", label="plate (WE reduced)")
    slope = summary.get("overpotential_drift_v_per_h")
    fit = complete & np.isfinite(eta)
    short_hc = summary.get("short_circuit_half_cycle")
    if short_hc is not None:
        fit &= np.array([r["half_cycle"] < short_hc for r in rows])
        start = next((r for r in rows if r["half_cycle"] == short_hc), None)
        if start is not None:
            ax.axvline(start["start_s"] / 3600.0, color="k", ls=":", lw=1, label=f"short ({summary.get('short_circuit_kind')}) in half-cycle {short_hc}")
    if slope is not None and fit.any():
        intercept = float(np.median(eta[fit] - slope * mid_h[fit]))
        xs = np.array([mid_h[fit].min(), mid_h[fit].max()])
        pct = summary.get("overpotential_drift_pct_per_100h")
        label = f"drift {slope * 1e3:+.3g} mV/h" + (f" ({pct:+.3g} %/100 h)" if pct is not None else "")
        ax.plot(xs, intercept + slope * xs, "-", color="k", lw=1.2, label=label)
    ax.set_xlabel("half-cycle mid-time (h)")
    ax.set_ylabel("overpotential |η| (V)")
    ax.set_title(f"{_name(report)}: overpotential per half-cycle")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")


def _panel_voltage_capacity(ax, data, report, cycles: list[int] | None) -> None:
    import matplotlib
    import numpy as np

    from cycler_cli.analysis import segment_run

    control = data.column("control_mode") if data.has_column("control_mode") else None
    seg = segment_run(data.column("time_s"), data.column("voltage_v"), data.column("current_a"), control)
    q_ah = half_cycle_capacity_ah(seg)
    mass_mg = report.get("mass_mg")
    if mass_mg:
        q = q_ah * 1000.0 / (mass_mg / 1000.0)  # Ah -> mAh, per g
        unit = "mAh/g"
    else:
        q = q_ah * 1000.0
        unit = "mAh"
    n_cycles = int(seg.hc_cycle.max()) if seg.n_half else 0
    chosen = _selected_cycles(n_cycles, cycles)
    cmap = matplotlib.colormaps["viridis"]
    colour = {c: cmap(i / max(len(chosen) - 1, 1)) for i, c in enumerate(chosen)}
    labelled: set[int] = set()
    for h in range(1, seg.n_half + 1):  # one line per half-cycle (groups, not rows)
        idx = np.flatnonzero((seg.half_cycle == h) & seg.on)
        if idx.size < 2:
            continue
        c = int(seg.hc_cycle[h - 1])
        if c in colour:
            label = f"cycle {c}" if c not in labelled else None
            labelled.add(c)
            ax.plot(q[idx], seg.voltage_v[idx], lw=1.2, color=colour[c], label=label, zorder=3)
        else:
            ax.plot(q[idx], seg.voltage_v[idx], lw=0.8, color="0.75", zorder=2)
    ax.set_xlabel(f"capacity since half-cycle start ({unit})")
    ax.set_ylabel("cell voltage (V)")
    ax.set_title(f"{_name(report)}: voltage vs capacity")
    ax.grid(alpha=0.3)
    if labelled:
        ax.legend(fontsize=7, loc="best", ncol=2)


def _panel_capacity(ax, report, retention_pct: float) -> Any:
    import numpy as np

    rows = report["cycles"]
    specific = report.get("mass_mg") is not None and any(r.get("discharge_mah_g") is not None for r in rows)
    key, unit = ("mah_g", "mAh/g") if specific else ("mah", "mAh")
    cyc = np.array([r["cycle"] for r in rows], dtype=float)
    dis = np.array([np.nan if r.get(f"discharge_{key}") is None else r[f"discharge_{key}"] for r in rows], dtype=float)
    cha = np.array([np.nan if r.get(f"charge_{key}") is None else r[f"charge_{key}"] for r in rows], dtype=float)
    ax.plot(cyc, dis, "o-", color="tab:blue", label="discharge")
    ax.plot(cyc, cha, "s--", color="tab:orange", ms=4, label="charge")
    ref = report["summary"].get(f"reference_discharge_{key}")
    if ref is not None:
        ax.axhline(ref * retention_pct / 100.0, color="tab:red", ls=":", lw=1.2,
                   label=f"{retention_pct:g} % of cycle {report['summary'].get('reference_cycle', 1)} discharge")
    ax.set_xlabel("cycle")
    ax.set_ylabel(f"capacity ({unit})")
    ax.set_title(f"{_name(report)}: capacity and coulombic efficiency")
    ax.grid(alpha=0.3)
    ax2 = ax.twinx()
    ce = np.array([np.nan if r.get("coulombic_efficiency") is None else 100.0 * r["coulombic_efficiency"] for r in rows], dtype=float)
    ax2.plot(cyc, ce, "^", color="tab:green", ms=5, label="coulombic efficiency")
    ax2.set_ylabel("coulombic efficiency (%)")
    if np.isfinite(ce).any():
        lo, hi = np.nanmin(ce), np.nanmax(ce)
        pad = max(0.5, 0.2 * (hi - lo))
        ax2.set_ylim(lo - pad, min(hi + pad, max(101.0, hi + pad)))
    lines = ax.get_legend_handles_labels()
    more = ax2.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], fontsize=8, loc="lower left")
    return ax2


def plot_run(
    data,
    report: dict[str, Any],
    path: Path | str,
    *,
    kind: str = "auto",
    cycles: list[int] | None = None,
    retention_pct: float = 80.0,
    width_px: int = 1200,
    height_px: int = 900,
    dpi: int = 100,
) -> dict[str, Any]:
    """Draw ``kind`` for one run and write it to ``path``.

    ``data`` is the run's :class:`~cycler_cli.model.CyclingData`, ``report`` its
    ``analyze(data).to_dict()``. Returns ``{"path", "kind", "format", "width_px", "height_px",
    "axes": [{"title", "xlabel", "ylabel"}]}``. Raises :class:`ConfigError` for an unknown
    kind or format, or a kind that does not fit the cell type, and :class:`MissingExtraError`
    without matplotlib."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ConfigError(f"cannot write a {path.suffix or 'suffix-less'} figure", path=str(path), hint="name the output .png, .svg or .pdf")
    if kind not in KINDS:
        raise ConfigError(f"unknown plot kind {kind!r}", hint=f"use --kind {', '.join(KINDS)}")
    cell_type = report["cell_type"]
    if cell_type == "symmetric" and kind in _FULL_ONLY:
        raise ConfigError(f"--kind {kind} is for full cells; this is a symmetric cell", hint="use --kind voltage or overpotential")
    if cell_type == "full" and kind in _SYMMETRIC_ONLY:
        raise ConfigError(f"--kind {kind} is for symmetric cells; this is a full cell", hint="use --kind voltage, voltage-capacity or capacity")
    if width_px < 200 or height_px < 150 or dpi < 20:
        raise ConfigError("figure too small", hint="use at least 200 x 150 pixels and 20 dpi")
    Figure = _matplotlib()
    fig = Figure(figsize=(width_px / dpi, height_px / dpi), dpi=dpi, layout="constrained")
    if kind == "auto":
        if cell_type == "symmetric":
            ax1, ax2 = fig.subplots(2, 1, sharex=True)
            _panel_voltage(ax1, data, report)
            _panel_overpotential(ax2, report)
            ax1.set_xlabel("time (h)")
        else:
            ax1, ax2 = fig.subplots(1, 2) if width_px >= height_px else fig.subplots(2, 1)
            _panel_voltage_capacity(ax1, data, report, cycles)
            _panel_capacity(ax2, report, retention_pct)
    else:
        ax = fig.subplots()
        if kind == "voltage":
            _panel_voltage(ax, data, report)
        elif kind == "overpotential":
            _panel_overpotential(ax, report)
        elif kind == "voltage-capacity":
            _panel_voltage_capacity(ax, data, report, cycles)
        else:
            _panel_capacity(ax, report, retention_pct)
    axes = [{"title": a.get_title(), "xlabel": a.get_xlabel(), "ylabel": a.get_ylabel()} for a in fig.axes]
    try:
        fig.savefig(path, format=fmt, dpi=dpi)
    except OSError as exc:
        raise ConfigError(f"cannot write the figure ({exc.strerror})", path=str(path), hint="check the -o path and its folder") from None
    return {"path": str(path), "kind": kind, "format": fmt, "width_px": width_px, "height_px": height_px, "axes": axes}
