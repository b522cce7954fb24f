"""Configuration of ``cycler check``: analysis options, rule selection and thresholds.

Sources, each overriding the one before (documented in ``docs/config.md``):

1. built-in defaults (``cycler_cli.verdicts.rules``);
2. ``[tool.cycler]`` in the nearest ``pyproject.toml``, found by walking up from the current
   directory (the first ``pyproject.toml`` found is used, with or without a ``[tool.cycler]``);
3. ``--config FILE``: a TOML file with the same keys at top level, or a ``pyproject.toml``-like
   file with a ``[tool.cycler]`` table;
4. ``--set KEY=VALUE`` (dotted TOML keys), then the named command-line flags.

Scalars replace, ``select`` and ``ignore`` replace as a whole, thresholds merge key by key.
Unknown keys, unknown rule ids and values of the wrong type are a :class:`ConfigError`
(exit 2) naming the key and where it was set. This module never imports typer or rich.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cycler_cli.errors import ConfigError
from cycler_cli.verdicts.rules import CELL_TYPES, RULE_IDS, RULES, Rule, get_rule

CELL_CHOICES = ("auto", *CELL_TYPES)

#: Top-level option keys: key -> (type, description of valid values).
OPTION_KEYS: dict[str, str] = {
    "cell": "one of auto, symmetric, full",
    "mass-mg": "a positive number (active mass, mg)",
    "area-cm2": "a positive number (electrode area, cm²)",
    "reference-cycle": "a whole number ≥ 1",
    "asr-ohm-cm2": "a positive number (impedance ASR, Ω·cm²)",
    "select": "a list of rule ids",
    "ignore": "a list of rule ids",
}
_TOP_KEYS = (*OPTION_KEYS, *CELL_TYPES)


@dataclass(frozen=True)
class CheckConfig:
    """The effective configuration of one ``cycler check`` run.

    ``thresholds[cell_type][rule_id][param]`` holds every rule's thresholds (``None`` = off);
    ``select`` is ``None`` for "the default set"; ``sources`` lists where settings came from."""

    cell: str = "auto"
    mass_mg: float | None = None
    area_cm2: float | None = None
    reference_cycle: int = 1
    asr_ohm_cm2: float | None = None
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    thresholds: Mapping[str, Mapping[str, Mapping[str, Any]]] = field(default_factory=lambda: _default_thresholds())
    sources: tuple[str, ...] = ("defaults",)

    def rule_thresholds(self, rule: Rule) -> dict[str, Any]:
        return dict(self.thresholds[rule.cell_type][rule.id])

    def enabled(self, rule: Rule) -> bool:
        """Is ``rule`` reported? Ignored rules never are; with ``select`` only selected ones
        are; otherwise rules on by default, and off-by-default rules whose threshold is set."""
        if rule.id in self.ignore:
            return False
        if self.select is not None:
            return rule.id in self.select
        if rule.on_by_default:
            return True
        return self.thresholds[rule.cell_type][rule.id].get(rule.switch) is not None

    def enabled_rules(self, cell_type: str) -> list[Rule]:
        return [r for r in RULES if r.cell_type == cell_type and self.enabled(r)]

    def analysis_options(self) -> dict[str, Any]:
        """Keyword arguments for :func:`cycler_cli.analysis.analyze`."""
        return {
            "cell": self.cell,
            "mass_mg": self.mass_mg,
            "area_cm2": self.area_cm2,
            "reference_cycle": self.reference_cycle,
        }

    def to_dict(self) -> dict[str, Any]:
        """The effective configuration in the TOML layout of ``docs/config.md`` (plus
        ``enabled``, the rules each cell type is judged by, and ``sources``)."""
        out: dict[str, Any] = {
            "cell": self.cell,
            "mass-mg": self.mass_mg,
            "area-cm2": self.area_cm2,
            "reference-cycle": self.reference_cycle,
            "asr-ohm-cm2": self.asr_ohm_cm2,
            "select": list(self.select) if self.select is not None else None,
            "ignore": list(self.ignore),
        }
        for cell_type in CELL_TYPES:
            out[cell_type] = {rid: dict(params) for rid, params in self.thresholds[cell_type].items()}
        out["enabled"] = {ct: list(dict.fromkeys(r.id for r in self.enabled_rules(ct))) for ct in CELL_TYPES}
        out["sources"] = list(self.sources)
        return out


def _default_thresholds() -> dict[str, dict[str, dict[str, Any]]]:
    out: dict[str, dict[str, dict[str, Any]]] = {ct: {} for ct in CELL_TYPES}
    for rule in RULES:
        out[rule.cell_type][rule.id] = rule.defaults()
    return out


# --------------------------------------------------------------------------------------------
# validation of one layer


def _fail(origin: str, path: str | None, message: str, hint: str | None = None) -> ConfigError:
    where = f"{origin}: " if path is None else ""
    return ConfigError(f"{where}{message}", path=path, hint=hint)


def _number(value: Any, *, integer: bool) -> float | int | None:
    """``value`` as a number of the right kind, or ``None`` when it has the wrong type."""
    if isinstance(value, bool):
        return None
    if integer:
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return None
    if isinstance(value, (int, float)) and math.isfinite(float(value)):
        return float(value)
    return None


def _rule_ids(value: Any, key: str, origin: str, path: str | None) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise _fail(origin, path, f"{key} must be {OPTION_KEYS[key.rsplit('.', 1)[-1]]}, not {value!r}")
    ids = tuple(dict.fromkeys(part.strip() for v in value for part in v.split(",") if part.strip()))
    unknown = [i for i in ids if i not in RULE_IDS]
    if unknown:
        raise _fail(
            origin, path, f"unknown rule id {unknown[0]!r} in {key}",
            hint=f"known rules: {', '.join(RULE_IDS)} (see docs/rules.md)",
        )
    return ids


def _option(key: str, value: Any, dotted: str, origin: str, path: str | None) -> Any:
    if key in ("select", "ignore"):
        return _rule_ids(value, dotted, origin, path)
    if key == "cell":
        if value not in CELL_CHOICES:
            raise _fail(origin, path, f"{dotted} must be {OPTION_KEYS[key]}, not {value!r}")
        return value
    integer = key == "reference-cycle"
    number = _number(value, integer=integer)
    if number is None or (integer and number < 1) or (not integer and number <= 0):
        raise _fail(origin, path, f"{dotted} must be {OPTION_KEYS[key]}, not {value!r}")
    return number


def _threshold_table(cell_type: str, table: Any, dotted: str, origin: str, path: str | None) -> dict:
    if not isinstance(table, Mapping):
        raise _fail(origin, path, f"{dotted} must be a table of rules, e.g. [{dotted}]")
    out: dict[tuple[str, str], Any] = {}
    for rule_id, params in table.items():
        rule = get_rule(cell_type, rule_id)
        key = f"{dotted}.{rule_id}"
        if rule is None:
            if rule_id in RULE_IDS:
                other = next(r.cell_type for r in RULES if r.id == rule_id)
                raise _fail(
                    origin, path, f"{rule_id} is a {other} rule, not a {cell_type} one ({key})",
                    hint=f"set its thresholds under {dotted.rsplit('.', 1)[0] + '.' if '.' in dotted else ''}{other}",
                )
            raise _fail(
                origin, path, f"unknown rule id {rule_id!r} ({key})",
                hint=f"{cell_type} rules: {', '.join(r.id for r in RULES if r.cell_type == cell_type)}",
            )
        if not isinstance(params, Mapping):
            example = f"{rule_id}.{rule.params[0].key} = ..."
            raise _fail(origin, path, f"{key} must be a table of thresholds, not {params!r}", hint=f"write {example}")
        for name, value in params.items():
            try:
                param = rule.param(name)
            except KeyError:
                raise _fail(
                    origin, path, f"unknown key {key}.{name}",
                    hint=f"{rule_id} takes: {', '.join(p.key for p in rule.params)} (see docs/rules.md)",
                ) from None
            number = _number(value, integer=param.type is int)
            if number is None or number < 0:
                kind = "a whole number ≥ 0" if param.type is int else "a number ≥ 0"
                raise _fail(origin, path, f"{key}.{name} must be {kind} ({param.unit}), not {value!r}")
            out[(rule_id, name)] = number
    return out


def validate_table(table: Mapping[str, Any], *, origin: str, path: str | None = None, prefix: str = "") -> dict[str, Any]:
    """Check one configuration layer; return ``{option: value, "thresholds": {(cell, rule, param): value}}``.

    ``origin`` names the layer in messages (a file name or ``--set``); ``prefix`` is the dotted
    path of the table (``tool.cycler`` in a ``pyproject.toml``)."""
    dot = f"{prefix}." if prefix else ""
    if not isinstance(table, Mapping):
        raise _fail(origin, path, f"{prefix or 'the configuration'} must be a table")
    out: dict[str, Any] = {"thresholds": {}}
    for key, value in table.items():
        dotted = f"{dot}{key}"
        if key in OPTION_KEYS:
            out[key] = _option(key, value, dotted, origin, path)
        elif key in CELL_TYPES:
            for (rule_id, name), number in _threshold_table(key, value, dotted, origin, path).items():
                out["thresholds"][(key, rule_id, name)] = number
        else:
            hint = f"known keys: {', '.join(_TOP_KEYS)} (see docs/config.md)"
            if key in RULE_IDS:
                cell = next(r.cell_type for r in RULES if r.id == key)
                hint = f"rule thresholds go under {dot}{cell}, e.g. {dot}{cell}.{key}.<threshold> = ..."
            raise _fail(origin, path, f"unknown key {dotted}", hint=hint)
    return out


# --------------------------------------------------------------------------------------------
# sources


def _load_toml(path: Path, *, origin: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError("no such config file", path=str(path), hint="check the --config path") from None
    except IsADirectoryError:
        raise ConfigError("is a folder, not a config file", path=str(path), hint="name a TOML file") from None
    except OSError as exc:
        raise ConfigError(f"cannot be opened ({exc.strerror})", path=str(path)) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"is not valid TOML ({exc})", path=str(path), hint=f"fix the {origin} syntax") from None


def find_pyproject(start: Path | None = None) -> Path | None:
    """The nearest ``pyproject.toml`` in ``start`` (default: the current directory) or a parent."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def parse_set(items: Iterable[str]) -> dict[str, Any]:
    """``--set KEY=VALUE`` items as one nested table. ``KEY`` is a dotted key
    (``symmetric.overpotential-drift.max-pct-per-100h``); ``VALUE`` is a TOML value, or a bare
    word taken as text (``cell=full``)."""
    table: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key, raw = key.strip(), raw.strip()
        if not sep or not key:
            raise ConfigError(f"--set {item!r} is not KEY=VALUE", hint="e.g. --set full.capacity-fade.max-pct-per-cycle=0.2")
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw
        parts = [p.strip() for p in key.split(".")]
        node = table
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"--set {key}: {part} is set both as a value and as a table")
            node = child
        node[parts[-1]] = value
    return table


def load_config(
    *,
    cli: Mapping[str, Any] | None = None,
    config_file: Path | str | None = None,
    set_items: Iterable[str] = (),
    cwd: Path | None = None,
) -> CheckConfig:
    """Merge defaults, the nearest ``pyproject.toml``, ``--config FILE``, ``--set`` and the
    command-line flags (``cli``: option keys as in the TOML, ``None`` = not given)."""
    layers: list[tuple[str, dict[str, Any]]] = []

    pyproject = find_pyproject(cwd)
    if pyproject is not None:
        data = _load_toml(pyproject, origin="pyproject.toml")
        tool = data.get("tool", {})
        if isinstance(tool, Mapping) and "cycler" in tool:
            layers.append(
                (f"{pyproject} [tool.cycler]", validate_table(tool["cycler"], origin=str(pyproject), path=str(pyproject), prefix="tool.cycler"))
            )

    if config_file is not None:
        path = Path(config_file)
        data = _load_toml(path, origin="config file")
        if "tool" in data:
            tool = data["tool"]
            if not isinstance(tool, Mapping) or "cycler" not in tool or set(data) != {"tool"}:
                raise ConfigError(
                    "has a [tool] table but no [tool.cycler], or keys beside [tool]", path=str(path),
                    hint="put the settings at top level, or all of them under [tool.cycler]",
                )
            layers.append((f"--config {path}", validate_table(tool["cycler"], origin=str(path), path=str(path), prefix="tool.cycler")))
        else:
            layers.append((f"--config {path}", validate_table(data, origin=str(path), path=str(path))))

    set_items = list(set_items)
    if set_items:
        layers.append(("--set", validate_table(parse_set(set_items), origin="--set")))

    flags = {k: v for k, v in (cli or {}).items() if v is not None and not (k in ("select", "ignore") and not v)}
    if flags:
        unknown = [k for k in flags if k not in OPTION_KEYS]
        if unknown:  # a programming error in the caller, not a user error
            raise ValueError(f"unknown command-line option keys {unknown}")
        flag_names = {k: f"--{k}" for k in flags}
        validated: dict[str, Any] = {"thresholds": {}}
        for key, value in flags.items():
            validated[key] = _option(key, value, flag_names[key], "command line", None)
        layers.append(("command line", validated))

    options: dict[str, Any] = {}
    thresholds = _default_thresholds()
    for _, layer in layers:
        for key, value in layer.items():
            if key == "thresholds":
                for (cell_type, rule_id, name), number in value.items():
                    thresholds[cell_type][rule_id][name] = number
            else:
                options[key] = value
    return CheckConfig(
        cell=options.get("cell", "auto"),
        mass_mg=options.get("mass-mg"),
        area_cm2=options.get("area-cm2"),
        reference_cycle=int(options.get("reference-cycle", 1)),
        asr_ohm_cm2=options.get("asr-ohm-cm2"),
        select=options.get("select"),
        ignore=tuple(options.get("ignore", ())),
        thresholds=thresholds,
        sources=("defaults", *(name for name, _ in layers)),
    )
