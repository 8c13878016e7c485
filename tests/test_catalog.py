"""The catalog data file holds the contract of docs/rules.md, "Indicators"."""
from pathlib import Path

import pytest

from metrics.core.catalog import CatalogError, Direction, Kind, Ledger, Rollup, load_catalog, parse_catalog

ROOT = Path(__file__).resolve().parents[1]

# code: (kind, roll-up, direction) exactly as the design's table lists them
BASE = {
    "fatalities": ("count", "sum", "lower_better"), "serious_injuries": ("count", "sum", "lower_better"),
    "injuries": ("count", "sum", "lower_better"), "lost_time_injuries": ("count", "sum", "lower_better"),
    "lost_workdays": ("count", "sum", "lower_better"), "recordable_injuries": ("count", "sum", "lower_better"),
    "major_accidents": ("count", "sum", "lower_better"), "fires_explosions": ("count", "sum", "lower_better"),
    "hazchem_incidents": ("count", "sum", "lower_better"), "direct_loss": ("amount", "sum", "lower_better"),
    "occupational_disease_cases": ("count", "sum", "lower_better"), "near_misses": ("count", "sum", "none"),
    "hours_worked": ("hours", "sum", "none"), "avg_employees": ("average", "mean", "none"),
    "coal_output": ("amount", "sum", "none"), "hazards_found": ("count", "sum", "none"),
    "hazards_rectified": ("count", "sum", "none"), "major_hazards": ("count", "sum", "lower_better"),
    "hazards_overdue": ("count", "last", "lower_better"), "major_risk_points": ("count", "last", "lower_better"),
    "training_hours": ("hours", "sum", "higher_better"), "staff_requiring_cert": ("count", "last", "none"),
    "staff_certified": ("count", "last", "none"), "safety_investment_planned": ("amount", "sum", "none"),
    "safety_investment_actual": ("amount", "sum", "higher_better"),
    "inspections_planned": ("count", "sum", "none"), "inspections_done": ("count", "sum", "higher_better"),
    "emergency_drills": ("count", "sum", "higher_better"),
    # counted from the hazard ledger alone (docs/rules.md, "9. The hazard ledger", rule 8)
    "hazards_due": ("count", "sum", "none"), "hazards_closed_on_time": ("count", "sum", "none"),
    "hazards_closed": ("count", "sum", "none"), "closure_days": ("count", "sum", "none"),
    "major_hazards_open": ("count", "last", "lower_better"), "major_hazards_overdue": ("count", "last", "lower_better"),
    "repeat_hazards": ("count", "sum", "lower_better"), "hazards_closed_extended": ("count", "sum", "none"),
    "hazards_closed_sent_back": ("count", "sum", "none"), "outside_hazards_found": ("count", "sum", "none"),
    "outside_hazards_rectified": ("count", "sum", "none"),
}
LEDGER_ONLY = set(list(BASE)[-11:])
# code: (kind, direction, numerator, denominator, factor)
DERIVED = {
    "injury_freq_rate": ("rate", "lower_better", "injuries", "hours_worked", 1_000_000),
    "ltifr": ("rate", "lower_better", "lost_time_injuries", "hours_worked", 1_000_000),
    "trir": ("rate", "lower_better", "recordable_injuries", "hours_worked", 200_000),
    "severity_rate": ("rate", "lower_better", "lost_workdays", "hours_worked", 1_000_000),
    "injury_rate_per_k": ("rate", "lower_better", "injuries", "avg_employees", 1_000),
    "fatality_per_mt": ("rate", "lower_better", "fatalities", "coal_output", 100),
    "rectification_rate": ("percent", "higher_better", "hazards_rectified", "hazards_found", 100),
    "cert_rate": ("percent", "higher_better", "staff_certified", "staff_requiring_cert", 100),
    "investment_rate": ("percent", "higher_better", "safety_investment_actual", "safety_investment_planned", 100),
    "inspection_rate": ("percent", "higher_better", "inspections_done", "inspections_planned", 100),
    "on_time_closure_rate": ("percent", "higher_better", "hazards_closed_on_time", "hazards_due", 100),
    "days_to_close": ("rate", "lower_better", "closure_days", "hazards_closed", 1),
    "extension_rate": ("percent", "lower_better", "hazards_closed_extended", "hazards_closed", 100),
    "send_back_rate": ("percent", "lower_better", "hazards_closed_sent_back", "hazards_closed", 100),
    "outside_rectification_rate": ("percent", "higher_better", "outside_hazards_rectified", "outside_hazards_found",
                                   100),
}


def test_every_base_indicator_of_the_design():
    catalog = load_catalog()
    for code, (kind, rollup, direction) in BASE.items():
        ind = catalog[code]
        assert (ind.kind, ind.rollup, ind.direction) == (Kind(kind), Rollup(rollup), Direction(direction)), code
        assert not ind.derived and ind.name_zh and ind.name_en


def test_what_the_ledger_counts_and_what_a_unit_types():
    catalog = load_catalog()
    assert set(catalog.from_ledger(Ledger.ONLY)) == LEDGER_ONLY
    assert set(catalog.from_ledger(Ledger.KEPT)) == {"hazards_found", "hazards_rectified", "major_hazards",
                                                     "hazards_overdue"}
    assert {i.code for i in catalog.typed} == set(BASE) - LEDGER_ONLY
    assert set(catalog.codes) == set(BASE) | set(DERIVED)


def test_every_derived_indicator_and_its_formula():
    catalog = load_catalog()
    for code, (kind, direction, numerator, denominator, factor) in DERIVED.items():
        ind = catalog[code]
        assert (ind.kind, ind.direction, ind.numerator, ind.denominator, ind.factor) == (
            Kind(kind), Direction(direction), numerator, denominator, factor), code


def test_a_key_the_catalog_does_not_read_is_refused_saying_where_it_belongs():
    """veto_default was parsed and never read: a veto is a target's. A catalog that still sets it, or any key
    the catalog does not read (a typo), is refused instead of silently ignored."""
    text = (ROOT / "data" / "catalog.toml").read_text(encoding="utf-8")
    with pytest.raises(CatalogError, match="indicator fatalities: veto_default is not read: a veto is set per year "
                                           "and unit in the targets"):
        parse_catalog(text.replace('code = "fatalities"\n', 'code = "fatalities"\nveto_default = true\n', 1))
    with pytest.raises(CatalogError, match="indicator fatalities: rolup is not read: unknown key"):
        parse_catalog(text.replace('code = "fatalities"\n', 'code = "fatalities"\nrolup = "sum"\n', 1))


@pytest.mark.parametrize("body, message", [
    ('code = "x"\nname_zh = "x"\nname_en = "x"\nunit_zh = "x"\nunit_en = "x"\ndefinition_zh = "x"\ndefinition_en = '
     '"x"\nkind = "count"\ndirection = "sideways"\ncategory = "result"\nrollup = "sum"', "sideways"),
    ('code = "r"\nname_zh = "x"\nname_en = "x"\nunit_zh = "x"\nunit_en = "x"\ndefinition_zh = "x"\ndefinition_en = '
     '"x"\nkind = "rate"\ndirection = "lower_better"\ncategory = "result"\nnumerator = "nope"\ndenominator = '
     '"nope"\nfactor = 1',
     "not a base indicator"),
    ('code = "Bad Code"\nname_zh = "x"\nname_en = "x"\nunit_zh = "x"\nunit_en = "x"\ndefinition_zh = '
     '"x"\ndefinition_en = "x"\nkind = "count"\ndirection = "none"\ncategory = "result"\nrollup = "sum"', "snake_case"),
])
def test_a_broken_catalog_is_refused(body, message):
    with pytest.raises(CatalogError, match=message):
        parse_catalog(f"version = 1\n[[indicator]]\n{body}\n")


def test_every_indicator_has_a_definition_in_both_languages():
    for ind in load_catalog().indicators:
        assert len(ind.definition_zh) >= 10 and len(ind.definition_en) >= 20, ind.code
    assert "GB 6441" in load_catalog()["injury_freq_rate"].definition("zh")


def test_a_code_the_program_names_cannot_leave_the_catalog_unnoticed(tmp_path):
    """metrics/core/codes.py names the codes the program reads; the catalog it loads must hold each of them, in
    the shape the program reads (a rename in the catalog alone fails at load, not on a page)."""
    text = (ROOT / "data" / "catalog.toml").read_text(encoding="utf-8")
    renamed = tmp_path / "renamed.toml"
    renamed.write_text(text.replace('code = "hours_worked"', 'code = "hours"', 1)
                       .replace('"hours_worked"', '"hours"'), encoding="utf-8")
    with pytest.raises(CatalogError, match=r"^indicator hours_worked: the program reads it by this code "
                                           r"\(metrics/core/codes.py\)"):
        load_catalog(renamed)
    reshaped = tmp_path / "reshaped.toml"
    reshaped.write_text(text.replace('numerator = "lost_time_injuries"', 'numerator = "injuries"', 1),
                        encoding="utf-8")
    with pytest.raises(CatalogError, match=r"^indicator ltifr: the program reads it as "
                                           r"lost_time_injuries / hours_worked"):
        load_catalog(reshaped)
    assert load_catalog().indicators  # the shipped catalog holds them all
