"""Webhooks to users: signed per Standard Webhooks, filtered, throttled, retried, and never
sent into the server's own network."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

import pytest
from replicate.exceptions import ReplicateError

from registry import webhooks
from tests.conftest import publish
from tests.factories import ModelFactory
from tests.receivers import receiver

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.cog]


def test_signatures_match_the_standard_webhooks_test_vector() -> None:
    assert (
        webhooks.signature(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            b'{"test": 2432232314}',
        )
        == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


def test_webhooks_carry_the_prediction_and_verify_with_the_replicate_client(
    hello_version: Any, replicate_client: Any
) -> None:
    secret = replicate_client.webhooks.default.secret()
    with receiver() as hook:
        prediction = replicate_client.predictions.create(
            version=hello_version.id,
            input={"text": "hook", "sleep": 0.6},
            webhook=hook.url,
            webhook_events_filter=["start", "output", "logs", "completed"],
        )
        completed = f"msg_{prediction.id}_completed"
        hook.wait_for(lambda rs: any(r.headers["webhook-id"] == completed for r in rs))
        for request in hook.requests:
            replicate_client.webhooks.validate(
                headers=request.headers, body=request.body.decode(), secret=secret
            )
        # Bodies are read when sent, so a late output delivery may also say "succeeded";
        # the completed event is the one that must.
        final = next(r for r in hook.requests if r.headers["webhook-id"] == completed)
        current = replicate_client.predictions.get(prediction.id)
        assert final.json()["output"] == current.output == "hello hook"
        assert final.json()["id"] == prediction.id
        assert final.json()["urls"]["get"].endswith(f"/v1/predictions/{prediction.id}")
        assert len({r.headers["webhook-id"] for r in hook.requests}) == len(hook.requests)
        assert any(r.json()["status"] == "processing" for r in hook.requests)


def test_a_tampered_body_fails_verification(hello_version: Any, replicate_client: Any) -> None:
    secret = replicate_client.webhooks.default.secret()
    with receiver() as hook:
        replicate_client.predictions.create(
            version=hello_version.id, input={"text": "x"}, webhook=hook.url
        )
        hook.wait_for(lambda rs: any(r.json()["status"] == "succeeded" for r in rs))
        request = hook.requests[-1]
        tampered = request.body.decode().replace("hello x", "hello y")
        with pytest.raises(Exception, match="signature"):
            replicate_client.webhooks.validate(
                headers=request.headers, body=tampered, secret=secret
            )


def test_the_default_filter_sends_only_outputs_and_completion(
    hello_version: Any, replicate_client: Any
) -> None:
    with receiver() as hook:
        replicate_client.predictions.create(
            version=hello_version.id, input={"text": "quiet", "sleep": 0.5}, webhook=hook.url
        )
        hook.wait_for(lambda rs: any(r.json()["status"] == "succeeded" for r in rs))
        ids = [r.headers["webhook-id"] for r in hook.requests]
        assert not any(i.endswith("_start") or "_logs_" in i for i in ids)


def test_completed_only_sends_exactly_one_webhook(
    hello_version: Any, replicate_client: Any
) -> None:
    with receiver() as hook:
        replicate_client.predictions.create(
            version=hello_version.id,
            input={"text": "once", "sleep": 0.5},
            webhook=hook.url,
            webhook_events_filter=["completed"],
        )
        hook.wait_for(lambda rs: len(rs) >= 1)
        time.sleep(1)
        assert len(hook.requests) == 1
        assert hook.requests[0].json()["status"] == "succeeded"


def test_output_and_log_webhooks_are_throttled_to_one_per_half_second(
    cog_live: Any, user: Any, replicate_client: Any
) -> None:
    version = publish(ModelFactory(owner=user.owner, name="stream"), "stream", user)
    with receiver() as hook:
        replicate_client.predictions.create(
            version=version.id,
            input={"words": 30, "delay": 0.05},  # 30 outputs in 1.5 s
            webhook=hook.url,
            webhook_events_filter=["output", "logs"],
        )
        hook.wait_for(lambda rs: rs and len(rs[-1].json()["output"] or []) == 30, timeout=20)
        throttled = hook.requests
        assert 2 <= len(throttled) <= 6, [r.headers["webhook-id"] for r in throttled]
        times = sorted(r.at for r in throttled)
        assert all(b - a >= 0.4 for a, b in itertools.pairwise(times))
        # The last delivery carries the full output: nothing is lost by skipping.
        assert len(json.loads(throttled[-1].body)["output"]) == 30


def test_failed_deliveries_are_retried_with_the_same_message_id(
    hello_version: Any, replicate_client: Any, settings: Any
) -> None:
    settings.VITRINE_WEBHOOK_RETRIES = 4
    with receiver() as hook:
        hook.statuses = [500, 503]
        replicate_client.predictions.create(
            version=hello_version.id,
            input={"text": "retry"},
            webhook=hook.url,
            webhook_events_filter=["completed"],
        )
        hook.wait_for(lambda rs: len(rs) == 3, timeout=20)
        message_ids = {r.headers["webhook-id"] for r in hook.requests}
        assert message_ids == {hook.requests[0].headers["webhook-id"]}


# Webhook URLs to loopback, link-local and private addresses, and DNS rebinding:
# tests/registry/api/test_hostile_input.py.


def test_an_unknown_event_name_is_refused(hello_version: Any, replicate_client: Any) -> None:
    with pytest.raises(ReplicateError) as error:
        replicate_client.predictions.create(
            version=hello_version.id,
            input={"text": "x"},
            webhook="https://example.com/hook",
            webhook_events_filter=["finished"],
        )
    assert error.value.status == 422
    assert "webhook_events_filter" in error.value.detail
