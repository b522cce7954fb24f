"""Smoke tests of the benchmark harness's pure parts (benchmarks/): growing a real .mpr file,
the log-log fit, the acceptance table and the docs rewrite. No timing is asserted."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCH))

import grow  # noqa: E402
import report  # noqa: E402
from measure import parse_result, run_child  # noqa: E402


def _records(path: Path) -> np.ndarray:
    from galvani.BioLogic import MPRfile

    with open(path, "rb") as fh:
        return MPRfile(fh).data


@pytest.mark.parametrize(
    ("relpath", "n_points"),
    [
        ("yadg/gcpl.issue_149.mpr", 1000),  # data module v0, 132 points: 8 repeats, the last cut short
        ("yadg/gcpl.pr_182.1.mpr", 6000),  # data module v3, 2533 points: 3 repeats
    ],
)
def test_grown_file_repeats_the_source_with_shifted_time_and_counters(realdata, tmp_path, relpath, n_points):
    source = realdata / relpath
    dest = grow.grow_mpr(source, n_points, tmp_path / "grown.mpr")

    original = _records(source)
    grown = _records(dest)  # galvani's own reader accepts the patched headers
    n0 = len(original)
    assert len(grown) == n_points
    layout = grow.data_layout(source.read_bytes())
    assert dest.stat().st_size == source.stat().st_size + (n_points - n0) * layout.record_bytes

    # repeat 0 is the source byte for byte
    assert grown[:n0].tobytes() == original.tobytes()
    # repeat k: time shifted by k * (span + one median step), half cycle by k * (count of half cycles)
    t = original["time/s"]
    step = np.median(np.diff(t)[np.diff(t) > 0])
    k = 2
    rows = slice(k * n0, min((k + 1) * n0, n_points))
    m = rows.stop - rows.start
    np.testing.assert_allclose(grown["time/s"][rows], t[:m] + k * (t[-1] - t[0] + step), rtol=0, atol=1e-6)
    hc = original["half cycle"].astype(np.int64)
    assert np.array_equal(grown["half cycle"][rows].astype(np.int64), hc[:m] + k * (hc[-1] - hc[0] + 1))
    np.testing.assert_array_equal(grown["Ewe/V"][rows], original["Ewe/V"][:m])
    assert np.all(np.diff(grown["time/s"]) >= 0)
    if "(Q-Qo)/mA.h" in original.dtype.names:
        q = original["(Q-Qo)/mA.h"]
        np.testing.assert_allclose(grown["(Q-Qo)/mA.h"][rows], q[:m] + k * (q[-1] - q[0]), atol=1e-9)


def test_grow_can_also_cut_a_file_short(realdata, tmp_path):
    source = realdata / "yadg" / "gcpl.pr_182.1.mpr"
    dest = grow.grow_mpr(source, 1000, tmp_path / "cut.mpr")
    grown = _records(dest)
    assert len(grown) == 1000
    assert grown.tobytes() == _records(source)[:1000].tobytes()


def test_ensure_grown_caches_by_source_and_size(realdata, tmp_path):
    source = realdata / "yadg" / "gcpl.issue_149.mpr"
    first = grow.ensure_grown(source, 1000, tmp_path)
    mtime = first.stat().st_mtime_ns
    again = grow.ensure_grown(source, 1000, tmp_path)
    assert again == first and again.stat().st_mtime_ns == mtime
    assert grow.grown_path(source, 2000, tmp_path) != first


def test_grow_rejects_a_file_that_is_not_mpr(tmp_path):
    bad = tmp_path / "x.mpr"
    bad.write_bytes(b"not a biologic file at all")
    with pytest.raises(grow.GrowError):
        grow.grow_mpr(bad, 10, tmp_path / "out.mpr")


def test_floor_task_reads_the_grown_records(realdata, tmp_path):
    """The floor child, run for real: its row count and last time equal galvani's."""
    source = realdata / "yadg" / "gcpl.issue_149.mpr"
    dest = grow.grow_mpr(source, 1000, tmp_path / "grown.mpr")
    layout = grow.data_layout(dest.read_bytes())
    opts = {"dtype": layout.dtype_descr, "offset": layout.records_start, "count": layout.n_points}
    sample = run_child([sys.executable, str(BENCH / "tasks.py"), "floor", str(dest), json.dumps(opts)], timeout_s=120)
    assert sample.ok, sample.stderr
    assert sample.result["rows"] == 1000
    assert sample.result["check"] == pytest.approx(float(_records(dest)["time/s"][-1]))
    assert sample.maxrss_mb > 1


@pytest.mark.parametrize("power", [0.5, 1.0, 1.3])
def test_loglog_slope_recovers_a_power_law(power):
    points = [1e4, 1e5, 1e6, 1e7]
    times = [2e-6 * n**power for n in points]
    assert report.loglog_slope(points, times) == pytest.approx(power)


def test_loglog_slope_needs_two_sizes():
    assert report.loglog_slope([1e5], [1.0]) is None
    assert report.loglog_slope([1e5, 1e5], [1.0, 2.0]) is None


def test_fmt_points():
    assert [report.fmt_points(n) for n in (10_000, 1_000_000, 2_500_000)] == ["1e4", "1e6", "2.5e6"]


def _results() -> dict:
    """Made-up figures whose ratios are worked out by hand below."""
    return {
        "sizes": [100_000, 1_000_000, 10_000_000],
        "file_mb": {"100000": 5.3, "1000000": 53.0, "10000000": 530.0},
        "runs": {
            "floor": {"1000000": {"wall_s": 0.30, "work_s": 0.05}, "10000000": {"wall_s": 0.8, "work_s": 0.4}},
            "cycler-lib": {"100000": {"work_s": 0.01}, "1000000": {"work_s": 0.15}, "10000000": {"work_s": 2.0}},
            "cycler-cli": {
                "100000": {"wall_s": 1.0, "maxrss_mb": 150.0},
                "1000000": {"wall_s": 1.2, "maxrss_mb": 300.0},
                "10000000": {"wall_s": 2.0, "maxrss_mb": 1500.0},
            },
            "galvani-df": {"1000000": {"wall_s": 0.5}},
            "galvani-groupby": {"10000000": {"wall_s": 5.0}},
        },
        "skipped": {},
        "startup": {"python-pass": {"wall_s": 0.02}, "cycler-version": {"wall_s": 0.08}, "imports": {"--version": []}},
    }


def test_acceptance_ratios_by_hand():
    rows = {r["target"]: r for r in report.acceptance(_results())}
    by_start = {k.split(":")[0]: v for k, v in rows.items()}

    version = rows["`cycler --version` time / `python -c pass` time"]
    assert version["measured"] == pytest.approx(4.0) and version["status"] == "not met"
    assert rows["`cycler --version` imports none of pandas, scipy, galvani"]["status"] == "met"
    inproc = by_start["1e6 points, in-process, imports excluded"]
    assert inproc["measured"] == pytest.approx(3.0) and inproc["status"] == "not met"
    floor7 = rows["1e7 points, whole process: `cycler cycles --format json` / floor process"]
    assert floor7["measured"] == pytest.approx(2.5) and floor7["status"] == "met"
    galv7 = rows["1e7 points, whole process: `cycler cycles --format json` / galvani + DataFrame + groupby process"]
    assert galv7["measured"] == pytest.approx(0.4) and galv7["status"] == "met"
    slope = rows["log-log slope of cycler time vs points, 1e5..1e7 (in-process)"]
    # three equally spaced log-sizes: the least-squares slope is (y3 - y1) / (x3 - x1), about 1.15
    assert slope["measured"] == pytest.approx((math.log10(2.0) - math.log10(0.01)) / 2)
    assert slope["status"] == "not met"
    memory = rows["peak memory on 1e7 points above the interpreter baseline / file size"]
    assert memory["measured"] == pytest.approx((1500 - 150) / 530)
    issue5 = by_start["issue 5"]
    assert issue5["measured"] == pytest.approx(1.2 / 0.5) and issue5["status"] == "not met"


def test_acceptance_says_why_a_figure_is_missing():
    results = _results()
    del results["runs"]["cycler-cli"]
    results["skipped"]["cycler-cli"] = "`cycler cycles` not available yet"
    rows = report.acceptance(results)
    missing = [r for r in rows if "cycler cycles" in r["target"]]
    assert missing and all(r["status"] == "not measured" for r in missing)
    assert all("not available yet" in r["detail"] for r in missing)


def test_render_and_rewrite_between_markers():
    body = report.render_markdown(_results(), plot_name=None)
    assert "| 1e5 | 1e6 | 1e7 |" in body
    assert "❌ not met" in body and "✅ met" in body
    doc = "# Performance\n\nprose before\n"
    once = report.rewrite_between_markers(doc, body)
    assert once.startswith(doc) and report.BEGIN_MARK in once and report.END_MARK in once
    twice = report.rewrite_between_markers(once + "\nprose after\n", "new body\n")
    assert "new body" in twice and body not in twice
    assert twice.startswith(doc) and twice.endswith("\nprose after\n")


def test_parse_result_takes_the_last_json_line():
    assert parse_result('noise\n{"a": 1}\nmore noise\n{"b": 2}\n') == {"b": 2}
    assert parse_result("no json here") == {}
