"""``cycler check``: one test per exit code, bad config, JSON against its schema, JUnit parsed.

Reading and analysis are replaced by hand-made analysis dicts here (the rules are what is
under test); ``tests/verdicts/test_check_end_to_end.py`` runs the real reader and analysis."""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "verdicts"))
from verdict_cases import full, symmetric  # noqa: E402

import cycler_cli.verdicts.check as check_module  # noqa: E402

SCHEMA = json.loads((Path(__file__).resolve().parent.parent / "docs" / "check-report.schema.json").read_text("utf-8"))

ANALYSES = {
    "flat.mpr": symmetric(),
    "rising.mpr": symmetric(
        overpotential_ref_v=0.18, overpotential_drift_v_per_h=0.0009, overpotential_drift_pct_per_100h=50.0
    ),
    "shorted.mpr": symmetric(short_circuit=True, short_circuit_half_cycle=17, short_circuit_kind="hard"),
    "short_run.mpr": symmetric(half_cycles=2, overpotential_drift_pct_per_100h=80.0),
    "good_full.mpr": full(),
    "fading_full.mpr": full(retention_final=0.7, capacity_fade_pct_per_cycle=1.5),
}


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    """Run in an empty folder (no pyproject.toml above) with a wide terminal."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "250")


@pytest.fixture
def fake(monkeypatch, tmp_path):
    """Replace reading and analysis: each known file name gets its hand-made analysis."""
    seen = {}

    def read(path, reader, columns=None):
        if path.name not in ANALYSES:
            from cycler_cli.io import read as real_read

            return real_read(path, reader=reader)
        return path

    def analyze(data, config):
        seen[data.name] = config.analysis_options()
        return dict(ANALYSES[data.name], source=str(data))

    monkeypatch.setattr(check_module, "_read", read)
    monkeypatch.setattr(check_module, "_analyze", analyze)

    def make(*names):
        paths = []
        for name in names:
            p = tmp_path / name
            if not p.exists():
                p.write_bytes(b"x")
            paths.append(str(p))
        return paths

    make.seen = seen
    return make


def _json(result):
    data = json.loads(result.stdout)
    jsonschema.validate(data, SCHEMA)
    return data


# -- exit codes ---------------------------------------------------------------------------------


def test_exit_0_when_every_verdict_passes(cli, fake):
    result = cli("check", *fake("flat.mpr"))
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    for rule in ("min-duration", "short-circuit", "overpotential-drift", "resistance-consistency"):
        assert rule in result.stdout
    assert "PASS" in result.stdout and "FAIL" not in result.stdout


def test_exit_0_when_only_warnings(cli, fake):
    result = cli("check", *fake("short_run.mpr"), "-f", "json")
    assert result.exit_code == 0
    data = _json(result)
    assert data["status"] == "warn"
    drift = [v for v in data["files"][0]["verdicts"] if v["rule"] == "overpotential-drift"][0]
    assert drift["status"] == "skip" and "too short" in drift["message"]


def test_exit_1_when_a_verdict_fails_and_the_table_gives_the_reason(cli, fake):
    result = cli("check", *fake("rising.mpr"))
    assert result.exit_code == 1
    assert "FAIL" in result.stdout
    assert "overpotential rose 50.0 % per 100 h" in result.stdout
    assert "± 20.0 % / 100 h" in result.stdout  # threshold with its display unit


def test_exit_2_for_unknown_option(cli, fake):
    result = cli("check", *fake("flat.mpr"), "--no-such-flag")
    assert result.exit_code == 2


@pytest.mark.parametrize(
    "toml,needle",
    [
        ("[symmetric]\noverpotential-drift.max-pct = 20\n", "unknown key symmetric.overpotential-drift.max-pct"),
        ("[symmetric]\noverpotential-drift.max-pct-per-100h = 'lots'\n", "max-pct-per-100h must be a number"),
        ("ignore = ['overpotential-drfit']\n", "unknown rule id 'overpotential-drfit'"),
    ],
)
def test_exit_2_for_bad_config_with_one_line(cli, fake, tmp_path, toml, needle):
    conf = tmp_path / "cycler.toml"
    conf.write_text(toml, encoding="utf-8")
    result = cli("check", *fake("flat.mpr"), "--config", conf)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "cycler.toml" in lines[0]
    assert result.stdout == ""


def test_exit_2_for_unknown_rule_in_select(cli, fake):
    result = cli("check", *fake("flat.mpr"), "--select", "short-circuit,no-such-rule")
    assert result.exit_code == 2
    assert "unknown rule id 'no-such-rule'" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_exit_2_for_bad_pyproject(cli, fake, tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.cycler]\nmass = 3\n", encoding="utf-8")
    result = cli("check", *fake("flat.mpr"))
    assert result.exit_code == 2 and "unknown key tool.cycler.mass" in result.stderr


def test_exit_3_for_an_unreadable_file_which_is_still_reported(cli, tmp_path):
    empty = tmp_path / "empty.mpr"
    empty.write_bytes(b"")
    result = cli("check", empty, "-f", "json")
    assert result.exit_code == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "empty.mpr" in lines[0] and "Traceback" not in result.stderr
    data = _json(result)
    assert data["status"] == "error" and data["exit_code"] == 3
    assert data["files"][0]["status"] == "error" and "empty" in data["files"][0]["error"]


def test_exit_3_for_a_missing_file(cli, tmp_path):
    result = cli("check", tmp_path / "nope.mpr")
    assert result.exit_code == 3 and "no such file" in result.stderr


def test_exit_4_for_an_internal_error(cli, fake, monkeypatch):
    def boom(data, config):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(check_module, "_analyze", boom)
    result = cli("check", *fake("flat.mpr"), "-f", "json")
    assert result.exit_code == 4
    assert "internal error" in result.stderr and "kaboom" in result.stderr and "Traceback" not in result.stderr
    assert _json(result)["files"][0]["exit_code"] == 4


def test_exit_4_when_a_rule_crashes(cli, fake, monkeypatch):
    from cycler_cli.verdicts import rules

    def broken(analysis, thresholds, options):
        raise ZeroDivisionError("bug")

    import dataclasses

    import cycler_cli.config as config_module

    rule = rules.get_rule("symmetric", "short-circuit")
    patched = tuple(dataclasses.replace(r, judge=broken) if r is rule else r for r in rules.RULES)
    monkeypatch.setattr(rules, "RULES", patched)
    monkeypatch.setattr(config_module, "RULES", patched)
    result = cli("check", *fake("flat.mpr"))
    assert result.exit_code == 4 and "ZeroDivisionError" in result.stderr


def test_several_files_worst_code_wins_and_every_file_is_reported(cli, fake, tmp_path):
    empty = tmp_path / "empty.mpr"
    empty.write_bytes(b"")
    paths = fake("flat.mpr", "rising.mpr") + [str(empty)] + fake("good_full.mpr")
    result = cli("check", *paths, "-f", "json")
    assert result.exit_code == 3  # 3 (input) > 1 (fail) > 0
    data = _json(result)
    assert [Path(f["source"]).name for f in data["files"]] == ["flat.mpr", "rising.mpr", "empty.mpr", "good_full.mpr"]
    assert [f["status"] for f in data["files"]] == ["pass", "fail", "error", "pass"]
    assert [f["exit_code"] for f in data["files"]] == [0, 1, 3, 0]
    result = cli("check", *fake("flat.mpr", "rising.mpr", "good_full.mpr"))
    assert result.exit_code == 1


# -- JSON ---------------------------------------------------------------------------------------


def test_json_equals_the_library_report(cli, fake):
    from cycler_cli.config import load_config
    from cycler_cli.verdicts import check_files

    paths = fake("flat.mpr", "fading_full.mpr")
    result = cli("check", *paths, "-f", "json", "--area-cm2", "0.636", "--mass-mg", "7.5")
    assert result.exit_code == 1
    expected = check_files(paths, load_config(cli={"area-cm2": 0.636, "mass-mg": 7.5})).to_dict()
    assert _json(result) == json.loads(json.dumps(expected))


def test_options_reach_the_analysis_and_are_echoed(cli, fake, tmp_path):
    conf = tmp_path / "c.toml"
    conf.write_text("reference-cycle = 3\n[full]\ncapacity-fade.max-pct-per-cycle = 2\n", encoding="utf-8")
    paths = fake("fading_full.mpr")
    result = cli(
        "check", *paths, "-f", "json", "--cell", "full", "--mass-mg", "7.5", "--area-cm2", "1.13",
        "--asr-ohm-cm2", "750", "--config", conf, "--set", "full.capacity-retention.min-pct=60",
    )
    assert fake.seen["fading_full.mpr"] == {"cell": "full", "mass_mg": 7.5, "area_cm2": 1.13, "reference_cycle": 3}
    data = _json(result)
    config = data["config"]
    assert config["asr-ohm-cm2"] == 750.0 and config["reference-cycle"] == 3
    assert config["full"]["capacity-fade"]["max-pct-per-cycle"] == 2.0
    assert config["full"]["capacity-retention"]["min-pct"] == 60.0
    # retention 70 % >= 60 %, fade 1.5 <= 2: both now pass
    assert result.exit_code == 0 and data["status"] == "pass"


def test_select_and_ignore_limit_the_rules(cli, fake):
    data = _json(cli("check", *fake("rising.mpr"), "-f", "json", "--select", "short-circuit", "--select", "min-duration"))
    assert [v["rule"] for v in data["files"][0]["verdicts"]] == ["min-duration", "short-circuit"]
    result = cli("check", *fake("rising.mpr"), "-f", "json", "--ignore", "overpotential-drift")
    assert result.exit_code == 0
    assert "overpotential-drift" not in [v["rule"] for v in _json(result)["files"][0]["verdicts"]]


# -- JUnit --------------------------------------------------------------------------------------


def _junit(text):
    root = ET.fromstring(text)
    assert root.tag == "testsuites"
    return root


@pytest.mark.parametrize(
    "names,code",
    [(("flat.mpr",), 0), (("rising.mpr",), 1), (("flat.mpr", "shorted.mpr", "fading_full.mpr"), 1), (("short_run.mpr",), 0)],
)
def test_junit_failure_count_matches_exit_code(cli, fake, names, code):
    result = cli("check", *fake(*names), "-f", "junit")
    assert result.exit_code == code
    root = _junit(result.stdout)
    failures = root.findall(".//testcase/failure")
    assert int(root.get("failures")) == len(failures)
    assert (len(failures) > 0) == (code == 1)
    data = _json(cli("check", *fake(*names), "-f", "json"))
    n_verdicts = sum(len(f["verdicts"]) for f in data["files"])
    n_failed = sum(v["status"] == "fail" for f in data["files"] for v in f["verdicts"])
    n_skipped = sum(v["status"] == "skip" for f in data["files"] for v in f["verdicts"])
    assert int(root.get("tests")) == len(root.findall(".//testcase")) == n_verdicts
    assert len(failures) == n_failed
    assert int(root.get("skipped")) == len(root.findall(".//testcase/skipped")) == n_skipped


def test_junit_testcase_per_file_and_rule(cli, fake):
    paths = fake("rising.mpr", "good_full.mpr")
    root = _junit(cli("check", *paths, "-f", "junit").stdout)
    cases = [(c.get("classname"), c.get("name")) for c in root.iter("testcase")]
    assert (paths[0], "overpotential-drift") in cases and (paths[1], "capacity-fade") in cases
    failed = [c for c in root.iter("testcase") if c.find("failure") is not None]
    assert [(c.get("classname"), c.get("name")) for c in failed] == [(paths[0], "overpotential-drift")]
    assert "overpotential rose 50.0 % per 100 h" in failed[0].find("failure").get("message")
    skipped = [c.get("name") for c in root.iter("testcase") if c.find("skipped") is not None]
    assert skipped == ["resistance-consistency"]


def test_junit_reports_unreadable_file_as_error(cli, tmp_path):
    empty = tmp_path / "empty.mpr"
    empty.write_bytes(b"")
    result = cli("check", empty, "-f", "junit")
    assert result.exit_code == 3
    root = _junit(result.stdout)
    assert root.get("errors") == "1" and root.get("failures") == "0"
    assert root.find(".//testcase/error") is not None


def test_output_file_gets_the_report_and_stdout_the_table(cli, fake, tmp_path):
    out = tmp_path / "reports" / "cycler.xml"
    out.parent.mkdir()
    result = cli("check", *fake("rising.mpr"), "-f", "junit", "-o", out)
    assert result.exit_code == 1
    assert len(_junit(out.read_text("utf-8")).findall(".//failure")) == 1
    assert "overpotential-drift" in result.stdout and "FAIL" in result.stdout
    table = tmp_path / "table.txt"
    result = cli("check", *fake("flat.mpr"), "-o", table)
    assert result.exit_code == 0 and result.stdout == "" and "PASS" in table.read_text("utf-8")


def test_output_to_a_missing_folder_is_exit_2(cli, fake, tmp_path):
    result = cli("check", *fake("flat.mpr"), "-f", "json", "-o", tmp_path / "no" / "dir" / "r.json")
    assert result.exit_code == 2 and "cannot write the report" in result.stderr


def test_debug_shows_the_traceback_of_an_internal_error(cli, fake, monkeypatch):
    def boom(data, config):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(check_module, "_analyze", boom)
    result = cli("--debug", "check", *fake("flat.mpr"))
    assert result.exit_code == 4
    assert "Traceback" in result.stderr and "kaboom" in result.stderr


def test_all_verdicts_skipped_is_status_skip_and_exit_0(cli, fake):
    result = cli("check", *fake("short_run.mpr"), "--select", "overpotential-drift", "-f", "json")
    assert result.exit_code == 0
    data = _json(result)
    assert data["status"] == "skip" and data["files"][0]["status"] == "skip"


def test_table_shows_the_analysis_warnings(cli, fake, monkeypatch):
    noted = dict(ANALYSES["flat.mpr"], warnings=["median sampling interval is 120 s (> 60 s)"])
    monkeypatch.setitem(ANALYSES, "noted.mpr", noted)
    result = cli("check", *fake("noted.mpr"))
    assert result.exit_code == 0 and "note: median sampling interval is 120 s" in result.stdout


def test_exit_2_for_an_unknown_reader(cli, tmp_path):
    run = tmp_path / "run.csv"
    run.write_text("time_s,voltage_v,current_a\n0,0,0\n", encoding="utf-8")
    result = cli("check", run, "--reader", "no-such-reader")
    assert result.exit_code == 2 and "unknown reader 'no-such-reader'" in result.stderr
    assert result.stdout == ""


def test_exit_2_without_any_path(cli):
    assert cli("check").exit_code == 2
