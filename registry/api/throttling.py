"""Rate limits of the API: per API token, per client address for anonymous callers.

A DRF throttle over Django's cache (`CACHE_URL`), with a sliding-window counter rather
than DRF's list of timestamps: two counters per caller (this period and the last, the
last one weighted by how much of it still falls inside the window), so that a limit of
3000 a minute costs two small cache entries instead of a 3000-item list rewritten on
every request. Counting is atomic on Redis (`INCR`); the embedded file cache may let a
few concurrent requests through unseen, never block one wrongly.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from registry.models import ApiToken
from registry.rates import Rate

logger = logging.getLogger(__name__)

# Reads that arrive with another method: `QUERY /v1/models` is a search.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "QUERY"})
SCOPE_WORDS = {"reads": "reads", "writes": "writes", "anon": "requests"}


def wait_seconds(rate: Rate, previous: int, current: int, into: float) -> float:
    """How long until one more request fits, with no other request meanwhile.

    `into` is how far (0..1) the current period has run; the window's count is
    `previous * (1 - into) + current`, and it falls as the window slides on.
    """
    room = rate.count - 1 - current
    if room >= 0 and previous > 0:
        # Within this period, as the last period's share shrinks.
        needed = 1 - room / previous
        return max(0.0, (needed - into) * rate.seconds)
    # Only in the next period, once this period's share has shrunk enough.
    needed = 1 - (rate.count - 1) / current if current else 0.0
    return (1 - into) * rate.seconds + max(0.0, needed) * rate.seconds


class TokenRateThrottle(BaseThrottle):
    """`reads` and `writes` per API token, `anon` per client address (IPv6: per /64)."""

    def scope(self, request: Request) -> tuple[str, str]:
        if isinstance(request.auth, ApiToken):
            kind = "reads" if request.method in READ_METHODS else "writes"
            return kind, f"token:{request.auth.pk}"
        return "anon", f"ip:{self.client(request)}"

    def client(self, request: Request) -> str:
        ident = self.get_ident(request)
        try:
            address = ipaddress.ip_address(ident)
        except ValueError:
            return ident
        if isinstance(address, ipaddress.IPv6Address):
            if address.ipv4_mapped is not None:
                return str(address.ipv4_mapped)
            # One host usually has a whole /64: counting addresses would not limit it.
            return str(ipaddress.ip_network(f"{address}/64", strict=False))
        return str(address)

    def allow_request(self, request: Request, view: Any) -> bool:
        kind, ident = self.scope(request)
        rate: Rate | None = settings.VITRINE_RATE_LIMITS.get(kind)
        if rate is None:
            return True
        now = time.time()
        period, offset = divmod(now, rate.seconds)
        into = offset / rate.seconds
        key = f"vitrine:rate:{kind}:{ident}:{rate.seconds}:"
        current_key, previous_key = f"{key}{int(period)}", f"{key}{int(period) - 1}"
        try:
            counts = cache.get_many([current_key, previous_key])
            current = int(counts.get(current_key, 0))
            previous = int(counts.get(previous_key, 0))
            if previous * (1 - into) + current + 1 > rate.count:
                self.refuse(kind, rate, wait_seconds(rate, previous, current, into))
            if not current:
                cache.add(current_key, 0, timeout=2 * rate.seconds + 1)
            cache.incr(current_key)
        except exceptions.Throttled:
            raise
        except Exception:
            # A limit that cannot be counted is not worth refusing service over.
            logger.warning("Rate limit not applied: the cache failed", exc_info=True)
        return True

    def refuse(self, kind: str, rate: Rate, wait: float) -> None:
        who = "this API token" if kind != "anon" else "anonymous callers from this address"
        raise exceptions.Throttled(
            wait=max(1, math.ceil(wait)),
            detail=f"Rate limit exceeded: {rate.count} {SCOPE_WORDS[kind]} per {rate.period} "
            f"for {who}.",
        )
