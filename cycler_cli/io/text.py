"""Shared helpers for text exports: encoding, decimal separator, units in headers.

Cyclers write Windows-codepage text (µ = 0xB5, ° = 0xB0), sometimes UTF-8 with a BOM (Arbin),
with a decimal comma under FR/DE locales (domain reference §4.7).
"""

from __future__ import annotations

import re

_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


def detect_encoding(raw: bytes) -> str:
    """BOM first; else strict UTF-8 if the bytes decode; else cp1252-compatible latin-1.

    latin-1 never fails to decode, so a text reader never crashes on encoding; readers
    record the encoding they used in ``meta.inferred`` when it was a fallback."""
    for bom, name in _BOMS:
        if raw.startswith(bom):
            return name
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # A cut in the middle of a multi-byte character at the end of a sniff window is not
        # evidence against UTF-8.
        if exc.start >= len(raw) - 3 and exc.reason == "unexpected end of data":
            return "utf-8"
        return "latin-1"


def decode(raw: bytes) -> tuple[str, str]:
    """Decode bytes to text with :func:`detect_encoding`; returns ``(text, encoding)``."""
    encoding = detect_encoding(raw)
    text = raw.decode(encoding, errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    return text, encoding


_COMMA_NUM = re.compile(r"(?<![\d.,])-?\d+,\d+(?:[eE][+-]?\d+)?(?![\d,])")
_POINT_NUM = re.compile(r"(?<![\d.,])-?\d+\.\d+(?:[eE][+-]?\d+)?(?![\d.])")


def sniff_decimal_comma(sample: str, separator: str) -> bool:
    """True when numbers in ``sample`` use a decimal comma.

    With a comma field separator a decimal comma is impossible, so the answer is False."""
    if separator == ",":
        return False
    return len(_COMMA_NUM.findall(sample)) > len(_POINT_NUM.findall(sample))
