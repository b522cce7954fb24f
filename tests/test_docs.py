"""Docs tests (sqlite-utils' habit): every command and option the CLI has is documented in docs/."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer

from cycler_cli.cli import app

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _docs_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(DOCS.rglob("*.md")))


def _commands():
    group = typer.main.get_command(app)
    return sorted(group.commands.items())


@pytest.mark.parametrize("name,command", _commands(), ids=[n for n, _ in _commands()])
def test_every_command_and_option_is_documented(name, command):
    text = _docs_text()
    assert f"cycler {name}" in text, f"`cycler {name}` is not in docs/"
    for param in command.params:
        for opt in getattr(param, "opts", []):
            if opt.startswith("-") and opt not in ("--help", "-h"):
                assert opt in text, f"option {opt} of `cycler {name}` is not in docs/"


def test_readme_has_the_two_commands():
    readme = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    assert "pip install . && cycler" in readme
    assert "pip install -e '.[test]' && pytest" in readme
    ci = (DOCS.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert "pip install -e '.[test]' && pytest" in ci


def _report_keys():
    """Every row and summary key of both cell types, from real analyses of synthetic runs."""
    from cycler_cli.analysis import analyze
    from cycler_cli.simulate import simulate_full, simulate_symmetric

    keys: set[str] = set()
    for data in (simulate_symmetric(duration_s=12 * 3600.0), simulate_full()):
        report = analyze(data).to_dict()
        keys |= set(report) | set(report["summary"])
        for row in report["cycles"]:
            keys |= set(row)
    return sorted(keys)


@pytest.mark.parametrize("key", _report_keys())
def test_every_report_key_is_defined_in_the_docs(key):
    text = (DOCS / "metrics.md").read_text(encoding="utf-8") + (DOCS / "cycles.md").read_text(encoding="utf-8")
    assert f"`{key}`" in text, f"`{key}` of the cycles report is not in docs/metrics.md or docs/cycles.md"
