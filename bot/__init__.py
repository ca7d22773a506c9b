"""The conversational front ends: the Telegram bot and the terminal chat."""
