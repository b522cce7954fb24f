"""JUnit XML for ``cycler check --format junit`` (stdlib ``xml.etree``; no rich, no numpy).

Layout, read by GitLab's ``artifacts:reports:junit`` and GitHub test-report actions:

* ``<testsuites>`` with totals (``tests``, ``failures``, ``errors``, ``skipped``);
* one ``<testsuite name=FILE>`` per file;
* one ``<testcase classname=FILE name=RULE_ID>`` per verdict: ``fail`` -> ``<failure>``,
  ``skip`` -> ``<skipped>``, ``warn`` and ``pass`` -> a plain testcase; every message is also
  in ``<system-out>`` (``WARN: ...`` for warnings);
* a file that could not be judged -> one ``<testcase name="read">`` holding an ``<error>``.

The number of ``<failure>`` elements is the number of failed verdicts, so it is non-zero
exactly when ``cycler check`` exits 1 (or higher, when errors are present too).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any


def _fmt(x: Any) -> str:
    if x is None:
        return "n/a"
    if isinstance(x, float):
        return f"{x:.6g}"
    return str(x)


def _detail(v: dict[str, Any]) -> str:
    op = {"<=": "<=", ">=": ">=", "abs<=": "|value| <="}.get(v.get("comparison") or "", "vs")
    unit = v.get("unit") or ""
    if v.get("value") is None and v.get("threshold") is None:
        return v.get("message", "")
    return f"{v.get('message', '')}\nvalue: {_fmt(v.get('value'))} {unit}; required: {op} {_fmt(v.get('threshold'))} {unit}".rstrip()


def render_junit(report: dict[str, Any]) -> str:
    """The JUnit XML text of a ``CheckReport.to_dict()``."""
    root = ET.Element("testsuites", name="cycler check")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for f in report.get("files", []):
        source = str(f.get("source", ""))
        suite = ET.SubElement(root, "testsuite", name=source)
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="cell_type", value=str(f.get("cell_type")))
        ET.SubElement(props, "property", name="status", value=str(f.get("status")))
        if f.get("status") == "error":
            case = ET.SubElement(suite, "testcase", classname=source, name="read", time="0")
            message = str(f.get("error") or "could not be read")
            err = ET.SubElement(case, "error", message=message, type=f"exit {f.get('exit_code')}")
            err.text = message
            counts["tests"] += 1
            counts["errors"] += 1
        for v in f.get("verdicts", []):
            case = ET.SubElement(suite, "testcase", classname=source, name=str(v.get("rule")), time="0")
            counts["tests"] += 1
            status, message = v.get("status"), str(v.get("message", ""))
            if status == "fail":
                node = ET.SubElement(case, "failure", message=message, type="fail")
                node.text = _detail(v)
                counts["failures"] += 1
            elif status == "skip":
                ET.SubElement(case, "skipped", message=message)
                counts["skipped"] += 1
            out = ET.SubElement(case, "system-out")
            out.text = f"{str(status).upper()}: {_detail(v)}"
        for key, n in counts.items():
            suite.set(key, str(n))
            totals[key] += n
        suite.set("time", "0")
    for key, n in totals.items():
        root.set(key, str(n))
    root.set("time", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
