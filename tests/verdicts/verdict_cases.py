"""Hand-made analysis dicts (the shape of ``analyze(...).to_dict()``) for rule tests."""

from __future__ import annotations

from typing import Any


def symmetric(rows: list[dict[str, Any]] | None = None, **summary: Any) -> dict[str, Any]:
    """A symmetric-cell analysis: healthy 0.4 V run unless overridden."""
    base = {
        "half_cycles": 46,
        "cycles": 23,
        "duration_s": 100 * 3600.0,
        "overpotential_ref_v": 0.4,
        "overpotential_final_v": 0.4,
        "overpotential_drift_v_per_h": 0.0,
        "overpotential_drift_ci95_v_per_h": [-1e-5, 1e-5],
        "overpotential_drift_pct_per_100h": 0.0,
        "r_dc_ohm_median": 15723.0,
        "asr_ohm_cm2_median": 10000.0,
        "short_circuit": False,
        "short_circuit_half_cycle": None,
        "short_circuit_kind": None,
        "sampling_interval_s": 10.0,
    }
    base.update(summary)
    if rows is None:
        rows = [
            {"half_cycle": k, "cycle": (k + 1) // 2, "direction": 1 if k % 2 else -1, "overpotential_v": 0.4}
            for k in range(1, base["half_cycles"] + 1)
        ]
    return {
        "schema_version": "1",
        "source": "sym.mpr",
        "cell_type": "symmetric",
        "cell_type_reason": "test",
        "mass_mg": None,
        "area_cm2": 0.636,
        "cycles": rows,
        "summary": base,
        "warnings": [],
        "definitions": {},
    }


def full(ce: list[float] | None = None, rows: list[dict[str, Any]] | None = None, **summary: Any) -> dict[str, Any]:
    """A full-cell analysis: 10 complete cycles at CE 0.995, no fade, unless overridden."""
    if rows is None:
        ce = ce if ce is not None else [0.9] + [0.995] * 9
        rows = [
            {
                "cycle": n,
                "first_half": "charge",
                "charge_mah": 1.0,
                "discharge_mah": c,
                "coulombic_efficiency": c,
                "energy_efficiency": c * 0.95,
                "retention": 1.0,
                "complete": True,
            }
            for n, c in enumerate(ce, start=1)
        ]
    base = {
        "cycles": len(rows),
        "duration_s": 3600.0 * len(rows),
        "reference_cycle": 1,
        "reference_discharge_mah": 0.9,
        "reference_discharge_mah_g": 120.0,
        "capacity_fade_pct_per_cycle": 0.0,
        "retention_final": 1.0,
        "cycles_to_80pct": None,
        "coulombic_efficiency_median": 0.995,
    }
    base.update(summary)
    return {
        "schema_version": "1",
        "source": "full.mpr",
        "cell_type": "full",
        "cell_type_reason": "test",
        "mass_mg": 7.5,
        "area_cm2": None,
        "cycles": rows,
        "summary": base,
        "warnings": [],
        "definitions": {},
    }
