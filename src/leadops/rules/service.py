"""Rules versions: the active document, applying a new one, showing and diffing versions.

The compiled rules of a version are cached by version number; activating another version is
seen by the next unit of work in every process (no restart).
"""

from __future__ import annotations

import difflib
import hashlib
from datetime import datetime
from typing import Any

import yaml
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from leadops.errors import FieldError, NotFound, ValidationFailed
from leadops.models import ActivityType, Lead, RulesVersion
from leadops.rules.loader import CompiledRules, default_rules_text, load_rules

_CACHE: dict[tuple[int, str], CompiledRules] = {}


#: The comment of the version the shipped defaults become (pages say it in their language).
DEFAULT_COMMENT = "the default rules (seeds 000-004)"


def activity_type_names(session: Session) -> frozenset[str]:
    return frozenset(session.scalars(select(ActivityType.name)))


def validate(session: Session, text: str) -> CompiledRules:
    """Raise RulesInvalid listing every problem, or return the compiled document."""
    return load_rules(text, activity_types=activity_type_names(session))


def ensure_rules(session: Session, now: datetime) -> RulesVersion:
    """The active version; the shipped defaults become version 1 on a new database."""
    active = session.scalar(select(RulesVersion).where(RulesVersion.active))
    if active is not None:
        return active
    latest = session.scalar(select(func.max(RulesVersion.version))) or 0
    version = RulesVersion(
        version=latest + 1,
        document=default_rules_text(),
        author="leadops",
        comment=DEFAULT_COMMENT,
        created_at=now,
        active=True,
    )
    session.add(version)
    session.flush()
    return version


def _key(version: int, text: str) -> tuple[int, str]:
    return version, hashlib.sha256(text.encode("utf-8")).hexdigest()


def active_rules(session: Session, now: datetime) -> CompiledRules:
    row = session.execute(
        select(RulesVersion.version, RulesVersion.document).where(RulesVersion.active)
    ).first()
    if row is None:
        created = ensure_rules(session, now)
        version, text = created.version, created.document
    else:
        version, text = row
    key = _key(version, text)
    if key not in _CACHE:
        _CACHE[key] = load_rules(text, version=version, activity_types=activity_type_names(session))
    return _CACHE[key]


#: Why a version is refused without a comment: the history says why each change was made.
COMMENT_REQUIRED = "a comment is required: say what changed and why"


def _meaning(text: str) -> Any:
    """What a document says, without its comments and layout."""
    return yaml.safe_load(text)


def refusals(active: RulesVersion, text: str, comment: str | None) -> list[FieldError]:
    """Why ``text`` cannot become the next version (it must be valid already): a document that
    says what the active one says adds an empty version; a change needs its comment."""
    errors = []
    if _meaning(text) == _meaning(active.document):
        errors.append(
            FieldError(
                "document",
                f"no change: the document says what the active version {active.version} says",
            )
        )
    if not (comment or "").strip():
        errors.append(FieldError("comment", COMMENT_REQUIRED))
    return errors


def apply_rules(
    session: Session, text: str, *, author: str | None, comment: str | None, now: datetime
) -> RulesVersion:
    """Store ``text`` as the next version and make it active (after validating it). A document
    that changes nothing, or one without a comment, is refused (``refusals``)."""
    validate(session, text)
    active = ensure_rules(session, now)
    errors = refusals(active, text, comment)
    if errors:
        raise ValidationFailed(errors)
    return store_version(session, text, author=author, comment=comment, now=now)


def store_version(
    session: Session, text: str, *, author: str | None, comment: str | None, now: datetime
) -> RulesVersion:
    """``text`` (valid) as the next version, the active one."""
    ensure_rules(session, now)
    latest = session.scalar(select(func.max(RulesVersion.version))) or 0
    session.execute(update(RulesVersion).where(RulesVersion.active).values(active=False))
    version = RulesVersion(
        version=latest + 1,
        document=text,
        author=author,
        comment=(comment or "").strip(),
        created_at=now,
        active=True,
    )
    session.add(version)
    session.flush()
    return version


def forget_compiled(version: int, text: str) -> None:
    """Drop the compiled rules of a version that was never kept (a preview's)."""
    _CACHE.pop(_key(version, text), None)


def stale_leads(session: Session, active: RulesVersion) -> int:
    """How many live leads are still scored under another version than ``active`` (none once it
    is marked rescored)."""
    if active.rescored_at is not None:
        return 0
    return (
        session.scalar(
            select(func.count())
            .select_from(Lead)
            .where(
                Lead.merged_into_id.is_(None),
                or_(Lead.scored_version.is_(None), Lead.scored_version != active.version),
            )
        )
        or 0
    )


def get_version(session: Session, number: int | None) -> RulesVersion:
    stmt = select(RulesVersion).where(
        RulesVersion.active if number is None else RulesVersion.version == number
    )
    found = session.scalar(stmt)
    if found is None:
        raise NotFound(
            f"no rules version {number}" if number is not None else "no active rules version"
        )
    return found


def list_versions(session: Session) -> list[RulesVersion]:
    return list(session.scalars(select(RulesVersion).order_by(RulesVersion.version.desc())))


def diff_versions(session: Session, a: int, b: int) -> str:
    old, new = get_version(session, a), get_version(session, b)
    lines = difflib.unified_diff(
        old.document.splitlines(keepends=True),
        new.document.splitlines(keepends=True),
        fromfile=f"rules v{a}",
        tofile=f"rules v{b}",
    )
    return "".join(lines)
