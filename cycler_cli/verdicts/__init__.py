"""Stability verdicts: rules over the analysis dict, and the reports of ``cycler check``.

* :mod:`~cycler_cli.verdicts.report`: ``Verdict``, ``FileReport``, ``CheckReport`` (frozen;
  ``to_dict()`` is the only road to JSON, see ``docs/check-report.schema.json``);
* :mod:`~cycler_cli.verdicts.rules`: the rules, their ids and thresholds (``docs/rules.md``);
* :mod:`~cycler_cli.verdicts.check`: ``judge(analysis, config)`` and ``check_files(paths, config)``.

Configuration lives in :mod:`cycler_cli.config` (``docs/config.md``).
"""

from __future__ import annotations

from cycler_cli.verdicts.check import check_file, check_files, judge
from cycler_cli.verdicts.report import CheckReport, FileReport, Verdict
from cycler_cli.verdicts.rules import RULE_IDS, RULES

__all__ = ["RULES", "RULE_IDS", "CheckReport", "FileReport", "Verdict", "check_file", "check_files", "judge"]
