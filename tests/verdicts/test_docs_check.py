"""The check docs stay true: every rule and threshold is in docs/rules.md with its default, the
config example loads, the JSON Schema is valid, and the CI jobs in docs/ci.md parse and run
valid ``cycler check`` command lines.

PyYAML is not a dependency, so the YAML blocks are read with a small parser for the subset they
use (block mappings and sequences, ``|`` block scalars, flow lists, quoted scalars)."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from pathlib import Path

import jsonschema
import numpy as np
import pytest
import typer

from cycler_cli.config import OPTION_KEYS, load_config
from cycler_cli.verdicts.rules import RULES

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _text(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def _blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", text, flags=re.S)


# -- rules.md ---------------------------------------------------------------------------------


@pytest.mark.parametrize("rule", RULES, ids=lambda r: f"{r.cell_type}:{r.id}")
def test_every_rule_and_threshold_is_documented_with_its_default(rule):
    text = _text("rules.md")
    heading = "## Symmetric cells" if rule.cell_type == "symmetric" else "## Full and half cells"
    section = text.split(heading, 1)[1]
    assert f"### `{rule.id}`" in section, f"{rule.id} has no section under {heading!r}"
    body = section.split(f"### `{rule.id}`", 1)[1].split("\n### ", 1)[0]
    for p in rule.params:
        default = "none (off)" if p.default is None else f"`{p.default:g}`"
        assert f"| `{p.key}` | {default} | {p.unit} |" in body, f"{rule.id}.{p.key} (default {default}, {p.unit})"


def test_rules_md_names_no_rule_that_does_not_exist():
    ids = {r.id for r in RULES}
    documented = set(re.findall(r"^### `([a-z0-9-]+)`", _text("rules.md"), flags=re.M))
    assert documented == ids


# -- config.md --------------------------------------------------------------------------------


def test_config_example_loads_and_sets_every_key(tmp_path):
    example = next(b for b in _blocks(_text("config.md"), "toml") if "[tool.cycler]" in b)
    (tmp_path / "pyproject.toml").write_text(example, encoding="utf-8")
    cfg = load_config(cwd=tmp_path)
    data = tomllib.loads(example)["tool"]["cycler"]
    assert set(OPTION_KEYS) <= set(data)
    for rule in RULES:
        for p in rule.params:
            assert p.key in data[rule.cell_type][rule.id], f"{rule.cell_type}.{rule.id}.{p.key} missing from the example"
            assert cfg.thresholds[rule.cell_type][rule.id][p.key] == data[rule.cell_type][rule.id][p.key]


def test_config_error_examples_are_real_messages(tmp_path):
    """The first error line in docs/config.md is what cycler prints for that mistake."""
    conf = tmp_path / "cycler.toml"
    conf.write_text("[symmetric.overpotential-drift]\nmax-pct = 20\n", encoding="utf-8")
    from cycler_cli.errors import ConfigError

    with pytest.raises(ConfigError) as info:
        load_config(cwd=tmp_path, config_file=conf)
    line = info.value.one_line().replace(str(conf), "cycler.toml")
    assert f"error: {line}" in _text("config.md")


# -- check-report.schema.json -----------------------------------------------------------------


def test_schema_is_a_valid_json_schema():
    schema = json.loads(_text("check-report.schema.json"))
    jsonschema.Draft202012Validator.check_schema(schema)


# -- ci.md: a small YAML reader ---------------------------------------------------------------


def _scalar(raw: str):
    raw = raw.strip()
    if raw.startswith("[") and raw.endswith("]"):
        return [_scalar(x) for x in raw[1:-1].split(",") if x.strip()]
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
        return raw[1:-1]
    if " #" in raw:
        raw = raw.split(" #", 1)[0].rstrip()
    return raw


def parse_yaml(text: str):
    """Parse the YAML subset of the CI examples; raise ValueError on anything else."""
    lines = []
    for number, line in enumerate(text.splitlines(), start=1):
        if "\t" in line[: len(line) - len(line.lstrip())]:
            raise ValueError(f"line {number}: tab in indentation")
        lines.append((number, len(line) - len(line.lstrip(" ")), line.strip(), line))

    def significant(i):
        while i < len(lines) and (not lines[i][2] or lines[i][2].startswith("#")):
            i += 1
        return i

    def key_value(content, number):
        m = re.match(r"^([A-Za-z0-9_.\-]+|\"[^\"]+\"|'[^']+'):(?:\s+(.*))?$", content)
        if not m:
            raise ValueError(f"line {number}: not a 'key: value' line: {content!r}")
        return _scalar(m.group(1)), (m.group(2) or "")

    def block_scalar(i, indent):
        out, body_indent = [], None
        while i < len(lines) and (not lines[i][2] or lines[i][1] > indent):
            if lines[i][2]:
                body_indent = lines[i][1] if body_indent is None else body_indent
                out.append(lines[i][3][body_indent:])
            else:
                out.append("")
            i += 1
        return "\n".join(out).strip("\n") + "\n", i

    def node(i, indent):
        i = significant(i)
        if i >= len(lines):
            raise ValueError("unexpected end")
        if lines[i][1] != indent:
            raise ValueError(f"line {lines[i][0]}: indentation {lines[i][1]}, expected {indent}")
        if lines[i][2] == "-" or lines[i][2].startswith("- "):
            return sequence(i, indent)
        return mapping(i, indent)

    def value_after(rest, i, indent, number):
        if rest in ("|", "|-", ">"):
            return block_scalar(i + 1, indent)
        if rest:
            return _scalar(rest), i + 1
        j = significant(i + 1)
        if j < len(lines) and lines[j][1] > indent:
            return node(j, lines[j][1])
        raise ValueError(f"line {number}: key without a value")

    def mapping(i, indent, first=None):
        out = {}
        while True:
            i = significant(i)
            if first is None and (i >= len(lines) or lines[i][1] < indent):
                return out, i
            number, ind, content, _ = lines[i]
            if first is not None:  # the first key sits on the "- " line of a sequence item
                content, first = first, None
            elif ind != indent:
                raise ValueError(f"line {number}: indentation {ind}, expected {indent}")
            if content.startswith("- "):
                return out, i
            key, rest = key_value(content, number)
            if key in out:
                raise ValueError(f"line {number}: duplicate key {key!r}")
            out[key], i = value_after(rest, i, indent, number)

    def sequence(i, indent):
        out = []
        while True:
            i = significant(i)
            if i >= len(lines) or lines[i][1] != indent or not (lines[i][2] == "-" or lines[i][2].startswith("- ")):
                return out, i
            number, _, content, _ = lines[i]
            item = content[1:].strip()
            if not item:
                value, i = node(i + 1, lines[significant(i + 1)][1])
            elif item in ("|", "|-", ">"):
                value, i = block_scalar(i + 1, indent)
            elif re.match(r"^[A-Za-z0-9_.\-\"']+:(\s|$)", item):
                value, i = mapping(i, indent + 2, first=item)
            else:
                value, i = _scalar(item), i + 1
            out.append(value)

    i = significant(0)
    doc, end = node(i, lines[i][1])
    if significant(end) != len(lines):
        raise ValueError(f"line {lines[significant(end)][0]}: could not be read")
    return doc


def test_yaml_reader_rejects_bad_indentation():
    with pytest.raises(ValueError):
        parse_yaml("a:\n  b: 1\n   c: 2\n")
    assert parse_yaml("a:\n  - x: 1\n    y: [p, 'q']\n  - z\n  - |\n    s1\n    s2\nb: |\n  one\n  two\n") == {
        "a": [{"x": "1", "y": ["p", "q"]}, "z", "s1\ns2\n"], "b": "one\ntwo\n"
    }


def _ci_yaml():
    blocks = _blocks(_text("ci.md"), "yaml")
    assert len(blocks) == 2, "docs/ci.md should hold a GitHub and a GitLab job"
    github = next(b for b in blocks if "runs-on:" in b)
    gitlab = next(b for b in blocks if "artifacts:" in b and "runs-on:" not in b)
    return parse_yaml(github), parse_yaml(gitlab)


def _check_commands(script: str) -> list[list[str]]:
    """The argument lists (after ``check``) of every ``cycler check`` line in ``script``."""
    out = []
    for line in script.splitlines():
        if "cycler check" not in line:
            continue
        tokens = shlex.split(line)
        start = tokens.index("cycler")
        assert tokens[start + 1] == "check", line
        args = tokens[start + 2:]
        out.append(["runs/new-run.csv" if a.startswith("$") else a for a in args])
    return out


def _validate(args: list[str]):
    """Parse ``args`` as ``cycler check`` would (raises a usage error on a bad option)."""
    from cycler_cli.cli import app

    command = typer.main.get_command(app).commands["check"]
    return command.make_context("check", list(args), resilient_parsing=False).params


def test_github_job_structure_and_command():
    github, _ = _ci_yaml()
    assert set(github["on"]) == {"push", "pull_request"}
    (job,) = github["jobs"].values()
    assert job["runs-on"] == "ubuntu-latest"
    steps = job["steps"]
    runs = [s["run"] for s in steps if "cycler check" in s.get("run", "")]
    assert len(runs) == 1
    (args,) = _check_commands(runs[0])
    params = _validate(args)
    assert getattr(params["format"], "value", params["format"]) == "junit"  # typer < 0.29 leaves the raw string
    report = str(params["output"])
    publish = next(s for s in steps if s.get("uses", "").startswith("mikepenz/action-junit-report@"))
    assert publish["with"]["report_paths"] == report and publish["if"].startswith("always()")
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["with"]["path"] == report


def test_gitlab_job_structure_and_command():
    _, gitlab = _ci_yaml()
    (job,) = gitlab.values()
    assert job["image"] == "python:3.11" and job["stage"] == "test"
    script = "\n".join(job["script"])
    (args,) = _check_commands(script)
    params = _validate(args)
    assert getattr(params["format"], "value", params["format"]) == "junit"  # typer < 0.29 leaves the raw string
    report = str(params["output"])
    assert job["artifacts"]["when"] == "always"
    assert job["artifacts"]["reports"]["junit"] == report
    assert report in job["artifacts"]["paths"]


def test_bad_command_line_is_rejected_by_the_validator():
    # typer >= 0.2x vendors click; its UsageError derives from ClickException either way
    with pytest.raises(Exception, match="No such option"):
        _validate(["runs/a.mpr", "--formt", "junit"])
    with pytest.raises(Exception, match="xml"):
        _validate(["runs/a.mpr", "--format", "xml"])


def test_the_documented_command_runs(cli, tmp_path, monkeypatch):
    """Run the GitHub job's command on a synthetic new run, with an empty cycler.toml."""
    pytest.importorskip("cycler_cli.analysis")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cycler.toml").write_text("", encoding="utf-8")
    (tmp_path / "runs").mkdir()
    t = np.arange(0.0, 8 * 7800.0, 60.0)
    phase = np.mod(t, 15600.0)
    current = np.where(phase < 7200, 25.44e-6, np.where((phase >= 7800) & (phase < 15000), -25.44e-6, 0.0))
    rows = "\n".join(f"{a:.0f},{0.4 * np.sign(c):.4f},{c:.5e}" for a, c in zip(t, current))
    (tmp_path / "runs" / "new-run.csv").write_text("time_s,voltage_v,current_a\n" + rows + "\n", encoding="utf-8")
    github, _ = _ci_yaml()
    (job,) = github["jobs"].values()
    (args,) = _check_commands(next(s["run"] for s in job["steps"] if "cycler check" in s.get("run", "")))
    result = cli("check", *args, "--cell", "symmetric", "--area-cm2", "0.636")
    assert result.exit_code == 0, result.stdout + result.stderr
    import xml.etree.ElementTree as ET

    root = ET.parse(tmp_path / "cycler-junit.xml").getroot()
    assert root.get("failures") == "0" and int(root.get("tests")) >= 3
