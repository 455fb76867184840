from leadops.web.timeline_words import actor_words, event_value, payload_words

JA = {"touch_1": "タッチ1", "Rule": "ルール", "Page": "ページ", "cold": "コールド"}


def _ja(word: str) -> str:
    return JA.get(word, word)


def test_event_values_are_words() -> None:
    names = {"6": "長谷川 葵", "a@x.jp": "長谷川 葵"}
    assert event_value("touch_stage", "touch_1", _ja, {}, names) == "タッチ1"
    assert event_value("status", "new", _ja, {"new": "未確認"}, names) == "未確認"
    assert event_value("owner", "a@x.jp", _ja, {}, names) == "長谷川 葵"
    assert event_value("temperature", "cold", _ja, {}, names) == "コールド"
    assert event_value("owner", None, _ja, {}, names) == "∅"


def test_actors_and_payloads_are_words() -> None:
    assert actor_words("user:6", _ja, {"6": "長谷川 葵"}) == "長谷川 葵"
    assert actor_words("rule:level-3-webinar", _ja, {}) == "ルール"
    assert payload_words({"url": "/features", "trace_id": "x1"}, _ja) == "ページ: /features"
    assert payload_words({}, _ja) == ""
