"""The unanswered-questions inbox on both databases: grouping, filters, labelling, replies."""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from nlu import validation
from nlu.trainingdata import load_examples, normalised_text, parse_annotated
from programme import outbox
from programme.inbox import (
    HELDOUT_DIR,
    MAX_REPLY,
    TRAINING_DIR,
    EntityMark,
    LabelResult,
    QueryFilter,
    group_queries,
    label_group,
    reply_messages,
    resolve_group,
    similarity_key,
)
from programme.models import (
    AuditLog,
    Family,
    OutboxKind,
    OutboxState,
    TelegramUser,
    TimeZone,
    UnansweredQuery,
    UnansweredReason,
)
from tests.programme.roster import MARIA, MELATI, TERATAI, families, link, outbox_rows, pendamping

ACTOR = "admin:siti"
NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # 10.00 WIB
SCHEDULE = "ask_payment_schedule"
LONG_QUESTION = "bu kapan bantuan pkh tahap tiga cair di desa kami"  # nine words


def ask(
    session: Session,
    text: str,
    *,
    user: TelegramUser | None = None,
    reason: UnansweredReason = UnansweredReason.LOW_CONFIDENCE,
    guess: str = SCHEDULE,
    at: datetime = NOW - timedelta(hours=1),
) -> UnansweredQuery:
    """A question in the inbox, as bot.assistant.record_unanswered leaves it."""
    query = UnansweredQuery(
        text=text,
        reason=reason,
        top_guesses=[{"intent": guess, "confidence": 0.41}, {"intent": "greet", "confidence": 0.2}],
        confidence=0.41,
        user_id=user.id if user else None,
        created_at=at,
    )
    session.add(query)
    session.flush()
    return query


def kpm(session: Session, kelompok_code: str, number: int = 0, **changes: Any) -> TelegramUser:
    return link(session, families(session, kelompok_code)[number], **changes)


def audits(session: Session, action: str) -> list[AuditLog]:
    return list(session.scalars(select(AuditLog).where(AuditLog.action == action)))


def ids(*queries: UnansweredQuery) -> list[int]:
    return [query.id for query in queries]


def label(session: Session, queries: list[int], data_file: Path, **changes: Any) -> LabelResult:
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
    assert groups[1].query_ids == [other.id] and groups[1].askers == 0 and groups[1].regions == []


def test_near_identical_word_sets_join_the_larger_group(seeded: Session) -> None:
    first = [ask(seeded, LONG_QUESTION, at=NOW - timedelta(days=2)) for _ in range(3)]
    extra_word = ask(seeded, LONG_QUESTION + " ya", at=NOW - timedelta(hours=3))  # 9/10 words
    two_words_off = ask(seeded, "bu kapan bantuan pkh tahap empat cair di desa sana")  # 7/11

    groups = group_queries(seeded, filter=QueryFilter())

    assert [(g.count, g.sample) for g in groups] == [
        (4, LONG_QUESTION),
        (1, "bu kapan bantuan pkh tahap empat cair di desa sana"),
    ]
    assert groups[0].query_ids == sorted(ids(*first, extra_word))
    assert groups[0].first_asked == NOW - timedelta(days=2)
    assert groups[0].last_asked == NOW - timedelta(hours=3)
    assert groups[1].query_ids == [two_words_off.id]


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
    assert content.startswith("# Examples labelled by admins")
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


def test_examples_go_under_their_intent_in_schema_order(seeded: Session, tmp_path: Path) -> None:
    data_file = tmp_path / "reviewed.yml"
    label(seeded, ids(ask(seeded, "berapa uang untuk anak sekolah dasar sekarang")), data_file,
          intent="ask_benefit_amount")  # fmt: skip
    label(seeded, ids(ask(seeded, "kapan uang bansos masuk ke rekening kami")), data_file)
    label(seeded, ids(ask(seeded, "nominal bantuan buat lansia tahun ini berapa")), data_file,
          intent="ask_benefit_amount")  # fmt: skip

    document = yaml.safe_load(data_file.read_text(encoding="utf-8"))
    assert [(b["intent"], b["examples"].count("\n- ") + 1) for b in document["nlu"]] == [
        (SCHEDULE, 1),
        ("ask_benefit_amount", 2),
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
            label(seeded, ids(foreign), tmp_path / "reviewed.yml", pendamping_id=maria)
    assert own.resolved_at is None and not (tmp_path / "reviewed.yml").exists()

    assert resolve_group(seeded, query_ids=[own.id], actor=ACTOR, now=NOW, pendamping_id=maria) == 1


def test_unknown_question_ids_are_refused(seeded: Session) -> None:
    with pytest.raises(ValueError, match="no unanswered queries"):
        resolve_group(seeded, query_ids=[10_000_000], actor=ACTOR, now=NOW)
