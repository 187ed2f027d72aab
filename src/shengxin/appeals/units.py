"""Handling units: the district desk, the district's departments and its towns/streets.

Rule: a unit code is ``district`` (the district's enterprise service desk, 区级统筹), a department
code of the district file, or a town's 9-digit NBS code. Tier follows from the kind.
"""

from __future__ import annotations

from dataclasses import dataclass

from shengxin.errors import InvalidInput
from shengxin.reference.district import District

DISTRICT_UNIT = "district"


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    tier: str  # district | department | town


def all_units(district: District) -> list[Unit]:
    units = [Unit(DISTRICT_UNIT, f"{district.name}企业综合服务中心", "district")]
    units += [Unit(d.code, d.name, "department") for d in district.departments]
    units += [Unit(t.code, t.name, "town") for t in district.towns]
    return units


def find_unit(district: District, code: str | None) -> Unit | None:
    if not code:
        return None
    if code == DISTRICT_UNIT:
        return all_units(district)[0]
    dept = district.department(code)
    if dept is not None:
        return Unit(dept.code, dept.name, "department")
    town = district.town(code)
    if town is not None:
        return Unit(town.code, town.name, "town")
    return None


def require_unit(district: District, code: str | None, where: str = "unit") -> Unit:
    unit = find_unit(district, code)
    if unit is None:
        raise InvalidInput(
            f"unknown unit {code!r}: use 'district', a department code "
            f"({', '.join(d.code for d in district.departments)}) or a town code", where=where)
    return unit


def unit_name(district: District, code: str | None) -> str:
    unit = find_unit(district, code)
    return unit.name if unit else (code or "")
