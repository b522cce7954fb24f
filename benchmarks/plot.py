"""Draw docs/performance.png: time against points, log-log, one line per tool.

Run as ``python benchmarks/plot.py RESULTS.json OUT.png`` by an interpreter that has
matplotlib (the benchmark venv): cycler itself does not depend on matplotlib. Two panels:
whole-process wall time and in-process time with imports excluded. Standard library and
matplotlib only, so it runs in any venv.
"""

from __future__ import annotations

import json
import sys


def main(argv: list[str]) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = json.loads(open(argv[0], encoding="utf-8").read())
    labels = results.get("labels", {})
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.5), sharey=False)
    for ax, key, title in ((axes[0], "wall_s", "whole process (wall time)"), (axes[1], "work_s", "in one process, imports excluded")):
        order = list(labels) or list(results.get("runs", {}))
        for tool, runs in results.get("runs", {}).items():
            pts = sorted(int(n) for n, run in runs.items() if run.get(key))
            if not pts:
                continue
            times = [runs[str(n)][key] for n in pts]
            slope = results.get("slopes", {}).get(tool, {}).get(key)
            label = labels.get(tool, tool) + (f"  (slope {slope:.2f})" if slope is not None else "")
            style = "-" if tool.startswith("cycler") else "--"
            color = f"C{order.index(tool) % 10}" if tool in order else None  # one colour per tool in both panels
            ax.plot(pts, times, style, marker="o", label=label, color=color, linewidth=2.2 if tool.startswith("cycler") else 1.3)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("points in the .mpr file")
        ax.set_ylabel("seconds")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7, loc="upper left")
    machine = results.get("machine", {})
    fig.suptitle(f"cycler benchmarks, {machine.get('date', '')}, {machine.get('cpu', '')}", fontsize=9)
    fig.tight_layout()
    fig.savefig(argv[1], dpi=110)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
