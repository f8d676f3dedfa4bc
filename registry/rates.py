"""Rate-limit values as written in settings: `600/min`, `100/10s`, `5000/h`, `off`.

Pure Python, so that settings can refuse a bad value at start-up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
RATE = re.compile(
    r"^\s*(?P<count>\d+)\s*/\s*(?P<span>\d*)\s*"
    r"(?P<unit>s|sec|second|m|min|minute|h|hour|d|day)s?\s*$",
    re.IGNORECASE,
)
OFF = {"", "off", "none"}


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int

    @property
    def period(self) -> str:
        names = {1: "second", 60: "minute", 3600: "hour", 86400: "day"}
        return names.get(self.seconds, f"{self.seconds} seconds")


def parse_rate(value: str) -> Rate | None:
    """A Rate, None for `off`, or ValueError naming the accepted forms."""
    if value.strip().lower() in OFF:
        return None
    match = RATE.match(value)
    if not match or int(match["count"]) < 1 or match["span"] == "0":
        raise ValueError(
            f"{value!r} is not a rate: use N/period (600/min, 100/10s, 5000/h) or off."
        )
    span = int(match["span"] or 1)
    return Rate(count=int(match["count"]), seconds=span * UNITS[match["unit"][0].lower()])
