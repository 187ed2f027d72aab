"""Domain errors. Domains raise these; only ``shengxin.web`` maps them to HTTP status codes.

Every message says what was wrong and, where it helps, what to do about it.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a user may see. ``where`` locates the problem (file, row, field)."""

    def __init__(self, message: str, *, where: str | None = None):
        super().__init__(message)
        self.message = message
        self.where = where

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class NotFound(DomainError):
    """The object asked for does not exist (or the caller may not know that it does)."""


class Conflict(DomainError):
    """The request clashes with the current state (duplicate, wrong workflow state)."""


class InvalidInput(DomainError):
    """The input is malformed or breaks a rule."""


class Forbidden(DomainError):
    """The caller is known but may not do this."""


class Unauthenticated(DomainError):
    """The caller must log in first."""
