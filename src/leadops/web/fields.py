"""What the edge accepts, in one place for the API and the pages: ids and offsets within 64 bits,
text without a NUL or a lone surrogate and within the size of the column it ends up in.

A value outside these bounds is refused with a 422 naming the field, before any handler runs.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from pydantic import BeforeValidator

from leadops.models import Lead, Opportunity, SavedView, User, column_length
from leadops.normalize import MAX_INT64, storable

#: Text that can be stored as it is: no NUL (PostgreSQL refuses it) and no lone surrogate (no
#: database can encode it). Its length is bounded where it is used (``max_length=``).
Text = Annotated[str, BeforeValidator(storable)]


def _blank_is_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


#: An optional key a client gives (an idempotency id): a blank one is the same as none.
OptionalKey = Annotated[Text | None, BeforeValidator(_blank_is_none)]

#: The longest free-text note (a touch's, an appointment's, a reassignment's reason).
NOTE_LENGTH = 2_000
#: The longest reference to a lead or a user: an e-mail, an id or an external id.
REF_LENGTH = max(column_length(User.email), column_length(Lead.crm_id))
#: The longest reason a status change keeps with the lead.
STATUS_REASON_LENGTH = column_length(Lead.status_reason)
#: The longest name of an opportunity (an appointment) and of a saved view.
OPPORTUNITY_NAME_LENGTH = column_length(Opportunity.name)
VIEW_NAME_LENGTH = column_length(SavedView.name)

#: A row id in a path: a positive 64-bit integer.
PathId = Annotated[int, Path(ge=1, le=MAX_INT64, description="A positive 64-bit id.")]
#: How many rows to skip: within 64 bits.
Offset = Annotated[int, Query(ge=0, le=MAX_INT64, description="How many rows to skip.")]
#: A lead in a path: its e-mail, id or external id.
LeadRef = Annotated[
    Text,
    Path(
        min_length=1,
        max_length=REF_LENGTH,
        description="The lead's e-mail, id or external id.",
        examples=["taro.yamada@example.co.jp"],
    ),
]
