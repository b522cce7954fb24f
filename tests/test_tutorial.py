"""docs/tutorial.md is true: every ``$ cycler ...`` command in it is run and its output compared.

A ```console block holds one command (``$ cycler ARGS``, optionally ``| head -n N``), the output
it prints (stdout then stderr, as a terminal shows them) and, when it is not 0, ``[exit N]``.
Regenerate the shown outputs after a deliberate change with

    python tests/test_tutorial.py --update

and review the diff: the test never rewrites the file by itself.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TUTORIAL = ROOT / "docs" / "tutorial.md"
BLOCK = re.compile(r"```console\n(.*?)```", re.S)
ENV = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb", "PYTHONIOENCODING": "utf-8"}


def _blocks(text: str):
    for match in BLOCK.finditer(text):
        lines = match.group(1).splitlines()
        assert lines and lines[0].startswith("$ cycler "), f"a console block must start with '$ cycler': {lines[:1]}"
        yield match, lines[0][2:]


def run(command: str) -> str:
    """What a terminal shows for ``command``, ending in ``[exit N]`` when N is not 0."""
    head = None
    if "| head -n" in command:
        command, _, n = command.partition("| head -n")
        head = int(n)
    args = shlex.split(command)[1:]
    proc = subprocess.run(
        [sys.executable, "-m", "cycler_cli", *args], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=120
    )
    out = proc.stdout
    if head is not None:
        out = "".join(out.splitlines(keepends=True)[:head])
    text = "\n".join(line.rstrip() for line in (out + proc.stderr).splitlines())
    if proc.returncode:
        text += f"\n[exit {proc.returncode}]"
    return text.strip("\n")


def _render(command: str, output: str) -> str:
    return f"```console\n$ {command}\n{output}\n```" if output else f"```console\n$ {command}\n```"


def _cases():
    if not TUTORIAL.exists():
        return []
    return [command for _, command in _blocks(TUTORIAL.read_text(encoding="utf-8"))]


@pytest.mark.parametrize("command", _cases())
def test_tutorial_output_is_current(command):
    text = TUTORIAL.read_text(encoding="utf-8")
    shown = next(m.group(0) for m, c in _blocks(text) if c == command)
    assert shown == _render(command, run(command)), (
        f"docs/tutorial.md shows stale output for `{command}`; run `python tests/test_tutorial.py --update` and review"
    )


def test_tutorial_covers_the_main_commands():
    commands = " ".join(_cases())
    for word in ("inspect", "cycles", "check", "--config"):
        assert word in commands


if __name__ == "__main__" and "--update" in sys.argv:
    text = TUTORIAL.read_text(encoding="utf-8")
    text = BLOCK.sub(lambda m: _render(m.group(1).splitlines()[0][2:], run(m.group(1).splitlines()[0][2:])), text)
    TUTORIAL.write_text(text, encoding="utf-8")
    print(f"rewrote {TUTORIAL}")
