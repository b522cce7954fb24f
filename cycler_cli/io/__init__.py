"""Readers: one module per file format, each a plug-in of :mod:`cycler_cli.io.registry`.

``read(path)`` is the one entry point: it picks the reader by content and returns
:class:`cycler_cli.model.CyclingData`. Vendor column names never leave this package.
"""

from __future__ import annotations

from cycler_cli.io.registry import read, readers, sniff_reader

__all__ = ["read", "readers", "sniff_reader"]
