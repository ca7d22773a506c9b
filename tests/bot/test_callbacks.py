"""Signed callback data: forged, altered, stale or someone else's buttons are refused."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.callbacks import MAX_AGE_SECONDS, Callback, CallbackSigner
from programme.buttons import ButtonKind

NOW = 1_790_000_000.0
SITI, BUDI = 777_000_001, 8_123_456_789


def test_a_signed_button_comes_back_as_it_was_made_for_its_user() -> None:
    signer = CallbackSigner("key")
    data = signer.sign(ButtonKind.ASK, "ask_payment_schedule", for_user=SITI, now=NOW)
    assert len(data.encode()) <= 64
    callback = signer.verify(data, now=NOW + 60)
    assert callback == Callback(ButtonKind.ASK, "ask_payment_schedule", SITI)
    assert callback.is_for(SITI) and not callback.is_for(BUDI)


def test_altered_or_forged_data_is_refused() -> None:
    signer = CallbackSigner("key")
    data = signer.sign(ButtonKind.RATE_UP, "greet", for_user=SITI, now=NOW)
    assert signer.verify("down" + data.removeprefix("up"), now=NOW) is None
    assert signer.verify(data.replace("greet", "thank"), now=NOW) is None
    assert CallbackSigner("other key").verify(data, now=NOW) is None
    for junk in (None, "", "ask:greet", "a:b:c:d:e", "ask:greet:zz:!!!", "a:b:c:d:é", "\ud800"):
        assert signer.verify(junk, now=NOW) is None


def test_the_intended_user_cannot_be_changed_without_breaking_the_signature() -> None:
    signer = CallbackSigner("key")
    kind, value, _user, issued, mac = signer.sign(
        ButtonKind.DELETE, "yes", for_user=SITI, now=NOW
    ).split(":")
    budi = format(BUDI, "x")  # any other id in the user's place
    assert signer.verify(f"{kind}:{value}:{budi}:{issued}:{mac}", now=NOW) is None


def test_stale_buttons_are_refused() -> None:
    signer = CallbackSigner("key")
    data = signer.sign(ButtonKind.ASK, "greet", for_user=SITI, now=NOW)
    assert signer.verify(data, now=NOW + MAX_AGE_SECONDS - 120) is not None
    assert signer.verify(data, now=NOW + MAX_AGE_SECONDS + 120) is None


def test_the_longest_buttons_fit_telegrams_64_bytes_for_the_largest_user_ids() -> None:
    signer = CallbackSigner("key")
    longest_intent = "ask_after_graduation"
    assert len(signer.sign(ButtonKind.RATE_DOWN, longest_intent, for_user=2**52, now=NOW)) <= 64
    assert len(signer.sign(ButtonKind.REPLY, str(2**52), for_user=2**52, now=NOW)) <= 64


@given(st.text(max_size=80))
def test_no_callback_data_anyone_can_send_makes_verify_raise(data: str) -> None:
    assert CallbackSigner("key").verify(data, now=NOW) is None
