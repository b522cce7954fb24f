"""The project's own exceptions and the exit codes they map to.

Exit codes are a public contract (docs/cli.md):

    0  every verdict passes (or warns)
    1  a verdict failed
    2  usage or configuration error
    3  input error: unreadable, unsupported, truncated, corrupt, or nothing to judge
    4  internal error (a bug in cycler)

Library code raises these; only ``cli.py`` turns them into messages and exit codes.
Every message names the file, the problem and, through ``hint``, the fix.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_INTERNAL = 4


class CyclerError(Exception):
    """Base class. ``exit_code`` says which public exit code the CLI returns."""

    exit_code = EXIT_INTERNAL

    def __init__(self, message: str, *, path: str | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.path = path
        self.hint = hint

    def one_line(self) -> str:
        """The single line printed on stderr: ``FILE: problem (hint)``."""
        text = " ".join(self.message.split())
        if self.path:
            text = f"{self.path}: {text}"
        if self.hint:
            text = f"{text} -- {' '.join(self.hint.split())}"
        return text


class InputError(CyclerError):
    """The file cannot be read or holds nothing to judge (exit 3)."""

    exit_code = EXIT_INPUT


class UnsupportedFormatError(InputError):
    """No reader recognises the file's content."""


class CorruptFileError(InputError):
    """The file claims a format but its bytes do not follow it (truncated, bad lengths, ...)."""


class MissingColumnError(InputError):
    """A column the analysis needs (time, voltage, current) is absent and cannot be derived."""


class NoDataError(InputError):
    """The file is readable but there is nothing to analyse (no rows, no current, no cycles)."""


class MissingExtraError(InputError):
    """An optional dependency (an extra such as ``cycler[excel]``) is not installed."""


class ConfigError(CyclerError):
    """Bad option, config key, threshold or rule id (exit 2)."""

    exit_code = EXIT_USAGE
