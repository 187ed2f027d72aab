"""District configuration: the district's code, its towns/streets and departments, from a YAML file.

Rule: another district is another file (``SHENGXIN_DISTRICT_FILE``), never a code change. Town codes
are NBS statistical division codes (9 digits) whose first six digits are the district code.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from shengxin.errors import InvalidInput


@dataclass(frozen=True)
class Town:
    code: str
    name: str
    kind: str


@dataclass(frozen=True)
class Department:
    code: str
    name: str


@dataclass(frozen=True)
class District:
    code: str
    name: str
    full_name: str
    brand: str
    towns: tuple[Town, ...]
    departments: tuple[Department, ...]
    neighbour_town_codes: frozenset[str]

    def town(self, code: str) -> Town | None:
        """The town with this NBS code, or ``None`` if it is not in the district."""
        return next((t for t in self.towns if t.code == code), None)

    def town_by_name(self, name: str) -> Town | None:
        return next((t for t in self.towns if t.name == name), None)

    def department(self, code: str) -> Department | None:
        return next((d for d in self.departments if d.code == code), None)


def parse_district(data: dict, source: str) -> District:
    """Validate a parsed district file; errors name the file and the offending entry."""
    for key in ("code", "name", "towns"):
        if key not in data:
            raise InvalidInput(f"missing key {key!r}", where=source)
    code = str(data["code"])
    if not (len(code) == 6 and code.isdigit()):
        raise InvalidInput(f"district code {code!r} must be 6 digits", where=source)
    towns = []
    for i, t in enumerate(data["towns"]):
        tcode = str(t.get("code", ""))
        if not (len(tcode) == 9 and tcode.isdigit() and tcode.startswith(code)):
            raise InvalidInput(
                f"town code {tcode!r} must be 9 digits starting with the district code {code}",
                where=f"{source}: towns[{i}]",
            )
        towns.append(Town(tcode, str(t["name"]), str(t.get("kind", ""))))
    if len({t.code for t in towns}) != len(towns):
        raise InvalidInput("duplicate town code", where=source)
    departments = tuple(
        Department(str(d["code"]), str(d["name"])) for d in data.get("departments") or []
    )
    neighbours = frozenset(str(t["code"]) for t in data.get("neighbour_towns") or [])
    return District(
        code=code,
        name=str(data["name"]),
        full_name=str(data.get("full_name", data["name"])),
        brand=str(data.get("brand", "省心")),
        towns=tuple(towns),
        departments=departments,
        neighbour_town_codes=neighbours,
    )


@lru_cache
def load_district(path: Path | None = None) -> District:
    """Load the district file named by the settings (default: Yuhang)."""
    if path is None:
        from shengxin.config import get_settings

        path = get_settings().district_file
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InvalidInput("district file not found; check SHENGXIN_DISTRICT_FILE", where=str(path)) from exc
    except yaml.YAMLError as exc:
        raise InvalidInput(f"not valid YAML: {exc}", where=str(path)) from exc
    if not isinstance(data, dict):
        raise InvalidInput("district file must be a mapping", where=str(path))
    return parse_district(data, str(path))
