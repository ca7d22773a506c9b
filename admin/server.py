"""The dashboard's web server: uvicorn, configured for what faces the network.

`pkh admin serve` and the tests that drive a real server build it here, so they run the same
configuration: no proxy trusted unless FORWARDED_ALLOW_IPS names it (a forged X-Forwarded-For
from anyone else is ignored), no Server header, and uvicorn's own log handlers masking NIKs and
secrets like every other handler (core.redaction).
"""

from __future__ import annotations

import copy

import uvicorn
from starlette.types import ASGIApp
from uvicorn.config import LOGGING_CONFIG

from core.redaction import with_redaction
from core.settings import Settings


def server_config(app: ASGIApp, settings: Settings, *, host: str, port: int) -> uvicorn.Config:
    """The uvicorn configuration for the dashboard `app`."""
    proxies = settings.forwarded_allow_ips
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        # uvicorn's default trusts 127.0.0.1 (or its own FORWARDED_ALLOW_IPS): say it explicitly.
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or [],
        server_header=False,
        log_config=with_redaction(copy.deepcopy(LOGGING_CONFIG)),
    )


def serve(app: ASGIApp, settings: Settings, *, host: str, port: int) -> None:
    """Run the dashboard until interrupted."""
    uvicorn.Server(server_config(app, settings, host=host, port=port)).run()
