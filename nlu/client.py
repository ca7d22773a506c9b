"""Async client for the Rasa server's `/model/parse`, with typed errors for graceful fallback."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import partial
from types import TracebackType
from typing import Any, Self

import httpx

from nlu.entities import canonical_value, find_named, find_stages, find_years, resolve_year
from nlu.schema import FALLBACK_INTENT


class NLUError(Exception):
    """The NLU server could not give a parse; the bot answers without one."""


class NLUUnavailable(NLUError):
    """The server is down, refused the connection or did not answer in time."""


class NLUBadResponse(NLUError):
    """The server answered, but with an error status or a body that is not a parse."""


_BACKSTOPS: tuple[tuple[str, Callable[[str], list[tuple[int, int, str]]]], ...] = (
    ("year", find_years),
    ("stage", find_stages),
    ("component", partial(find_named, "component")),
    ("bank", partial(find_named, "bank")),
    ("module", partial(find_named, "module")),
)


@dataclass(frozen=True, slots=True)
class IntentGuess:
    """One intent of the ranking, with the model's confidence."""

    name: str
    confidence: float


@dataclass(frozen=True, slots=True)
class Entity:
    """An extracted entity: its type, its canonical value and what the user typed."""

    entity: str
    value: str
    text: str


@dataclass(frozen=True, slots=True)
class ParseResult:
    """What the NLU understood of one message."""

    text: str
    intent: str
    confidence: float
    ranking: tuple[IntentGuess, ...]
    entities: tuple[Entity, ...]

    @property
    def is_fallback(self) -> bool:
        return self.intent == FALLBACK_INTENT

    def values(self, entity: str) -> list[str]:
        """The distinct canonical values of one entity type, in the order they were typed."""
        return list(dict.fromkeys(e.value for e in self.entities if e.entity == entity))

    def first(self, entity: str) -> str | None:
        found = self.values(entity)
        return found[0] if found else None

    def year(self, today: date) -> int | None:
        """The first year the message names ("2027", "tahun depan"), as a number; else None."""
        return resolve_year(self.first("year"), today)

    @classmethod
    def from_rasa(cls, payload: dict[str, Any]) -> ParseResult:
        """Build from Rasa's JSON, keeping only entities with a canonical value."""
        try:
            text = str(payload.get("text", ""))
            intent = payload.get("intent") or {}
            ranking = tuple(
                IntentGuess(str(guess["name"]), float(guess["confidence"]))
                for guess in payload.get("intent_ranking") or ()
            )
            entities = []
            for raw in payload.get("entities") or ():
                value = canonical_value(str(raw["entity"]), raw.get("value"))
                if value is not None:
                    start, end = raw.get("start"), raw.get("end")
                    typed = text[start:end] if isinstance(start, int) else str(raw.get("value"))
                    entities.append(Entity(str(raw["entity"]), value, typed))
            # The model misses a regional, spelled-out or capitalised form now and then ("thn
            # dpn", "tahap papat", "UNTUK BALITA"); these patterns do not. They only fill in an
            # entity type the model found none of.
            for name, finder in _BACKSTOPS:
                if not any(e.entity == name for e in entities):
                    entities += [Entity(name, v, text[s:e]) for s, e, v in finder(text)]
            return cls(
                text=text,
                intent=str(intent.get("name") or FALLBACK_INTENT),
                confidence=float(intent.get("confidence") or 0.0),
                ranking=ranking,
                entities=tuple(entities),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise NLUBadResponse(f"not a Rasa parse: {error}") from error


class NLUClient:
    """Talks to one Rasa server over HTTP; share one instance for the life of the process."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 2.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=httpx.Timeout(timeout, connect=min(timeout, 1.0)),
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
            transport=transport,
        )

    async def parse(self, text: str) -> ParseResult:
        """Parse one message; raises NLUUnavailable or NLUBadResponse instead of hanging."""
        if not text.strip():
            return ParseResult(text, FALLBACK_INTENT, 0.0, (), ())
        try:
            response = await self._http.post("/model/parse", json={"text": text})
        except httpx.TimeoutException as error:
            raise NLUUnavailable(f"NLU server too slow: {type(error).__name__}") from error
        except httpx.TransportError as error:
            raise NLUUnavailable(f"NLU server unreachable: {type(error).__name__}") from error
        if response.status_code != httpx.codes.OK:
            raise NLUBadResponse(f"NLU server answered HTTP {response.status_code}")
        try:
            payload = response.json()
        except ValueError as error:
            raise NLUBadResponse("NLU server answered something that is not JSON") from error
        if not isinstance(payload, dict):
            raise NLUBadResponse("NLU server answered JSON that is not an object")
        return ParseResult.from_rasa(payload)

    async def is_ready(self) -> bool:
        """True when the server answers and has a model loaded."""
        try:
            response = await self._http.get("/status")
            return response.status_code == httpx.codes.OK and bool(
                response.json().get("model_file")
            )
        except (httpx.HTTPError, ValueError):
            return False

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
