"""Predictions: create, dispatch to a Cog server, record what Cog reports, cancel, and make
sure every accepted prediction reaches a terminal state.

Life of a prediction: `prediction_create` validates the input and stores it (`starting`)
together with the run count and its `dispatch_prediction` task, in one transaction. After
commit, the creating process hands it to a free slot of a warm instance in the background
(`registry.handoff`), or — for a short run someone waits for — sends it to Cog
synchronously (`start`). Otherwise its task reaches a worker, which may boot an instance.
Runs wait in creation order: whenever a slot frees, it goes to the oldest waiting run of
the version (`dispatch_waiting`). Cog reports progress by webhook to `apply_cog_update`.
Instances that die fail their predictions (`fail_on_instance`), and the reaper
(`registry.reaper`) catches the rest.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import mimetypes
import re
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import BooleanField, F, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.db.models.sql import InsertQuery, UpdateQuery
from django.utils import timezone
from django.utils.text import get_valid_filename

from registry import (
    backends,
    events,
    files,
    handoff,
    inputs,
    search,
    selectors,
    services,
    webhooks,
)
from registry.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from registry.inference import internal
from registry.inference.base import (
    Lease,
    NoCapacity,
    SetupFailed,
    free_slot_of,
    giving_a_slot_back,
    held_slot_of,
    likeliest_free_instance,
    release_slot,
    reserve_ready_instance,
    taking_a_slot,
)
from registry.inference.cog_client import (
    CogBusy,
    CogClient,
    CogError,
    CogNotReady,
    CogRejected,
    CogTimeout,
    CogUnreachable,
)
from registry.models import File, Instance, MLModel, Prediction, Version
from registry.selectors import Actor

logger = logging.getLogger(__name__)

ACTIVE = (Prediction.Status.STARTING, Prediction.Status.PROCESSING)
VERSION_ID = re.compile(r"^[0-9a-f]{64}$")
DATA_URI = re.compile(
    r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(;[\w-]+=[^;,]*)*)(?P<b64>;base64)?,", re.I
)
# Pauses between attempts while Cog answers 409. A slot is handed on as soon as a run's
# final webhook commits, which is just before Cog hears our answer and frees the slot: so
# retry in small steps first (exponential steps made each hand-off wait ~50-100 ms).
BUSY_RETRIES = (0.002,) * 5 + (0.005,) * 10 + (0.01,) * 10 + (0.02,) * 10 + (0.05,) * 6
# How often a run waiting for a busy version's slot is re-checked by its task.
WAITING_RECHECK_SECONDS = 10.0


# Creating -----------------------------------------------------------------------------


def resolve_version(*, ref: str, user: Actor) -> Version:
    """A version from `id`, `owner/name:id` or `owner/name` (its latest version)."""
    if not isinstance(ref, str) or not ref:
        raise InvalidInput.single("version", "Give a version id, 'owner/name:id' or 'owner/name'.")
    model_ref, _, version_id = ref.partition(":")
    if not version_id and VERSION_ID.match(model_ref):
        version = Version.objects.select_related("model__owner").filter(pk=model_ref).first()
        if version is None or not selectors.can_read_model(user, version.model):
            raise InvalidInput.single("version", f"Version {model_ref} does not exist.")
        return version
    owner, slash, name = model_ref.partition("/")
    if not slash or not owner or not name:
        raise InvalidInput.single(
            "version", f"{ref!r} is neither a version id nor 'owner/name[:id]'."
        )
    if version_id:
        try:
            return selectors.version_get(owner=owner, name=name, version_id=version_id, user=user)
        except NotFound as e:
            raise InvalidInput.single("version", e.detail) from e
    model = selectors.model_get(owner=owner, name=name, user=user)
    return latest_version(model)


def latest_version(model: MLModel) -> Version:
    if model.latest_version is None:
        raise InvalidInput.single("version", f"{model.full_name} has no version to run yet.")
    version = model.latest_version
    version.model = model
    return version


def prediction_create(
    *,
    actor: Actor,
    version: Version,
    input: Any,
    webhook: str | None = None,
    webhook_events_filter: list[str] | None = None,
    stream: bool = False,
    source: str = Prediction.Source.API,
    cancel_after: float | None = None,
    wait: float | None = None,
) -> Prediction:
    """Validate and store a prediction with its run count and its dispatch task, and
    start it after commit.

    `wait`: the caller will wait this long for the result (`Prefer: wait`), which lets
    short runs take the synchronous fast path."""
    user = selectors.signed_in(actor)
    cleaned = inputs.validate_input(version.openapi_schema, input)
    errors: dict[str, list[str]] = check_file_references(cleaned, user)
    if webhook:
        try:
            webhooks.check_url(webhook)
        except InvalidInput as e:
            errors.update(e.fields)
    events_filter = webhooks.events_filter(webhook_events_filter, errors)
    if errors:
        raise InvalidInput(errors)
    now = timezone.now()
    prediction = Prediction(
        model=version.model,
        version=version,
        version_ref=version.id,
        created_by=user,
        source=source,
        input=cleaned,
        webhook=webhook or "",
        webhook_events_filter=events_filter if webhook else [],
        stream=stream,
        created_at=now,
        deadline=now + timedelta(seconds=cancel_after) if cancel_after else None,
    )
    sync_timeout = _sync_timeout(version, wait)
    lease = None
    if sync_timeout is not None and connection.vendor == "postgresql":
        lease = _create_on_a_free_slot(prediction)
    if lease is None:
        with transaction.atomic():
            # The fast path's slot is reserved in the run's own commit (a commit less to
            # wait for); with no slot free now, the run waits in line like any other.
            lease = _free_slot_lease(version) if sync_timeout is not None else None
            _claimed_on_creation(prediction, fast=lease is not None)
            prediction.save(force_insert=True)
            if lease is None:
                from registry import tasks

                tasks.enqueue_with_transaction(tasks.dispatch_prediction, prediction.pk)
            # Last: the counters are rows every run of the model updates, locked until commit.
            services.model_increment_run_count(model_id=version.model_id)
    if lease is not None and sync_timeout is not None:
        timeout, leased = sync_timeout, lease
        transaction.on_commit(lambda: start(prediction, lease=leased, sync_timeout=timeout))
    else:
        transaction.on_commit(lambda: handoff.kick(version.pk))
    return prediction


def _claimed_on_creation(prediction: Prediction, *, fast: bool) -> None:
    """The fast path is claimed by its creator, who calls Cog right after commit; any other
    run waits for a slot, with its task queued."""
    now = prediction.created_at
    prediction.dispatch_claimed_at = now if fast else None
    prediction.dispatch_attempts = 1 if fast else 0
    prediction.dispatch_queued_at = None if fast else now


def _create_on_a_free_slot(prediction: Prediction) -> Lease | None:
    """PostgreSQL, the fast path in one statement (committed on its own, unless the caller
    holds a transaction): take a slot of the version's likeliest free instance and, only
    if there was one, insert the run (claimed by its creator, `prediction.save()`'s INSERT
    as the ORM compiles it) and count it (`search.run_counters`). One round trip where the
    transaction of the other path takes five (BEGIN, slot, INSERT, counters, COMMIT).
    None, and nothing written, when that slot was taken meanwhile.

    Only table and CTE names are interpolated; every value is a parameter."""
    instance = likeliest_free_instance(prediction.version_id)
    if instance is None:
        return None
    _claimed_on_creation(prediction, fast=True)
    slot_sql, slot_params = _update_sql(free_slot_of(instance.pk), taking_a_slot())
    insert = InsertQuery(Prediction)
    insert.insert_values(Prediction._meta.local_concrete_fields, [prediction])
    [(insert_sql, insert_params)] = insert.get_compiler(connection.alias).as_sql()
    into, _, values = insert_sql.partition(" VALUES (")
    assert values.endswith(")"), insert_sql  # one row, nothing returned
    ctes = [
        f"slot AS ({slot_sql} RETURNING 1)",
        f"run AS ({into} SELECT {values.removesuffix(')')} FROM slot RETURNING 1)",  # noqa: S608
    ]
    params: list[Any] = [*slot_params, *insert_params]
    counters = search.run_counters(prediction.model_id, with_model=True, if_any="run")
    for n, (sql, counter_params) in enumerate(counters):
        ctes.append(f"c{n} AS ({sql})")
        params += counter_params
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {', '.join(ctes)} SELECT count(*) FROM run", params)  # noqa: S608
        row = cursor.fetchone()
    if not row or not row[0]:
        return None
    prediction._state.adding = False
    prediction._state.db = connection.alias
    return Lease(instance)


def _update_sql(queryset: QuerySet[Any], values: dict[str, Any]) -> tuple[str, tuple[Any, ...]]:
    """`queryset.update(**values)` as the ORM compiles it, to put in a statement."""
    update = queryset.query.chain(UpdateQuery)
    assert isinstance(update, UpdateQuery)
    update.add_update_values(values)
    sql, params = update.get_compiler(connection.alias).as_sql()
    return sql, tuple(params)


def check_file_references(cleaned: dict[str, Any], user: Any) -> dict[str, list[str]]:
    """Files uploaded to Vitrine may be used by their owner, or by anyone once a prediction
    that used them is shared (its page shows them anyway); not by guessing an id. Someone
    else's file is refused exactly like a missing one, so the answer does not tell
    whether an id exists."""
    references = [
        (f"input.{path}", file_id)
        for key, value in cleaned.items()
        for path, file_id in files.file_references(value, str(key))
    ][:100]
    if not references:
        return {}
    known = {
        f.pk: f
        for f in File.objects.filter(pk__in=[file_id for _, file_id in references]).only(
            "pk", "owner_id", "shared"
        )
    }
    errors: dict[str, list[str]] = {}
    for path, file_id in references:
        file = known.get(file_id)
        if file is None or (not file.shared and (user is None or file.owner_id != user.pk)):
            errors.setdefault(path, []).append(f"File {file_id} does not exist.")
    return errors


def _free_slot_lease(version: Version) -> Lease | None:
    """A free slot on a warm instance of the version, reserved, or None."""
    instance = reserve_ready_instance(version)
    return Lease(instance) if instance is not None else None


def start(prediction: Prediction, *, lease: Lease, sync_timeout: float) -> None:
    """The fast path: run on the slot reserved with the prediction now, synchronously;
    if Cog cannot take it, wait in line like any other run."""
    outcome = dispatch(prediction, may_boot=False, sync_timeout=sync_timeout, lease=lease)
    if outcome in ("no-capacity", "retry"):
        queue_dispatch(prediction.pk)


def _sync_timeout(version: Version, wait: float | None) -> float | None:
    """The fast path: a caller who waits, for a version whose runs are known to be short.

    A synchronous call saves Cog's webhook round trip (~4 ms in coglet alone) and ours.
    Its risk — Cog cancels the run if this process dies mid-call — is covered by the
    claim taken at creation: the reaper re-queues the prediction on the durable path.
    """
    typical = version.predict_time_ewma
    threshold = settings.VITRINE_SYNC_DISPATCH_BELOW
    if not wait or typical is None or not threshold or typical >= threshold:
        return None
    return max(float(wait), 10 * threshold)


def queue_dispatch(prediction_id: str, delay: float = 0.0) -> None:
    from registry import tasks

    Prediction.objects.filter(pk=prediction_id).update(
        dispatch_queued_at=timezone.now() + timedelta(seconds=delay)
    )
    tasks.enqueue_later(tasks.dispatch_prediction, delay, prediction_id)


# Dispatching --------------------------------------------------------------------------


def _claim(prediction_id: str) -> bool:
    now = timezone.now()
    stale = now - timedelta(seconds=settings.VITRINE_DISPATCH_CLAIM_SECONDS)
    return bool(
        Prediction.objects.filter(
            Q(dispatch_claimed_at__isnull=True) | Q(dispatch_claimed_at__lt=stale),
            pk=prediction_id,
            status=Prediction.Status.STARTING,
            dispatched_at__isnull=True,
        ).update(dispatch_claimed_at=now, dispatch_attempts=F("dispatch_attempts") + 1)
    )


def _unclaim(prediction_id: str, instance: Instance | None = None) -> None:
    """Give the prediction back to the queue, and the slot it had reserved."""
    Prediction.objects.filter(pk=prediction_id, dispatched_at__isnull=True).update(
        dispatch_claimed_at=None, instance=None
    )
    if instance is not None:
        release_slot(instance.pk)


def _waiting(version_id: str) -> QuerySet[Prediction]:
    """Runs of the version that wait for a slot: accepted, not sent, nobody dispatching."""
    stale = timezone.now() - timedelta(seconds=settings.VITRINE_DISPATCH_CLAIM_SECONDS)
    return Prediction.objects.filter(
        Q(dispatch_claimed_at__isnull=True) | Q(dispatch_claimed_at__lt=stale),
        version_id=version_id,
        status=Prediction.Status.STARTING,
        dispatched_at__isnull=True,
    )


def _claim_oldest(version_id: str) -> Prediction | None:
    for _ in range(10):  # others may claim the same rows at the same time
        oldest = _waiting(version_id).order_by("created_at", "id").values_list("pk", flat=True)
        prediction_id = oldest.first()
        if prediction_id is None:
            return None
        if _claim(prediction_id):
            return Prediction.objects.select_related("version__model__owner", "created_by").get(
                pk=prediction_id
            )
    return None


def dispatch_waiting(version_id: str, *, freed: int | None = None) -> int:
    """Give the free slots of the version's warm instances — or of instance `freed`
    only, whose run just ended — to its oldest waiting runs, first come first served;
    returns how many were sent. Never starts an instance (the runs' tasks do, in a
    worker)."""
    sent = 0
    version: Version | None = None
    while _waiting(version_id).exists():
        version = version or Version.objects.filter(pk=version_id).first()
        if version is None:
            break
        instance = reserve_ready_instance(version, only=freed)
        if instance is None:
            break
        prediction = _claim_oldest(version_id)
        if prediction is None:
            release_slot(instance.pk)
            break
        outcome = dispatch(prediction, may_boot=False, lease=Lease(instance))
        if outcome == "retry":
            queue_dispatch(prediction.pk)  # its task may have found it claimed and stopped
            break
        sent += 1
    return sent


def dispatch(
    prediction: Prediction,
    *,
    may_boot: bool,
    sync_timeout: float | None = None,
    lease: Lease | None = None,
) -> str:
    """Send one prediction, already claimed by the caller, to a Cog server (on `lease`'s
    slot when the caller reserved one). Returns what happened: `dispatched`, `finished`
    (ran synchronously), `failed`, `no-capacity` or `retry`."""
    prediction_id = prediction.pk
    version = prediction.version
    if version is None:
        finish(
            prediction_id, Prediction.Status.FAILED, error="The version was deleted before it ran."
        )
        return "failed"
    backend = backends.inference_backend()
    try:
        lease = lease or backend.acquire(version, prediction, may_boot=may_boot)
    except NoCapacity:
        _unclaim(prediction_id)
        return "no-capacity"
    except SetupFailed as e:
        finish(prediction_id, Prediction.Status.FAILED, error=str(e), logs=e.logs)
        return "failed"
    except Exception:
        _unclaim(prediction_id)  # back to the queue; the reaper retries it
        raise
    instance = lease.instance
    payload = cog_input(prediction)
    client = CogClient(instance.url)
    for pause in (*BUSY_RETRIES, None):
        try:
            if sync_timeout is not None and lease.boot_time is None:
                result = client.predict(prediction.pk, input=payload, timeout=sync_timeout)
                _record_sync_result(prediction, instance, result)
                return "finished"
            client.start_prediction(
                prediction.pk, input=payload, webhook=internal.webhook_url(prediction.pk)
            )
            break
        except CogBusy:
            # Cog frees a slot just after it reports the last prediction done.
            if pause is None:
                _unclaim(prediction_id, instance)
                return "retry"
            time.sleep(pause)
        except CogNotReady:
            _unclaim(prediction_id, instance)
            return "retry"
        except CogTimeout:
            # Only the wait ran out (a fast-path run that was not fast): Cog stops a run
            # whose caller hangs up, so it runs again on the durable path.
            _unclaim(prediction_id, instance)
            return "retry"
        except CogUnreachable as e:
            _unclaim(prediction_id, instance)
            _instance_unreachable(instance, str(e))
            return "retry"
        except CogRejected as e:
            release_slot(instance.pk)
            finish(
                prediction_id,
                Prediction.Status.FAILED,
                error=f"The model refused the input: {e.body}",
            )
            return "failed"
    _record_dispatch(prediction, instance, lease.boot_time)
    return "dispatched"


def _record_sync_result(prediction: Prediction, instance: Instance, result: dict[str, Any]) -> None:
    """A synchronous run's answer is its final state: one conditional UPDATE records it
    (no lock: nothing else writes a prediction nobody has dispatched yet, but a cancel,
    which the status condition guards against)."""
    status = result.get("status")
    error = result.get("error")
    if status not in Prediction.TERMINAL:
        status, error = Prediction.Status.FAILED, f"Cog answered {status!r}."
    now = timezone.now()
    cog_metrics = {k: v for k, v in (result.get("metrics") or {}).items() if k != "boot_time"}
    predict_time = cog_metrics.get("predict_time")
    started = (
        now - timedelta(seconds=predict_time) if isinstance(predict_time, int | float) else now
    )
    fields = {
        "status": status,
        "output": store_outputs(result.get("output")),
        "logs": str(result.get("logs") or ""),
        "error": str(error or "The prediction failed.") if status == "failed" else None,
        "metrics": {
            **prediction.metrics,
            **cog_metrics,
            "total_time": round((now - prediction.created_at).total_seconds(), 6),
        },
        "instance": instance,
        "dispatched_at": started,
        "started_at": started,
        "completed_at": now,
        "last_event_at": now,
    }
    unanswered = Prediction.objects.filter(
        pk=prediction.pk, status__in=ACTIVE, dispatched_at__isnull=True
    )
    learned = _predict_seconds(fields["metrics"]) if status == Prediction.Status.SUCCEEDED else None
    one_statement = connection.vendor == "postgresql"
    if one_statement:
        recorded, waiting = _record_in_one_statement(
            prediction, unanswered, fields, instance, learned
        )
        if waiting:  # else nobody to give the slot to: no pass to compete with the caller
            transaction.on_commit(lambda: handoff.kick(prediction.version_id, freed=instance.pk))
    else:
        # One transaction (one commit) for the answer, the slot and the timing.
        with transaction.atomic():
            recorded = bool(unanswered.update(**fields))
            _free_slot(instance.pk, prediction.version_id)
            if recorded and learned is not None:
                _learn_predict_time(prediction.version_id, fields["metrics"])
    if not recorded:  # canceled while it ran: the answer comes too late to keep
        return
    for name, value in fields.items():
        setattr(prediction, name, value)
    happened = {"start", "completed"}
    if fields["output"] is not None:
        happened.add("output")
    if fields["logs"]:
        happened.add("logs")
    _after_change(prediction, happened, notified=one_statement)


def _record_in_one_statement(
    prediction: Prediction,
    unanswered: QuerySet[Prediction],
    fields: dict[str, Any],
    instance: Instance,
    learned: float | None,
) -> tuple[bool, bool]:
    """PostgreSQL: the answer (`unanswered.update(**fields)`, as the ORM writes it), the
    freed slot, the learned run time and the NOTIFY in one statement, committed on its
    own: one round trip where a transaction took six (each ~0.7 ms on a busy two-core
    machine). The slot is freed even when the answer comes too late to keep (canceled
    meanwhile); the rest only when it is recorded. Returns whether it was, and whether
    runs of the version wait for a slot (`_waiting`, as the statement saw them).

    The handoff pass that would give them the freed slot is started only when some do:
    it runs beside the caller's next request and cost it about a millisecond (in-process
    A/B; README, Benchmarks). A run that commits while this statement runs, unseen by it, is
    still dispatched: its own creation kicks a pass, which waits on the slot's row lock
    until this commits (or, losing that race, its task does, on a worker).

    Besides CTE names, only SQL the ORM compiled and `events.notify_sql` is interpolated;
    every value is a parameter."""
    answer_sql, answer_params = _update_sql(unanswered, fields)
    slot_sql, slot_params = _update_sql(held_slot_of(instance.pk), giving_a_slot_back())
    ctes = [f"answer AS ({answer_sql} RETURNING 1)", f"slot AS ({slot_sql})"]
    params: list[Any] = [*answer_params, *slot_params]
    if prediction.version_id and learned is not None:
        answered = RawSQL("EXISTS (SELECT 1 FROM answer)", [], output_field=BooleanField())
        version = Version.objects.filter(answered, pk=prediction.version_id)
        learned_sql, learned_params = _update_sql(version, _learning(learned))
        ctes.append(f"learned AS ({learned_sql})")
        params += learned_params
    notify, notify_params = events.notify_sql(events.prediction_key(prediction.pk))
    ctes.append(f"told AS (SELECT {notify} FROM answer)")  # noqa: S608
    params += notify_params
    waiting_sql, waiting_params = (
        _waiting(prediction.version_id or "").values("pk")[:1].query.sql_with_params()
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH {', '.join(ctes)} SELECT (SELECT count(*) FROM told), "  # noqa: S608
            f"EXISTS ({waiting_sql})",
            [*params, *waiting_params],
        )
        told, waiting = cursor.fetchone() or (0, True)
        return bool(told), bool(waiting)


def _free_slot(instance_id: int | None, version_id: str | None) -> None:
    """A run ended: give its slot back, and after commit to the next waiting run."""
    if instance_id is None:
        return
    release_slot(instance_id)
    transaction.on_commit(lambda: handoff.kick(version_id, freed=instance_id))


# A version's typical run time: an exponentially weighted mean keeping this much of the last.
EWMA_KEEP = 0.8


def _predict_seconds(metrics: dict[str, Any]) -> float | None:
    """The run time Cog reported, when it is one to learn from."""
    seconds = metrics.get("predict_time")
    return float(seconds) if isinstance(seconds, int | float) and seconds >= 0 else None


def _learning(seconds: float) -> dict[str, Any]:
    """The update that learns a run time into the version's typical one."""
    return {
        "predict_time_ewma": Coalesce(
            F("predict_time_ewma") * EWMA_KEEP + seconds * (1 - EWMA_KEEP), seconds
        )
    }


def _learn_predict_time(version_id: str | None, metrics: dict[str, Any]) -> None:
    seconds = _predict_seconds(metrics)
    if version_id and seconds is not None:
        Version.objects.filter(pk=version_id).update(**_learning(seconds))


def _record_dispatch(prediction: Prediction, instance: Instance, boot_time: float | None) -> None:
    """Note where it runs. Cog may already have reported it finished (its webhook can beat
    this line): then the slot was not given back yet, so give it back here."""
    now = timezone.now()
    running = Prediction.objects.filter(
        pk=prediction.pk, status__in=ACTIVE, dispatched_at__isnull=True
    ).update(instance=instance, dispatched_at=now)
    if not running:
        Prediction.objects.filter(pk=prediction.pk, dispatched_at__isnull=True).update(
            instance=instance, dispatched_at=now
        )
        release_slot(instance.pk)
        if Prediction.objects.filter(pk=prediction.pk, status=Prediction.Status.CANCELED).exists():
            _cancel_on_cog(instance, prediction.pk)
    if boot_time is not None:
        with transaction.atomic():
            current = Prediction.objects.select_for_update().get(pk=prediction.pk)
            current.metrics = {**current.metrics, "boot_time": round(boot_time, 4)}
            current.save(update_fields=["metrics"])


def dispatch_or_requeue(prediction_id: str) -> str:
    """The worker's dispatch: may boot an instance; busy → try again a little later."""
    if not _claim(prediction_id):
        return "skipped"
    prediction = Prediction.objects.select_related("version__model__owner", "created_by").get(
        pk=prediction_id
    )
    outcome = dispatch(prediction, may_boot=True)
    if outcome == "dispatched":
        handoff.kick(prediction.version_id)  # an instance it started has more slots
    if outcome == "no-capacity" and _has_ready_instance(prediction.version_id):
        # Its version's instances are all busy and no more may start: the next slot one
        # of them frees is handed to the oldest waiting run at once, so this task only
        # stands by in case that hand-off is lost (polling here would cost every other
        # run its CPU).
        queue_dispatch(prediction_id, delay=WAITING_RECHECK_SECONDS)
    elif outcome in ("no-capacity", "retry"):
        # Back off from 0.1 s to 3 s as attempts pile up (the claim counted this one).
        attempts = prediction.dispatch_attempts + 1
        queue_dispatch(prediction_id, delay=min(0.1 * 2 ** min(attempts, 5), 3.0))
    return outcome


def _has_ready_instance(version_id: str | None) -> bool:
    return Instance.objects.filter(version_id=version_id, status=Instance.Status.READY).exists()


def cog_input(prediction: Prediction) -> dict[str, Any]:
    """The stored input as Cog should get it: Vitrine file URLs become signed download
    URLs Cog can fetch without a token; nulls mean "not given"."""
    owner = prediction.created_by.username if prediction.created_by else ""

    def convert(value: Any) -> Any:
        if isinstance(value, str):
            match = files.FILE_URL.match(value)
            if match:
                file = File.objects.filter(pk=match["id"]).select_related("owner").first()
                if file is not None:
                    return internal.file_download_url(file.owner.username or owner, file.pk)
            return value
        if isinstance(value, list):
            return [convert(item) for item in value]
        if isinstance(value, dict):
            return {key: convert(item) for key, item in value.items() if item is not None}
        return value

    result: dict[str, Any] = convert(prediction.input)
    return result


def _instance_unreachable(instance: Instance, reason: str) -> None:
    if instance.kind == Instance.Kind.PROCESS:
        Instance.objects.filter(pk=instance.pk, status=Instance.Status.READY).update(
            status=Instance.Status.FAILED, error=f"Unreachable: {reason}", stopped_at=timezone.now()
        )
        fail_on_instance(instance_id=instance.pk, reason="The model process stopped answering.")
    else:
        Instance.objects.filter(pk=instance.pk).update(status=Instance.Status.FAILED, error=reason)


# What Cog reports ---------------------------------------------------------------------


def _store_data_uri(value: str, name_hint: str) -> str:
    """A `data:` output stored as a file named after its output field (Cog sends files
    inside object outputs inline); the same content under the same name is stored once."""
    match = DATA_URI.match(value)
    if not match:
        return value
    payload = value[match.end() :]
    try:
        content = base64.b64decode(payload, validate=False) if match["b64"] else payload.encode()
    except (binascii.Error, ValueError):
        return value
    mime = match["mime"] or "application/octet-stream"
    extension = mimetypes.guess_extension(mime) or ".bin"
    digest = hashlib.sha256(content).hexdigest()
    stem = get_valid_filename(name_hint) or "output"
    name = f"outputs/{digest[:2]}/{digest[2:34]}/{stem}{extension}"
    if not default_storage.exists(name):
        saved = default_storage.save(name, ContentFile(content))
        if saved != name:
            # Another webhook carrying the same output stored it first: the path names the
            # content, so theirs is ours too.
            default_storage.delete(saved)
    return absolute_file_url(name)


def absolute_file_url(name: str) -> str:
    from registry import links

    url = default_storage.url(name)
    return url if "://" in url else links.base_url() + url


def store_outputs(value: Any, name: str = "output") -> Any:
    if isinstance(value, str) and value.startswith("data:"):
        return _store_data_uri(value, name)
    if isinstance(value, list):
        return [store_outputs(item, f"{name}-{i}") for i, item in enumerate(value)]
    if isinstance(value, dict):
        return {key: store_outputs(item, str(key)) for key, item in value.items()}
    return value


def apply_cog_update(
    *, prediction_id: str, payload: dict[str, Any], happened: set[str] | None = None
) -> None:
    """Record a webhook from Cog (or a synchronous answer). Idempotent; never moves a
    prediction backwards."""
    status = payload.get("status")
    if status not in Prediction.Status.values:
        raise InvalidInput.single("status", f"Unknown status {status!r}.")
    output = store_outputs(payload.get("output")) if "output" in payload else None
    sent: set[str] = set(happened or ())
    with transaction.atomic():
        prediction = Prediction.objects.select_for_update().filter(pk=prediction_id).first()
        if prediction is None:
            raise NotFound(f"Prediction {prediction_id} not found.")
        if prediction.is_terminal:
            return
        now = timezone.now()
        prediction.last_event_at = now
        changed: list[str] = ["last_event_at"]
        if status == Prediction.Status.PROCESSING or status in Prediction.TERMINAL:
            if prediction.started_at is None:
                prediction.started_at = now
                changed.append("started_at")
                sent.add("start")
            if prediction.status == Prediction.Status.STARTING:
                prediction.status = Prediction.Status.PROCESSING
                changed.append("status")
        logs = payload.get("logs")
        if isinstance(logs, str) and logs != prediction.logs:
            prediction.logs = logs
            changed.append("logs")
            sent.add("logs")
        if "output" in payload and output != prediction.output:
            prediction.output = output
            changed.append("output")
            sent.add("output")
        if status in Prediction.TERMINAL:
            prediction.status = status
            prediction.completed_at = now
            if status == Prediction.Status.FAILED:
                prediction.error = str(payload.get("error") or "The prediction failed.")
            metrics = dict(prediction.metrics)
            metrics.update(
                {k: v for k, v in (payload.get("metrics") or {}).items() if k != "boot_time"}
            )
            metrics["total_time"] = round((now - prediction.created_at).total_seconds(), 6)
            prediction.metrics = metrics
            changed += ["status", "completed_at", "error", "metrics"]
            sent.add("completed")
        prediction.save(update_fields=sorted(set(changed)))
        if sent:
            _after_change(prediction, sent)
        if status in Prediction.TERMINAL:
            _free_slot(prediction.instance_id, prediction.version_id)
            if status == Prediction.Status.SUCCEEDED:
                _learn_predict_time(prediction.version_id, prediction.metrics)


def _after_change(prediction: Prediction, sent: set[str], *, notified: bool = False) -> None:
    """Wake who waits for the prediction and queue its webhooks, after commit; `notified`
    when the caller's statement already sent the NOTIFY."""
    key = events.prediction_key(prediction.pk)
    if notified:
        events.sent_on_commit(key)
    else:
        events.notify_on_commit(key)
    transaction.on_commit(lambda: webhooks.schedule(prediction, sent))


def finish(
    prediction_id: str, status: str, *, error: str | None = None, logs: str | None = None
) -> bool:
    """Move an unfinished prediction to a terminal state ourselves (no Cog report)."""
    with transaction.atomic():
        prediction = Prediction.objects.select_for_update().filter(pk=prediction_id).first()
        if prediction is None or prediction.is_terminal:
            return False
        now = timezone.now()
        prediction.status = status
        prediction.completed_at = now
        prediction.error = error if status == Prediction.Status.FAILED else None
        if logs:
            prediction.logs = (prediction.logs + "\n" + logs).strip() if prediction.logs else logs
        prediction.metrics = {
            **prediction.metrics,
            "total_time": round((now - prediction.created_at).total_seconds(), 6),
        }
        prediction.save(update_fields=["status", "completed_at", "error", "logs", "metrics"])
        _free_slot(prediction.instance_id, prediction.version_id)
        _after_change(prediction, {"completed"})
    return True


def fail_on_instance(*, instance_id: int, reason: str) -> int:
    """The instance died: fail what it was running, re-queue what it had not started."""
    failed = 0
    for prediction_id, dispatched_at in Prediction.objects.filter(
        instance_id=instance_id, status__in=ACTIVE
    ).values_list("pk", "dispatched_at"):
        if dispatched_at is None:
            _unclaim(prediction_id)
            queue_dispatch(prediction_id)
        elif finish(prediction_id, Prediction.Status.FAILED, error=reason):
            failed += 1
    return failed


# Reading, waiting, canceling ----------------------------------------------------------


def prediction_get(*, prediction_id: str, user: Actor) -> Prediction:
    """Visible to its creator, to anyone who may see the model once it is shared, and to
    staff."""
    prediction = (
        Prediction.objects.select_related("model__owner", "version")
        .filter(pk=prediction_id)
        .first()
    )
    signed_in = selectors.signed_in(user)
    if prediction is not None:
        if signed_in is not None and prediction.created_by_id == signed_in.pk:
            return prediction
        if selectors.sees_everything(user):
            return prediction
        if prediction.shared and selectors.can_read_model(user, prediction.model):
            return prediction
    raise NotFound(f"Prediction {prediction_id} not found.")


def prediction_list(
    *,
    user: Actor,
    created_after: Any = None,
    created_before: Any = None,
    source: str | None = None,
) -> QuerySet[Prediction]:
    signed_in = selectors.signed_in(user)
    predictions = Prediction.objects.filter(created_by=signed_in).select_related("model__owner")
    if created_after is not None:
        predictions = predictions.filter(created_at__gt=created_after)
    if created_before is not None:
        predictions = predictions.filter(created_at__lt=created_before)
    if source:
        predictions = predictions.filter(source=source)
    return predictions.order_by("-created_at", "-id")


def wait(prediction: Prediction, *, timeout: float) -> Prediction:
    """Hold until the prediction is terminal or `timeout` seconds pass."""
    if prediction.is_terminal:  # finished on the fast path: nothing to wait for
        return prediction
    return events.wait_for(
        events.prediction_key(prediction.pk),
        read=lambda: Prediction.objects.select_related("model__owner").get(pk=prediction.pk),
        done=lambda p: p.is_terminal,
        timeout=timeout,
    )


def prediction_cancel(*, actor: Actor, prediction: Prediction) -> Prediction:
    """Its creator or the model's owners may cancel a prediction the actor can see (the
    caller got it from `prediction_get`); anyone else who sees it is refused (403)."""
    user = selectors.signed_in(actor)
    is_creator = user is not None and prediction.created_by_id == user.pk
    if not is_creator and not selectors.can_write_owner(actor, prediction.model.owner):
        raise PermissionDenied(f"You are not allowed to cancel prediction {prediction.pk}.")
    return cancel(prediction.pk)


def cancel(prediction_id: str) -> Prediction:
    prediction = Prediction.objects.select_related("instance", "model__owner").get(pk=prediction_id)
    if prediction.is_terminal:
        return prediction
    instance = prediction.instance
    if prediction.dispatched_at is None or instance is None:
        # Not sent yet: the dispatcher sees the canceled status and cancels on Cog if it raced.
        finish(prediction_id, Prediction.Status.CANCELED)
    elif not _cancel_on_cog(instance, prediction_id):
        finish(prediction_id, Prediction.Status.CANCELED)
    else:
        prediction = events.wait_for(
            events.prediction_key(prediction_id),
            read=lambda: Prediction.objects.get(pk=prediction_id),
            done=lambda p: p.is_terminal,
            timeout=5.0,
        )
        if not prediction.is_terminal:
            finish(prediction_id, Prediction.Status.CANCELED)
    return Prediction.objects.select_related("model__owner").get(pk=prediction_id)


def _cancel_on_cog(instance: Instance, prediction_id: str) -> bool:
    try:
        return CogClient(instance.url).cancel(prediction_id)
    except CogError:
        return False


def prediction_mark_shared(*, actor: Actor, prediction: Prediction, shared: bool) -> None:
    """Only its creator shares a prediction (the caller got it from `prediction_get`, so
    anyone else sees it already: 403, not 404)."""
    user = selectors.signed_in(actor)
    if user is None or prediction.created_by_id != user.pk:
        raise PermissionDenied(f"You are not allowed to share prediction {prediction.pk}.")
    if prediction.model.visibility != MLModel.Visibility.PUBLIC and shared:
        raise Conflict("Predictions of a private model cannot be shared.")
    Prediction.objects.filter(pk=prediction.pk).update(shared=shared)
    if shared:
        share_input_files(prediction)


def share_input_files(prediction: Prediction) -> None:
    """Files a shared prediction took as input become usable by whoever may see it."""
    file_ids = [file_id for _, file_id in files.file_references(prediction.input, "input")]
    if file_ids:
        File.objects.filter(pk__in=file_ids).update(shared=True)
