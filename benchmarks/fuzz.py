"""Fuzz harness: mutate real and sample cycler files and read each one; count the outcomes.

    python benchmarks/fuzz.py --mutations 2000            # the acceptance run (docs/reliability.md)
    python benchmarks/fuzz.py --mutations 200 --check     # also analyse and judge readable runs
    python benchmarks/fuzz.py --replay 1234 --seed 0      # re-run one case, print its traceback
    python benchmarks/fuzz.py --keep /tmp/fuzz-fail       # keep the bytes of every bad case

Corpus: every file in ``sample_runs/`` (data files only) and every file under
``../shared/realdata/`` (skipped with a note when absent), whatever its kind: a ``.mpl`` log,
a README or a JSON file read as a cycler file must also end in a clean input error.

Each case picks a file and a mutation (truncate anywhere, cut the last record, empty file,
bit flips, byte runs, huge length fields, inserted / deleted bytes, swapped lines, duplicated
header lines, duplicated / missing columns, NaN / inf text, wrong-unit headers, non-UTF-8
bytes, one data row, header only, another file's content under this file's name). Case ``i``
of seed ``s`` is the same bytes on every machine (``--replay i``).

Each case runs in its own forked child of a parent that has already imported every reader,
so a case costs a fork, not an interpreter start. The child writes the mutated bytes under the
original file name (extension kept), resets its peak-RSS mark (``/proc/self/clear_refs``),
reads the file with :func:`cycler_cli.io.registry.read` and reports the outcome and its peak
RSS above the RSS it started with. The parent kills a child after ``--timeout`` seconds
(default 10): that case is a *hang*. Outcomes:

* ``data``: a ``CyclingData`` came back (its ``rows_read`` equals its frame length);
* ``input-error``: an ``InputError`` (the CLI's exit 3) whose message is one line;
* ``traceback``: any other exception, or an input error spanning several lines (a bug);
* ``hang``: no answer within the time limit;
* ``memory``: peak RSS growth above ``--memory-factor`` (20) times the largest input file,
  or a ``MemoryError`` behind the input error (the child's address space is capped at
  4 GiB above its start as a safety net for the machine);
* ``crash``: the child died without answering (a signal, the kernel's OOM killer).

The closing note gives the counts per outcome and the slowest and most memory-hungry cases.
``--json FILE`` writes every case. Exit status 1 when any case is a traceback, hang, memory or
crash. Linux only (fork, /proc).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import select
import signal
import sys
import tempfile
import time
import traceback
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # forked children must not inherit BLAS threads
os.environ.setdefault("OMP_NUM_THREADS", "1")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SAMPLES = ROOT / "sample_runs"
REALDATA = ROOT.parent / "shared" / "realdata"
SKIP_NAMES = {"README.md", "make_samples.py", ".gitattributes"}

BAD_OUTCOMES = ("traceback", "hang", "memory", "crash")
OUTCOMES = ("data", "input-error") + BAD_OUTCOMES


# --------------------------------------------------------------------------- corpus


def corpus(extra: list[Path]) -> tuple[list[Path], list[str]]:
    """Files to mutate, and notes on what was skipped."""
    notes: list[str] = []
    files = [p for p in sorted(SAMPLES.iterdir()) if p.is_file() and p.name not in SKIP_NAMES]
    if REALDATA.is_dir():
        files += sorted(p for p in REALDATA.rglob("*") if p.is_file())
    else:
        notes.append(f"real data skipped: {REALDATA} is absent")
    for path in extra:
        files += sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    return files, notes


# --------------------------------------------------------------------------- mutations


def _is_text(raw: bytes) -> bool:
    head = raw[:4096]
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return True
    return b"\x00" not in head


def _lines(raw: bytes) -> list[bytes]:
    return raw.splitlines(keepends=True)


def _header_index(lines: list[bytes]) -> int:
    """The likely column-header line: among the first 200, the one with the most separators
    that is followed by a line with as many (a data row)."""
    best, best_count = 0, -1
    for i, line in enumerate(lines[:200]):
        count = max(line.count(b"\t"), line.count(b","), line.count(b";"))
        if count > best_count and not re.search(rb"^\s*[-+0-9.]", line):
            best, best_count = i, count
    return best


def _data_lines(lines: list[bytes]) -> range:
    h = _header_index(lines)
    return range(h + 1, len(lines))


def m_truncate(raw: bytes, rng: random.Random) -> tuple[bytes, str]:
    cut = rng.randrange(0, max(1, len(raw)))
    return raw[:cut], f"truncate at byte {cut} of {len(raw)}"


def m_truncate_tail(raw: bytes, rng: random.Random) -> tuple[bytes, str]:
    """A run still being written: cut inside the last few percent, usually mid-record."""
    lo = max(0, len(raw) - max(64, len(raw) // 20))
    cut = rng.randrange(lo, max(lo + 1, len(raw)))
    return raw[:cut], f"truncate near the end at byte {cut} of {len(raw)}"


def m_empty(raw: bytes, rng: random.Random) -> tuple[bytes, str]:
    return b"", "zero-length file"


def m_bitflip(raw: bytes, rng: random.Random) -> tuple[bytes, str]:
    if not raw:
        return raw, "bit flips (empty file)"
    buf = bytearray(raw)
    n = rng.randint(1, 8)
    span = min(len(buf), 4096) if rng.random() < 0.6 else len(buf)  # headers are where lengths live
    where = []
    for _ in range(n):
        pos = rng.randrange(span)
        buf[pos] ^= 1 << rng.randrange(8)
        where.append(pos)
    return bytes(buf), f"{n} bit flips at {sorted(where)}"


def m_byte_run(raw: bytes, rng: random.Random) -> tuple[bytes, str]:
    if not raw:
        return raw, "byte run (empty file)"
    buf = bytearray(raw)
    start = rng.randrange(len(buf))
    length = min(len(buf) - start, rng.choice([1, 4, 16, 256, 4096]))
    value = rng.choice([0x00, 0xFF, 0x20, 0x0A, rng.randrange(256)])
    buf[start : start + length] = bytes([value]) * length
    return bytes(buf), f"{length} bytes of 0x{value:02x} at {start}"


def m_huge_length(raw: bytes, rng: random.Random) -> tuple[bytes, str]:
    """Set a length-like field to a huge value: .mpr module lengths and point counts, text
    header-line counts, or a u32 at a random aligned offset."""
    buf = bytearray(raw)
    value = rng.choice([0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, 2**31 + 1, 10**9, 0xFFFFFFF0])
    spots = [m.start() for m in re.finditer(rb"MODULE", raw)]
    if spots:
        pos = rng.choice(spots) + 6
        v2 = raw[pos + 35 : pos + 39] == b"\xff\xff\xff\xff"
        what = rng.choice(["length", "points"] + (["max length"] if v2 else []))
        if what == "max length":
            at = pos + 35
        elif what == "length":
            at = pos + (39 if v2 else 35)
        else:  # n_points of the data module (first u32 of its payload)
            at = pos + (59 if v2 else 51)
        if at + 4 <= len(buf):
            buf[at : at + 4] = value.to_bytes(4, "little")
            return bytes(buf), f"module at {pos - 6}: {what} := {value:#x}"
    match = re.search(rb"(Nb header lines\s*:\s*)(\d+)", raw)
    if match and rng.random() < 0.7:
        number = str(rng.choice([value, 10**12, 0, 1, 2**63])).encode()
        return raw[: match.start(2)] + number + raw[match.end(2) :], f"Nb header lines := {number.decode()}"
    if len(buf) < 8:
        return bytes(buf), "huge length (file too short)"
    at = rng.randrange(0, min(len(buf), 4096) - 4) & ~3
    buf[at : at + 4] = value.to_bytes(4, "little")
    return bytes(buf), f"u32 at {at} := {value:#x}"


def m_insert(raw: bytes, rng: random.Random) -> tuple[bytes, str]:
    pos = rng.randrange(len(raw) + 1)
    n = rng.choice([1, 3, 8, 100, 5000])
    blob = bytes(rng.randrange(256) for _ in range(min(n, 256))) * (n // 256 + 1)
    return raw[:pos] + blob[:n] + raw[pos:], f"insert {n} bytes at {pos}"


def m_delete(raw: bytes, rng: random.Random) -> tuple[bytes, str]:
    if not raw:
        return raw, "delete (empty file)"
    pos = rng.randrange(len(raw))
    n = rng.choice([1, 3, 8, 100, 5000])
    return raw[:pos] + raw[pos + n :], f"delete {n} bytes at {pos}"


def m_swap_lines(raw: bytes, rng: random.Random) -> tuple[bytes, str]:
    """Swap data lines: non-monotonic time, cycles out of order."""
    lines = _lines(raw)
    data = _data_lines(lines)
    if len(data) < 2:
        return m_bitflip(raw, rng)
    n = rng.randint(1, 20)
    for _ in range(n):
        i, j = rng.choice(data), rng.choice(data)
        lines[i], lines[j] = lines[j], lines[i]
    return b"".join(lines), f"swap {n} pairs of data lines"


def m_dup_header(raw: bytes, rng: random.Random) -> tuple[bytes, str]:
    lines = _lines(raw)
    if not lines:
        return raw, "duplicate header (empty file)"
    h = _header_index(lines)
    where = rng.choice([h, h + 1, len(lines) // 2])
    lines.insert(min(where, len(lines)), lines[h])
    return b"".join(lines), f"header line {h} repeated at line {where}"


def _split(line: bytes) -> tuple[bytes, list[bytes], bytes]:
    body = line.rstrip(b"\r\n")
    end = line[len(body) :]
    sep = max((b"\t", b",", b";"), key=body.count)
    return sep, body.split(sep), end


def m_dup_column(raw: bytes, rng: random.Random) -> tuple[bytes, str]:
    """Repeat one column name in the header (duplicated columns)."""
    lines = _lines(raw)
    if not lines:
        return raw, "duplicate column (empty file)"
    h = _header_index(lines)
    sep, cells, end = _split(lines[h])
    if len(cells) < 2:
        return m_bitflip(raw, rng)
    i, j = rng.randrange(len(cells)), rng.randrange(len(cells))
    cells[j] = cells[i]
    lines[h] = sep.join(cells) + end
    return b"".join(lines), f"header column {j} renamed to column {i}'s name {cells[i][:30]!r}"


def m_drop_column(raw: bytes, rng: random.Random) -> tuple[bytes, str]:
    """Remove one column from the header and every row (a missing column), or from the header only."""
    lines = _lines(raw)
    if not lines:
        return raw, "drop column (empty file)"
    h = _header_index(lines)
    sep, cells, _ = _split(lines[h])
    if len(cells) < 2:
        return m_bitflip(raw, rng)
    k = rng.randrange(len(cells))
    header_only = rng.random() < 0.3
    stop = h + 1 if header_only else len(lines)
    for i in range(h, stop):
        s, parts, end = _split(lines[i])
        if s == sep and len(parts) > k:
            del parts[k]
            lines[i] = sep.join(parts) + end
    return b"".join(lines), f"column {k} ({cells[k][:30]!r}) removed" + (" from the header only" if header_only else "")


_NUMBER = re.compile(rb"(?<![\w.])-?\d+\.\d+(?:[eE][-+]?\d+)?")


def m_nan_inf(raw: bytes, rng: random.Random) -> tuple[bytes, str]:
    if not _is_text(raw):
        buf = bytearray(raw)
        if len(buf) < 16:
            return bytes(buf), "NaN/inf (file too short)"
        token = rng.choice([b"\x00\x00\xc0\x7f", b"\x00\x00\x80\x7f", b"\x00\x00\x80\xff"])  # f4 NaN, inf, -inf
        n = rng.randint(1, 50)
        for _ in range(n):
            at = rng.randrange(len(buf) // 2, len(buf) - 4)
            buf[at : at + 4] = token
        return bytes(buf), f"{n} float32 {token.hex()} written in the second half"
    lines = _lines(raw)
    data = list(_data_lines(lines))
    if not data:
        return m_bitflip(raw, rng)
    token = rng.choice([b"NaN", b"nan", b"inf", b"-inf", b"Infinity", b"", b"1e999", b"#N/A"])
    n = rng.randint(1, 30)
    for _ in range(n):
        i = rng.choice(data)
        matches = list(_NUMBER.finditer(lines[i]))
        if matches:
            m = rng.choice(matches)
            lines[i] = lines[i][: m.start()] + token + lines[i][m.end() :]
    return b"".join(lines), f"{n} numbers replaced by {token!r}"


_UNIT_SWAPS = [
    (rb"/mA\b", b"/A"), (rb"/mA\b", b"/uA"), (rb"\(A\)", b"(mA)"), (rb"\[A\]", b"[mA]"),
    (rb"/V\b", b"/mV"), (rb"\(V\)", b"(mV)"), (rb"\(s\)", b"(h)"), (rb"/s\b", b"/h"),
    (rb"\(mAh\)", b"(Ah)"), (rb"Current", b"Current(kA)"),
]


def m_wrong_unit(raw: bytes, rng: random.Random) -> tuple[bytes, str]:
    lines = _lines(raw)
    if not lines:
        return raw, "wrong unit (empty file)"
    h = _header_index(lines)
    order = list(_UNIT_SWAPS)
    rng.shuffle(order)
    for pattern, repl in order:
        new, n = re.subn(pattern, repl, lines[h], count=1)
        if n:
            lines[h] = new
            return b"".join(lines), f"header unit {pattern.decode()} -> {repl.decode()}"
    return m_dup_column(raw, rng)


def m_non_utf8(raw: bytes, rng: random.Random) -> tuple[bytes, str]:
    choice = rng.randrange(3)
    if choice == 0 and _is_text(raw):
        try:
            return raw.decode("utf-8").encode("utf-16"), "re-encoded as UTF-16"
        except UnicodeDecodeError:
            pass
    if choice == 1:
        return b"\xff\xfe" + raw, "UTF-16 byte-order mark prepended"
    buf = bytearray(raw)
    n = rng.randint(1, 20)
    for _ in range(n):
        if buf:
            at = rng.randrange(min(len(buf), 8192))
            buf[at : at + 1] = rng.choice([b"\xb5", b"\xe9", b"\xff", b"\xc3\x28", b"\x80"])
    return bytes(buf), f"{n} invalid UTF-8 bytes in the first 8 KiB"


def m_one_row(raw: bytes, rng: random.Random) -> tuple[bytes, str]:
    """Header and one data row (one point), or the header alone (no data)."""
    lines = _lines(raw)
    if len(lines) < 2:
        return m_truncate(raw, rng)
    h = _header_index(lines)
    keep = rng.choice([0, 1, 2])
    return b"".join(lines[: h + 1 + keep]), f"header and {keep} data row(s)"


def m_foreign(raw: bytes, rng: random.Random, others: list[Path] | None = None) -> tuple[bytes, str]:
    """Another file's content under this file's name (wrong format under the right extension)."""
    if not others:
        return m_bitflip(raw, rng)
    other = rng.choice(others)
    data = other.read_bytes()
    if len(data) > 2_000_000:
        data = data[: rng.randrange(1000, 2_000_000)]
    return data, f"content of {other.name}"


MUTATIONS = {
    "truncate": m_truncate,
    "truncate-tail": m_truncate_tail,
    "empty": m_empty,
    "bitflip": m_bitflip,
    "byte-run": m_byte_run,
    "huge-length": m_huge_length,
    "insert": m_insert,
    "delete": m_delete,
    "swap-lines": m_swap_lines,
    "dup-header": m_dup_header,
    "dup-column": m_dup_column,
    "drop-column": m_drop_column,
    "nan-inf": m_nan_inf,
    "wrong-unit": m_wrong_unit,
    "non-utf8": m_non_utf8,
    "one-row": m_one_row,
    "foreign": m_foreign,
}
#: relative weights: the structural damage that finds bugs most often is drawn more often
WEIGHTS = {"truncate": 3, "truncate-tail": 3, "bitflip": 3, "huge-length": 2, "empty": 0.2}
TEXT_ONLY = {"swap-lines", "dup-header", "dup-column", "drop-column", "wrong-unit", "one-row"}


def make_case(index: int, seed: int, files: list[Path]) -> tuple[Path, str, bytes, str]:
    """Case ``index`` of ``seed``: (source file, mutation name, mutated bytes, description)."""
    rng = random.Random(seed * 1_000_003 + index)
    source = files[index % len(files)] if index < len(files) else rng.choice(files)
    raw = source.read_bytes()
    names = [n for n in MUTATIONS if _is_text(raw) or n not in TEXT_ONLY]
    name = rng.choices(names, weights=[WEIGHTS.get(n, 1) for n in names])[0]
    if name == "foreign":
        same_ext = [f for f in files if f != source]
        out, desc = m_foreign(raw, rng, same_ext)
    else:
        out, desc = MUTATIONS[name](raw, rng)
    return source, name, out, desc


# --------------------------------------------------------------------------- running a case


def _proc_status_kb(key: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")  # reset VmHWM to the current RSS (Linux >= 4.0)
        return True
    except OSError:
        return False


def run_one(path: Path, check: bool, config=None) -> dict:
    """Read ``path`` (and with ``check``, analyse and judge it) in this process; the outcome as a dict."""
    from cycler_cli.errors import InputError
    from cycler_cli.io.registry import read
    from cycler_cli.model import CyclingData

    result: dict = {"outcome": "", "detail": "", "rows_read": None, "rows_skipped": None}
    try:
        data = read(path)
        if not isinstance(data, CyclingData) or data.meta.rows_read != len(data.frame):
            result.update(outcome="traceback", detail=f"reader returned {type(data).__name__} with inconsistent rows_read")
            return result
        result.update(outcome="data", rows_read=data.meta.rows_read, rows_skipped=dict(data.meta.rows_skipped))
        if check:
            from cycler_cli.verdicts.check import check_file

            report = check_file(path, config, raise_internal=True)
            result["check"] = report.status
    except InputError as exc:
        line = exc.one_line()
        memory = isinstance(exc.__cause__, MemoryError)
        if memory:
            result.update(outcome="memory", detail=f"MemoryError behind: {line}")
        elif "\n" in line or not line.strip():
            result.update(outcome="traceback", detail=f"input error not on one line: {line!r}")
        else:
            result.update(outcome="input-error", detail=line)
    except MemoryError as exc:
        result.update(outcome="memory", detail=f"MemoryError: {exc}")
    except BaseException as exc:  # noqa: BLE001 - this is what the harness counts
        tb = traceback.format_exception(exc)
        result.update(outcome="traceback", detail="".join(tb[-3:])[-2000:], exception=f"{type(exc).__name__}: {exc}"[:500])
    return result


@dataclass
class Case:
    index: int
    source: str
    mutation: str
    description: str
    size_bytes: int
    outcome: str = ""
    detail: str = ""
    seconds: float = 0.0
    peak_mb: float = 0.0
    rows_read: int | None = None
    rows_skipped: dict | None = None
    check: str | None = None
    extra: dict = field(default_factory=dict)


def _child(case_path: Path, data: bytes, check: bool, config, out_fd: int) -> None:
    """Runs in the forked child: never returns."""
    code = 0
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)  # library warnings are not outcomes
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        vm_kb = _proc_status_kb("VmSize")
        cap = vm_kb * 1024 + (4 << 30)
        if hard == resource.RLIM_INFINITY or cap < hard:
            resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
        case_path.write_bytes(data)
        base_kb = _proc_status_kb("VmRSS")
        peak_ok = _reset_peak()
        t0 = time.perf_counter()
        result = run_one(case_path, check, config)
        result["seconds"] = time.perf_counter() - t0
        hwm_kb = _proc_status_kb("VmHWM") if peak_ok else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        result["peak_mb"] = max(0, hwm_kb - base_kb) / 1024
        payload = json.dumps(result, default=str).encode()
        view = memoryview(payload)
        while view:
            n = os.write(out_fd, view)
            view = view[n:]
    except BaseException:  # noqa: BLE001
        code = 70
    finally:
        os._exit(code)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mutations", type=int, default=200, help="number of mutated files to read (default 200)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-seconds", type=float, default=600.0, help="stop starting new cases after this long (default 600)")
    ap.add_argument("--timeout", type=float, default=10.0, help="per-case time limit in seconds: a hang (default 10)")
    ap.add_argument("--memory-factor", type=float, default=20.0, help="peak RSS growth limit, times the largest input (default 20)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="cases run at once (default: CPUs)")
    ap.add_argument("--check", action="store_true", help="also analyse and judge every readable run")
    ap.add_argument("--keep", type=Path, help="copy every bad case's bytes into this folder")
    ap.add_argument("--json", type=Path, help="write every case to this JSON file")
    ap.add_argument("--replay", type=int, help="run only case N in this process and show its outcome")
    ap.add_argument("--only", action="append", default=[], metavar="GLOB",
                    help="keep only corpus files whose name matches (repeatable), e.g. '*.mpr'")
    ap.add_argument("paths", nargs="*", type=Path, help="extra files or folders for the corpus")
    args = ap.parse_args(argv)

    files, notes = corpus(args.paths)
    if args.only:
        import fnmatch

        files = [f for f in files if any(fnmatch.fnmatch(f.name, g) for g in args.only)]
    if not files:
        print("no files to fuzz", file=sys.stderr)
        return 2
    largest = max(p.stat().st_size for p in files)
    limit_mb = args.memory_factor * largest / 2**20

    # Import every reader (and the analysis) once, before forking.
    from cycler_cli.io import registry

    registry.readers()
    import pandas  # noqa: F401
    import scipy  # noqa: F401

    config = None
    if args.check:
        import cycler_cli.analysis  # noqa: F401
        import cycler_cli.verdicts.check  # noqa: F401
        from cycler_cli.config import CheckConfig

        config = CheckConfig()

    tmp = Path(tempfile.mkdtemp(prefix="cycler-fuzz-"))
    if args.replay is not None:
        source, name, data, desc = make_case(args.replay, args.seed, files)
        path = tmp / source.name
        path.write_bytes(data)
        print(f"case {args.replay}: {source} / {name}: {desc} -> {path}")
        if args.check:
            from cycler_cli.verdicts.check import check_file

            print(check_file(path, config, raise_internal=True).status)
        from cycler_cli.io.registry import read

        data = read(path)
        print(data.meta.to_dict())
        return 0

    t_start = time.perf_counter()
    running: dict[int, tuple[int, float, Case, Path, bytearray]] = {}  # fd -> (pid, deadline, case, path, buffer)
    cases: list[Case] = []
    next_index = 0
    stopped_early = False
    next_progress = 500

    def start(index: int) -> None:
        source, name, data, desc = make_case(index, args.seed, files)
        case = Case(index, str(source.relative_to(ROOT.parent) if source.is_relative_to(ROOT.parent) else source), name, desc, len(data))
        workdir = tmp / str(index)
        workdir.mkdir()
        path = workdir / source.name
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            _child(path, data, args.check, config, w)
        os.close(w)
        running[r] = (pid, time.perf_counter() + args.timeout, case, path, bytearray())
        if args.keep:
            case.extra["bytes"] = data  # kept only until the case is judged

    def finish(fd: int, killed: bool) -> None:
        pid, _, case, path, buf = running.pop(fd)
        os.close(fd)
        if killed:
            os.kill(pid, signal.SIGKILL)
        _, status, usage = os.wait4(pid, 0)
        if killed:
            case.outcome, case.detail, case.seconds = "hang", f"no answer within {args.timeout:g} s", args.timeout
        elif not buf:
            sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
            case.outcome = "crash"
            case.detail = f"child died (signal {sig}, exit {os.WEXITSTATUS(status) if os.WIFEXITED(status) else None}, max RSS {usage.ru_maxrss} kB)"
        else:
            result = json.loads(bytes(buf))
            case.outcome, case.detail = result["outcome"], result["detail"]
            case.seconds, case.peak_mb = result["seconds"], result["peak_mb"]
            case.rows_read, case.rows_skipped, case.check = result["rows_read"], result["rows_skipped"], result.get("check")
            if "exception" in result:
                case.extra["exception"] = result["exception"]
            if case.peak_mb > limit_mb:
                case.detail = f"peak RSS growth {case.peak_mb:.1f} MB > {limit_mb:.1f} MB; was {case.outcome}: {case.detail}"
                case.outcome = "memory"
        raw = case.extra.pop("bytes", None)
        if args.keep and case.outcome in BAD_OUTCOMES and raw is not None:
            args.keep.mkdir(parents=True, exist_ok=True)
            (args.keep / f"{case.index}-{case.mutation}-{Path(case.source).name}").write_bytes(raw)
        try:
            path.unlink(missing_ok=True)
            path.parent.rmdir()
        except OSError:
            pass
        cases.append(case)
        if case.outcome in BAD_OUTCOMES:
            print(f"[{case.index}] {case.outcome}: {case.source} / {case.mutation} ({case.description}): {case.detail.strip()[-300:]}", file=sys.stderr)

    while next_index < args.mutations or running:
        while next_index < args.mutations and len(running) < args.jobs:
            if time.perf_counter() - t_start > args.max_seconds:
                stopped_early = True
                args.mutations = next_index
                break
            start(next_index)
            next_index += 1
        if not running:
            break
        now = time.perf_counter()
        wait = max(0.0, min(deadline for _, deadline, *_ in running.values()) - now)
        ready, _, _ = select.select(list(running), [], [], min(wait, 1.0))
        for fd in ready:
            chunk = os.read(fd, 1 << 16)
            if chunk:
                running[fd][4].extend(chunk)
            else:
                finish(fd, killed=False)
        now = time.perf_counter()
        for fd in [fd for fd, item in running.items() if item[1] < now]:
            finish(fd, killed=True)
        if len(cases) >= next_progress:
            print(f"... {len(cases)} cases, {time.perf_counter() - t_start:.0f} s", file=sys.stderr)
            next_progress += 500
    elapsed = time.perf_counter() - t_start
    try:
        tmp.rmdir()
    except OSError:
        pass

    counts = Counter(c.outcome for c in cases)
    by_mutation: dict[str, Counter] = {}
    for c in cases:
        by_mutation.setdefault(c.mutation, Counter())[c.outcome] += 1
    slowest = max(cases, key=lambda c: c.seconds)
    hungriest = max(cases, key=lambda c: c.peak_mb)
    n_sources = len({c.source for c in cases})
    print(f"cycler fuzz: {len(cases)} mutated files from {n_sources} of {len(files)} source files, seed {args.seed}, "
          f"{args.jobs} at once, {elapsed:.0f} s{' (stopped at --max-seconds)' if stopped_early else ''}")
    for note in notes:
        print(f"note: {note}")
    print("outcomes: " + ", ".join(f"{o} {counts.get(o, 0)}" for o in OUTCOMES))
    print(f"largest input {largest / 2**20:.2f} MB; memory limit {limit_mb:.0f} MB of RSS growth; "
          f"highest {hungriest.peak_mb:.1f} MB ({hungriest.source}, {hungriest.mutation}, {hungriest.size_bytes} bytes)")
    big = [c for c in cases if c.size_bytes >= 1_000_000]
    if big:
        ratio = max(big, key=lambda c: c.peak_mb * 2**20 / c.size_bytes)
        print(f"inputs of 1 MB or more: highest RSS growth {ratio.peak_mb * 2**20 / ratio.size_bytes:.1f}x the input "
              f"({ratio.source}, {ratio.mutation}, {ratio.size_bytes} bytes, {ratio.peak_mb:.1f} MB)")
    print(f"slowest case {slowest.seconds:.2f} s ({slowest.source}, {slowest.mutation}); limit {args.timeout:g} s")
    print("by mutation:")
    for name in MUTATIONS:
        if name in by_mutation:
            print(f"  {name:14s} " + ", ".join(f"{o} {n}" for o, n in sorted(by_mutation[name].items())))
    if args.check:
        print("check statuses: " + ", ".join(f"{s} {n}" for s, n in sorted(Counter(c.check for c in cases if c.check).items())))
    if args.json:
        args.json.write_text(json.dumps({"seed": args.seed, "elapsed_s": elapsed, "counts": counts,
                                         "cases": [asdict(c) for c in cases]}, indent=1, default=str))
    bad = sum(counts.get(o, 0) for o in BAD_OUTCOMES)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
