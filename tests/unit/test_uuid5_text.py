"""Alert and notice ids made without the UUID object: the same text as `str(uuid5(NAMESPACE, name))`."""

from __future__ import annotations

from uuid import uuid5

from hypothesis import example, given, settings
from hypothesis import strategies as st

from jawazat_events.domain.identifiers import NAMESPACE, uuid5_text
from jawazat_events.projections.channel_fanout import notice_alert_id
from jawazat_events.projections.fanout import alert_id

PARTS = st.one_of(
    st.sampled_from(["gen-1-000012345", "7791230291", "email", "sms", "webhook", "digest:2026-01-05", ""]),
    st.text(),
)


@settings(max_examples=2000)
@given(st.text())
@example("")
@example("alert:e-1:7000000001:email")
@example("محمد علي \U0001f600")
def test_uuid5_text_is_the_text_of_uuid5(name: str) -> None:
    assert uuid5_text(name) == str(uuid5(NAMESPACE, name))


@settings(max_examples=500)
@given(PARTS, PARTS, PARTS)
def test_alert_and_notice_ids_are_the_uuid5_ids_they_always_were(
    event_id: str, who: str, channel: str
) -> None:
    assert alert_id(event_id, who, channel) == str(uuid5(NAMESPACE, f"alert:{event_id}:{who}:{channel}"))
    assert notice_alert_id(who, channel) == str(uuid5(NAMESPACE, f"notice:{who}:{channel}"))


def test_a_name_that_is_not_unicode_text_fails_as_uuid5_fails() -> None:
    for fn in (uuid5_text, lambda name: str(uuid5(NAMESPACE, name))):
        try:
            fn("\ud800")
        except UnicodeEncodeError:
            continue
        raise AssertionError("a lone surrogate was hashed")
