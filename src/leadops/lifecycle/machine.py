"""The state machine of a lead, as pure functions of the rules and plain values.

A lead's state is eight things, each kept as a column and each change of it as a ``lead_event`` of
its kind: ``status``, ``lifecycle_stage``, ``touch_stage``, ``owner``, ``team``, ``level``,
``temperature`` and ``validity``. Which moves each may make:

- **status**: the rules' transition table (``statuses[].to``; no list: any other status); a status
  with ``reason_required`` needs a reason.
- **lifecycle_stage**: forward along ``lifecycle.stages`` only, unless ``lifecycle.backward`` lists
  the move.
- **touch_stage**: untouched → touch_1 → … → touch_4, one step at a time; any stage → connected
  (the person was reached); any stage → untouched (a new cadence).
- **owner**, **team**, **level**, **temperature**, **validity**: any value.
"""

from __future__ import annotations

from typing import Any

from leadops.errors import FieldError, InvalidTransition, ValidationFailed
from leadops.rules.loader import CompiledRules
from leadops.rules.schema import Status

#: The kind of each piece of state (as its events name it) and the column that holds it.
KINDS: dict[str, str] = {
    "status": "status",
    "lifecycle_stage": "lifecycle_stage",
    "touch_stage": "touch_stage",
    "owner": "owner_id",
    "team": "team_id",
    "level": "level",
    "temperature": "temperature",
    "validity": "is_valid",
}
# ``models.leads.STATE_COLUMNS`` holds these columns and their companions (``status_reason``,
# ``status_changed_at``, ``assigned_at``): the columns only the door writes.

TOUCH_ORDER = ("untouched", "touch_1", "touch_2", "touch_3", "touch_4")
TOUCH_STAGES = (*TOUCH_ORDER, "connected")
#: Touch outcomes that reach the person.
CONNECTING = ("connected", "replied")


def next_statuses(rules: CompiledRules, current: str) -> list[str]:
    """The statuses a lead in ``current`` may move to, in the rules' order (any other, when the
    rules give the current status no list or do not know it)."""
    by_name = {s.name: s for s in rules.document.statuses}
    known = by_name.get(current)
    return [
        s.name
        for s in rules.document.statuses
        if s.name != current and (known is None or known.to is None or s.name in known.to)
    ]


def check_status(
    rules: CompiledRules,
    current: str,
    target: str,
    reason: str | None,
    *,
    field: str = "status",
    reason_field: str = "reason",
) -> str | None:
    """Refuse a status move the rules do not allow; returns the reason, trimmed (None if blank).
    ``field`` and ``reason_field`` are the names the caller's input gives them."""
    status = _known_status(rules, target, field)
    cleaned = (reason or "").strip() or None
    if target == current:
        return cleaned
    allowed = next_statuses(rules, current)
    if target not in allowed:
        raise InvalidTransition(
            f"a lead cannot go from {current} to {target}; from {current} it can go to "
            f"{', '.join(allowed) or 'none'}",
            detail=[{"path": field, "message": f"{current} → {target} is not allowed"}],
        )
    return _with_reason(status, cleaned, reason_field)


def check_status_target(
    rules: CompiledRules, target: str, reason: str | None, *, field: str = "status"
) -> str | None:
    """What every move to ``target`` needs, whatever a lead's status now (a bulk change checks
    it once for all): a status the rules know, and its reason when it needs one."""
    status = _known_status(rules, target, field)
    return _with_reason(status, (reason or "").strip() or None, "reason")


def _known_status(rules: CompiledRules, target: str, field: str) -> Status:
    by_name = {s.name: s for s in rules.document.statuses}
    if target not in by_name:
        message = f"unknown status {target!r}; statuses are {', '.join(by_name)}"
        raise ValidationFailed([FieldError(field, message)])
    return by_name[target]


def _with_reason(status: Status, reason: str | None, reason_field: str) -> str | None:
    if status.reason_required and reason is None:
        raise ValidationFailed(
            [FieldError(reason_field, f"moving a lead to {status.name} needs a reason")]
        )
    return reason


def lifecycle_allows(rules: CompiledRules, current: str, target: str) -> bool:
    """Forward along the stages, or back where the rules say so."""
    stages = rules.document.lifecycle.stages
    if target not in stages:
        return False
    if current not in stages or stages.index(target) > stages.index(current):
        return True
    return any(m.from_ == current and m.to == target for m in rules.document.lifecycle.backward)


def check_lifecycle(rules: CompiledRules, current: str, target: str) -> None:
    if target == current or lifecycle_allows(rules, current, target):
        return
    stages = rules.document.lifecycle.stages
    if target not in stages:
        message = f"unknown lifecycle stage {target!r}; stages are {', '.join(stages)}"
        raise ValidationFailed([FieldError("lifecycle_stage", message)])
    raise InvalidTransition(
        f"the lifecycle stage only moves forward: {current} → {target} is not allowed "
        "(lifecycle.backward in the rules lists the moves back that are)",
        detail=[{"path": "lifecycle_stage", "message": f"{current} → {target} is not allowed"}],
    )


def touch_allows(current: str, target: str) -> bool:
    if target in ("connected", "untouched"):
        return True
    if current in TOUCH_ORDER[:-1] and target in TOUCH_ORDER:
        return TOUCH_ORDER.index(target) == TOUCH_ORDER.index(current) + 1
    return False


def check_touch_stage(current: str, target: str) -> None:
    if target not in TOUCH_STAGES:
        message = f"unknown touch stage {target!r}; stages are {', '.join(TOUCH_STAGES)}"
        raise ValidationFailed([FieldError("touch_stage", message)])
    if target != current and not touch_allows(current, target):
        raise InvalidTransition(
            f"the touch stage moves one touch at a time: {current} → {target} is not allowed",
            detail=[{"path": "touch_stage", "message": f"{current} → {target} is not allowed"}],
        )


def touch_stage_after(before: str, outcome: str) -> str:
    """The touch stage after a touch with this outcome."""
    if outcome in CONNECTING:
        return "connected"
    if before in TOUCH_ORDER[:-1]:
        return TOUCH_ORDER[TOUCH_ORDER.index(before) + 1]
    return before  # touch_4 (more tries) or already connected


def stage_deadline_hours(rules: CompiledRules, stage: str) -> tuple[float, float] | None:
    """Hours until the next touch is due in ``stage``, and how long before it to remind."""
    cadence = rules.document.cadence
    if stage == "untouched":
        return cadence.first_touch_hours, cadence.remind_before_hours
    if stage == "touch_4":
        return cadence.reply_grace_hours, 0.0
    for deadline in cadence.deadlines:
        if deadline.stage == stage:
            return deadline.hours, deadline.remind_before_hours
    return None


def check(rules: CompiledRules, kind: str, current: Any, target: Any) -> None:
    """Refuse a move of ``kind`` the machine does not allow (statuses: see ``check_status``)."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind of lead state {kind!r}; kinds are {', '.join(KINDS)}")
    if kind == "lifecycle_stage":
        check_lifecycle(rules, current, target)
    elif kind == "touch_stage":
        check_touch_stage(current, target)


def as_text(value: Any) -> str | None:
    """A state value as ``lead_events`` keeps it."""
    return None if value is None else str(value)
