"""``cycler inspect``: what is in a file, as a plain dict (the JSON contract).

Keys (docs/cli.md): ``path``, ``reader``, ``format_version``, ``technique``, ``rows``,
``rows_skipped`` (reason -> count), ``columns`` (list of ``{canonical, source, unit}``),
``start_time`` (ISO 8601 or null), ``duration_s``, ``cycles``, ``half_cycles``,
``cycle_source``, ``mass_mg`` (active material), ``area_cm2``, ``sha256``, ``inferred``,
``warnings``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cycler_cli.model import CyclingData


def describe(data: CyclingData) -> dict[str, Any]:
    meta = data.meta
    frame = data.frame
    if len(frame):
        time_s = frame["time_s"].to_numpy()
        finite = time_s[np.isfinite(time_s)]
        duration_s = float(finite.max() - finite.min()) if finite.size else None
        cycles = int(frame["cycle"].max()) if len(frame) else 0
        half_cycles = int(frame["half_cycle"].max()) if len(frame) else 0
    else:
        duration_s, cycles, half_cycles = None, 0, 0
    return {
        "path": meta.source,
        "reader": meta.reader,
        "format_version": meta.format_version,
        "technique": meta.technique,
        "rows": len(frame),
        "rows_skipped": dict(meta.rows_skipped),
        "columns": [c.to_dict() for c in meta.columns],
        "start_time": meta.start_time.isoformat() if meta.start_time else None,
        "duration_s": duration_s,
        "cycles": max(cycles, 0),
        "half_cycles": max(half_cycles, 0),
        "cycle_source": meta.cycle_source,
        "mass_mg": meta.active_mass_mg,
        "area_cm2": meta.electrode_area_cm2,
        "sha256": meta.file_sha256(),
        "inferred": list(meta.inferred),
        "warnings": list(meta.warnings),
    }
