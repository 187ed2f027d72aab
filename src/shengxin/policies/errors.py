"""Validation problems of a policy: each names the policy, the place (condition, amount, test) and a fix.

A policy file is checked completely before anything is reported, so an officer sees every problem
at once (``PolicyInvalid.problems``), not one per attempt.
"""

from __future__ import annotations

from dataclasses import dataclass

from shengxin.engine.errors import DefinitionError
from shengxin.errors import InvalidInput


@dataclass(frozen=True)
class Problem:
    """One problem: ``policy`` id, ``where`` (e.g. ``eligibility.all[2] (c3)``), what, and a fix."""

    policy: str
    where: str
    message: str
    fix: str
    excerpt: str | None = None

    def __str__(self) -> str:
        return f"政策 {self.policy} · {self.where}：{self.message}。修改建议：{self.fix}"

    def to_dict(self) -> dict:
        return {"policy": self.policy, "where": self.where, "message": self.message, "fix": self.fix,
                "excerpt": self.excerpt}


class PolicyInvalid(InvalidInput):
    """One or more problems in one policy definition (all of them)."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        first = self.problems[0]
        more = f"（另有 {len(self.problems) - 1} 处问题）" if len(self.problems) > 1 else ""
        super().__init__(f"{first.message}。修改建议：{first.fix}{more}", where=f"政策 {first.policy} · {first.where}")

    def to_list(self) -> list[dict]:
        return [p.to_dict() for p in self.problems]


class Collector:
    """Gathers problems of one policy while it is parsed and compiled."""

    def __init__(self, policy: str):
        self.policy = policy
        self.problems: list[Problem] = []

    def add(self, where: str, message: str, fix: str, excerpt: str | None = None) -> None:
        self.problems.append(Problem(self.policy, where, message, fix, excerpt))

    def engine(self, where: str, exc: DefinitionError, what: str) -> None:
        """Translate an engine error (position inside an expression) into a policy problem."""
        pos = f"，第 {exc.position.column} 个字符处" if exc.position is not None else ""
        self.add(where, f"{what}有误{pos}：{exc.detail}",
                 f"可用的写法：{exc.allowed}" if exc.allowed else "请对照 docs/policies.md 的字段表修改",
                 exc.excerpt())

    def raise_if_any(self) -> None:
        if self.problems:
            raise PolicyInvalid(self.problems)
