"""Quiet hours: the local hours in which routine bulk messages wait (21.00–06.00 by default)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class QuietHours:
    """Local hours in which no bulk message goes out unless it is urgent (21.00–06.00 default)."""

    start: time = time(21)
    end: time = time(6)

    def contains(self, moment: datetime, zone: ZoneInfo) -> bool:
        local = moment.astimezone(zone).time()
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def ends_after(self, moment: datetime, zone: ZoneInfo) -> datetime:
        """The first moment at or after `moment` that is outside quiet hours in `zone`."""
        if not self.contains(moment, zone):
            return moment
        local = moment.astimezone(zone)
        end = local.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        return end if end > local else end + timedelta(days=1)

    @classmethod
    def parse(cls, text: str) -> QuietHours | None:
        """'21-6' or '21.00-06.00' → QuietHours; '' or 'off' → None (no quiet hours)."""
        text = text.strip().lower()
        if text in ("", "off", "none"):
            return None
        try:
            start, end = (_parse_hour(part) for part in text.split("-"))
        except ValueError as exc:
            raise ValueError(f"quiet hours must look like 21-6, got {text!r}") from exc
        return cls(start, end)


def _parse_hour(text: str) -> time:
    hour, _, minute = text.strip().replace(":", ".").partition(".")
    return time(int(hour), int(minute or 0))
