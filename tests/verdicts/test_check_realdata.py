"""``check_files`` over every real file in ``../shared/realdata``: each file is judged or
reported as an input error (exit 3), never an internal error, and the report is valid JSON
that matches the schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

SUFFIXES = {".mpr", ".mpt", ".csv", ".txt", ".xlsx", ".nda", ".ndax"}
SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "check-report.schema.json").read_text("utf-8"))


def test_real_files_never_give_an_internal_error(realdata, tmp_path, monkeypatch):
    pytest.importorskip("cycler_cli.analysis")
    from cycler_cli.config import load_config
    from cycler_cli.verdicts import check_files

    monkeypatch.chdir(tmp_path)
    files = sorted(p for p in realdata.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
    assert files, f"no cycler files under {realdata}"
    report = check_files(files, load_config()).to_dict()
    bugs = [(f["source"], f["error"]) for f in report["files"] if f["exit_code"] == 4]
    assert bugs == []
    assert len(report["files"]) == len(files)
    assert any(f["status"] in ("pass", "warn", "fail") for f in report["files"])
    jsonschema.validate(json.loads(json.dumps(report, allow_nan=False)), SCHEMA)
