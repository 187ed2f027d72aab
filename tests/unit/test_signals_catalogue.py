"""Signal definitions: the shipped catalogue loads, and bad definitions fail with the file and field."""

from __future__ import annotations

import copy

import pytest
import yaml

from shengxin.errors import InvalidInput
from shengxin.signals.catalogue import (
    AlternativesParams,
    DeviationParams,
    build_catalogue,
    load_catalogue,
    parse_definition,
)

REQUIRED = {"revenue_drop", "tax_drop", "layoff", "relocation_risk", "dishonesty_listing", "abnormal_operations",
            "approaching_threshold", "above_threshold_unlisted", "new_certification", "financing", "expansion"}


def shipped(signal_id: str) -> dict:
    definition = load_catalogue().get(signal_id)
    data = definition.canonical()
    return copy.deepcopy(data)


def test_shipped_catalogue():
    catalogue = load_catalogue()
    assert set(catalogue.ids()) == REQUIRED
    assert len(catalogue.fingerprint) == 64
    for d in catalogue:
        assert d.name and d.reason_codes and d.evidence, d.id
        assert d.kind in ("warning", "growth") and d.severity in ("high", "medium", "low")
    assert {d.id for d in catalogue if d.kind == "warning"} == {
        "revenue_drop", "tax_drop", "layoff", "relocation_risk", "dishonesty_listing", "abnormal_operations"}
    layoff = catalogue.get("layoff")
    assert isinstance(layoff.params, DeviationParams) and layoff.params.metrics[0].min_abs == 10
    assert layoff.params.min_months >= 2
    assert isinstance(catalogue.get("tax_drop").params, AlternativesParams)
    assert catalogue.get("relocation_risk").supersedes == ("layoff", "revenue_drop", "tax_drop")
    assert " " not in catalogue.get("layoff").description  # folded Chinese lines joined without spaces


def test_fingerprint_changes_with_any_definition():
    base = load_catalogue()
    data = shipped("layoff")
    data["parameters"]["metrics"][0]["min_abs"] = 12
    changed = build_catalogue([parse_definition(data, "layoff.yaml") if d.id == "layoff" else d for d in base])
    assert changed.fingerprint != base.fingerprint
    same = build_catalogue(list(base))
    assert same.fingerprint == base.fingerprint


@pytest.mark.parametrize(("mutate", "where", "message"), [
    (lambda d: d.update(detector="magic"), "detector", "unknown detector"),
    (lambda d: d["parameters"].update(window=3), "parameters", "Extra inputs"),
    (lambda d: d["parameters"]["metrics"][0].update(metric="profit"), "parameters", "metric"),
    (lambda d: d["parameters"]["metrics"][0].update(month_share=1.5), "parameters", "below 1"),
    (lambda d: d["parameters"].update(min_baseline_months=20), "parameters", "min_baseline_months"),
    (lambda d: d.update(kind="rumour"), "layoff.yaml", "kind"),
    (lambda d: d.update(id="Layoff!"), "id", "must match"),
    (lambda d: d["evidence"].append({"field": "profit", "label": "利润"}), "evidence", "evidence field"),
    (lambda d: d["reason_codes"].append(dict(d["reason_codes"][0])), "reason_codes", "unique"),
    (lambda d: d.pop("name"), "layoff.yaml", "name"),
])
def test_bad_definitions_name_file_and_field(mutate, where, message):
    data = shipped("layoff")
    mutate(data)
    with pytest.raises(InvalidInput, match=message) as exc:
        parse_definition(data, "layoff.yaml")
    assert where in str(exc.value)


def test_listing_and_threshold_parameters_are_checked():
    data = shipped("financing")
    data["parameters"]["table"] = "salaries"
    with pytest.raises(InvalidInput, match="not a listing table"):
        parse_definition(data, "financing.yaml")
    data = shipped("financing")
    data["parameters"]["detail_fields"] = ["round", "shareholders"]
    with pytest.raises(InvalidInput, match="shareholders"):
        parse_definition(data, "financing.yaml")
    data = shipped("approaching_threshold")
    data["parameters"]["min_growth"] = None
    with pytest.raises(InvalidInput, match="approaching"):
        parse_definition(data, "approaching_threshold.yaml")


def test_catalogue_cross_references():
    base = list(load_catalogue())
    with pytest.raises(InvalidInput, match="defined twice"):
        build_catalogue(base + [base[0]])
    data = shipped("relocation_risk")
    data["supersedes"] = ["ghost_signal"]
    bad = parse_definition(data, "relocation_risk.yaml")
    with pytest.raises(InvalidInput, match="ghost_signal"):
        build_catalogue([d for d in base if d.id != "relocation_risk"] + [bad])
    data = shipped("tax_drop")
    data["reason_codes"] = data["reason_codes"][:1]
    with pytest.raises(InvalidInput, match="alternatives need as many reason codes"):
        parse_definition(data, "tax_drop.yaml")


def test_yaml_round_trip_of_a_definition():
    text = yaml.safe_dump(shipped("expansion"), allow_unicode=True)
    again = parse_definition(yaml.safe_load(text), "expansion.yaml")
    assert again.canonical() == load_catalogue().get("expansion").canonical()
