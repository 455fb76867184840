"""The follow-up service's refusals are said in Japanese on the pages, field names as words."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from leadops.cadence import tasks
from leadops.web.error_words import saying
from leadops.web.i18n import Translator

MESSAGES = [
    tasks.PAST_DUE,
    tasks.TOO_FAR,
    tasks.NOTE_TOO_LONG,
    tasks.WAS_CANCELLED,
    tasks.WAS_DONE,
    tasks.NOT_YOURS,
]


@pytest.mark.parametrize("message", MESSAGES)
def test_each_refusal_of_the_follow_up_service_reads_in_japanese(message: str) -> None:
    say = saying(Translator("ja", ZoneInfo("Asia/Tokyo")), dict)
    said = say(f"due_at: {message}")
    assert said.startswith("期限: ")
    assert not any("a" <= c <= "z" for c in said)


def test_a_refusal_to_act_for_another_names_both_and_the_rule() -> None:
    say = saying(Translator("ja", ZoneInfo("Asia/Tokyo")), dict)
    said = say("rep@firm.test may not act for rep2@firm.test: the member role acts only for itself")
    assert said == (
        "rep@firm.test は rep2@firm.test の代わりに操作できません: "
        "メンバーが代わりに操作できるのは自分だけです"
    )
