"""The data contract (cycler_cli/model.py): a run from numpy columns, columns made on first use,
and the same checks as a run from a pandas frame."""

from __future__ import annotations


import numpy as np
import pytest

from cycler_cli.model import ContractError, CyclingData, RunMeta, build_frame


def _columns(n=5):
    return {
        "time_s": np.arange(n, dtype=np.float64),
        "voltage_v": np.full(n, 3.5, dtype=np.float32),  # cast to float64
        "current_a": np.full(n, 1e-3),
        "cycle": np.ones(n, dtype=np.int32),
        "half_cycle": np.ones(n, dtype=np.int64),
        "step": np.zeros(n, dtype=np.int64),
    }


def _meta():
    return RunMeta(source="x.mpr", reader="test")


def test_from_columns_casts_to_the_contract_dtypes_and_equals_a_frame_run():
    data = CyclingData.from_columns(_columns(), _meta())
    assert len(data) == 5 and data.meta.rows_read == 5 and not data.is_empty
    assert data.column("voltage_v").dtype == np.float64 and data.column("cycle").dtype == np.int64
    assert data.column_names == ["time_s", "voltage_v", "current_a", "cycle", "half_cycle", "step"]
    framed = CyclingData(build_frame(_columns()), _meta())
    assert framed.column_names == data.column_names
    for name in data.column_names:
        assert np.array_equal(data.column(name), framed.column(name))
    assert data.frame.equals(framed.frame)


def test_a_column_given_as_a_function_is_made_once_on_first_use():
    calls = []

    def make_step():
        calls.append(1)
        return np.arange(5, dtype=np.uint8)

    data = CyclingData.from_columns({**_columns(), "step": make_step}, _meta())
    assert data.has_column("step") and calls == []
    step = data.column("step")
    assert step.dtype == np.int64 and step.tolist() == [0, 1, 2, 3, 4]
    assert data.column("step") is step and calls == [1]
    # the frame makes every column still waiting
    lazy = CyclingData.from_columns({**_columns(), "cycle": lambda: np.full(5, 2)}, _meta())
    assert lazy.frame["cycle"].tolist() == [2] * 5 and lazy.frame["cycle"].dtype == np.int64


def test_a_column_made_on_use_with_the_wrong_length_is_a_contract_error():
    data = CyclingData.from_columns({**_columns(), "step": lambda: np.zeros(4)}, _meta())
    with pytest.raises(ContractError, match="step"):
        data.column("step")


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda c: c.pop("current_a"), "left out"),
        (lambda c: c.update(volts=np.zeros(5)), "non-canonical"),
        (lambda c: c.update(voltage_v=np.zeros(4)), "different lengths"),
        (lambda c: c.update(step=np.zeros((5, 1))), "one-dimensional"),
        (lambda c: c.update(time_s=lambda: np.zeros(5)), "time_s"),
    ],
)
def test_from_columns_checks_like_a_frame(change, match):
    columns = _columns()
    change(columns)
    with pytest.raises(ContractError, match=match):
        CyclingData.from_columns(columns, _meta())


def test_mpr_run_makes_cycle_and_step_only_on_use():
    from pathlib import Path

    from cycler_cli.io import read

    sample = Path(__file__).resolve().parent.parent / "sample_runs" / "li-lzp-ltp_50C.mpr"
    data = read(sample)
    assert set(data._lazy) == {"cycle", "step"}
    half = data.column("half_cycle")
    assert np.array_equal(data.column("cycle"), (half + 1) // 2)  # cycle = ceil(half / 2)
    assert data.column("step").dtype == np.int64 and not data._lazy
