"""Rate limits per API token (per client address for anonymous callers), counted in the
real caches: Redis, and the embedded default (files under VITRINE_DATA_DIR)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from registry.api.throttling import wait_seconds
from registry.models import MLModel
from registry.rates import Rate, parse_rate

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def redis_answers() -> bool:
    host, port = REDIS_URL.split("//", 1)[1].split("/", 1)[0].split(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(params=["redis", "file"])
def shared_cache(request: pytest.FixtureRequest, settings: Any, tmp_path: Path) -> str:
    """Django's cache as a deployment shares it between processes."""
    if request.param == "redis":
        if not redis_answers():
            if IN_CI:
                pytest.fail(f"CI tests rate limits on Redis, but {REDIS_URL} does not answer")
            pytest.skip(f"Redis does not answer at {REDIS_URL} (set TEST_REDIS_URL)")
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": REDIS_URL,
                # Other test runs share this Redis: keys of their own, and no flushing.
                "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
            }
        }
    else:
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                "LOCATION": str(tmp_path / "cache"),
            }
        }
    return str(request.param)


def limits(settings: Any, **rates: str) -> None:
    settings.VITRINE_RATE_LIMITS = {
        kind: parse_rate(rates.get(kind, "off")) for kind in ("reads", "writes", "anon")
    }


def client(token: str | None = None, address: str = "203.0.113.7", **extra: str) -> APIClient:
    api = APIClient(REMOTE_ADDR=address, **extra)
    if token:
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api


def assert_limited(response: Any, detail: str) -> int:
    assert response.status_code == 429, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["title"] == "Too many requests"
    assert body["status"] == 429
    assert detail in body["detail"]
    retry_after = int(response["Retry-After"])
    assert 1 <= retry_after <= 120  # a sliding window of a minute clears within two
    return retry_after


# Through the API --------------------------------------------------------------------


def test_a_token_past_its_write_limit_gets_429_naming_the_limit_and_writes_nothing(
    shared_cache: str, settings: Any, token: str
) -> None:
    limits(settings, writes="2/min", reads="100/min")
    api = client(token)
    body = {"owner": "alice", "name": "m", "visibility": "public", "hardware": "cpu"}
    for name in ("first", "second"):
        assert api.post("/v1/models", {**body, "name": name}, format="json").status_code == 201
    refused = api.post("/v1/models", {**body, "name": "third"}, format="json")
    assert_limited(refused, "Rate limit exceeded: 2 writes per minute for this API token.")
    assert sorted(MLModel.objects.values_list("name", flat=True)) == ["first", "second"]
    # Reads are counted apart.
    assert api.get("/v1/hardware").status_code == 200


def test_the_read_limit_counts_each_token_on_its_own(
    shared_cache: str, settings: Any, token: str, other_user: Any, make_token: Any
) -> None:
    limits(settings, reads="3/min")
    api = client(token)
    assert [api.get("/v1/models").status_code for _ in range(3)] == [200, 200, 200]
    assert_limited(api.get("/v1/models"), "3 reads per minute for this API token")
    assert client(make_token(other_user)).get("/v1/models").status_code == 200


def test_anonymous_callers_are_limited_per_address_and_cannot_dodge_with_headers(
    shared_cache: str, settings: Any, db: Any
) -> None:
    limits(settings, anon="2/min")
    for _ in range(2):
        assert client().get("/v1/hardware").status_code == 200
    # X-Forwarded-For is only believed behind VITRINE_TRUSTED_PROXIES (0 by default).
    dodge = client(HTTP_X_FORWARDED_FOR="198.51.100.1").get("/v1/hardware")
    assert_limited(dodge, "2 requests per minute for anonymous callers from this address")
    assert client(address="203.0.113.8").get("/v1/hardware").status_code == 200


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_caller(
    shared_cache: str, settings: Any, db: Any
) -> None:
    limits(settings, anon="1/min")
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}

    def via_proxy(caller: str) -> Any:
        return client(address="10.0.0.2", HTTP_X_FORWARDED_FOR=caller).get("/v1/hardware")

    assert via_proxy("198.51.100.1").status_code == 200
    assert via_proxy("198.51.100.2").status_code == 200
    assert_limited(via_proxy("198.51.100.1"), "anonymous")


def test_ipv6_callers_are_counted_per_64_network(shared_cache: str, settings: Any, db: Any) -> None:
    limits(settings, anon="1/min")
    assert client(address="2001:db8:1:2::1").get("/v1/hardware").status_code == 200
    assert_limited(client(address="2001:db8:1:2::ffff").get("/v1/hardware"), "anonymous")
    assert client(address="2001:db8:1:3::1").get("/v1/hardware").status_code == 200


def test_a_refused_caller_gets_in_again_after_retry_after(
    shared_cache: str, settings: Any, token: str
) -> None:
    limits(settings, reads="2/1s")
    api = client(token)
    assert [api.get("/v1/hardware").status_code for _ in range(2)] == [200, 200]
    retry_after = assert_limited(api.get("/v1/hardware"), "2 reads per second")
    assert retry_after <= 2
    time.sleep(retry_after)
    assert api.get("/v1/hardware").status_code == 200


def test_limits_that_are_off_never_refuse(settings: Any, token: str) -> None:
    limits(settings)  # all off, as in these test settings
    api = client(token)
    assert {api.get("/v1/hardware").status_code for _ in range(30)} == {200}


def test_a_cache_that_is_down_lets_requests_through(settings: Any, token: str) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # the discard port: nothing answers
        }
    }
    limits(settings, reads="1/min")
    api = client(token)
    assert [api.get("/v1/hardware").status_code for _ in range(3)] == [200, 200, 200]


# The sliding window -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("previous", "current", "into", "expected"),
    [
        (0, 10, 0.25, 45.0 + 6.0),  # all in this minute: a tenth into the next one
        (10, 3, 0.1, 18.0),  # last minute's share must fall to 6: 40% into this one
        (10, 5, 0.0, 36.0),  # last minute's share must fall to 4
        (20, 10, 0.9, 6.0 + 6.0),  # both full: the next minute, a tenth into it
    ],
)
def test_the_wait_is_until_one_more_request_fits(
    previous: int, current: int, into: float, expected: float
) -> None:
    assert wait_seconds(Rate(10, 60), previous, current, into) == pytest.approx(expected)


# Settings ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "rate"),
    [
        ("600/min", Rate(600, 60)),
        ("3000/minute", Rate(3000, 60)),
        ("100/10s", Rate(100, 10)),
        (" 5 / h ", Rate(5, 3600)),
        ("1/day", Rate(1, 86400)),
        ("off", None),
        ("", None),
    ],
)
def test_rates_are_read_as_n_per_period_or_off(value: str, rate: Rate | None) -> None:
    assert parse_rate(value) == rate


@pytest.mark.parametrize("value", ["600", "0/min", "10/0s", "ten/min", "5/week", "-1/s"])
def test_a_bad_rate_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="is not a rate"):
        parse_rate(value)


def settings_of(env: dict[str, str], code: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("VITRINE_", "CACHE"))}
    clean.pop("REDIS_URL", None)
    return subprocess.run(
        [sys.executable, "-c", f"import registry.settings as s; {code}"],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).parents[3],
    )


def test_the_server_refuses_to_start_with_a_bad_rate(tmp_path: Path) -> None:
    result = settings_of(
        {"VITRINE_DATA_DIR": str(tmp_path), "VITRINE_RATE_LIMIT_WRITES": "lots"}, "pass"
    )
    assert result.returncode != 0
    assert "VITRINE_RATE_LIMIT_WRITES: 'lots' is not a rate" in result.stderr


def test_by_default_limits_are_on_and_the_cache_is_shared_files(tmp_path: Path) -> None:
    result = settings_of(
        {"VITRINE_DATA_DIR": str(tmp_path)},
        "print(s.CACHES['default']['BACKEND'], s.CACHES['default']['LOCATION']);"
        "print(s.VITRINE_RATE_LIMITS)",
    )
    assert result.returncode == 0, result.stderr
    cache_line, rates_line = result.stdout.splitlines()
    assert cache_line == f"django.core.cache.backends.filebased.FileBasedCache {tmp_path}/cache"
    assert "'reads': Rate(count=3000, seconds=60)" in rates_line
    assert "'writes': Rate(count=600, seconds=60)" in rates_line


def test_cache_url_picks_redis(tmp_path: Path) -> None:
    result = settings_of(
        {"VITRINE_DATA_DIR": str(tmp_path), "CACHE_URL": "redis://cache:6379/1"},
        "print(s.CACHES['default'])",
    )
    assert "RedisCache" in result.stdout
    assert "redis://cache:6379/1" in result.stdout
