"""Signed callback data: forged, altered or stale buttons are refused."""

from __future__ import annotations

from bot.callbacks import MAX_AGE_SECONDS, Callback, CallbackSigner

NOW = 1_790_000_000.0


def test_a_signed_button_comes_back_as_it_was_made() -> None:
    signer = CallbackSigner("key")
    data = signer.sign("ask", "ask_payment_schedule", now=NOW)
    assert len(data.encode()) <= 64
    assert signer.verify(data, now=NOW + 60) == Callback("ask", "ask_payment_schedule")


def test_altered_or_forged_data_is_refused() -> None:
    signer = CallbackSigner("key")
    data = signer.sign("up", "greet", now=NOW)
    assert signer.verify("down" + data.removeprefix("up"), now=NOW) is None
    assert signer.verify(data.replace("greet", "thank"), now=NOW) is None
    assert CallbackSigner("other key").verify(data, now=NOW) is None
    for junk in (None, "", "ask:greet", "a:b:c:d:e", "ask:greet:zz:!!!"):
        assert signer.verify(junk, now=NOW) is None


def test_stale_buttons_are_refused() -> None:
    signer = CallbackSigner("key")
    data = signer.sign("ask", "greet", now=NOW)
    assert signer.verify(data, now=NOW + MAX_AGE_SECONDS - 120) is not None
    assert signer.verify(data, now=NOW + MAX_AGE_SECONDS + 120) is None
