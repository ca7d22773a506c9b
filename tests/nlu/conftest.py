"""A real Rasa server with the trained model, started once for the NLU integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from nlu.server import free_port, start_server
from nlu.training import train


@pytest.fixture(scope="session")
def nlu_url() -> Iterator[str]:
    """URL of a Rasa server serving the model for the current config and data."""
    model, _ = train()  # a no-op when `make test` has already trained this exact model
    server = start_server(port=free_port(), model=model)
    try:
        yield server.url
    finally:
        server.stop()
