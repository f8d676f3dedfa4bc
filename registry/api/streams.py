"""Server-sent events for predictions and builds.

Prediction streams speak Replicate's vocabulary only — `output`, `logs`, `error`, `done`,
each with an `id:` line — because replicate-python rejects any other event name.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from django.http import StreamingHttpResponse

from registry import events
from registry.models import Build, Prediction

KEEPALIVE_SECONDS = 15.0


class _Ids:
    def __init__(self) -> None:
        self.start = int(time.time())
        self.n = 0

    def next(self) -> str:
        self.n += 1
        return f"{self.start}:{self.n}"


def event(name: str, data: str, event_id: str) -> str:
    lines = data.split("\n") if data else [""]
    return f"event: {name}\nid: {event_id}\n" + "".join(f"data: {line}\n" for line in lines) + "\n"


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _output_items(prediction: Prediction) -> list[Any]:
    output = prediction.output
    if output is None:
        return []
    return output if isinstance(output, list) else [output]


def _prediction_events(prediction_id: str) -> Iterator[str]:
    ids = _Ids()
    sent_items = 0
    sent_logs = 0
    key = events.prediction_key(prediction_id)
    read = lambda: Prediction.objects.get(pk=prediction_id)  # noqa: E731
    while True:

        def changed(p: Prediction, logs: int = sent_logs, items: int = sent_items) -> bool:
            return (
                p.is_terminal
                or len(p.logs) != logs
                or (isinstance(p.output, list) and len(p.output) != items)
            )

        prediction = events.wait_for(key, read=read, done=changed, timeout=KEEPALIVE_SECONDS)
        before = (sent_items, sent_logs)
        items = _output_items(prediction)
        # Non-list outputs are complete only at the end; lists grow as they stream.
        if isinstance(prediction.output, list) or prediction.is_terminal:
            for item in items[sent_items:]:
                yield event("output", _as_text(item), ids.next())
            sent_items = len(items)
        if len(prediction.logs) > sent_logs:
            yield event("logs", prediction.logs[sent_logs:].rstrip("\n"), ids.next())
            sent_logs = len(prediction.logs)
        if prediction.is_terminal:
            if prediction.status == Prediction.Status.FAILED:
                yield event(
                    "error", json.dumps({"detail": prediction.error or "failed"}), ids.next()
                )
                yield event("done", json.dumps({"reason": "error"}), ids.next())
            elif prediction.status == Prediction.Status.CANCELED:
                yield event("done", json.dumps({"reason": "canceled"}), ids.next())
            else:
                yield event("done", "{}", ids.next())
            return
        if (sent_items, sent_logs) == before:
            yield ": keepalive\n\n"


def prediction_events(prediction_id: str) -> StreamingHttpResponse:
    return _sse(_prediction_events(prediction_id))


def _build_events(build_id: str) -> Iterator[str]:
    ids = _Ids()
    sent = 0
    key = events.build_key(build_id)
    while True:

        def changed(b: Build, logs: int = sent) -> bool:
            return b.is_terminal or len(b.logs) != logs

        build = events.wait_for(
            key,
            read=lambda: Build.objects.get(pk=build_id),
            done=changed,
            timeout=KEEPALIVE_SECONDS,
        )
        if len(build.logs) > sent:
            yield event("logs", build.logs[sent:].rstrip("\n"), ids.next())
            sent = len(build.logs)
        if build.is_terminal:
            if build.status == Build.Status.FAILED:
                yield event("error", json.dumps({"detail": build.error or "failed"}), ids.next())
            yield event(
                "done",
                json.dumps({"status": build.status, "version": build.version_id}),
                ids.next(),
            )
            return
        yield ": keepalive\n\n"


def build_events(build_id: str) -> StreamingHttpResponse:
    return _sse(_build_events(build_id))


def _sse(stream: Iterator[str]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(stream, content_type="text/event-stream")
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"
    return response
