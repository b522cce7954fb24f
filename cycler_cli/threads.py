"""A second thread for the long passes over one run.

Reading a long ``.mpr`` (:func:`cycler_cli.io.biologic_mpr._stage_native`) and analysing a long
run (:func:`cycler_cli.analysis.analyze`) put part of their work on a second thread: the compiled
kernels and numpy's loops release the GIL, so on a machine with two cores or more the two parts
run at once. Each part computes exactly what it computes on one thread (no result depends on
which thread did it, or when).

One thread only when :data:`ENABLED` is false (the workers of a ``--jobs N`` pool set it: every
core already runs a file of its own), when ``CYCLER_THREADS=1`` is in the environment, or on a
one-core machine.
"""

from __future__ import annotations

import os
import threading
from typing import Any, Callable

#: The switch the ``--jobs N`` pool workers turn off (``cycler_cli.batch``).
ENABLED = True


def enabled() -> bool:
    """May a long pass use a second thread now (module docstring)?"""
    return ENABLED and os.environ.get("CYCLER_THREADS", "").strip() != "1" and (os.cpu_count() or 1) > 1


class Side:
    """``fn()`` started on a second thread; :meth:`result` waits for it and returns its value or
    raises its exception. Call :meth:`result` on every path (``try``/``finally``), so that the
    thread never outlives the work it belongs to."""

    def __init__(self, fn: Callable[[], Any], name: str) -> None:
        self._value: Any = None
        self._error: BaseException | None = None

        def run() -> None:
            try:
                self._value = fn()
            except BaseException as exc:  # handed to result()
                self._error = exc

        self._thread = threading.Thread(target=run, name=name, daemon=True)
        self._thread.start()

    def join(self) -> None:
        """Wait for the thread, whatever it returned or raised."""
        self._thread.join()

    def result(self) -> Any:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value
