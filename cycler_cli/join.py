"""One run split over several files, analysed as one: grouping by name and joining the data.

This module owns two things (docs/batch.md, "Runs split over several files"):

* :func:`linked_groups`: which of a list of files are parts of one EC-Lab linked experiment.
  EC-Lab names the file of each linked technique ``<base>_<NN>_<TECHNIQUE>_C<ch>.<ext>``
  (``cell_01_OCV_C01.mpr``, ``cell_02_GCPL_C01.mpr``; BT-Lab writes channels as ``CA1``).
  Files with the same folder, base, channel and extension form one group, ordered by ``NN``.
  The channel is part of the key: ``_C01`` and ``_C02`` are two cells. A group in which one
  ``NN`` appears twice (two experiments saved under one base name) is not linked: each file
  stays a run of its own. Files that do not follow the pattern are runs of their own.
* :func:`join_runs` / :func:`read_joined`: several :class:`~cycler_cli.model.CyclingData` in
  order -> one, with continuous time and index columns:

  - **time**: when every part knows its start time, part *k* is placed at
    ``(start_k - start_1) + time_s`` (EC-Lab linked files share the experiment's start time
    and already count time from it, so they are unchanged). Without start times, or when
    that would make time go backwards, part *k* starts one sampling interval (the previous
    part's median interval) after the previous part's last point; the shift is recorded in
    ``meta.inferred``;
  - **cycle, half_cycle, step**: part *k*'s numbers are shifted so that its first number is
    one more than the previous part's last (EC-Lab restarts them in every file; PyProBE
    offsets ``Ns`` the same way). The analysis derives its cycles from the current anyway
    and only cross-checks these;
  - **charge_ah, energy_wh** (cumulative): when part *k* restarts from zero (its first value
    is nearer 0 than the previous part's last), the previous part's last value is added, so
    the column stays the run's cumulative net charge (EC-Lab's ``(Q-Qo)`` restarts per file);
  - an optional column that some part lacks is dropped (``control_mode`` is filled with 0,
    "unknown", instead) and the drop is recorded in ``meta.warnings``.

  ``meta.source`` is the parts' sources joined by ``" + "``; ``rows_skipped`` are summed;
  ``sha256`` is the SHA-256 of the parts' hex digests joined by ``+``; masses and area come from
  the first part that has them (a warning when parts disagree); ``meta.extra["joined_from"]``
  lists the parts.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cycler_cli.model import CyclingData

#: ``<base>_<NN>_<TECHNIQUE>_C<ch>[.ext]`` as EC-Lab names the files of linked techniques.
LINKED_NAME = re.compile(
    r"^(?P<base>.+?)_(?P<index>\d{2,3})_(?P<technique>[A-Za-z][A-Za-z0-9-]*)_(?P<channel>C[A-Za-z]?\d+)"
    r"\.(?P<ext>mpr|mpt|txt|csv)$",
    re.IGNORECASE,
)


def linked_key(path: Path | str) -> tuple[str, str, str, str, int] | None:
    """``(folder, base, channel, extension, index)`` of an EC-Lab linked-technique file name,
    or ``None`` when the name does not follow the pattern."""
    path = Path(path)
    match = LINKED_NAME.match(path.name)
    if match is None:
        return None
    return (
        str(path.parent),
        match["base"].lower(),
        match["channel"].upper(),
        match["ext"].lower(),
        int(match["index"]),
    )


def linked_groups(paths: Iterable[Path | str]) -> list[tuple[Path, ...]]:
    """The runs among ``paths``: each a tuple of files in order (one file for most runs).

    Runs come in the order of their first file in ``paths``; the files of a linked group in
    the order of their ``NN`` index (see the module docstring)."""
    paths = [Path(p) for p in paths]
    groups: dict[tuple[str, str, str, str], list[tuple[int, Path]]] = {}
    order: list[tuple[str, ...] | Path] = []
    for path in paths:
        key = linked_key(path)
        if key is None:
            order.append(path)
            continue
        group_key = key[:4]
        if group_key not in groups:
            groups[group_key] = []
            order.append(group_key)
        groups[group_key].append((key[4], path))
    out: list[tuple[Path, ...]] = []
    for entry in order:
        if isinstance(entry, Path):
            out.append((entry,))
            continue
        members = sorted(groups[entry], key=lambda m: (m[0], m[1].name))
        indices = [m[0] for m in members]
        if len(set(indices)) != len(indices):  # two experiments under one base name
            out.extend((m[1],) for m in sorted(members, key=lambda m: paths.index(m[1])))
        else:
            out.append(tuple(m[1] for m in members))
    return out


def _median_step_s(time_s) -> float:
    import numpy as np

    if time_s.size < 2:
        return 1.0
    steps = np.diff(time_s)
    steps = steps[np.isfinite(steps) & (steps > 0)]
    return float(np.median(steps)) if steps.size else 1.0


def join_runs(parts: Sequence[CyclingData]) -> CyclingData:
    """Join ``parts`` (in order) into one run with continuous time, cycle, half-cycle and step
    numbers and cumulative charge (rules in the module docstring). One part is returned as is."""
    import numpy as np

    from cycler_cli.errors import NoDataError
    from cycler_cli.model import CANONICAL_COLUMNS, REQUIRED_COLUMNS, CyclingData, RunMeta, build_frame

    if not parts:
        raise NoDataError("nothing to join", hint="name at least one file")
    if len(parts) == 1:
        return parts[0]
    names = [Path(p.meta.source).name or p.meta.source for p in parts]
    optional = [c for c in CANONICAL_COLUMNS if c not in REQUIRED_COLUMNS and any(p.has_column(c) for p in parts)]
    warnings: list[str] = []
    inferred: list[str] = []
    keep = []
    for name in optional:
        lacking = [names[i] for i, p in enumerate(parts) if not p.has_column(name)]
        if lacking and name != "control_mode":
            warnings.append(f"join: {name} dropped, {', '.join(lacking)} lack(s) it")
        else:
            keep.append(name)
    columns: dict[str, list[np.ndarray]] = {c: [] for c in (*REQUIRED_COLUMNS, *keep)}
    starts = [p.meta.start_time for p in parts]
    use_clock = all(s is not None for s in starts)
    prev_end_s = None
    prev_step_s = 1.0
    prev_last: dict[str, float] = {}
    for k, part in enumerate(parts):
        frame = part.frame
        n = len(frame)
        time_s = frame["time_s"].to_numpy(dtype=np.float64)
        offset_s = 0.0
        if k > 0 and n:
            if use_clock:
                offset_s = (starts[k] - starts[0]).total_seconds()
            if prev_end_s is not None and time_s[0] + offset_s <= prev_end_s:
                wanted = prev_end_s + prev_step_s - time_s[0]
                if offset_s != wanted:
                    inferred.append(
                        f"join: time of {names[k]} shifted by {wanted:g} s to follow {names[k - 1]}"
                        + (" (its clock would go backwards)" if use_clock else " (no start times to place it)")
                    )
                offset_s = wanted
        columns["time_s"].append(time_s + offset_s)
        for name in ("cycle", "half_cycle", "step"):
            values = frame[name].to_numpy(dtype=np.int64)
            if k > 0 and n and name in prev_last:
                values = values + (int(prev_last[name]) + 1 - int(values.min()))
            columns[name].append(values)
        for name in ("voltage_v", "current_a"):
            columns[name].append(frame[name].to_numpy())
        for name in keep:
            if name not in frame.columns:  # control_mode only
                columns[name].append(np.zeros(n, dtype=np.int8))
                continue
            values = frame[name].to_numpy()
            if name in ("charge_ah", "energy_wh") and k > 0 and n and name in prev_last:
                last = prev_last[name]
                first = float(values[0])
                if np.isfinite(last) and abs(first - last) > abs(first):
                    values = values + last
            columns[name].append(values)
        if n:
            prev_end_s = float(np.nanmax(columns["time_s"][-1]))
            prev_step_s = _median_step_s(time_s)
            for name in ("cycle", "half_cycle", "step"):
                prev_last[name] = float(columns[name][-1].max())
            for name in ("charge_ah", "energy_wh"):
                if name in keep:
                    prev_last[name] = float(columns[name][-1][-1])
    frame = build_frame({name: np.concatenate(chunks) for name, chunks in columns.items()})

    first = parts[0].meta
    rows_skipped: dict[str, int] = {}
    for part in parts:
        for reason, count in part.meta.rows_skipped.items():
            rows_skipped[reason] = rows_skipped.get(reason, 0) + count
    for attr in ("active_mass_mg", "characteristic_mass_mg", "electrode_area_cm2"):
        values = {getattr(p.meta, attr) for p in parts if getattr(p.meta, attr) is not None}
        if len(values) > 1:
            warnings.append(f"join: parts disagree on {attr} ({', '.join(f'{v:g}' for v in sorted(values))}); the first part's is used")
    if use_clock and len(set(starts)) > 1:
        inferred.append("join: parts have different start times; each is placed at its own start time")
    readers = list(dict.fromkeys(p.meta.reader for p in parts))
    techniques = list(dict.fromkeys(p.meta.technique for p in parts if p.meta.technique))
    digest = hashlib.sha256("+".join(p.meta.file_sha256() for p in parts).encode()).hexdigest()
    meta = RunMeta(
        source=" + ".join(p.meta.source for p in parts),
        reader="+".join(readers),
        sha256=digest,
        format_version=first.format_version,
        technique="+".join(techniques) or None,
        start_time=first.start_time,
        active_mass_mg=next((p.meta.active_mass_mg for p in parts if p.meta.active_mass_mg is not None), None),
        characteristic_mass_mg=next(
            (p.meta.characteristic_mass_mg for p in parts if p.meta.characteristic_mass_mg is not None), None
        ),
        electrode_area_cm2=next((p.meta.electrode_area_cm2 for p in parts if p.meta.electrode_area_cm2 is not None), None),
        columns=[c for c in first.columns if c.canonical in frame.columns],
        inferred=[f"{names[k]}: {line}" for k, p in enumerate(parts) for line in p.meta.inferred] + inferred,
        warnings=[f"{names[k]}: {line}" for k, p in enumerate(parts) for line in p.meta.warnings] + warnings,
        rows_skipped=rows_skipped,
        cycle_source="file" if all(p.meta.cycle_source == "file" for p in parts) else "derived from current sign",
        extra={"joined_from": [p.meta.source for p in parts]},
    )
    return CyclingData(frame, meta)


def read_joined(
    paths: Sequence[Path | str], reader: str | None = None, columns: dict[str, str] | str | None = None
) -> CyclingData:
    """Read every file of ``paths`` (``cycler_cli.io.read`` with ``reader`` and ``columns``) and
    join them in that order."""
    from cycler_cli.io import read

    return join_runs([read(Path(p), reader=reader, columns=columns) for p in paths])
