"""Errors of the definition language: every one names the definition, the place and what is allowed.

A definition is one expression of a tag, policy condition or signal. ``DefinitionError`` carries:

* ``subject`` — what is being defined, e.g. ``tag innovation.high_tech``;
* ``path`` — where the text came from, e.g. ``catalogue/innovation.yaml: tags[3].definition``;
* ``line`` / ``column`` — 1-based position inside the expression text (``None`` for errors that are
  about the whole entry, such as a missing key);
* ``allowed`` — what would have been accepted instead (names, units, constructs).

``str(error)`` reads like ``tag innovation.high_tech (innovation.yaml: tags[3].definition, line 1,
column 5): unknown field 'revenu' — allowed: revenue, tax, ...``.
"""

from __future__ import annotations

from dataclasses import dataclass

from shengxin.errors import InvalidInput


@dataclass(frozen=True)
class Position:
    """A place in an expression text: 0-based offset, 1-based line and column."""

    offset: int
    line: int
    column: int

    @staticmethod
    def of(text: str, offset: int) -> "Position":
        offset = max(0, min(offset, len(text)))
        line = text.count("\n", 0, offset) + 1
        start = text.rfind("\n", 0, offset) + 1
        return Position(offset, line, offset - start + 1)


class DefinitionError(InvalidInput):
    """One problem in one definition."""

    def __init__(
        self,
        message: str,
        *,
        subject: str | None = None,
        path: str | None = None,
        position: Position | None = None,
        text: str | None = None,
        allowed: str | None = None,
    ):
        self.subject = subject
        self.path = path
        self.position = position
        self.text = text
        self.allowed = allowed
        self.detail = message
        full = message if not allowed else f"{message} — allowed: {allowed}"
        super().__init__(full, where=self._where())

    def _where(self) -> str | None:
        parts = []
        if self.path:
            parts.append(self.path)
        if self.position is not None:
            parts.append(f"expression line {self.position.line}, column {self.position.column}")
        inner = ", ".join(parts)
        if self.subject and inner:
            return f"{self.subject} ({inner})"
        return self.subject or inner or None

    def located(self, *, subject: str | None = None, path: str | None = None, text: str | None = None) -> "DefinitionError":
        """The same error with the subject/path/text filled in where they were unknown."""
        return DefinitionError(
            self.detail,
            subject=self.subject or subject,
            path=self.path or path,
            position=self.position,
            text=self.text or text,
            allowed=self.allowed,
        )

    def excerpt(self) -> str | None:
        """The offending line of the expression with a caret under the position."""
        if self.text is None or self.position is None:
            return None
        line = self.text.splitlines()[self.position.line - 1] if self.text.splitlines() else ""
        return f"{line}\n{' ' * (self.position.column - 1)}^"

    def to_dict(self) -> dict:
        return {
            "subject": self.subject,
            "path": self.path,
            "line": self.position.line if self.position else None,
            "column": self.position.column if self.position else None,
            "message": self.detail,
            "allowed": self.allowed,
            "excerpt": self.excerpt(),
        }


class DefinitionErrors(InvalidInput):
    """Several definition problems found in one validation run (all of them, not just the first)."""

    def __init__(self, errors: list[DefinitionError]):
        self.errors = list(errors)
        first = self.errors[0] if self.errors else None
        more = f" (and {len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
        super().__init__((first.message if first else "invalid definitions") + more,
                         where=first.where if first else None)

    def to_list(self) -> list[dict]:
        return [e.to_dict() for e in self.errors]
