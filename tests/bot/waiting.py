"""Waiting for what the bot does in the background (the scheduler, the drain, another process)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def eventually(
    condition: Callable[[], bool], within: float = 60, every: float = 0.05
) -> None:
    """Return once `condition()` is true; fail the test if it is not within `within` seconds."""
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(every)
