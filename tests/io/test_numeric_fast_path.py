"""The numeric fast path of the table readers (cycler_cli/io/tabular.py, ``_read_numeric``): a
plain numeric table is parsed by numpy without importing pandas, and gives the same run as the
pandas path, bit for bit (columns, dtypes, meta); every other table goes to pandas as before.

``tabular._PARSER = "pandas"`` is the private switch that forces the pandas path; each test reads
a file both ways and compares. ``took_fast`` tells whether numpy read it (so a case that should
fall back, or should not, cannot pass by accident)."""

from __future__ import annotations

import io
import itertools
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cycler_cli.errors import CyclerError
from cycler_cli.io import registry, tabular
from cycler_cli.io.generic_csv import CANONICAL_SPEC, read_generic
from cycler_cli.io.tabular import NumericTable, TableSpec, names

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_runs"
#: Same place as tests/conftest.py's ``realdata`` fixture (used here only to parametrise).
REALDATA = ROOT.parent / "shared" / "realdata"


# --------------------------------------------------------------------------- helpers

def read_both(read, monkeypatch):
    """``(auto, pandas, took_fast)``: ``read()`` with the fast path allowed and with the pandas
    path forced; each result is a CyclingData or the CyclerError it raised."""
    calls = []
    real = tabular._read_numeric

    def spy(*args, **kwargs):
        out = real(*args, **kwargs)
        calls.append(out is not None)
        return out

    monkeypatch.setattr(tabular, "_read_numeric", spy)
    results = []
    for mode in ("auto", "pandas"):
        monkeypatch.setattr(tabular, "_PARSER", mode)
        try:
            results.append(read())
        except CyclerError as exc:
            results.append(exc)
    return results[0], results[1], any(calls)


def assert_same_run(a, b) -> None:
    """Same outcome: equal runs (names, dtypes, every value's bits, meta) or the same error."""
    if isinstance(a, CyclerError) or isinstance(b, CyclerError):
        assert type(a) is type(b) and a.one_line() == b.one_line()
        return
    assert a.column_names == b.column_names
    for name in a.column_names:
        x, y = a.column(name), b.column(name)
        assert x.dtype == y.dtype, name
        assert x.tobytes() == y.tobytes(), f"{name}: differs at {np.flatnonzero(x != y)[:5]}"
    assert a.meta.to_dict() == b.meta.to_dict()
    assert a.meta.extra == b.meta.extra


def canonical_text(rows: int = 40) -> str:
    """A canonical CSV in the writers' formats (%.3f, %.7f, %.9e, %d)."""
    i = np.arange(rows)
    current = np.where((i // 10) % 2 == 0, 1.5e-3, -1.5e-3)
    lines = ["time_s,voltage_v,current_a,charge_ah,cycle,half_cycle,step"]
    for k in i:
        lines.append(f"{k * 60.0:.3f},{3.5 + 0.01 * np.sin(k):.7f},{current[k]:.9e},{k * 1e-5:.9e},"
                     f"{k // 20},{k // 10},{k // 10 + 1}")
    return "\n".join(lines) + "\n"


def _replace_line(text: str, index: int, line: str) -> str:
    lines = text.split("\n")
    lines[index] = line
    return "\n".join(lines)


# --------------------------------------------------------------------------- the files we have

def _table_files() -> list[Path]:
    """Text tables in sample_runs and ../shared/realdata: .csv, .tsv, .txt and Maccor's .0NN."""
    roots = [SAMPLES] + ([REALDATA] if REALDATA.is_dir() else [])
    out = []
    for root in roots:
        for path in sorted(root.rglob("*")):
            suffix = path.suffix.lower()
            if path.is_file() and (suffix in (".csv", ".tsv", ".txt") or suffix[1:].isdigit()):
                out.append(path)
    return out


def _id(path: Path) -> str:
    return str(path.relative_to(REALDATA if REALDATA in path.parents else SAMPLES.parent))


TABLE_FILES = _table_files()
#: Files that read only with a column map (as in test_vendor_realdata.py).
MAPPED = {"cellpy/custom_data_001.csv": "time_s=test_time,voltage_v=voltage,current_a=current,cycle=cycle,step=step"}


@pytest.mark.parametrize("path", TABLE_FILES, ids=[_id(p) for p in TABLE_FILES])
def test_every_table_file_reads_the_same_both_ways(path, monkeypatch):
    """Fast path (2 of them at the time of writing: the sample CSV and battery-data-toolkit's
    Arbin example; the others hold dates or text) or not, the same run or the same error."""
    columns = MAPPED.get(_id(path))
    auto, forced, took_fast = read_both(lambda: registry.read(path, columns=columns), monkeypatch)
    assert_same_run(auto, forced)


def test_real_files_are_listed_or_skipped_with_reason():
    if not REALDATA.is_dir():
        pytest.skip(f"real data not available: {REALDATA} is absent (only CI and developers have ../shared)")
    assert sum(REALDATA in p.parents for p in TABLE_FILES) >= 30


def test_sample_csv_and_batch_csv_take_the_fast_path(monkeypatch, tmp_path):
    from cycler_cli.io.writers import write
    from cycler_cli.simulate import simulate_symmetric

    written = write(simulate_symmetric(interval_s=600.0, seed=3), tmp_path / "run.csv")
    for path in (SAMPLES / "li-lzp-li_80C_40uA.csv", written):
        auto, forced, took_fast = read_both(lambda: registry.read(path), monkeypatch)
        assert took_fast, path
        assert_same_run(auto, forced)


# --------------------------------------------------------------------------- cases, one by one

def _write(tmp_path: Path, text: str | bytes, name: str = "t.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


BASE = canonical_text()
CASES = {
    # name: (file bytes, numpy reads it)
    "plain": (BASE, True),
    "crlf line ends": (BASE.replace("\n", "\r\n"), True),
    "utf-8 BOM": ("\ufeff" + BASE, True),
    "utf-8 BOM and quoted header": ('\ufeff"' + BASE.split("\n", 1)[0].replace(",", '","') + '"\n'
                                    + BASE.split("\n", 1)[1], True),
    "no final line end": (BASE.rstrip("\n"), True),
    "quoted header": ('"' + BASE.split("\n", 1)[0].replace(",", '","') + '"\n' + BASE.split("\n", 1)[1], True),
    "preamble": ("exported by a home-made rig\nchannel: 3\n" + BASE, True),
    "tab separated": (BASE.replace(",", "\t"), True),
    "decimal comma, ; separated": (BASE.replace(",", ";").replace(".", ","), True),
    "float -0.0": (_replace_line(BASE, 5, "240.000,-0.0000000,0.000000000e+00,4.000000000e-05,0,0,1"), True),
    "exponents of every spelling": (_replace_line(BASE, 5, "240.,+3.5E0,1.5e-3,.4e-4,0,0,1"), True),
    "integer -0": (_replace_line(BASE, 5, "240.000,3.5,0.000000000e+00,4.000000000e-05,0,0,-0"), False),
    "quoted field": (_replace_line(BASE, 5, '240.000,"3.5",0.0,0.0,0,0,1'), False),
    "blank line inside": (_replace_line(BASE, 5, ""), False),
    "text cell": (_replace_line(BASE, 5, "240.000,n/a,0.0,0.0,0,0,1"), False),
    "nan spelled": (_replace_line(BASE, 5, "240.000,nan,0.0,0.0,0,0,1"), False),
    "empty cell": (_replace_line(BASE, 5, "240.000,,0.0,0.0,0,0,1"), False),
    "space in a cell": (_replace_line(BASE, 5, "240.000, 3.5,0.0,0.0,0,0,1"), False),
    "extra field": (_replace_line(BASE, 5, "240.000,3.5,0.0,0.0,0,0,1,9"), False),
    "missing field": (_replace_line(BASE, 5, "240.000,3.5,0.0,0.0,0,0"), False),
    "trailing separator on every line": (BASE.replace("\n", ",\n"), False),
    "cut last line": (BASE + "2400.000,3.5", False),
    "latin-1": ("Temp\xe9rature de l'essai: 25 \xb0C\n".encode("latin-1") + BASE.encode(), False),
    "lone CR in the preamble": ("exported\rby a rig\n" + BASE, False),
    "quote opening a preamble field": ('note,"open quote\n' + BASE, False),
    "overflow to inf": (_replace_line(BASE, 5, "240.000,1e400,0.0,0.0,0,0,1"), False),
    "integer beyond int64": (_replace_line(BASE, 5, "240.000,3.5,0.0,0.0,0,0,10000000000000000000"), False),
    "decimal comma with a point cell": (_replace_line(BASE.replace(",", ";").replace(".", ","), 5,
                                                      "240,000;3.5;0;0;0;0;1"), False),
    "header only": (BASE.split("\n", 1)[0] + "\n", False),
    "comment sign": (_replace_line(BASE, 5, "#240.000,3.5,0.0,0.0,0,0,1"), False),
}


@pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning")  # today's int64 cast
@pytest.mark.parametrize("name", list(CASES))
def test_case_reads_the_same_both_ways(name, tmp_path, monkeypatch):
    text, fast = CASES[name]
    path = _write(tmp_path, text)
    auto, forced, took_fast = read_both(lambda: registry.read(path), monkeypatch)
    assert took_fast == fast
    assert_same_run(auto, forced)


def test_the_fallback_cases_keep_their_row_accounting(tmp_path, monkeypatch):
    """The pandas path still counts what it skips (these are today's results, not new ones)."""
    expect = {
        "blank line inside": {"blank line": 1},
        "text cell": {"no numeric time, voltage or current (footer, comment or damaged line)": 1},
        "extra field": {"line with the wrong number of fields": 1},
        "cut last line": {tabular.PARTIAL_LAST_LINE: 1},
    }
    for name, skipped in expect.items():
        data = registry.read(_write(tmp_path, CASES[name][0], f"{len(skipped)}{abs(hash(name))}.csv"))
        assert data.meta.rows_skipped == skipped, name


def test_a_row_made_bad_by_a_derived_column_is_classified_from_the_text(tmp_path, monkeypatch):
    """On the fast path every cell is a finite number, so a row is bad only through a column a
    reader derives (Maccor's time): its reason is then read from the text as pandas has it
    (``RawTable.frame`` re-parses the same bytes), and the runs agree."""
    path = _write(tmp_path, BASE)

    def read():
        raw = tabular.read_text_table(path, CANONICAL_SPEC)
        time_s = np.arange(len(raw.table), dtype=np.float64)
        time_s[3] = np.nan
        return tabular.canonicalise(raw, CANONICAL_SPEC, time_s=time_s, time_source="derived")

    auto, forced, took_fast = read_both(read, monkeypatch)
    assert took_fast
    assert auto.meta.rows_skipped == {"no numeric time, voltage or current (footer, comment or damaged line)": 1}
    assert_same_run(auto, forced)


STATE_SPEC = TableSpec(
    name="test-spec",
    aliases={"time": "time_s", "volts": "voltage_v", "amps": "current_a", "state": "state", "clock": "datetime"},
    units={"voltage_v": "V", "current_a": "A"},
    signature=(names("time"), names("volts"), names("amps")),
    state_signs={"1": 1, "2": -1, "0": 0},
    state_modes={"1": 1, "2": 1, "0": 3},
)


def test_numeric_state_labels_unix_clock_and_unitless_headers(tmp_path, monkeypatch):
    """State labels are read as pandas has them ("1", not "1.0"); a numeric clock column gives
    the start time; headers without a unit are said in meta.inferred, alike both ways."""
    path = _write(tmp_path, "time (s),volts,amps,state,clock\n"
                            "0,3.0,0,0,1600000000\n10,3.5,0.5,1,1600000010\n"
                            "20,3.4,0.5,2,1600000020\n30,3.3,0.5,2,1600000030\n")
    auto, forced, took_fast = read_both(lambda: tabular.read_with_spec(path, STATE_SPEC), monkeypatch)
    assert took_fast
    assert_same_run(auto, forced)
    np.testing.assert_array_equal(auto.column("current_a"), [0, 0.5, -0.5, -0.5])  # signed by state 2
    assert auto.meta.start_time is not None and auto.meta.start_time.year == 2020
    assert any("'volts' has no unit" in line for line in auto.meta.inferred)


def test_raw_table_frame_is_the_pandas_frame(tmp_path, monkeypatch):
    """A vendor reader that asks for ``raw.frame`` gets what the pandas path gives: int64 where
    the file holds integers, same values and names."""
    path = _write(tmp_path, BASE)
    raw = tabular.read_text_table(path, CANONICAL_SPEC)
    assert isinstance(raw.table, NumericTable)
    monkeypatch.setattr(tabular, "_PARSER", "pandas")
    pd.testing.assert_frame_equal(raw.frame, tabular.read_text_table(path, CANONICAL_SPEC).frame, check_exact=True)
    assert raw.frame["cycle"].dtype == np.int64 and not isinstance(raw.table, NumericTable)


# --------------------------------------------------------------------------- the parsers agree

def _pandas_cells(cells: list[str], decimal: str, sep: str) -> list[float | None]:
    """What pandas makes of each cell: its float, or None where it keeps text."""
    other = "1" + decimal + "5"  # each cell in its own column beside a float, as in a file
    text = sep.join(cells) + "\n" + sep.join([other] * len(cells)) + "\n"
    frame = pd.read_csv(io.StringIO(text), header=None, sep=sep, decimal=decimal, engine="c", dtype=None)
    return [frame[j].iloc[0] if pd.api.types.is_float_dtype(frame[j].dtype) else None for j in range(len(cells))]


def _numpy_cell(cell: str, decimal: str, sep: str) -> float | None:
    text = cell.replace(",", ".") if decimal == "," else cell
    try:
        return np.loadtxt(io.StringIO(text + "\n"), delimiter=sep, dtype=np.float64, ndmin=2, comments=None,
                          quotechar=None)[0, 0]
    except ValueError:
        return None


@pytest.mark.parametrize("decimal,sep", [(".", ","), (",", ";")])
def test_numpy_and_pandas_agree_on_every_short_cell_of_the_alphabet(decimal, sep):
    """The premise of ``_NUMBER_BYTES``: over digits, sign, decimal mark and exponent, numpy
    rejects exactly what pandas keeps as text and reads the rest to the same bits. Every string
    of up to 4 of ``01+-<mark>eE`` and 5,000 random strings of the whole set, up to 9 long."""
    small = "01+-" + decimal + "eE"
    whole = "0123456789+-" + decimal + "eE"
    cells = {"".join(t) for n in range(1, 5) for t in itertools.product(small, repeat=n)}
    rng = random.Random(7)
    cells |= {"".join(rng.choice(whole) for _ in range(rng.randint(1, 9))) for _ in range(5000)}
    cells = sorted(cells)
    differ = []
    for start in range(0, len(cells), 2000):
        batch = cells[start: start + 2000]
        for cell, want in zip(batch, _pandas_cells(batch, decimal, sep)):
            got = _numpy_cell(cell, decimal, sep)
            same = (want is None) == (got is None) and (want is None or np.float64(want).tobytes() == np.float64(got).tobytes())
            if not same:
                differ.append((cell, want, got))
    assert not differ, differ[:10]


@pytest.mark.parametrize("decimal,sep", [(".", ","), (",", ";")])
def test_float_parsers_agree_bit_for_bit(decimal, sep):
    """pandas' C parser and numpy's (``PyOS_string_to_double``) both round correctly, so the
    values agree in every bit, also with 17 and 25 significant digits, subnormals and 20-digit
    mantissas (where an older pandas' xstrtod was off by an ulp); measured 0 of 270,000 here
    with pandas 3.1 and 2.3. If a pandas release changes that, this test says so."""
    rng = np.random.default_rng(5)
    x = (rng.standard_normal(20000) * 10.0 ** rng.integers(-310, 300, 20000)).tolist()
    cells = [repr(v) for v in x] + ["%.17g" % v for v in x[:5000]] + ["%.25g" % v for v in x[:5000]]
    cells += ["%.9e" % v for v in x[:5000]] + ["%.7f" % v for v in x[:5000]]
    digits = ["".join(map(str, rng.integers(0, 10, rng.integers(1, 30)))) for _ in range(5000)]
    cells += [d[:1] + "." + d[1:] + "e%d" % e for d, e in zip(digits, rng.integers(-330, 310, 5000))]
    cells = [c.replace(".", decimal) for c in cells]
    text = "\n".join(cells) + "\n"
    want = pd.read_csv(io.StringIO(text), header=None, sep=sep, decimal=decimal, engine="c")[0].to_numpy(np.float64)
    got = np.loadtxt(io.StringIO(text.replace(",", ".") if decimal == "," else text), delimiter=sep,
                     dtype=np.float64, comments=None, quotechar=None)
    bad = np.flatnonzero(want.view(np.int64) != got.view(np.int64))
    assert bad.size == 0, [(cells[i], want[i], got[i]) for i in bad[:5]]


# --------------------------------------------------------------------------- no pandas import

def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    return env


def _pandas_imported_after_read(path: Path) -> bool:
    code = ("import sys\nfrom cycler_cli.io import read\n"
            f"read({str(path)!r})\nprint('pandas' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_child_env(),
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip() == "True"


def test_reading_a_canonical_csv_does_not_import_pandas(tmp_path):
    assert not _pandas_imported_after_read(_write(tmp_path, BASE))
    # and the probe can tell: a text cell sends the file to pandas
    assert _pandas_imported_after_read(_write(tmp_path, CASES["text cell"][0], "text.csv"))


def test_cycler_check_csv_json_does_not_import_pandas(tmp_path):
    path = SAMPLES / "li-lzp-li_80C_40uA.csv"
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "cycler_cli", "check", str(path),
                           "--format", "json"], capture_output=True, text=True, env=_child_env(), timeout=300)
    assert done.returncode in (0, 1), done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report  # the report was written
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "numpy" in imported  # the probe sees imports at all
    assert not any(name == "pandas" or name.startswith("pandas.") for name in imported)
