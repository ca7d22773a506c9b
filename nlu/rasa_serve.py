"""`rasa run` with one change: PUT /model loads the new model off the server's event loop.

Run in Rasa's environment (`.venv-rasa/bin/python -m nlu.rasa_serve run --enable-api …`).

Rasa 3.6 replaces the model on PUT /model by calling `Agent.load_model`, which is synchronous,
inside the request handler: every parse waits for the whole load (seconds on a busy machine),
and past the bot's NLU timeout (2 s) the bot answers "not understood". Here the same loader runs
on an event loop of its own in a worker thread; the server keeps answering with the old model
until Rasa swaps `app.ctx.agent` to the new one, a single assignment. (What of the load holds
the GIL still delays parses; nlu/components/stored_crf.py removes the biggest part, Rasa fitting
the CRFs again.) Rasa 3.6.21 is the last open-source release, so the patched function stays.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any


def load_models_off_the_event_loop() -> None:
    """Make rasa.server load agents (PUT /model, /model/test) in a worker thread."""
    import rasa.server  # type: ignore[import-not-found]

    load_on_the_loop = rasa.server._load_agent
    if getattr(load_on_the_loop, "off_the_loop", False):
        return

    async def load_in_a_thread(*args: Any, **kwargs: Any) -> Any:
        # The agent built there holds no loop-bound resources: no event broker, in-memory
        # tracker and lock stores (the lock store is replaced by the server's own anyway).
        return await asyncio.to_thread(lambda: asyncio.run(load_on_the_loop(*args, **kwargs)))

    load_in_a_thread.off_the_loop = True  # type: ignore[attr-defined]
    rasa.server._load_agent = load_in_a_thread


def main() -> int:
    load_models_off_the_event_loop()
    from rasa.__main__ import main as rasa_main  # type: ignore[import-not-found]

    sys.argv[0] = "rasa"
    rasa_main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
