"""The unanswered-questions inbox on both databases: intake, grouping, filters, labelling,
proposals, replies."""

from __future__ import annotations

import shutil
import unicodedata
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, func, insert, select
from sqlalchemy.orm import Session

from nlu import validation
from nlu.trainingdata import load_examples, normalised_text, parse_annotated
from programme import grouping, outbox
from programme.grouping import MAX_KEY, RECENT, group_key_of, group_keys
from programme.inbox import (
    GROUP_IDS,
    HELDOUT_DIR,
    MAX_REPLY,
    PAGE_SIZE,
    TRAINING_DIR,
    EntityMark,
    LabelResult,
    QueryFilter,
    accept_proposal,
    add_question,
    count_groups,
    group_queries,
    group_question_ids,
    label_group,
    overflow_today,
    pending_proposals,
    propose_label,
    reject_proposal,
    reply_messages,
    resolve_group,
    similarity_key,
)
from programme.models import (
    AuditLog,
    Family,
    InboxOverflow,
    LabelProposal,
    OutboxKind,
    OutboxState,
    ProposalState,
    TelegramUser,
    TimeZone,
    UnansweredQuery,
    UnansweredReason,
)
from tests.nik_forms import leaks, messages_with_nik
from tests.programme.roster import MARIA, MELATI, TERATAI, families, link, outbox_rows, pendamping

ACTOR = "admin:siti"
NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # 10.00 WIB
SCHEDULE = "ask_payment_schedule"
LONG_QUESTION = "bu kapan bantuan pkh tahap tiga cair di desa kami"  # nine words
WORDS = ("kapan", "pkh", "cair", "tahap", "bu", "ya", "dana", "bansos")


def ask(
    session: Session,
    text: str,
    *,
    user: TelegramUser | None = None,
    reason: UnansweredReason = UnansweredReason.LOW_CONFIDENCE,
    guess: str = SCHEDULE,
    at: datetime = NOW - timedelta(hours=1),
    daily_cap: int = 10_000,
) -> UnansweredQuery:
    """A question in the inbox, put there by the intake the bot uses."""
    query = add_question(
        session,
        text=text,
        reason=reason,
        top_guesses=[{"intent": "greet", "confidence": 0.2}, {"intent": guess, "confidence": 0.41}],
        confidence=0.41,
        user_id=user.id if user else None,
        now=at,
        daily_cap=daily_cap,
    )
    assert query is not None
    session.flush()
    return query


def kpm(session: Session, kelompok_code: str, number: int = 0, **changes: Any) -> TelegramUser:
    return link(session, families(session, kelompok_code)[number], **changes)


def audits(session: Session, action: str) -> list[AuditLog]:
    return list(session.scalars(select(AuditLog).where(AuditLog.action == action)))


def ids(*queries: UnansweredQuery) -> list[int]:
    return [query.id for query in queries]


def label(session: Session, queries: list[int], data_file: Path, **changes: Any) -> LabelResult:
    """An admin labels the questions (the training data goes to `data_file`)."""
    values: dict[str, Any] = {
        "query_ids": queries,
        "intent": SCHEDULE,
        "actor": ACTOR,
        "now": NOW,
        "data_file": data_file,
    }
    values.update(changes)
    return label_group(session, **values)


# --- grouping --------------------------------------------------------------------------------


def test_similarity_key_ignores_case_punctuation_slang_elongation_and_nik_digits() -> None:
    assert similarity_key("Kapan PKH cair??") == similarity_key("kpn pkh cairrr")
    assert similarity_key("kapann cair") == similarity_key("kapan cair")
    assert similarity_key("cek nik ************1234") == similarity_key("cek NIK 3201234567890123")
    assert similarity_key("kapan cair") != similarity_key("kapan daftar")


def test_hundreds_of_copies_of_one_question_are_one_group(seeded: Session) -> None:
    asker = kpm(seeded, MELATI)
    spellings = ["Kapan PKH cair?", "kapan pkh cair", "kpn pkh cairrr??", "KAPAN PKH CAIR"]
    for number in range(300):
        ask(seeded, spellings[number % 4] if number % 3 else "Kapan PKH cair?", user=asker)
    other = ask(seeded, "kartu kks saya hilang", reason=UnansweredReason.FALLBACK)

    groups = group_queries(seeded, filter=QueryFilter())

    assert [group.count for group in groups] == [300, 1]
    top = groups[0]
    assert top.sample == "Kapan PKH cair?"
    assert top.key == "kapan pkh cair"
    assert top.askers == 1 and top.regions == ["Kabupaten Manggarai Barat"]
    assert top.reasons == Counter({UnansweredReason.LOW_CONFIDENCE: 300})
    assert top.top_guesses[0].intent == SCHEDULE and top.top_guesses[0].queries == 300
    assert top.top_guesses[0].best == pytest.approx(0.41)
    assert top.top_guesses[0].mean == pytest.approx(0.41)
    opened = group_question_ids(seeded, key=top.key)  # what the group's page opens
    assert len(opened) == GROUP_IDS and opened == sorted(opened)
    assert group_question_ids(seeded, key=groups[1].key) == [other.id]
    assert groups[1].askers == 0 and groups[1].regions == []


def test_near_identical_word_sets_join_the_earlier_group(seeded: Session) -> None:
    first = [ask(seeded, LONG_QUESTION, at=NOW - timedelta(days=2)) for _ in range(3)]
    extra_word = ask(seeded, LONG_QUESTION + " ya", at=NOW - timedelta(hours=3))  # 9/10 words
    two_words_off = ask(seeded, "bu kapan bantuan pkh tahap empat cair di desa sana")  # 7/11

    groups = group_queries(seeded, filter=QueryFilter())

    assert [(g.count, g.sample) for g in groups] == [
        (4, LONG_QUESTION),
        (1, "bu kapan bantuan pkh tahap empat cair di desa sana"),
    ]
    assert group_question_ids(seeded, key=groups[0].key) == sorted(ids(*first, extra_word))
    assert groups[0].first_asked == NOW - timedelta(days=2)
    assert groups[0].last_asked == NOW - timedelta(hours=3)
    assert group_question_ids(seeded, key=groups[1].key) == [two_words_off.id]


def test_a_question_gets_its_group_key_once_at_intake_and_viewing_never_recomputes_it(
    seeded: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = ask(seeded, "Kapan PKH cair??")
    again = ask(seeded, "kpn pkh cairrr")
    assert first.group_key == again.group_key == "kapan pkh cair"

    def never(text: str) -> list[str]:
        raise AssertionError("the inbox normalised a text while being viewed")

    monkeypatch.setattr(grouping, "key_words", never)
    (group,) = group_queries(seeded, filter=QueryFilter())

    assert group.count == 2 and group.key == "kapan pkh cair"


def test_viewing_the_inbox_runs_the_same_few_queries_however_many_questions_wait(
    seeded: Session,
) -> None:
    def statements_for_one_page(questions: int) -> list[str]:
        rows = [
            {"text": f"pertanyaan {number % 300} soal pkh", "reason": UnansweredReason.FALLBACK}
            for number in range(questions)
        ]
        seeded.execute(insert(UnansweredQuery), rows)
        seen: list[str] = []

        def record(*args: Any) -> None:
            seen.append(str(args[2]))

        connection = seeded.connection()
        event.listen(connection, "before_cursor_execute", record)
        try:
            groups = group_queries(seeded, filter=QueryFilter(), limit=PAGE_SIZE)
        finally:
            event.remove(connection, "before_cursor_execute", record)
        assert len(groups) == PAGE_SIZE
        return seen

    small, large = statements_for_one_page(600), statements_for_one_page(6_000)

    assert len(small) == len(large) <= 5
    # Every statement groups or reads the shown groups' keys only: none reads every waiting row.
    for statement in large:
        assert "GROUP BY" in statement or "IN (" in statement or "IN (__[POSTCOMPILE" in statement


def test_the_inbox_is_paged_beyond_the_first_hundred_groups(seeded: Session) -> None:
    rows = [
        {
            "text": f"pertanyaan nomor {number} tentang bantuan",
            "reason": UnansweredReason.LOW_CONFIDENCE,
            "created_at": NOW - timedelta(minutes=number),
        }
        for number in range(250)
    ]
    seeded.execute(insert(UnansweredQuery), rows)

    pages = [
        group_queries(seeded, filter=QueryFilter(), limit=PAGE_SIZE, offset=offset)
        for offset in (0, PAGE_SIZE, 2 * PAGE_SIZE, 3 * PAGE_SIZE)
    ]

    assert count_groups(seeded, filter=QueryFilter()) == 250
    assert [len(page) for page in pages] == [100, 100, 50, 0]
    samples = [group.sample for page in pages for group in page]
    assert samples == [f"pertanyaan nomor {number} tentang bantuan" for number in range(250)]


def test_groups_are_ordered_by_size_then_by_latest_question(seeded: Session) -> None:
    ask(seeded, "kapan cair", at=NOW - timedelta(days=3))
    ask(seeded, "kartu hilang", at=NOW - timedelta(days=1))
    ask(seeded, "cara daftar", at=NOW - timedelta(days=2))
    ask(seeded, "cara daftar", at=NOW - timedelta(days=2))

    samples = [g.sample for g in group_queries(seeded, filter=QueryFilter())]

    assert samples == ["cara daftar", "kartu hilang", "kapan cair"]
    assert len(group_queries(seeded, filter=QueryFilter(), limit=2)) == 2


def test_ten_thousand_waiting_questions_are_grouped(seeded: Session) -> None:
    rows = [
        {
            "text": f"pertanyaan nomor {number % 50} tentang bantuan pkh{'?' * (number % 3)}",
            "reason": UnansweredReason.LOW_CONFIDENCE,
            "top_guesses": [{"intent": SCHEDULE, "confidence": 0.3}],
            "created_at": NOW - timedelta(minutes=number),
        }
        for number in range(10_000)
    ]
    seeded.execute(insert(UnansweredQuery), rows)

    groups = group_queries(seeded, filter=QueryFilter(), limit=1000)

    assert len(groups) == 50 and {g.count for g in groups} == {200}


# --- filters ---------------------------------------------------------------------------------


def samples(session: Session, **filter: Any) -> set[str]:
    return {g.sample for g in group_queries(session, filter=QueryFilter(**filter))}


def test_filter_by_reason_and_by_the_top_guess(seeded: Session) -> None:
    ask(seeded, "kapan cair")
    ask(seeded, "hp saya rusak", reason=UnansweredReason.OUT_OF_SCOPE, guess="out_of_scope")

    assert samples(seeded, reason=UnansweredReason.OUT_OF_SCOPE) == {"hp saya rusak"}
    assert samples(seeded, intent=SCHEDULE) == {"kapan cair"}
    assert samples(seeded, intent="greet") == set()  # only the top guess counts


def test_filter_by_region_matches_the_desa_and_every_region_above_it(seeded: Session) -> None:
    manggarai = kpm(seeded, MELATI)
    banyumas = kpm(seeded, TERATAI)
    ask(seeded, "dari manggarai", user=manggarai)
    ask(seeded, "dari banyumas", user=banyumas)
    ask(seeded, "tanpa akun")
    family = seeded.get(Family, manggarai.family_id)
    assert family is not None
    desa = family.desa
    assert desa.parent is not None and desa.parent.parent is not None
    kabupaten = desa.parent.parent

    for code in (desa.code, desa.parent.code, kabupaten.code, "53"):
        assert samples(seeded, region_code=code) == {"dari manggarai"}, code
    assert samples(seeded, region_code="33") == {"dari banyumas"}
    assert samples(seeded) == {"dari manggarai", "dari banyumas", "tanpa akun"}


def test_filter_dates_are_wib_days(seeded: Session) -> None:
    ask(seeded, "senin pagi wib", at=datetime(2026, 11, 22, 17, 30, tzinfo=UTC))  # 23 Nov 00.30
    ask(seeded, "minggu malam wib", at=datetime(2026, 11, 22, 16, 30, tzinfo=UTC))  # 22 Nov 23.30

    assert samples(seeded, date_from=date(2026, 11, 23)) == {"senin pagi wib"}
    assert samples(seeded, date_to=date(2026, 11, 22)) == {"minggu malam wib"}
    both = samples(seeded, date_from=date(2026, 11, 22), date_to=date(2026, 11, 23))
    assert both == {"senin pagi wib", "minggu malam wib"}


def test_resolved_questions_are_hidden_unless_asked_for(seeded: Session) -> None:
    done = ask(seeded, "sudah dijawab")
    done.resolved_at = NOW
    ask(seeded, "belum dijawab")

    assert samples(seeded) == {"belum dijawab"}
    assert samples(seeded, include_resolved=True) == {"sudah dijawab", "belum dijawab"}


def test_a_pendamping_sees_only_questions_of_their_own_kelompok(seeded: Session) -> None:
    ask(seeded, "dari melati", user=kpm(seeded, MELATI))
    ask(seeded, "dari teratai", user=kpm(seeded, TERATAI))
    ask(seeded, "tanpa akun")

    assert samples(seeded, pendamping_id=pendamping(seeded, MARIA).id) == {"dari melati"}


# --- labelling -------------------------------------------------------------------------------


def test_labelling_writes_a_valid_rasa_file_and_resolves_the_group(
    seeded: Session, tmp_path: Path
) -> None:
    data_file = tmp_path / "reviewed.yml"
    queries = [
        ask(seeded, "kapan bansos pkh tahap empat dibagikan ke warga"),
        ask(seeded, "kapan bansos pkh tahap empat dibagikan ke warga"),
        ask(seeded, "Kapan bansos PKH tahap empat dibagikan ke warga desa"),
    ]
    pkh = EntityMark(start=13, end=16, entity="programme", value="pkh")

    result = label(seeded, ids(*queries), data_file, entities=[pkh])

    assert (result.written, result.duplicates, result.held_out, result.skipped) == (2, 0, 0, 0)
    assert result.labelled == 3
    content = data_file.read_text(encoding="utf-8")
    assert content.startswith("# Examples labelled in the dashboard's inbox")
    document = yaml.safe_load(content)
    assert document["version"] == "3.1"
    assert [block["intent"] for block in document["nlu"]] == [SCHEDULE]
    examples = load_examples(data_file)
    assert [(e.text, e.intent, e.entities) for e in examples] == [
        (
            "kapan bansos pkh tahap empat dibagikan ke warga",
            SCHEDULE,
            frozenset({("programme", "pkh")}),
        ),
        (
            "Kapan bansos PKH tahap empat dibagikan ke warga desa",
            SCHEDULE,
            frozenset({("programme", "pkh")}),
        ),
    ]
    # The checks of nlu/validation.py: canonical annotations, no duplicate, not held out.
    lines = [line.strip()[2:] for line in content.splitlines() if line.startswith("    - ")]
    assert [problem for line in lines for problem in parse_annotated(line)[2]] == []
    training = {normalised_text(e.text) for e in load_examples(TRAINING_DIR)}
    heldout = {normalised_text(e.text) for e in load_examples(HELDOUT_DIR)}
    written = [normalised_text(e.text) for e in examples]
    assert len(set(written)) == len(written) and not set(written) & (training | heldout)
    assert all(q.labelled_intent == SCHEDULE and q.resolved_at == NOW for q in queries)
    (audit,) = audits(seeded, "inbox.label")
    assert audit.actor == ACTOR and audit.target_type == "unanswered_query"
    assert audit.details["query_ids"] == ids(*queries)
    assert audit.details["written"] == 2 and audit.details["intent"] == SCHEDULE


def test_rasa_data_validate_passes_with_a_reviewed_file(seeded: Session, tmp_path: Path) -> None:
    training = tmp_path / "nlu"
    shutil.copytree(TRAINING_DIR, training)
    queries = [
        ask(seeded, "kapan bansos pkh tahap empat dibagikan ke warga"),
        ask(seeded, "ada [link](palsu) soal pkh\ndi grup wa 🙏"),
        ask(seeded, "tolong cek pkh nik 3201234567890123 sudah cair belum"),
    ]
    pkh = EntityMark(start=13, end=16, entity="programme", value="pkh")

    result = label(seeded, ids(*queries), training / "reviewed.yml", entities=[pkh],
                   marked_text=queries[0].text, training_dir=training)  # fmt: skip

    assert result.written == 3
    assert validation.rasa_data_validate(training) == []


def test_labelling_twice_adds_nothing_the_second_time(seeded: Session, tmp_path: Path) -> None:
    data_file = tmp_path / "reviewed.yml"
    queries = ids(ask(seeded, "uang bantuan pkh kok belum masuk rekening ya bu"))
    label(seeded, queries, data_file)
    before = data_file.read_bytes()

    again = label(seeded, queries, data_file)

    assert (again.written, again.duplicates) == (0, 1)
    assert data_file.read_bytes() == before
    assert len(audits(seeded, "inbox.label")) == 2


def test_examples_already_in_training_or_held_out_are_not_written(
    seeded: Session, tmp_path: Path
) -> None:
    data_file = tmp_path / "reviewed.yml"
    in_training = ask(seeded, "KPN CAIR MIN??")  # data/nlu/payment.yml: "kpn cair min"
    held_out = ask(seeded, "kpan pkh cair lg")  # tests/nlu/heldout/payment.yml
    new = ask(seeded, "kapan dana pkh turun ke rekening bri kami")

    result = label(seeded, ids(in_training, held_out, new), data_file)

    assert (result.written, result.duplicates, result.held_out) == (1, 1, 1)
    assert [e.text for e in load_examples(data_file)] == [new.text]


def test_examples_are_added_to_their_intents_block(seeded: Session, tmp_path: Path) -> None:
    data_file = tmp_path / "reviewed.yml"
    label(seeded, ids(ask(seeded, "berapa uang untuk anak sekolah dasar sekarang")), data_file,
          intent="ask_benefit_amount")  # fmt: skip
    label(seeded, ids(ask(seeded, "kapan uang bansos masuk ke rekening kami")), data_file)
    label(seeded, ids(ask(seeded, "nominal bantuan buat lansia tahun ini berapa")), data_file,
          intent="ask_benefit_amount")  # fmt: skip

    document = yaml.safe_load(data_file.read_text(encoding="utf-8"))
    assert [(b["intent"], b["examples"].count("\n- ") + 1) for b in document["nlu"]] == [
        ("ask_benefit_amount", 2),
        (SCHEDULE, 1),
    ]
    assert [e.text for e in load_examples(data_file) if e.intent == "ask_benefit_amount"] == [
        "berapa uang untuk anak sekolah dasar sekarang",
        "nominal bantuan buat lansia tahun ini berapa",
    ]
    assert not list(tmp_path.glob(".*.tmp"))  # the temporary file was renamed


def test_niks_are_masked_and_texts_with_nothing_to_teach_are_skipped(
    seeded: Session, tmp_path: Path
) -> None:
    data_file = tmp_path / "reviewed.yml"
    queries = [
        ask(seeded, "tolong cek bansos untuk nik 3201234567890123 sudah cair belum"),
        ask(seeded, "************0123"),
        ask(seeded, "?? !!"),
        ask(seeded, "ada [link](palsu) soal pkh\ndi grup wa"),
    ]

    result = label(seeded, ids(*queries), data_file)

    assert (result.written, result.skipped) == (2, 2)
    assert "3201234567890123" not in data_file.read_text(encoding="utf-8")
    assert [(e.text, e.entities) for e in load_examples(data_file)] == [
        ("ada (link)(palsu) soal pkh di grup wa", frozenset()),
        ("tolong cek bansos untuk nik ************0123 sudah cair belum", frozenset()),
    ]


def test_entity_marks_are_carried_to_the_other_texts_by_their_words(
    seeded: Session, tmp_path: Path
) -> None:
    data_file = tmp_path / "reviewed.yml"
    marked = ask(seeded, "kartu kks dari bank bri saya tertelan mesin atm")
    also = ask(seeded, "kartu kks dari BRI saya tertelan mesin atm kemarin")
    without = ask(seeded, "kartu kks dari bank saya tertelan mesin atm lagi")
    bri = EntityMark(start=20, end=23, entity="bank", value="bri")

    result = label(seeded, ids(marked, also, without), data_file, intent="report_card_problem",
                   entities=[bri], marked_text=marked.text)  # fmt: skip

    assert (result.written, result.skipped) == (2, 1)
    assert {(e.text, e.entities) for e in load_examples(data_file)} == {
        (marked.text, frozenset({("bank", "bri")})),
        (also.text, frozenset({("bank", "bri")})),
    }
    assert '[BRI]{"entity": "bank", "value": "bri"}' in data_file.read_text(encoding="utf-8")


def test_a_four_digit_year_can_be_marked_as_the_year_entity(
    seeded: Session, tmp_path: Path
) -> None:
    data_file = tmp_path / "reviewed.yml"
    query = ask(seeded, "jadwal tahap 1 tahun 2027 kapan ya")
    start = query.text.index("2027")
    year = EntityMark(start=start, end=start + 4, entity="year", value="2027")

    result = label(seeded, ids(query), data_file, intent="ask_payment_schedule",
                   entities=[year], marked_text=query.text)  # fmt: skip

    assert result.written == 1
    assert [e.entities for e in load_examples(data_file)] == [frozenset({("year", "2027")})]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"intent": "ask_weather"}, "unknown intent"),
        ({"entities": [EntityMark(6, 9, "colour", "red")]}, "unknown entity"),
        ({"entities": [EntityMark(6, 9, "programme", "pkh2")]}, "not a value"),
        ({"entities": [EntityMark(6, 99, "programme", "pkh")]}, "outside the text"),
        ({"entities": [EntityMark(6, 8, "programme", "pkh")]}, "cuts a word"),
        ({"entities": [EntityMark(5, 9, "programme", "pkh")]}, "space"),
        ({"query_ids": []}, "no queries"),
    ],
)
def test_labelling_refuses_bad_input_and_writes_nothing(
    seeded: Session, tmp_path: Path, changes: dict[str, object], message: str
) -> None:
    data_file = tmp_path / "reviewed.yml"
    query = ask(seeded, "cair pkh tahap berapa sekarang")

    with pytest.raises(ValueError, match=message):
        label(seeded, [query.id], data_file, **changes)

    assert not data_file.exists()
    assert query.labelled_intent is None and audits(seeded, "inbox.label") == []


# --- resolve, reply, scope -------------------------------------------------------------------


def test_resolve_marks_the_open_questions_and_is_audited(seeded: Session) -> None:
    earlier = ask(seeded, "sudah selesai")
    earlier.resolved_at = NOW - timedelta(days=1)
    opened = ask(seeded, "belum selesai")

    assert resolve_group(seeded, query_ids=ids(earlier, opened), actor=ACTOR, now=NOW) == 1

    assert earlier.resolved_at == NOW - timedelta(days=1) and opened.resolved_at == NOW
    (audit,) = audits(seeded, "inbox.resolve")
    assert audit.details == {"query_ids": sorted(ids(earlier, opened)), "queries": 2, "resolved": 1}


def test_reply_goes_once_to_each_asker_with_their_question_quoted(seeded: Session) -> None:
    ani = kpm(seeded, MELATI, 0)
    budi = kpm(seeded, MELATI, 1, unreachable=True)
    ani_first = ask(seeded, "kapan cair", user=ani, at=NOW - timedelta(days=1))
    ani_latest = ask(seeded, "kapan cair ya bu", user=ani)
    budi_asks = ask(seeded, "Kapan cair?", user=budi)
    anonymous = ask(seeded, "kapan cair")
    group = ids(ani_first, ani_latest, budi_asks, anonymous)
    answer = "Tahap 4 cair mulai 1 Desember lewat bank Himbara."

    messages = reply_messages(seeded, query_ids=group, text=f"  {answer} ", actor=ACTOR, now=NOW)

    assert [(m.user_id, m.state) for m in messages] == [
        (ani.id, OutboxState.QUEUED),
        (budi.id, OutboxState.BLOCKED),
    ]
    first = messages[0]
    assert first.text == (
        "Jawaban dari petugas PKH atas pertanyaan Bapak/Ibu: «kapan cair ya bu»\n\n" + answer
    )
    assert first.kind is OutboxKind.ADMIN_REPLY and first.chat_id == ani.chat_id
    assert first.time_zone is TimeZone.WITA and first.not_before == NOW
    assert first.dedupe_key.startswith(f"admin-reply:{ani_latest.id}:")
    assert outbox.enqueue(seeded, messages, now=NOW) == 2
    assert outbox.enqueue(seeded, messages, now=NOW) == 0  # the same reply is never sent twice
    rows = outbox_rows(seeded, kind=OutboxKind.ADMIN_REPLY)
    assert [row.state for row in rows] == [OutboxState.QUEUED, OutboxState.BLOCKED]
    assert all(query.resolved_at == NOW for query in (ani_first, ani_latest, anonymous))
    (audit,) = audits(seeded, "inbox.reply")
    assert audit.details["recipients"] == 2 and audit.details["blocked"] == 1
    assert audit.details["text"] == answer


def test_a_long_question_is_shortened_in_the_quote(seeded: Session) -> None:
    asker = kpm(seeded, MELATI)
    ask(seeded, "kata " * 100, user=asker)
    query = ask(seeded, "kata " * 100, user=asker)

    (message,) = reply_messages(seeded, query_ids=[query.id], text="Ya.", actor=ACTOR, now=NOW)

    quote = message.text.split("«")[1].split("»")[0]
    assert len(quote) == 200 and quote.endswith("…")


@pytest.mark.parametrize("text", ["", "   ", "x" * (MAX_REPLY + 1)])
def test_a_reply_must_have_1_to_3500_characters(seeded: Session, text: str) -> None:
    query = ask(seeded, "kapan cair", user=kpm(seeded, MELATI))

    with pytest.raises(ValueError, match="1 to 3500"):
        reply_messages(seeded, query_ids=[query.id], text=text, actor=ACTOR, now=NOW)

    assert query.resolved_at is None


def test_a_pendamping_may_act_only_on_their_own_kpm_questions(
    seeded: Session, tmp_path: Path
) -> None:
    maria = pendamping(seeded, MARIA).id
    own = ask(seeded, "dari melati", user=kpm(seeded, MELATI))
    other = ask(seeded, "dari teratai", user=kpm(seeded, TERATAI))
    anonymous = ask(seeded, "tanpa akun")

    for foreign in (other, anonymous):
        with pytest.raises(PermissionError):
            resolve_group(seeded, query_ids=ids(own, foreign), actor=ACTOR, now=NOW,
                          pendamping_id=maria)  # fmt: skip
        with pytest.raises(PermissionError):
            reply_messages(seeded, query_ids=ids(foreign), text="Ya.", actor=ACTOR, now=NOW,
                           pendamping_id=maria)  # fmt: skip
        with pytest.raises(PermissionError):
            propose_label(seeded, query_ids=ids(foreign), intent=SCHEDULE, actor=ACTOR, now=NOW,
                          pendamping_id=maria)  # fmt: skip
    assert own.resolved_at is None and not (tmp_path / "reviewed.yml").exists()
    assert seeded.scalar(select(func.count(LabelProposal.id))) == 0

    assert resolve_group(seeded, query_ids=[own.id], actor=ACTOR, now=NOW, pendamping_id=maria) == 1


def test_unknown_question_ids_are_refused(seeded: Session) -> None:
    with pytest.raises(ValueError, match="no unanswered queries"):
        resolve_group(seeded, query_ids=[10_000_000], actor=ACTOR, now=NOW)


# --- intake: the daily cap per asker ---------------------------------------------------------


def test_one_asker_fills_the_inbox_only_up_to_the_daily_cap_and_the_rest_is_counted(
    seeded: Session,
) -> None:
    asker = kpm(seeded, MELATI)
    morning = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # 07.00 WIB
    kept = [
        add_question(
            seeded,
            text=f"pertanyaan {number}",
            reason=UnansweredReason.FALLBACK,
            top_guesses=[],
            confidence=None,
            user_id=asker.id,
            now=morning + timedelta(minutes=number),
            daily_cap=3,
        )
        for number in range(7)
    ]
    anonymous = [
        add_question(seeded, text=f"tanpa akun {number}", reason=UnansweredReason.FALLBACK,
                     top_guesses=[], confidence=None, user_id=None, now=morning, daily_cap=3)
        for number in range(5)
    ]  # fmt: skip
    next_day = datetime(2026, 11, 23, 17, 5, tzinfo=UTC)  # 00.05 WIB on the 24th
    tomorrow = add_question(
        seeded,
        text="besok lagi",
        reason=UnansweredReason.FALLBACK,
        top_guesses=[],
        confidence=None,
        user_id=asker.id,
        now=next_day,
        daily_cap=3,
    )
    seeded.flush()

    assert [query is not None for query in kept] == [True] * 3 + [False] * 4
    assert all(query is not None for query in anonymous)  # the terminal chat is not capped
    assert tomorrow is not None
    stored = seeded.scalars(select(UnansweredQuery.text).where(UnansweredQuery.user_id == asker.id))
    assert sorted(stored) == ["besok lagi", "pertanyaan 0", "pertanyaan 1", "pertanyaan 2"]
    (overflow,) = seeded.scalars(select(InboxOverflow).where(InboxOverflow.user_id == asker.id))
    assert (overflow.day, overflow.questions) == (date(2026, 11, 23), 4)
    assert overflow_today(seeded, now=morning) == (4, 1)


def test_a_question_with_a_nul_byte_or_a_lone_surrogate_is_stored(seeded: Session) -> None:
    nul = ask(seeded, "kapan\x00 cair")
    surrogate = ask(seeded, "kapan \ud83d cair")

    assert (nul.text, surrogate.text) == ("kapan cair", "kapan ? cair")
    assert len(group_queries(seeded, filter=QueryFilter())) == 1


def test_the_daily_cap_defaults_to_the_setting(
    seeded: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.settings import get_settings

    monkeypatch.setenv("INBOX_DAILY_CAP", "2")
    get_settings.cache_clear()
    try:
        asker = kpm(seeded, MELATI)
        kept = [
            add_question(seeded, text="kapan cair", reason=UnansweredReason.FALLBACK,
                         top_guesses=[], confidence=None, user_id=asker.id, now=NOW)
            for _ in range(4)
        ]  # fmt: skip
    finally:
        get_settings.cache_clear()
    assert [query is not None for query in kept] == [True, True, False, False]


def test_intake_gives_the_same_keys_as_the_batch_used_by_the_migration(seeded: Session) -> None:
    texts = [
        LONG_QUESTION,
        LONG_QUESTION + " ya",
        "kapan cair",
        "KAPAN CAIR??",
        "bu kapan bantuan pkh tahap empat cair di desa sana",
        LONG_QUESTION + " ya bu",
        "😭😭",
        "",
        " ".join(f"kata{number}" for number in range(900)),
        "kapan " * 900,
        "kapan " * 901 + "kap",
    ]
    stored = [ask(seeded, text).group_key for text in texts]

    assert stored == group_keys(texts)
    assert stored[1] == stored[0] == similarity_key(LONG_QUESTION)
    assert len(stored[-3]) == MAX_KEY  # cut, with a digest of the whole
    assert stored[-2] == stored[-1] == "kapan"  # a flood of one word is one group


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    texts=st.lists(
        st.one_of(
            st.text(max_size=60),
            st.lists(st.sampled_from(WORDS), max_size=12).map(" ".join),
        ),
        min_size=1,
        max_size=12,
    )
)  # fmt: skip
def test_property_intake_one_by_one_equals_the_batch(seeded: Session, texts: list[str]) -> None:
    with seeded.begin_nested() as savepoint:
        earlier = list(seeded.scalars(select(UnansweredQuery.group_key).order_by(
            UnansweredQuery.id.desc()).limit(RECENT)))[::-1]  # fmt: skip
        known = set(seeded.scalars(select(UnansweredQuery.group_key).distinct()))
        stored = [ask(seeded, text).group_key for text in texts]
        savepoint.rollback()
    assert stored == group_keys(texts, known=known, recent=earlier)
    assert all(len(key) <= MAX_KEY for key in stored)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(message=messages_with_nik())
def test_property_no_typed_nik_reaches_the_inbox_row_or_its_key(
    seeded: Session, message: tuple[str, str]
) -> None:
    nik, typed = message
    with seeded.begin_nested() as savepoint:
        query = ask(seeded, typed)
        row = seeded.execute(
            select(UnansweredQuery.text, UnansweredQuery.group_key).where(
                UnansweredQuery.id == query.id
            )
        ).one()
        savepoint.rollback()
    assert not leaks(nik, row.text) and not leaks(nik, row.group_key), (typed, row)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=5000))
def test_property_any_text_has_a_bounded_key_with_no_nik(text: str) -> None:
    key = group_key_of(text)
    assert len(key) <= MAX_KEY
    assert group_key_of(text) == key
    assert group_keys([text, text]) == [key, key]


# --- masking in the training data ------------------------------------------------------------


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(message=messages_with_nik())
def test_property_no_typed_nik_reaches_the_training_data(
    seeded: Session, tmp_path: Path, message: tuple[str, str]
) -> None:
    nik, typed = message
    data_file = tmp_path / f"reviewed-{abs(hash(typed))}.yml"
    with seeded.begin_nested() as savepoint:
        query = UnansweredQuery(text=typed, reason=UnansweredReason.FALLBACK)
        seeded.add(query)
        seeded.flush()
        label(seeded, [query.id], data_file, marked_text=typed, training_dir=tmp_path / "none",
              heldout_dir=tmp_path / "none")  # fmt: skip
        savepoint.rollback()
    if data_file.exists():
        assert not leaks(nik, data_file.read_text(encoding="utf-8"))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(min_size=1, max_size=300))
def test_property_any_question_text_labels_into_a_file_that_reads_back(
    seeded: Session, tmp_path: Path, text: str
) -> None:
    data_file = tmp_path / "reviewed.yml"
    data_file.unlink(missing_ok=True)
    with seeded.begin_nested() as savepoint:
        query = ask(seeded, text)
        result = label(seeded, [query.id], data_file, training_dir=tmp_path / "none",
                       heldout_dir=tmp_path / "none")  # fmt: skip
        savepoint.rollback()
    if result.written:
        (example,) = load_examples(data_file)
        assert example.intent == SCHEDULE
        # What YAML can hold of the text: no control characters, one line, no "[" to read as markup.
        spaced = "".join(" " if c.isspace() else c for c in query.text)
        kept = "".join(c for c in spaced if unicodedata.category(c) not in ("Cc", "Cs", "Cn"))
        assert example.text == " ".join(kept.replace("[", "(").replace("]", ")").split())
    else:
        assert result.skipped == 1 and not data_file.exists()


# --- the training data file keeps what it did not write --------------------------------------

HAND_WRITTEN = """\
# Diperiksa tim data, Desember 2026. Jangan hapus komentar ini.
version: "3.1"
nlu:
- intent: ask_payment_schedule
  examples:
  - text: |
      kapan [pkh]{"entity": "programme", "value": "pkh"} tahap empat cair
    metadata:
      sumber: lapangan
  - text: pencairan bulan desember jam berapa
    metadata:
      sentiment: neutral
- intent: ask_bpnt
  examples: |
    - kartu sembako saya belum diisi  # ditulis tangan
    - bpnt bulan ini berapa

- synonym: pkh
  examples: |
    - program keluarga harapan
- intent: greet
  metadata:
    catatan: salam saja
  examples: |
    - selamat pagi bu pendamping
# akhir berkas
"""


def test_labelling_keeps_hand_written_list_form_examples_comments_and_keys(
    seeded: Session, tmp_path: Path
) -> None:
    data_file = tmp_path / "reviewed.yml"
    data_file.write_text(HAND_WRITTEN, encoding="utf-8")
    before = yaml.safe_load(HAND_WRITTEN)
    schedule = ask(seeded, "dana pkh tahap empat kapan masuk rekening bri")
    bpnt = ask(seeded, "sembako bulan depan masuk tanggal berapa")
    already = ask(seeded, "Pencairan bulan Desember jam berapa?")  # in the list form already

    label(seeded, ids(schedule, already), data_file)
    label(seeded, ids(bpnt), data_file, intent="ask_bpnt")

    content = data_file.read_text(encoding="utf-8")
    after = yaml.safe_load(content)
    # Every byte of the hand-written file is still there, in order; only new lines were added.
    added = iter(content.splitlines())
    assert all(any(line == mine for mine in added) for line in HAND_WRITTEN.splitlines())
    assert {k: v for k, v in after.items() if k != "nlu"} == {"version": "3.1"}
    blocks = after["nlu"]
    assert blocks[0] == before["nlu"][0]  # the list form with metadata, untouched
    new_block = {"intent": SCHEDULE, "examples": f"- {schedule.text}\n"}
    assert blocks[2:] == [*before["nlu"][2:], new_block]
    assert blocks[1]["examples"].splitlines()[-1] == f"- {bpnt.text}"
    assert [e.text for e in load_examples(data_file) if e.intent == "ask_bpnt"] == [
        "kartu sembako saya belum diisi  # ditulis tangan",
        "bpnt bulan ini berapa",
        bpnt.text,
    ]


# --- a pendamping's label is a proposal ------------------------------------------------------


@pytest.fixture
def proposed(seeded: Session) -> Iterator[tuple[LabelProposal, list[UnansweredQuery]]]:
    user = kpm(seeded, MELATI)
    queries = [
        ask(seeded, "kartu kks dari bank bri saya tertelan mesin atm", user=user),
        ask(seeded, "kartu kks dari BRI saya tertelan mesin atm kemarin", user=user),
    ]
    bri = EntityMark(start=20, end=23, entity="bank", value="bri")
    proposal = propose_label(
        seeded,
        query_ids=ids(*queries),
        intent="report_card_problem",
        entities=[bri],
        marked_text=queries[0].text,
        actor="admin:maria",
        now=NOW,
        pendamping_id=pendamping(seeded, MARIA).id,
    )
    yield proposal, queries


def test_a_pendamping_label_waits_for_an_admin_and_writes_no_training_data(
    seeded: Session, tmp_path: Path, proposed: tuple[LabelProposal, list[UnansweredQuery]]
) -> None:
    proposal, queries = proposed

    assert proposal.state is ProposalState.PENDING
    assert proposal.entities == [{"text": "bri", "entity": "bank", "value": "bri"}]
    assert all(q.resolved_at == NOW and q.labelled_intent is None for q in queries)
    assert samples(seeded) == set()  # out of the inbox meanwhile
    (summary,) = pending_proposals(seeded)
    assert summary.intent == "report_card_problem" and summary.questions == 2
    assert summary.pendamping == pendamping(seeded, MARIA).name
    assert summary.entities == [("bri", "bank", "bri")]
    (audit,) = audits(seeded, "inbox.propose")
    assert audit.actor == "admin:maria" and audit.details["proposal"] == proposal.id
    assert not list(tmp_path.iterdir())


def test_an_admin_accepting_a_proposal_teaches_the_bot_and_is_audited(
    seeded: Session, tmp_path: Path, proposed: tuple[LabelProposal, list[UnansweredQuery]]
) -> None:
    proposal, queries = proposed
    data_file = tmp_path / "reviewed.yml"

    result = accept_proposal(seeded, proposal_id=proposal.id, actor=ACTOR, now=NOW,
                             data_file=data_file)  # fmt: skip

    assert (result.written, result.labelled) == (2, 2)
    assert {(e.text, e.entities) for e in load_examples(data_file)} == {
        (queries[0].text, frozenset({("bank", "bri")})),
        (queries[1].text, frozenset({("bank", "bri")})),
    }
    assert proposal.state is ProposalState.ACCEPTED and proposal.decided_by == ACTOR
    assert all(q.labelled_intent == "report_card_problem" for q in queries)
    (audit,) = audits(seeded, "inbox.proposal.accept")
    assert audit.actor == ACTOR and audit.details["written"] == 2
    assert audit.details["proposed_by"] == "admin:maria"
    assert pending_proposals(seeded) == []
    with pytest.raises(ValueError, match="no pending label proposal"):
        reject_proposal(seeded, proposal_id=proposal.id, actor=ACTOR, now=NOW)


def test_rejecting_a_proposal_puts_its_questions_back_in_the_inbox(
    seeded: Session, tmp_path: Path, proposed: tuple[LabelProposal, list[UnansweredQuery]]
) -> None:
    proposal, queries = proposed

    assert reject_proposal(seeded, proposal_id=proposal.id, actor=ACTOR, now=NOW) == 2

    assert proposal.state is ProposalState.REJECTED
    assert all(q.resolved_at is None and q.label_proposal_id is None for q in queries)
    assert len(group_queries(seeded, filter=QueryFilter())) == 1
    (audit,) = audits(seeded, "inbox.proposal.reject")
    assert audit.details["query_ids"] == ids(*queries)
    with pytest.raises(ValueError, match="no pending label proposal"):
        accept_proposal(seeded, proposal_id=proposal.id, actor=ACTOR, now=NOW,
                        data_file=tmp_path / "reviewed.yml")  # fmt: skip
    assert not (tmp_path / "reviewed.yml").exists()


# --- revision 0007 backfills the key of the questions already stored -------------------------


def test_revision_0007_gives_every_stored_question_its_group_key(empty_database_url: str) -> None:
    from sqlalchemy import text as sql

    from programme import migrate
    from programme.db import make_engine

    url = empty_database_url
    migrate.upgrade(url, "0006")
    texts = [LONG_QUESTION, "kapan cair", LONG_QUESTION + " ya", "KAPAN CAIR??", "😭😭", ""]
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            for number, question in enumerate(texts):
                connection.execute(
                    sql(
                        "INSERT INTO unanswered_query (text, reason, top_guesses, created_at)"
                        " VALUES (:text, 'fallback', '[]', :at)"
                    ),
                    {"text": question, "at": NOW + timedelta(minutes=number)},
                )
        migrate.upgrade(url)
        with engine.connect() as connection:
            stored = connection.execute(
                sql("SELECT group_key FROM unanswered_query ORDER BY id")
            ).scalars()
            assert list(stored) == group_keys(texts)
        migrate.downgrade(url, "0006")  # and back, keeping the questions
        with engine.connect() as connection:
            count = connection.execute(sql("SELECT count(*) FROM unanswered_query")).scalar()
            assert count == len(texts)
    finally:
        engine.dispose()
