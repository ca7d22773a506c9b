"""The pendamping's tools in the bot: /kelompok, /undangan, /jadwal (P2K2 meetings), /siaran."""
