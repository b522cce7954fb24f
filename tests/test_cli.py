"""CLI contract: version, help, and one test per exit code of ``inspect``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cycler_cli import __version__


def test_version(cli):
    result = cli("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"cycler {__version__}"


def test_version_imports_no_heavy_modules():
    code = (
        "import sys; from cycler_cli.cli import main; sys.argv=['cycler','--version'];\n"
        "try: main()\nexcept SystemExit: pass\n"
        "heavy=[m for m in ('pandas','scipy','galvani','numpy') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("[]"), out


def test_empty_file_exits_3_with_one_line(cli, tmp_path):
    empty = tmp_path / "empty.mpr"
    empty.write_bytes(b"")
    result = cli("inspect", empty)
    assert result.exit_code == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "empty.mpr" in lines[0] and "empty" in lines[0]
    assert "Traceback" not in result.stderr


def test_missing_file_exits_3(cli, tmp_path):
    result = cli("inspect", tmp_path / "nope.mpr")
    assert result.exit_code == 3
    assert "no such file" in result.stderr


def test_unknown_option_exits_2(cli):
    result = cli("inspect", "--no-such-option", "x")
    assert result.exit_code == 2


def test_console_script_version_imports_not_even_typer():
    code = (
        "import sys; sys.argv=['cycler','--version']; from cycler_cli.entry import main; main();"
        "print([m for m in ('typer','click','rich','numpy') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == [f"cycler {__version__}", "[]"]


def test_module_entry_runs_the_cli():
    out = subprocess.run([sys.executable, "-m", "cycler_cli", "formats"], capture_output=True, text=True, check=True)
    assert "biologic-mpr" in out.stdout


def test_prose_and_markdown_tables_are_not_claimed_as_csv(cli, tmp_path):
    md = tmp_path / "notes.md"
    md.write_text("| command | what | why |\n|---|---|---|\n| `a` | b, c | d |\n| `e` | f | g |\n", encoding="utf-8")
    result = cli("inspect", md)
    assert result.exit_code == 3
    assert "no reader recognises this file's content" in result.stderr


def test_inspect_reports_the_files_sha256(cli):
    import hashlib
    import json
    from pathlib import Path

    sample = Path(__file__).resolve().parent.parent / "sample_runs" / "li-lzp-ltp_50C.mpr"
    info = json.loads(cli("inspect", "--format", "json", sample).stdout)
    assert info["sha256"] == hashlib.sha256(sample.read_bytes()).hexdigest()


def test_duplicated_vendor_column_is_used_once_and_warned(tmp_path):
    from cycler_cli.io import read

    rows = ["Data_Point,Test_Time(s),Current(A),Voltage(V),Voltage(V),Cycle_Index,Step_Index"]
    rows += [f"{i},{i}.0,{0.001 if i < 5 else -0.001},{3.5 + i / 100},9.9,1,1" for i in range(10)]
    f = tmp_path / "arbin_dup.csv"
    f.write_text("\n".join(rows) + "\n", encoding="utf-8")
    data = read(f)
    assert data.frame["voltage_v"].iloc[0] == 3.5  # the first Voltage(V), not the second
    assert any("duplicated column" in w and "Voltage(V)" in w for w in data.meta.warnings)


def test_utf16_canonical_csv_is_read(tmp_path):
    from cycler_cli.io import read

    text = "time_s,voltage_v,current_a\n" + "".join(f"{i},{0.4 if i < 5 else -0.4},{1e-5 if i < 5 else -1e-5}\n" for i in range(10))
    f = tmp_path / "utf16.csv"
    f.write_bytes(text.encode("utf-16"))
    data = read(f)
    assert data.meta.reader == "generic-csv" and len(data) == 10


def test_cycles_and_check_on_an_mpr_import_neither_pandas_nor_pydantic():
    # docs/performance.md: pandas (~0.4 s) is needed only by text readers and `frame` users, and
    # typer >= 0.29 would parse options through pydantic (~0.15 s); a binary run needs neither.
    from pathlib import Path

    sample = Path(__file__).resolve().parent.parent / "sample_runs" / "li-lzp-li_80C_40uA.mpr"
    import json

    for command, key in ((["cycles", str(sample), "--format", "json"], "cycles"), (["check", str(sample), "--format", "json"], "files")):
        code = (
            "import sys; from cycler_cli.cli import main;"
            f" sys.argv=['cycler', *{command!r}];\n"
            "try: main()\nexcept SystemExit as e: code = e.code\n"
            "print([m for m in ('pandas', 'pydantic') if m in sys.modules], file=sys.stderr)"
        )
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert key in json.loads(done.stdout), done.stdout[:300]
        assert done.stderr.strip().splitlines()[-1] == "[]", (command[0], done.stderr[-500:])


def test_csv_without_a_current_column_says_which_column_is_missing(cli, tmp_path):
    for rows in (1, 4):  # two columns only: claimed by the generic reader, so its error names them
        f = tmp_path / f"no_current_{rows}.csv"
        f.write_text("time_s,voltage_v\n" + "".join(f"{i},3.5\n" for i in range(rows)), encoding="utf-8")
        result = cli("check", f)
        assert result.exit_code == 3
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and f.name in lines[0] and "no current_a column" in lines[0], lines
        assert "--columns" in lines[0] and "Traceback" not in result.stderr


def test_canonical_csv_with_no_data_rows_is_an_empty_run(cli, tmp_path):
    f = tmp_path / "header_only.csv"
    f.write_text("time_s,voltage_v,current_a\n", encoding="utf-8")
    result = cli("cycles", f)
    assert result.exit_code == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "header_only.csv" in lines[0] and "no data rows" in lines[0], lines


@pytest.mark.skipif(not sys.platform.startswith("linux") or (os.cpu_count() or 1) < 2, reason="counts threads in /proc (Linux, two cores or more)")
@pytest.mark.parametrize("preset", [None, "2"])
def test_the_command_asks_openblas_for_one_thread_unless_told_otherwise(preset):
    """OpenBLAS starts a thread per extra core when numpy is imported; the command asks for none
    (their start-up spin took CPU from the --jobs workers), and a user's own setting wins."""
    sample = Path(__file__).resolve().parent.parent / "sample_runs" / "li-lzp-li_80C_40uA.mpr"
    code = (
        "import atexit, os, sys\n"
        "atexit.register(lambda: print('threads', len(os.listdir('/proc/self/task')), os.environ.get('OPENBLAS_NUM_THREADS')))\n"
        f"sys.argv = ['cycler', 'cycles', {str(sample)!r}, '--format', 'json']\n"
        "from cycler_cli.entry import main\n"
        "main()\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if preset is not None:
        env["OPENBLAS_NUM_THREADS"] = preset
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env).stdout
    threads, setting = out.strip().splitlines()[-1].split()[1:]
    if preset is None:
        assert (threads, setting) == ("1", "1")
    else:
        assert setting == "2" and int(threads) >= 2
