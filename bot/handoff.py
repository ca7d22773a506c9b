"""request_human: a KPM's question goes to their pendamping, whose answer goes back to the KPM.

No table is needed: the pendamping's "Balas" button carries the KPM's chat id, signed, and the
pendamping's next text message is the answer.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError

from actions import Asker
from bot.context import BotContext, in_session, reply_text
from core.i18n import translator
from programme.buttons import ButtonKind
from programme.handoffs import find_handoff
from programme.kelompok import pendamping_name
from programme.models import UserRole


def has_question_to_forward(context: BotContext) -> bool:
    """Whether the chat has a real question to hand over (not "minta pendamping" itself)."""
    return bool(context.chat_data and context.chat_data.last_question)


async def ask_what_to_forward(
    update: Update, context: BotContext, asker: Asker, pendamping_id: int
) -> None:
    """No question yet: ask what to tell the pendamping; the KPM's next text is forwarded."""
    if context.user_data is not None:
        context.user_data.forward_to = pendamping_id
    await reply_text(
        update,
        translator(asker.language)._(
            "Baik. Apa yang ingin Bapak/Ibu sampaikan kepada pendamping? Silakan ketik pesannya, "
            "nanti saya teruskan."
        ),
    )


async def forward_typed_message(
    update: Update, context: BotContext, asker: Asker, text: str
) -> bool:
    """If the KPM was asked what to tell the pendamping, forward this text; True when it was."""
    if context.user_data is None or context.user_data.forward_to is None:
        return False
    pendamping_id, context.user_data.forward_to = context.user_data.forward_to, None
    name = await forward_to_pendamping(update, context, asker, pendamping_id, question=text)
    if name:
        await reply_text(
            update,
            translator(asker.language)._(
                "Baik, pesan Bapak/Ibu sudah saya teruskan ke pendamping, {name}. Mohon ditunggu, "
                "ya; pendamping akan membalas di sini atau menghubungi Bapak/Ibu.",
                name=name,
            ),
        )
    return True


async def forward_to_pendamping(
    update: Update,
    context: BotContext,
    asker: Asker,
    pendamping_id: int,
    *,
    question: str | None = None,
) -> str | None:
    """Send the KPM's question (by default the last real one) to their pendamping, with a
    signed "Balas" button; the pendamping's name when it reached them."""
    chat = update.effective_chat
    if chat is None:
        return None
    handoff = await in_session(
        context,
        lambda s: find_handoff(
            s, pendamping_id=pendamping_id, asker_name=asker.first_name, family_id=asker.family_id
        ),
    )
    if handoff is None:
        return None
    if question is None:
        question = (context.chat_data.last_question if context.chat_data else None) or "-"
    delivered = 0
    for pendamping_chat in handoff.pendamping_chats:
        tr = translator("id")
        button = InlineKeyboardButton(
            tr._("Balas"),
            callback_data=context.services.signer.sign(
                ButtonKind.REPLY, str(chat.id), for_user=pendamping_chat
            ),
        )
        try:
            await context.bot.send_message(
                pendamping_chat,
                tr._(
                    "Pertanyaan dari {name} (keluarga {family}):\n\n{question}\n\nTekan Balas "
                    "untuk menjawab; jawaban Anda saya kirim ke KPM ini.",
                    name=handoff.asker_name,
                    family=handoff.family,
                    question=question,
                ),
                reply_markup=InlineKeyboardMarkup([[button]]),
            )
            delivered += 1
        except TelegramError:
            continue
    if not delivered:
        tr = translator(asker.language)
        await reply_text(
            update,
            tr._(
                "Pendamping Bapak/Ibu belum bisa dihubungi lewat asisten ini. Silakan hubungi "
                "langsung: {name} {phone}.",
                name=handoff.pendamping_name,
                phone=handoff.pendamping_phone or "",
            ),
        )
        return None
    return handoff.pendamping_name


async def start_reply(update: Update, context: BotContext, asker: Asker, kpm_chat: str) -> None:
    """The pendamping tapped "Balas": their next text goes to that KPM."""
    tr = translator(asker.language)
    if asker.role is not UserRole.PENDAMPING or context.user_data is None:
        await reply_text(update, tr._("Tombol ini khusus untuk pendamping."))
        return
    context.user_data.replying_to = int(kpm_chat)
    await reply_text(update, tr._("Silakan ketik jawaban Anda. Ketik /batal untuk batal."))


async def deliver_reply(update: Update, context: BotContext, asker: Asker) -> bool:
    """If this pendamping is answering a KPM, send the text there; True when it was that."""
    if asker.role is not UserRole.PENDAMPING or context.user_data is None:
        return False
    kpm_chat, context.user_data.replying_to = context.user_data.replying_to, None
    message = update.effective_message
    if kpm_chat is None or message is None or not message.text:
        return False
    name = await in_session(
        context,
        lambda s: pendamping_name(s, pendamping_id=asker.pendamping_id or 0) or "pendamping",
    )
    tr = translator("id")
    try:
        await context.bot.send_message(
            kpm_chat,
            tr._("Jawaban dari pendamping {name}:\n\n{answer}", name=name, answer=message.text),
        )
    except TelegramError:
        await reply_text(update, translator(asker.language)._("Maaf, jawaban tidak terkirim."))
        return True
    await reply_text(update, translator(asker.language)._("Jawaban sudah terkirim ke KPM."))
    return True
