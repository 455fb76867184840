"""Domain errors. They carry meaning, not HTTP codes; each interface translates them once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class LeadopsError(Exception):
    code = "error"

    def __init__(self, message: str, *, detail: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail if detail is not None else message


class NotFound(LeadopsError):
    code = "not_found"


class Conflict(LeadopsError):
    code = "conflict"


class Forbidden(LeadopsError):
    code = "forbidden"


class NotSignedIn(LeadopsError):
    code = "not_signed_in"


class InvalidTransition(LeadopsError):
    code = "invalid_transition"


class RuleError(LeadopsError):
    code = "rule_error"


class TooLarge(LeadopsError):
    code = "too_large"


@dataclass(frozen=True)
class FieldError:
    """One thing wrong with one input: where (a path such as ``activities[3].type``) and what."""

    path: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


@dataclass
class ValidationFailed(LeadopsError):
    errors: list[FieldError] = field(default_factory=list)
    code = "validation_failed"

    def __post_init__(self) -> None:
        text = "; ".join(f"{e.path}: {e.message}" for e in self.errors) or "invalid input"
        LeadopsError.__init__(self, text, detail=[e.as_dict() for e in self.errors])

    def __str__(self) -> str:
        return self.message
