"""Signal definitions: YAML files in ``signals/definitions/``, validated into typed objects.

A definition is data: id, Chinese name, kind (``warning`` / ``growth``), severity, the detector
that computes it and that detector's parameters, reason codes, the evidence the UI shows, what
it supersedes and how it is evaluated against the synthetic ground truth.

Rules:

* every file holds one definition; its ``id`` is unique and matches ``[a-z][a-z0-9_]*``;
* the parameters must fit the detector exactly: an unknown or missing parameter, a wrong type or
  an out-of-range value is an error naming the file and the parameter;
* ``supersedes`` may only name other known signals; the catalogue fingerprint (SHA-256 of the
  canonical JSON of all definitions) changes whenever any definition changes, and every snapshot
  records it.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from shengxin.errors import InvalidInput

KINDS = {"warning": "预警信号", "growth": "成长信号"}
SEVERITIES = {"high": "高", "medium": "中", "low": "低"}
SEVERITY_RANK = {"high": 3, "medium": 2, "low": 1}
_ID = re.compile(r"^[a-z][a-z0-9_]*$")

#: Monthly metrics a deviation detector can use: canonical table and field of the data hub.
METRICS: dict[str, tuple[str, str]] = {
    "revenue": ("monthly_tax", "revenue_fen"),
    "tax": ("monthly_tax", "tax_fen"),
    "headcount": ("monthly_social_insurance", "headcount"),
    "electricity": ("monthly_electricity", "electricity_kwh"),
}
#: Metrics derived from two stored ones: name -> (numerator, denominator).
DERIVED_METRICS: dict[str, tuple[str, str]] = {"tax_rate": ("tax", "revenue")}
METRIC_LABELS = {"revenue": "营业收入", "tax": "实缴税额", "headcount": "参保人数", "electricity": "用电量",
                 "tax_rate": "实际税负率（实缴税额/营业收入）", "revenue_ttm": "近12个月营业收入"}
METRIC_UNITS = {"revenue": "元", "tax": "元", "headcount": "人", "electricity": "千瓦时", "tax_rate": "",
                "revenue_ttm": "元"}
MetricName = Literal["revenue", "tax", "headcount", "electricity", "tax_rate"]
#: Event tables a listing detector can read: table -> (allowed date fields, allowed detail fields).
LISTING_TABLES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "dishonesty_list": (frozenset({"published_on", "filed_on"}),
                        frozenset({"case_no", "name", "filed_on", "published_on", "removed_on"})),
    "abnormal_operations": (frozenset({"listed_on"}), frozenset({"listed_on", "reason", "removed_on"})),
    "certifications": (frozenset({"certified_on"}),
                       frozenset({"kind", "certificate_no", "certified_on", "valid_until"})),
    "financing": (frozenset({"financed_on"}), frozenset({"round", "amount_fen", "financed_on"})),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MetricCondition(_Strict):
    """One metric's condition in a sustained-deviation detector.

    A month counts as evidence when the metric is at least ``month_share`` below (``down``) or above
    (``up``) its expected value with a robust z-score beyond ``month_z``; the signal is confirmed
    when, over the last k evidence months (k from ``min_months`` to ``max_evidence_months``), the
    mean deviation is at least ``mean_share``, the mean shortfall (excess) at least ``min_abs``
    units, and the evidence — the sum of the z-scores over √k — at least ``min_evidence``. With
    ``step_share`` the change must also be a *step*: the evidence months' mean deviation must lie at
    least that share below (above) the mean of the ``step_months`` months before the run began, so a
    gradual decline that was already under way is not reported as sudden. With ``yoy_share`` the
    evidence months must also lie that share below (above) the same months a year earlier
    (seasonally adjusted), where those were reported.
    """

    metric: MetricName
    direction: Literal["down", "up"]
    month_share: float = Field(gt=0, lt=5)
    mean_share: float = Field(gt=0, lt=5)
    min_abs: float = Field(default=0, ge=0)
    step_share: float = Field(default=0, ge=0, lt=5)
    yoy_share: float = Field(default=0, ge=0, lt=5)
    month_z: float = Field(default=0, ge=0)
    min_evidence: float = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _shares(self) -> MetricCondition:
        if self.direction == "down" and (self.month_share >= 1 or self.mean_share >= 1):
            raise ValueError("a 'down' share must be below 1 (a fall of 100 % or more is impossible)")
        return self


class Corroboration(_Strict):
    """A metric from another department that must move the same way when it is reported.

    Where the enterprise reports it over all the evidence months, the signal needs the combined
    evidence — (primary evidence + this metric's evidence) / √2 — to reach ``combined_evidence``
    (usually lower than the primary's own ``min_evidence``) and this metric's mean deviation to be
    at least ``min_share``; where it is not reported, the primary metric's own test applies.
    """

    metric: MetricName
    direction: Literal["down", "up"]
    min_share: float = Field(default=0, ge=0, lt=1)
    combined_evidence: float = Field(gt=0)


class DeviationParams(_Strict):
    metrics: list[MetricCondition] = Field(min_length=1, max_length=3)
    corroborate: Corroboration | None = None
    min_months: int = Field(ge=1, le=12)
    max_evidence_months: int = Field(default=0, ge=0, le=12)
    step_months: int = Field(default=3, ge=1, le=12)
    max_gap_months: int = Field(default=1, ge=0, le=6)
    baseline_months: int = Field(default=12, ge=3, le=24)
    baseline_lag_months: int = Field(default=2, ge=1, le=12)
    min_baseline_months: int = Field(default=5, ge=2, le=24)
    min_reported_share: float = Field(default=0.75, ge=0, le=1)
    yoy_check: bool = False
    trend_adjust: bool = False
    festival_months: list[Annotated[int, Field(ge=1, le=12)]] = Field(default_factory=list)
    festival_extra_months: int = Field(default=0, ge=0, le=6)
    #: an enterprise that started reporting inside the window starts no run before this many months
    min_history_months: int = Field(default=0, ge=0, le=60)

    @model_validator(mode="after")
    def _windows(self) -> DeviationParams:
        if self.min_baseline_months > self.baseline_months:
            raise ValueError("min_baseline_months cannot exceed baseline_months")
        if len({m.metric for m in self.metrics}) != len(self.metrics):
            raise ValueError("each metric may appear only once")
        if self.corroborate is not None and self.corroborate.metric in {m.metric for m in self.metrics}:
            raise ValueError("the corroborating metric must differ from the signal's own metrics")
        return self


class AlternativesParams(_Strict):
    """Several sustained-deviation tests; an enterprise is flagged when any of them holds. The i-th
    alternative reports the definition's i-th reason code; overlapping episodes are merged."""

    alternatives: list[DeviationParams] = Field(min_length=2, max_length=4)


class AffiliateParams(_Strict):
    """A same-industry company set up outside the district that shares a shareholder or a contact
    phone with a district enterprise (``signals/affiliates.py`` states the rules)."""

    #: Leading digits of the GB/T 4754 class both must share: 2 = division (大类), 3 = group, 4 = class.
    industry_digits: int = Field(default=2, ge=1, le=4)
    #: A shareholder holding stakes in more district enterprises than this is a common investor
    #: (an investment platform, a fund) and links nothing.
    max_shared_holdings: int = Field(default=3, ge=1)
    #: A phone number registered by more district enterprises than this is an agency's (代理记账)
    #: and links nothing.
    max_shared_phone: int = Field(default=3, ge=1)
    #: Months an outside company counts as newly set up (the episode's length when nothing else happens).
    active_months: int = Field(default=12, ge=1, le=60)
    #: A registry or data episode starting at most this many months after the outside company was set
    #: up is the same relocation: one episode with both reasons.
    merge_months: int = Field(default=18, ge=0, le=60)


class RelocationParams(_Strict):
    moved_out_statuses: list[str] = Field(min_length=1)
    data: DeviationParams
    affiliates: AffiliateParams | None = None


class ListingParams(_Strict):
    table: str
    date_field: str
    removed_field: str | None = None
    detail_fields: list[str] = Field(default_factory=list)
    recent_months: int = Field(default=1, ge=1, le=24)
    first_of: str | None = None

    @model_validator(mode="after")
    def _known(self) -> ListingParams:
        if self.table not in LISTING_TABLES:
            raise ValueError(f"table {self.table!r} is not a listing table; use one of {sorted(LISTING_TABLES)}")
        dates, details = LISTING_TABLES[self.table]
        if self.date_field not in dates:
            raise ValueError(f"date_field {self.date_field!r} is not a date of {self.table}; use {sorted(dates)}")
        unknown = sorted(set(self.detail_fields) - details)
        if unknown:
            raise ValueError(f"detail_fields {unknown} are not fields of {self.table}; allowed: {sorted(details)}")
        if self.removed_field is not None and self.removed_field not in details:
            raise ValueError(f"removed_field {self.removed_field!r} is not a field of {self.table}")
        if self.first_of is not None and self.first_of not in details:
            raise ValueError(f"first_of {self.first_of!r} is not a field of {self.table}")
        return self


class ThresholdParams(_Strict):
    mode: Literal["approaching", "above_unlisted"]
    min_ratio: float = Field(ge=0.5, le=2)
    min_growth: float | None = None
    growth_lag_months: int = Field(default=6, ge=1, le=12)
    horizon_months: int | None = Field(default=None, ge=1, le=36)
    min_coverage: float = Field(default=0.8, gt=0, le=1)

    @model_validator(mode="after")
    def _mode(self) -> ThresholdParams:
        if self.mode == "approaching" and (self.min_ratio >= 1 or self.min_growth is None):
            raise ValueError("mode 'approaching' needs min_ratio below 1 and a min_growth")
        if self.mode == "above_unlisted" and self.min_ratio < 1:
            raise ValueError("mode 'above_unlisted' needs min_ratio of at least 1")
        return self


DETECTOR_PARAMS: dict[str, type[_Strict]] = {
    "sustained_deviation": DeviationParams,
    "any_deviation": AlternativesParams,
    "relocation": RelocationParams,
    "listing": ListingParams,
    "threshold": ThresholdParams,
}


class ReasonCode(_Strict):
    code: str
    label: str
    #: False for a reason that alone does not cover the signals this one ``supersedes`` (the firm
    #: still operates here): an episode whose every reason says so supersedes nothing.
    supersedes: bool = True


class EvidenceField(_Strict):
    field: str
    label: str
    unit: str | None = None
    format: Literal["money", "money_fen", "percent", "int", "number", "text"] = "text"
    labels: dict[str, str] | None = None


class Evaluation(_Strict):
    #: The truth event(s) the signal should find; with several, an episode is correct when it matches
    #: any of them and recall counts each of them.
    truth_event: str | list[str] | None = None
    tolerance_months: int = Field(default=2, ge=0, le=24)
    before_only: bool = False

    @property
    def truth_events(self) -> list[str]:
        if not self.truth_event:
            return []
        return [self.truth_event] if isinstance(self.truth_event, str) else list(self.truth_event)


_EVIDENCE_SCALARS = {"value", "baseline", "change", "months", "score", "lost", "ratio"}


class _DefinitionModel(_Strict):
    id: str
    name: str = Field(min_length=1)
    kind: Literal["warning", "growth"]
    severity: Literal["high", "medium", "low"]
    version: int = Field(ge=1)
    description: str = Field(min_length=1)
    detector: str
    parameters: dict
    reason_codes: list[ReasonCode] = Field(min_length=1)
    evidence: list[EvidenceField] = Field(min_length=1)
    evaluation: Evaluation = Field(default_factory=Evaluation)
    supersedes: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class SignalDefinition:
    """A validated definition. ``params`` is the detector's typed parameter object."""

    id: str
    name: str
    kind: str
    severity: str
    version: int
    description: str
    detector: str
    params: _Strict
    reason_codes: tuple[ReasonCode, ...]
    evidence: tuple[EvidenceField, ...]
    evaluation: Evaluation
    supersedes: tuple[str, ...]
    source: str

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind]

    @property
    def severity_label(self) -> str:
        return SEVERITIES[self.severity]

    def reason_label(self, code: str) -> str:
        return next((r.label for r in self.reason_codes if r.code == code), code)

    def canonical(self) -> dict:
        """The definition as plain data (for the fingerprint and the API)."""
        return {
            "id": self.id, "name": self.name, "kind": self.kind, "severity": self.severity,
            "version": self.version, "description": self.description, "detector": self.detector,
            "parameters": self.params.model_dump(mode="json"),
            "reason_codes": [r.model_dump() for r in self.reason_codes],
            "evidence": [e.model_dump() for e in self.evidence],
            "evaluation": self.evaluation.model_dump(), "supersedes": list(self.supersedes),
        }


_CJK_GAP = re.compile(r"(?<=[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef])\s+(?=[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef])")


def _join_lines(text: str) -> str:
    """Fold a YAML block into one line; Chinese text is joined without the spaces folding inserts."""
    return _CJK_GAP.sub("", " ".join(text.split()))


def _pydantic_message(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err.get("loc", ()))
        parts.append(f"{loc}: {err.get('msg')}" if loc else str(err.get("msg")))
    return "; ".join(parts)


def parse_definition(data: object, source: str) -> SignalDefinition:
    """Validate one parsed YAML document; errors name the file and the offending field."""
    if not isinstance(data, dict):
        raise InvalidInput("a signal definition must be a mapping", where=source)
    try:
        model = _DefinitionModel.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(_pydantic_message(exc), where=source) from None
    if not _ID.match(model.id):
        raise InvalidInput(f"id {model.id!r} must match [a-z][a-z0-9_]*", where=f"{source}: id")
    params_type = DETECTOR_PARAMS.get(model.detector)
    if params_type is None:
        raise InvalidInput(
            f"unknown detector {model.detector!r}; known: {', '.join(sorted(DETECTOR_PARAMS))}",
            where=f"{source}: detector",
        )
    try:
        params = params_type.model_validate(model.parameters)
    except ValidationError as exc:
        raise InvalidInput(_pydantic_message(exc), where=f"{source}: parameters") from None
    for ev in model.evidence:
        if not (ev.field in _EVIDENCE_SCALARS or ev.field.startswith("detail.")):
            raise InvalidInput(
                f"evidence field {ev.field!r} is unknown; use {sorted(_EVIDENCE_SCALARS)} or detail.<name>",
                where=f"{source}: evidence",
            )
    codes = [r.code for r in model.reason_codes]
    if len(set(codes)) != len(codes):
        raise InvalidInput("reason codes must be unique", where=f"{source}: reason_codes")
    if isinstance(params, AlternativesParams) and len(codes) < len(params.alternatives):
        raise InvalidInput(f"{len(params.alternatives)} alternatives need as many reason codes, one each",
                           where=f"{source}: reason_codes")
    return SignalDefinition(
        id=model.id, name=model.name, kind=model.kind, severity=model.severity, version=model.version,
        description=_join_lines(model.description), detector=model.detector, params=params,
        reason_codes=tuple(model.reason_codes), evidence=tuple(model.evidence),
        evaluation=model.evaluation, supersedes=tuple(model.supersedes), source=source,
    )


@dataclass(frozen=True)
class Catalogue:
    definitions: tuple[SignalDefinition, ...]

    def __iter__(self):
        return iter(self.definitions)

    def __len__(self) -> int:
        return len(self.definitions)

    def get(self, signal_id: str) -> SignalDefinition:
        for d in self.definitions:
            if d.id == signal_id:
                return d
        known = ", ".join(d.id for d in self.definitions)
        raise InvalidInput(f"unknown signal {signal_id!r}; known signals: {known}")

    def ids(self) -> list[str]:
        return [d.id for d in self.definitions]

    @property
    def fingerprint(self) -> str:
        payload = json.dumps([d.canonical() for d in self.definitions], ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def build_catalogue(definitions: list[SignalDefinition]) -> Catalogue:
    """Check cross-references (unique ids, known ``supersedes`` targets); sorted by id."""
    seen: dict[str, str] = {}
    for d in definitions:
        if d.id in seen:
            raise InvalidInput(f"signal id {d.id!r} is defined twice ({seen[d.id]} and {d.source})", where=d.source)
        seen[d.id] = d.source
    for d in definitions:
        for target in d.supersedes:
            if target not in seen:
                raise InvalidInput(f"supersedes unknown signal {target!r}", where=f"{d.source}: supersedes")
            if target == d.id:
                raise InvalidInput("a signal cannot supersede itself", where=f"{d.source}: supersedes")
    return Catalogue(tuple(sorted(definitions, key=lambda d: d.id)))


def load_directory(directory: Path) -> Catalogue:
    """Load every ``*.yaml`` file of a directory (used for a district's own catalogue and tests)."""
    directory = Path(directory)
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise InvalidInput("no signal definitions (*.yaml) found", where=str(directory))
    out = []
    for path in files:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise InvalidInput(f"not valid YAML: {exc}", where=path.name) from None
        out.append(parse_definition(data, path.name))
    return build_catalogue(out)


@cache
def load_catalogue() -> Catalogue:
    """The packaged signal definitions."""
    folder = resources.files("shengxin.signals").joinpath("definitions")
    return load_directory(Path(str(folder)))
