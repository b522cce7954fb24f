"""Regenerate every file in this folder: ``python sample_runs/make_samples.py [FOLDER]``.

Same as ``cycler simulate samples -o sample_runs``. The runs are seeded and carry fixed start
times, so the bytes are the same on every machine; ``tests/test_simulate.py`` checks that.
"""

from __future__ import annotations

import sys
from pathlib import Path

from cycler_cli.simulate import write_samples

if __name__ == "__main__":
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent
    for path in write_samples(folder):
        print(path)
