"""The reader registry: picks a reader by the file's content, not its name alone.

A reader is any object with

* ``name`` (str): stable id used by ``--reader`` and shown in ``cycler formats``;
* ``description`` (str): what it recognises, in one line;
* ``sniff(head: bytes, path: Path) -> bool``: does this reader claim the file? ``head`` is the
  first :data:`SNIFF_BYTES` bytes. Must be cheap and must never raise;
* ``read(path: Path) -> CyclingData``.

Each reader lives in its own module listed in :data:`READER_MODULES` and exposes it as
``READER``; modules are imported only when a file is read, so ``cycler --help`` stays fast.
Order matters: more specific readers come first, the generic CSV reader last.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import stat
import struct
from pathlib import Path
from typing import Protocol

from cycler_cli.errors import CorruptFileError, CyclerError, InputError, NoDataError, UnsupportedFormatError

SNIFF_BYTES = 64 * 1024

#: Reader modules, most specific first.
READER_MODULES: list[str] = [
    "cycler_cli.io.biologic_mpr",
    "cycler_cli.io.biologic_mpt",
    "cycler_cli.io.arbin",
    "cycler_cli.io.maccor",
    "cycler_cli.io.neware",
    "cycler_cli.io.novonix",
    "cycler_cli.io.basytec",
    "cycler_cli.io.pec",
    "cycler_cli.io.bdf",
    "cycler_cli.io.excel",
    "cycler_cli.io.generic_csv",
]


class Reader(Protocol):
    name: str
    description: str

    def sniff(self, head: bytes, path: Path) -> bool: ...

    def read(self, path: Path):  # -> CyclingData
        ...


def readers() -> list[Reader]:
    """Every registered reader, in sniffing order."""
    out = []
    for module_name in READER_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:  # a planned reader not written yet
                continue
            raise
        out.append(module.READER)
    return out


def _reader_by_name(name: str) -> Reader:
    for reader in readers():
        if reader.name == name:
            return reader
    from cycler_cli.errors import ConfigError

    known = ", ".join(r.name for r in readers())
    raise ConfigError(f"unknown reader {name!r}", hint=f"use one of: {known} (see `cycler formats`)")


def _head(path: Path) -> bytes:
    try:
        mode = os.stat(path).st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            # a pipe would block the open and a device (/dev/zero) never ends: neither is a run
            raise InputError(
                "is not a regular file (a pipe, socket or device)", path=str(path),
                hint="copy the data into a file and read that",
            )
        with open(path, "rb") as fh:
            return fh.read(SNIFF_BYTES)
    except FileNotFoundError as exc:
        raise InputError("no such file", path=str(path), hint="check the path") from exc
    except IsADirectoryError as exc:
        raise InputError("is a folder, not a file", path=str(path), hint="name a file inside it") from exc
    except PermissionError as exc:
        raise InputError("permission denied", path=str(path), hint="check the file's permissions") from exc
    except OSError as exc:
        raise InputError(f"cannot be opened ({exc.strerror})", path=str(path)) from exc


def sniff_reader(path: Path | str) -> Reader | None:
    """The first reader that claims the file, or ``None``."""
    path = Path(path)
    head = _head(path)
    for reader in readers():
        try:
            if reader.sniff(head, path):
                return reader
        except Exception:  # a sniffer must never decide the outcome by crashing
            continue
    return None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


#: Built-in exceptions a reader may hit on malformed bytes; they mean "corrupt file".
_PARSE_ERRORS = (ValueError, IndexError, KeyError, struct.error, UnicodeDecodeError, OverflowError, EOFError)


def read(path: Path | str, reader: str | None = None, columns: dict[str, str] | str | None = None):
    """Read ``path`` into :class:`~cycler_cli.model.CyclingData`.

    ``reader`` names a reader to use instead of sniffing. ``columns`` maps canonical names to
    a table's own headers (``{"current_a": "Amps:mA"}``, or the CLI's text form
    ``"time_s=Test_Time(s),voltage_v=Volts,current_a=Amps:mA"``) and implies the
    ``generic-csv`` reader. Raises :class:`InputError` (exit 3) for anything wrong with the
    file, :class:`ConfigError` (exit 2) for a bad reader name or column map; any other
    exception is a bug in cycler.
    """
    path = Path(path)
    read_kwargs: dict = {}
    if columns:
        from cycler_cli.errors import ConfigError
        from cycler_cli.io.generic_csv import parse_column_map

        if isinstance(columns, str):
            columns = parse_column_map(columns)
        if reader not in (None, "generic-csv"):
            raise ConfigError(
                f"--columns maps a generic table, but --reader {reader} was given",
                hint="drop --reader, or drop --columns",
            )
        reader = "generic-csv"
        read_kwargs["columns"] = columns
    head = _head(path)
    if not head:
        raise NoDataError("the file is empty (0 bytes)", path=str(path), hint="check that the export finished")
    if reader is not None:
        chosen = _reader_by_name(reader)
    else:
        chosen = None
        for candidate in readers():
            try:
                if candidate.sniff(head, path):
                    chosen = candidate
                    break
            except Exception:
                continue
        if chosen is None:
            known = ", ".join(r.name for r in readers())
            raise UnsupportedFormatError(
                "no reader recognises this file's content",
                path=str(path),
                hint=f"cycler reads: {known}; see `cycler formats`, or pass --reader NAME",
            )
    try:
        data = chosen.read(path, **read_kwargs)
    except CyclerError as exc:
        if exc.path is None:
            exc.path = str(path)
        raise
    except MemoryError as exc:
        raise CorruptFileError(
            "reading it needs more memory than the machine has", path=str(path),
            hint="check the file is not corrupt; split a very large export",
        ) from exc
    except _PARSE_ERRORS as exc:
        raise CorruptFileError(
            f"not a valid {chosen.name} file ({type(exc).__name__}: {_short(exc)})", path=str(path),
            hint="re-export the file from the cycler software, or pass --reader NAME",
        ) from exc
    data.meta.source = str(path)
    data.meta.reader = chosen.name
    # meta.sha256 is filled on first use (RunMeta.file_sha256): hashing rereads the whole file
    skipped = sum(data.meta.rows_skipped.values())
    if skipped:  # the count travels with the analysis' warnings into every report
        reasons = ", ".join(f"{count} {reason}" for reason, count in data.meta.rows_skipped.items())
        data.meta.warnings.append(f"{data.meta.rows_read} rows read, {skipped} skipped: {reasons}")
    return data


def _short(exc: BaseException, limit: int = 200) -> str:
    """An exception's text on one line, cut to ``limit`` characters (a parser may quote a whole line)."""
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
