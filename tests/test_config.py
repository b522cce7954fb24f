"""Configuration: precedence (flags > --config > pyproject > defaults), and every bad input is a
ConfigError (exit 2) naming the key."""

from __future__ import annotations

import pytest

from cycler_cli.config import CheckConfig, find_pyproject, load_config, parse_set
from cycler_cli.errors import ConfigError
from cycler_cli.verdicts.rules import RULE_IDS, RULES


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_any_file(tmp_path):
    cfg = load_config(cwd=tmp_path)
    assert cfg == CheckConfig()
    assert cfg.sources == ("defaults",)
    assert cfg.thresholds["symmetric"]["overpotential-drift"]["max-pct-per-100h"] == 20.0
    assert cfg.thresholds["symmetric"]["resistance-consistency"]["tolerance-pct"] == 30.0
    assert cfg.thresholds["symmetric"]["min-duration"]["min-half-cycles"] == 4
    assert cfg.thresholds["full"]["capacity-retention"]["min-pct"] == 80.0
    assert cfg.thresholds["full"]["capacity-fade"]["max-pct-per-cycle"] == 0.5
    assert cfg.thresholds["full"]["coulombic-efficiency"]["min-pct"] == 99.0
    assert cfg.thresholds["full"]["specific-capacity"]["min-mah-g"] is None
    assert cfg.thresholds["symmetric"]["overpotential-max"]["max-v"] is None


def test_pyproject_found_walking_up(tmp_path):
    _write(tmp_path / "pyproject.toml", '[tool.cycler]\narea-cm2 = 0.636\n[tool.cycler.symmetric]\noverpotential-drift.max-pct-per-100h = 25\n')
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_pyproject(deep) == tmp_path / "pyproject.toml"
    cfg = load_config(cwd=deep)
    assert cfg.area_cm2 == 0.636
    assert cfg.thresholds["symmetric"]["overpotential-drift"]["max-pct-per-100h"] == 25.0
    assert cfg.sources[1].endswith("pyproject.toml [tool.cycler]")


def test_pyproject_without_tool_cycler_is_ignored(tmp_path):
    _write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n')
    assert load_config(cwd=tmp_path) == CheckConfig()


def test_precedence_flag_over_config_file_over_pyproject(tmp_path):
    _write(tmp_path / "pyproject.toml", '[tool.cycler]\nmass-mg = 1.0\narea-cm2 = 1.0\nreference-cycle = 2\ncell = "full"\n'
           '[tool.cycler.full]\ncapacity-fade.max-pct-per-cycle = 0.1\ncapacity-retention.min-pct = 70\n')
    conf = _write(tmp_path / "ci.toml", 'mass-mg = 2.0\narea-cm2 = 2.0\n[full.capacity-fade]\nmax-pct-per-cycle = 0.2\n')
    cfg = load_config(cwd=tmp_path, config_file=conf, cli={"mass-mg": 3.0})
    assert cfg.mass_mg == 3.0            # flag
    assert cfg.area_cm2 == 2.0           # --config
    assert cfg.reference_cycle == 2      # pyproject
    assert cfg.cell == "full"            # pyproject
    assert cfg.thresholds["full"]["capacity-fade"]["max-pct-per-cycle"] == 0.2  # --config
    assert cfg.thresholds["full"]["capacity-retention"]["min-pct"] == 70.0      # pyproject, merged key by key
    assert cfg.thresholds["full"]["coulombic-efficiency"]["min-pct"] == 99.0    # default
    assert cfg.sources[0] == "defaults" and cfg.sources[-1] == "command line"


def test_config_file_may_use_tool_cycler_table(tmp_path):
    conf = _write(tmp_path / "other.toml", '[tool.cycler]\nasr-ohm-cm2 = 750\n')
    assert load_config(cwd=tmp_path, config_file=conf).asr_ohm_cm2 == 750.0


def test_set_overrides_config_file_and_flags_override_set(tmp_path):
    conf = _write(tmp_path / "c.toml", '[symmetric]\noverpotential-drift.max-pct-per-100h = 25\n')
    cfg = load_config(
        cwd=tmp_path, config_file=conf,
        set_items=["symmetric.overpotential-drift.max-pct-per-100h=30", "cell=symmetric", "mass-mg=4"],
        cli={"mass-mg": 5.0},
    )
    assert cfg.thresholds["symmetric"]["overpotential-drift"]["max-pct-per-100h"] == 30.0
    assert cfg.cell == "symmetric" and cfg.mass_mg == 5.0


def test_parse_set_builds_nested_tables():
    assert parse_set(["full.capacity-fade.max-pct-per-cycle=0.2", "select=['short-circuit']", "cell = full"]) == {
        "full": {"capacity-fade": {"max-pct-per-cycle": 0.2}},
        "select": ["short-circuit"],
        "cell": "full",
    }


def test_select_and_ignore(tmp_path):
    cfg = load_config(cwd=tmp_path, cli={"select": ["short-circuit,overpotential-drift"], "ignore": ["short-circuit"]})
    assert cfg.select == ("short-circuit", "overpotential-drift")
    enabled = [r.id for r in cfg.enabled_rules("symmetric")]
    assert enabled == ["overpotential-drift"]
    assert cfg.enabled_rules("full") == []


def test_off_rule_turns_on_when_its_threshold_is_set(tmp_path):
    conf = _write(tmp_path / "c.toml", '[full]\nspecific-capacity.min-mah-g = 70\n')
    cfg = load_config(cwd=tmp_path, config_file=conf)
    assert "specific-capacity" in [r.id for r in cfg.enabled_rules("full")]
    assert "overpotential-max" not in [r.id for r in cfg.enabled_rules("symmetric")]


def test_to_dict_echoes_everything(tmp_path):
    d = load_config(cwd=tmp_path, cli={"asr-ohm-cm2": 750.0}).to_dict()
    assert d["asr-ohm-cm2"] == 750.0 and d["select"] is None and d["ignore"] == []
    for rule in RULES:
        assert set(d[rule.cell_type][rule.id]) == {p.key for p in rule.params}
    assert d["enabled"]["symmetric"] == ["min-duration", "short-circuit", "overpotential-drift", "resistance-consistency"]


# -- errors: exit 2, naming the key -----------------------------------------------------------


@pytest.mark.parametrize(
    "toml,needle",
    [
        ("colour = 'red'\n", "unknown key colour"),
        ("[symmetric.overpotential-drift]\nmax-pct = 20\n", "unknown key symmetric.overpotential-drift.max-pct"),
        ("[symmetric]\novervoltage-drift.max-pct-per-100h = 20\n", "unknown rule id 'overvoltage-drift'"),
        ("[full]\noverpotential-drift.max-pct-per-100h = 20\n", "overpotential-drift is a symmetric rule"),
        ("[symmetric]\noverpotential-drift.max-pct-per-100h = '20'\n", "symmetric.overpotential-drift.max-pct-per-100h must be a number"),
        ("[symmetric]\noverpotential-drift.max-pct-per-100h = true\n", "max-pct-per-100h must be a number"),
        ("[symmetric]\noverpotential-drift.max-pct-per-100h = -1\n", "max-pct-per-100h must be a number"),
        ("[symmetric]\nmin-duration.min-half-cycles = 2.5\n", "min-half-cycles must be a whole number"),
        ("[symmetric]\noverpotential-drift = 20\n", "symmetric.overpotential-drift must be a table"),
        ("select = ['short-circuit', 'nope']\n", "unknown rule id 'nope' in select"),
        ("ignore = 3\n", "ignore must be a list of rule ids"),
        ("cell = 'half'\n", "cell must be one of auto, symmetric, full"),
        ("mass-mg = 0\n", "mass-mg must be a positive number"),
        ("reference-cycle = 0\n", "reference-cycle must be a whole number"),
        ("overpotential-drift.max-pct-per-100h = 20\n", "unknown key overpotential-drift"),
        ("mass-mg = [\n", "is not valid TOML"),
    ],
)
def test_bad_config_file_names_the_key(tmp_path, toml, needle):
    conf = _write(tmp_path / "bad.toml", toml)
    with pytest.raises(ConfigError) as info:
        load_config(cwd=tmp_path, config_file=conf)
    line = info.value.one_line()
    assert needle in line and str(conf) in line and "\n" not in line
    assert info.value.exit_code == 2


def test_bad_pyproject_names_the_dotted_key(tmp_path):
    _write(tmp_path / "pyproject.toml", "[tool.cycler.full]\ncapacity-fade.max = 1\n")
    with pytest.raises(ConfigError) as info:
        load_config(cwd=tmp_path)
    assert "unknown key tool.cycler.full.capacity-fade.max" in info.value.one_line()
    assert "max-pct-per-cycle" in info.value.one_line()  # the hint names the right key


def test_unknown_rule_in_cli_select(tmp_path):
    with pytest.raises(ConfigError, match="unknown rule id 'bogus'"):
        load_config(cwd=tmp_path, cli={"select": ["bogus"]})


def test_bad_cli_value(tmp_path):
    with pytest.raises(ConfigError, match="--area-cm2 must be a positive number"):
        load_config(cwd=tmp_path, cli={"area-cm2": -1.0})


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(cwd=tmp_path, config_file=tmp_path / "missing.toml")


def test_bad_set_item(tmp_path):
    with pytest.raises(ConfigError, match="not KEY=VALUE"):
        load_config(cwd=tmp_path, set_items=["cell"])
    with pytest.raises(ConfigError, match="--set: unknown key full.capacity-fade.max"):
        load_config(cwd=tmp_path, set_items=["full.capacity-fade.max=1"])


def test_every_rule_id_is_kebab_case():
    import re

    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rid) for rid in RULE_IDS)
