"""A real uvicorn server for the dashboard, as `pkh admin serve` configures it, in a thread."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn
from starlette.types import ASGIApp

from admin.server import server_config
from core.settings import Settings


@dataclass
class RunningServer:
    url: str
    host: str
    port: int


@contextmanager
def running_server(app: ASGIApp, settings: Settings) -> Iterator[RunningServer]:
    """The dashboard on a free port of 127.0.0.1, configured as `pkh admin serve` does."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(server_config(app, settings, host="127.0.0.1", port=port))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the dashboard did not start"
        time.sleep(0.05)
    try:
        yield RunningServer(f"http://127.0.0.1:{port}", "127.0.0.1", port)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
