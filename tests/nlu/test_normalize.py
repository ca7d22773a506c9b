"""The Indonesian normalisation behind the custom Rasa tokenizer."""

from __future__ import annotations

import pytest

from nlu.normalize import normalise_token, split_letters_and_digits


@pytest.mark.parametrize(
    ("typed", "normal"),
    [
        ("gmn", "bagaimana"),
        ("Gimana", "bagaimana"),
        ("gimanaaa", "bagaimana"),
        ("blm", "belum"),
        ("udahhh", "sudah"),
        ("brp", "berapa"),
        ("kpn", "kapan"),
        ("ketelen", "tertelan"),
        ("kapaaan", "kapan"),
        ("kira2", "kira"),
        ("PKH", "pkh"),
        # Javanese ngoko and krama, Sundanese, Malay of Sumatra, Betawi, Banjar, eastern Malay.
        ("piye", "bagaimana"),
        ("durung", "belum"),
        ("sampun", "sudah"),
        ("badhe", "mau"),
        ("menika", "ini"),
        ("kumaha", "bagaimana"),
        ("sabaraha", "berapa"),
        ("abdi", "saya"),
        ("tos", "sudah"),
        ("idak", "tidak"),
        ("apo", "apa"),
        ("ado", "ada"),
        ("kagak", "tidak"),
        ("gimane", "bagaimana"),
        ("kada", "tidak"),
        ("sonde", "tidak"),
    ],
)
def test_informal_tokens_get_their_common_spelling(typed: str, normal: str) -> None:
    assert normalise_token(typed) == normal


def test_regional_words_can_be_left_as_typed() -> None:
    assert normalise_token("sabaraha", regional=False) == "sabaraha"
    assert normalise_token("gmn", regional=False) == "bagaimana"


def test_words_that_are_also_standard_indonesian_are_not_mapped() -> None:
    # "oleh" is Javanese "get" but Indonesian "by"; "bila" is "when" and "if".
    assert normalise_token("oleh") == "oleh"
    assert normalise_token("bila") == "bila"


def test_numbers_are_never_collapsed_like_elongated_letters() -> None:
    assert normalise_token("10.000") == "10.000"
    assert normalise_token("1000") == "1000"


def test_stage_number_glued_to_its_word_is_split_with_offsets() -> None:
    assert split_letters_and_digits("tahap3") == [(0, "tahap"), (5, "3")]
    assert split_letters_and_digits("tahap2") == [(0, "tahap"), (5, "2")]


def test_written_reduplication_is_not_split() -> None:
    assert split_letters_and_digits("kira2") == [(0, "kira2")]
    assert split_letters_and_digits("anak2") == [(0, "anak2")]


def test_plain_words_stay_whole() -> None:
    assert split_letters_and_digits("cair") == [(0, "cair")]
