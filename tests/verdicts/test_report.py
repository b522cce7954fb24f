"""Report types: statuses combine as documented, ``to_dict`` is JSON-safe and matches the schema,
and no analysis dict, however odd, makes a rule raise."""

from __future__ import annotations

import json
import math
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from verdict_cases import full, symmetric

from cycler_cli.config import CheckConfig
from cycler_cli.report.junit import render_junit
from cycler_cli.verdicts import judge
from cycler_cli.verdicts.report import CheckReport, FileReport, Verdict, worst_status

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "check-report.schema.json").read_text("utf-8"))


def test_worst_status_order():
    assert worst_status(["pass", "skip", "warn"]) == "warn"
    assert worst_status(["pass", "fail", "warn"]) == "fail"
    assert worst_status(["skip", "skip"]) == "skip"
    assert worst_status([]) == "skip"
    assert worst_status(["fail", "error"]) == "error"


def test_exit_code_is_the_largest_file_code():
    ok = FileReport.judged("a", "full", [Verdict("capacity-fade", "pass", 0.1, 0.5, "%/cycle", "ok", "<=")], None)
    bad = FileReport.judged("b", "full", [Verdict("capacity-fade", "fail", 1.0, 0.5, "%/cycle", "bad", "<=")], None)
    unreadable = FileReport.failed("c", "c: empty", 3)
    bug = FileReport.failed("d", "d: bug", 4)
    assert CheckReport(files=(ok,)).exit_code == 0
    assert CheckReport(files=(ok, bad)).exit_code == 1
    assert CheckReport(files=(bad, unreadable)).exit_code == 3
    assert CheckReport(files=(unreadable, bug, bad)).exit_code == 4
    assert CheckReport(files=()).exit_code == 0


def test_verdict_rejects_unknown_status():
    with pytest.raises(ValueError):
        Verdict("x", "ok", None, None, "", "m")


def test_non_finite_numbers_become_null():
    v = Verdict("capacity-fade", "skip", math.nan, math.inf, "%/cycle", "m")
    assert v.to_dict()["value"] is None and v.to_dict()["threshold"] is None
    report = FileReport.judged("a", "full", [v], {"summary": {"x": math.nan, "y": [math.inf, 1.0]}})
    d = report.to_dict()
    assert d["analysis"]["summary"] == {"x": None, "y": [None, 1.0]}
    json.dumps(d, allow_nan=False)


_values = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5), st.lists(st.floats(), max_size=3),
)
_summary_keys = list(symmetric()["summary"]) + list(full()["summary"]) + ["soft_short_half_cycles"]
_row_keys = ["cycle", "half_cycle", "overpotential_v", "coulombic_efficiency", "complete"]


@settings(max_examples=100, deadline=None)
@given(
    cell_type=st.sampled_from(["symmetric", "full"]),
    summary=st.dictionaries(st.sampled_from(_summary_keys), _values, max_size=12),
    rows=st.lists(st.dictionaries(st.sampled_from(_row_keys), _values, max_size=5), max_size=6),
    asr=st.one_of(st.none(), st.floats(0.1, 1e5)),
)
def test_rules_never_raise_and_report_matches_schema(cell_type, summary, rows, asr):
    config = CheckConfig(asr_ohm_cm2=asr, select=None)
    analysis = {"cell_type": cell_type, "source": "x", "summary": summary, "cycles": rows}
    file_report = judge(analysis, config)
    data = CheckReport(files=(file_report,), config=config.to_dict()).to_dict()
    jsonschema.validate(json.loads(json.dumps(data, allow_nan=False)), SCHEMA)
    render_junit(data)
