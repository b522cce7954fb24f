"""The ``cycler simulate`` command: write a simulated run (or the whole ``sample_runs/`` set).

Module level imports typer and the standard library only (start-up time); the models live in
:mod:`cycler_cli.simulate` and the writers in :mod:`cycler_cli.io.writers`.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer


class Kind(str, Enum):
    symmetric = "symmetric"
    full = "full"
    samples = "samples"


class OutFormat(str, Enum):
    mpr = "mpr"
    mpt = "mpt"
    csv = "csv"


class Drift(str, Enum):
    none = "none"
    linear = "linear"
    exponential = "exponential"


def register(app: typer.Typer) -> None:
    """Add ``simulate`` to ``app``."""
    from cycler_cli.cli import _guard

    @app.command()
    @_guard
    def simulate(
        kind: Annotated[Kind, typer.Argument(help="symmetric (Li|SE|Li), full (Li|SE|LiTi2(PO4)3), or samples (write every sample_runs/ file into the -o folder).")],
        output: Annotated[Path, typer.Option("--output", "-o", help="File to write (a folder for `samples`).")],
        seed: Annotated[int, typer.Option("--seed", help="Seed of the noise generator; same seed, same bytes.")] = 0,
        format: Annotated[Optional[OutFormat], typer.Option("--format", "-f", help="mpr, mpt or csv (default: from the file name's suffix).")] = None,
        hours: Annotated[Optional[float], typer.Option("--hours", help="Symmetric: run length in h (default 100).")] = None,
        interval: Annotated[Optional[float], typer.Option("--interval", help="Sampling interval in s (default 60 symmetric, 600 full).")] = None,
        current_density: Annotated[Optional[float], typer.Option("--current-density", help="Current density in µA cm⁻² (default 40 symmetric, 10 full).")] = None,
        area: Annotated[float, typer.Option("--area", help="Electrode area in cm².")] = 0.636,
        temperature: Annotated[float, typer.Option("--temperature", help="Cell temperature in °C (sets RT/F).")] = 80.0,
        step_h: Annotated[float, typer.Option("--step-h", help="Symmetric: duration of each current step in h.")] = 2.0,
        rest_min: Annotated[float, typer.Option("--rest-min", help="Rest after each current step in min.")] = 10.0,
        overpotential: Annotated[float, typer.Option("--overpotential", help="Symmetric: steady overpotential in V at the start (bulk + two interfaces).")] = 0.4,
        asr_bulk: Annotated[float, typer.Option("--asr-bulk", help="Symmetric: electrolyte (bulk) ASR in Ω cm².")] = 1000.0,
        drift: Annotated[Drift, typer.Option("--drift", help="Symmetric: overpotential drift shape.")] = Drift.none,
        drift_pct: Annotated[float, typer.Option("--drift-pct", help="Symmetric: overpotential change in % per 100 h.")] = 0.0,
        noise_mv: Annotated[float, typer.Option("--noise-mv", help="Voltage noise (standard deviation) in mV.")] = 0.3,
        short_at: Annotated[Optional[int], typer.Option("--short-at", help="Symmetric: hard short in this current half-cycle (1 = first).")] = None,
        soft_short: Annotated[Optional[list[int]], typer.Option("--soft-short", help="Symmetric: a soft-short dip in this half-cycle (repeatable).")] = None,
        mass: Annotated[float, typer.Option("--mass", help="Full: active (LTP) mass in mg.")] = 2.0,
        capacity: Annotated[float, typer.Option("--capacity", help="Full: first discharge capacity in mAh g⁻¹.")] = 115.0,
        retention: Annotated[float, typer.Option("--retention", help="Full: capacity retention per cycle (fraction).")] = 0.97,
        ce: Annotated[float, typer.Option("--ce", help="Full: coulombic efficiency (reverse / forward, fraction).")] = 0.985,
        cycles: Annotated[int, typer.Option("--cycles", help="Full: number of cycles.")] = 10,
        charge_first: Annotated[bool, typer.Option("--charge-first", help="Full: start with a charge (default: discharge first, as LTP is made oxidised).")] = False,
        v_min: Annotated[float, typer.Option("--v-min", help="Full: lower voltage limit in V.")] = 2.0,
        v_max: Annotated[float, typer.Option("--v-max", help="Full: upper voltage limit in V.")] = 3.0,
        asr: Annotated[float, typer.Option("--asr", help="Full: cell ASR in Ω cm² (polarisation).")] = 5000.0,
    ) -> int:
        """Write a simulated galvanostatic run (physical voltage model, seeded) as .mpr, .mpt or CSV."""
        from cycler_cli import simulate as sim
        from cycler_cli.errors import ConfigError
        from cycler_cli.io.writers import write

        if kind is Kind.samples:
            try:
                paths = sim.write_samples(output)
            except OSError as exc:
                raise ConfigError(f"cannot write there ({exc.strerror})", path=str(output),
                                  hint="pass -o a folder you can write to") from exc
            for path in paths:
                print(path)
            return 0
        fmt = format.value if format is not None else output.suffix.lstrip(".").lower()
        if fmt not in ("mpr", "mpt", "csv"):
            raise ConfigError(f"cannot tell the format from {output.name!r}", path=str(output),
                              hint="name the file .mpr, .mpt or .csv, or pass --format")
        rest_s = rest_min * 60.0
        if kind is Kind.symmetric:
            j = (current_density if current_density is not None else 40.0) * 1e-6
            eta_ct = overpotential - j * asr_bulk
            if eta_ct <= 0:
                raise ConfigError(
                    f"--overpotential {overpotential} V is below the bulk drop j·ASR = {j * asr_bulk:.3f} V",
                    hint="raise --overpotential or lower --asr-bulk",
                )
            data = sim.simulate_symmetric(
                current_density_a_cm2=j, area_cm2=area, temperature_c=temperature,
                duration_s=(hours if hours is not None else 100.0) * 3600.0, step_s=step_h * 3600.0,
                rest_s=rest_s, interval_s=interval if interval is not None else 60.0,
                asr_bulk_ohm_cm2=asr_bulk, j0_a_cm2=sim.exchange_current_for(eta_ct, j, temperature),
                drift=drift.value, drift_per_100h=drift_pct / 100.0, noise_v=noise_mv / 1000.0,
                hard_short_half_cycle=short_at,
                soft_shorts=tuple(sim.SoftShort(k) for k in (soft_short or [])), seed=seed,
            )
        else:
            data = sim.simulate_full(
                current_density_a_cm2=(current_density if current_density is not None else 10.0) * 1e-6,
                area_cm2=area, active_mass_mg=mass, temperature_c=temperature, first_capacity_mah_g=capacity,
                retention_per_cycle=retention, coulombic_efficiency=ce, cycles=cycles,
                discharge_first=not charge_first, v_min=v_min, v_max=v_max, asr_ohm_cm2=asr, rest_s=rest_s,
                interval_s=interval if interval is not None else 600.0, noise_v=noise_mv / 1000.0, seed=seed,
            )
        try:
            write(data, output, format=fmt)
        except OSError as exc:
            raise ConfigError(f"cannot write the file ({exc.strerror})", path=str(output),
                              hint="pass -o a path in a folder that exists and that you can write to") from exc
        print(f"wrote {output} ({len(data)} points, {data.frame['time_s'].iloc[-1] / 3600:.1f} h)", file=sys.stderr)
        return 0
