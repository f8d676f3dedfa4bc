"""Web pages of the catalog: thin views that read through `registry.selectors` (and the
registry's read functions for predictions and builds), write through its services, and
leave the work to the catalog's modules (`browse`, `schema_forms`, `runs`, `snippets`,
`readme`).

`_start_prediction` is where a valid playground submission turns into a run; the
prediction and build pages follow runs and builds live by polling their status partials.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from catalog import browse, caching, runs, schema_forms, snippets
from catalog.forms import (
    ModelCreateForm,
    SignupForm,
    TokenCreateForm,
    VersionUploadForm,
    add_service_errors,
)
from catalog.modality import for_version
from catalog.readme import readme_html
from catalog.schemas import output_schema
from registry import builds, files, links, predictions, selectors, services
from registry.errors import (
    DATABASE_RETRY_AFTER,
    Conflict,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    VitrineError,
)
from registry.models import Build, MLModel, Prediction, Version

PAGE_SIZE = 24
RECENT_BUILDS = 10


# Explore, search, collections, owners ---------------------------------------------------


def explore(request: HttpRequest) -> HttpResponse:
    anonymous = selectors.signed_in(request.user) is None
    key = caching.anonymous_key("explore")
    rows = cache.get(key) if anonymous else None
    if not isinstance(rows, str):
        context = {"explore": browse.explore(user=request.user)}
        rows = render_to_string("catalog/partials/explore_rows.html", context)
        if anonymous:
            cache.set(key, rows, caching.ANONYMOUS_TIMEOUT)
    # The rows hold only model cards and links, rendered from escaped data.
    return render(request, "catalog/explore.html", {"rows": mark_safe(rows)})  # noqa: S308


def search(request: HttpRequest) -> HttpResponse:
    query = browse.BrowseQuery.from_params(request.GET)
    number = request.GET.get("page", "1")
    result = browse.browse(
        query, user=request.user, page=int(number) if number.isdigit() else 1, per_page=PAGE_SIZE
    )
    pages = browse.ResultPages(result.total, result.offset, result.models)
    page = Paginator(pages, PAGE_SIZE).get_page(number)
    context = {"result": result, "query": query, "page": page, "sorts": browse.SORTS}
    if request.headers.get("HX-Request") == "true":
        return render(request, "catalog/partials/search_results.html", context)
    return render(request, "catalog/search.html", context)


def collection(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        found = selectors.collection_get(slug=slug)
    except NotFound as e:
        raise Http404(str(e)) from e
    models = selectors.collection_models(collection=found, user=request.user)
    page = Paginator(models, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "catalog/collection.html", {"collection": found, "page": page})


def owner(request: HttpRequest, owner: str) -> HttpResponse:
    try:
        found = selectors.owner_get(username=owner)
    except NotFound as e:
        raise Http404(str(e)) from e
    models = selectors.model_list(user=request.user).filter(owner=found)
    page = Paginator(models, PAGE_SIZE).get_page(request.GET.get("page"))
    collections = selectors.collection_list().filter(owner=found)
    context = {
        "owner": found,
        "page": page,
        "collections": collections,
        "is_member": selectors.can_write_owner(request.user, found),
    }
    return render(request, "catalog/owner.html", context)


# Model pages -------------------------------------------------------------------------


def _model(request: HttpRequest, owner: str, name: str) -> MLModel:
    """The model, or 404 — the same 404 for a missing model and one the viewer may not see."""
    try:
        return selectors.model_get(owner=owner, name=name, user=request.user)
    except NotFound as e:
        raise Http404(str(e)) from e


def _model_context(
    request: HttpRequest, model: MLModel, tab: str, version: Version | None = None
) -> dict[str, Any]:
    version = version or model.latest_version
    return {
        "model": model,
        "tab": tab,
        "version": version,
        "tags": [tag.name for tag in model.tags.all()],
        "modality": for_version(
            version.id if version else None,
            version.openapi_schema if version else None,
            hint=model.description,
        ),
        "can_edit": selectors.can_write_owner(request.user, model.owner),
        # A model without a version says when one is on its way (the demo catalog builds
        # in the worker while the site is already up).
        "building": selectors.build_in_progress(model=model) if version is None else None,
    }


@require_http_methods(["GET", "POST"])
def model_playground(request: HttpRequest, owner: str, name: str) -> HttpResponse:
    model = _model(request, owner, name)
    return _playground(request, model, model.latest_version, tab="playground")


@require_http_methods(["GET", "POST"])
def model_version(request: HttpRequest, owner: str, name: str, version_id: str) -> HttpResponse:
    model = _model(request, owner, name)
    try:
        version = selectors.version_get(
            owner=owner, name=name, version_id=version_id, user=request.user
        )
    except NotFound as e:
        raise Http404(str(e)) from e
    return _playground(request, model, version, tab="versions")


def _playground(
    request: HttpRequest, model: MLModel, version: Version | None, *, tab: str
) -> HttpResponse:
    context = _model_context(request, model, tab, version)
    document = version.openapi_schema if version else None
    version_id = version.id if version else None
    example = model.default_example
    run = _shown_run(request, model)
    signed_in = selectors.signed_in(request.user) is not None
    notice = ""
    status = 200
    if request.method == "POST" and version is not None:
        uploads = runs.HeldUploads()
        submission = schema_forms.submit(
            document,
            request.POST,
            request.FILES,
            store_file=uploads,
            max_file_bytes=settings.VITRINE_MAX_FILE_BYTES,
        )
        if submission.is_valid and not signed_in:
            # Running needs an account: keep the input, ask for a log-in, come back.
            secret = [f.name for f in schema_forms.form_fields(document) if f.widget == "password"]
            runs.keep_for_login(
                request.session, path=request.path, data=request.POST, secret_names=secret
            )
            return redirect_to_login(request.get_full_path())
        if submission.is_valid:
            started = _start_prediction(
                request, version=version, input=submission.input, uploads=uploads
            )
            if isinstance(started, Prediction):
                return redirect(_playground_url(model, version, prediction_id=started.pk))
            submission.errors = started
        status = 422
        fields = schema_forms.form_fields(document, data=request.POST, errors=submission.errors)
        context["form_errors"] = submission.errors.get(schema_forms.NON_FIELD, [])
    else:
        kept = runs.take_kept(request.session, path=request.path) if signed_in else None
        if kept is not None:
            fields = schema_forms.form_fields(document, data=kept)
            notice = "Your input is filled in again: press Run to start it."
        elif run is not None:
            fields = schema_forms.form_fields(document, initial=run.input)
        else:
            initial = example.input if example is not None and tab == "playground" else None
            fields = schema_forms.form_fields(document, initial=initial)
    context.update(
        {
            "fields": fields,
            "notice": notice,
            "signed_in": signed_in,
            "max_file_bytes": settings.VITRINE_MAX_FILE_BYTES,
            "max_file_text": schema_forms.size_text(settings.VITRINE_MAX_FILE_BYTES),
            "has_files": any(f.widget == "file" for f in fields),
            "run": _run_context(request, run, where="playground") if run else None,
            "example": example,
            "example_document": (
                document if example is not None and example.version_id == version_id else None
            ),
            "schema_fields": schema_forms.form_fields(document) if tab == "versions" else [],
            "output_schema": output_schema(document),
            "document": document,
        }
    )
    return render(request, "catalog/model_playground.html", context, status=status)


def _start_prediction(
    request: HttpRequest, *, version: Version, input: dict[str, Any], uploads: runs.HeldUploads
) -> Prediction | dict[str, list[str]]:
    """THE place where the playground starts a run: store the held uploads as files, then
    create the prediction. Returns it, or the registry's refusal as messages per field."""
    user = _user(request)

    def store(upload: UploadedFile) -> str:
        file = files.file_create(owner=user, upload=upload)
        return links.absolute(f"/v1/files/{file.pk}", request)

    try:
        return predictions.prediction_create(
            actor=user,
            version=version,
            input=uploads.store(input, store),
            source=Prediction.Source.WEB,
        )
    except InvalidInput as e:
        inputs = {f.name for f in schema_forms.form_fields(version.openapi_schema)}
        errors: dict[str, list[str]] = {}
        for name, field_messages in e.fields.items():
            field = name.removeprefix("input.")
            if field not in inputs:  # about the input as a whole, or not about it at all
                field_messages = [f"{name}: {m}" for m in field_messages]
                field = schema_forms.NON_FIELD
            errors.setdefault(field, []).extend(field_messages)
        return errors
    except VitrineError as e:
        return {schema_forms.NON_FIELD: [e.detail]}


def _playground_url(
    model: MLModel, version: Version | None, *, prediction_id: str | None = None
) -> str:
    """The playground a run belongs to: the model's, or its version's when not the latest."""
    if version is None or version.id == model.latest_version_id:
        path = reverse("catalog:model", kwargs={"owner": model.owner.username, "name": model.name})
    else:
        path = reverse(
            "catalog:model-version",
            kwargs={"owner": model.owner.username, "name": model.name, "version_id": version.id},
        )
    return f"{path}?{urlencode({'prediction': prediction_id})}" if prediction_id else path


def _shown_run(request: HttpRequest, model: MLModel) -> Prediction | None:
    """The run named by `?prediction=`, shown live in the playground's output panel."""
    prediction_id = request.GET.get("prediction")
    if not prediction_id:
        return None
    found = _prediction(request, prediction_id)
    if found.model_id != model.pk:
        raise Http404("That prediction belongs to another model.")
    return found


def model_examples(request: HttpRequest, owner: str, name: str) -> HttpResponse:
    model = _model(request, owner, name)
    examples = list(selectors.example_list(model=model).select_related("version")[:50])
    files_used = selectors.files_by_id(runs.file_ids(p.input for p in examples))
    context = _model_context(request, model, "examples")
    context["examples"] = [
        (
            example,
            runs.input_rows(
                example.version.openapi_schema if example.version else None,
                example.input,
                files=files_used,
                base_url=links.base_url(request),
                hint=model.description,
            ),
        )
        for example in examples
    ]
    return render(request, "catalog/model_examples.html", context)


def model_readme(request: HttpRequest, owner: str, name: str) -> HttpResponse:
    model = _model(request, owner, name)
    context = _model_context(request, model, "readme")
    context["readme"] = readme_html(model)
    return render(request, "catalog/model_readme.html", context)


def model_api(request: HttpRequest, owner: str, name: str) -> HttpResponse:
    model = _model(request, owner, name)
    context = _model_context(request, model, "api")
    version = model.latest_version
    if version is not None:
        example = model.default_example
        sample = snippets.example_input(
            version.openapi_schema, example.input if example is not None else None
        )
        context["snippets"] = snippets.snippets(
            base_url=links.base_url(request),
            model_name=model.full_name,
            version_id=version.id,
            input=sample,
        )
        context["schema_fields"] = schema_forms.form_fields(version.openapi_schema)
        context["output_schema"] = output_schema(version.openapi_schema)
        context["document"] = version.openapi_schema
    context["base_url"] = links.base_url(request)
    return render(request, "catalog/model_api.html", context)


def model_versions(request: HttpRequest, owner: str, name: str) -> HttpResponse:
    model = _model(request, owner, name)
    context = _model_context(request, model, "versions")
    context["versions"] = list(selectors.version_list(model=model)[:100])
    context["builds"] = list(selectors.build_list(model=model, user=request.user)[:RECENT_BUILDS])
    return render(request, "catalog/model_versions.html", context)


# Predictions -------------------------------------------------------------------------


def _prediction(request: HttpRequest, prediction_id: str) -> Prediction:
    """The prediction, or 404 — the same for a missing one and one the viewer may not see
    (someone else's, not shared, or of a model they may not see)."""
    try:
        return predictions.prediction_get(prediction_id=prediction_id, user=request.user)
    except NotFound as e:
        raise Http404(str(e)) from e


def _run_context(request: HttpRequest, prediction: Prediction, *, where: str) -> dict[str, Any]:
    """What the live partial and the actions of a prediction need, on the playground
    (`where="playground"`) or on the prediction page (`where="page"`)."""
    model, version = prediction.model, prediction.version
    access = runs.access(request.user, prediction)
    is_example = is_default = False
    if access.can_curate and prediction.status == Prediction.Status.SUCCEEDED:
        is_example = selectors.example_list(model=model).filter(pk=prediction.pk).exists()
        is_default = model.default_example_id == prediction.pk
    page_url = reverse("catalog:prediction", kwargs={"prediction_id": prediction.pk})
    playground_url = _playground_url(model, version, prediction_id=prediction.pk)
    status_url = reverse("catalog:prediction-status", kwargs={"prediction_id": prediction.pk})
    return {
        "prediction": prediction,
        "document": version.openapi_schema if version is not None else None,
        "access": access,
        "where": where,
        "poll_url": f"{status_url}?from={where}",
        "poll_every": runs.poll_every(prediction.created_at),
        "page_url": page_url,
        "playground_url": playground_url,
        "back_url": playground_url if where == "playground" else page_url,
        "share_url": links.absolute(page_url, request),
        "is_example": is_example,
        "is_default": is_default,
    }


@require_GET
def prediction(request: HttpRequest, prediction_id: str) -> HttpResponse:
    found = _prediction(request, prediction_id)
    context = _run_context(request, found, where="page")
    document = context["document"]
    files_used = selectors.files_by_id(runs.file_ids([found.input]))
    context.update(
        {
            "model": found.model,
            "version": found.version,
            "inputs": runs.input_rows(
                document,
                found.input,
                files=files_used,
                base_url=links.base_url(request),
                hint=found.model.description,
            ),
        }
    )
    return render(request, "catalog/prediction.html", context)


@require_GET
def prediction_status(request: HttpRequest, prediction_id: str) -> HttpResponse:
    """The live part of a prediction (htmx polls it while the prediction runs); once it is
    done, the actions are swapped in beside it too."""
    return _live(request, _prediction(request, prediction_id))


def _live(request: HttpRequest, prediction: Prediction) -> HttpResponse:
    where = "playground" if request.GET.get("from") == "playground" else "page"
    context = _run_context(request, prediction, where=where)
    return render(request, "catalog/partials/prediction_live.html", context)


def _back(request: HttpRequest, fallback: str) -> HttpResponse:
    """Back to the page a form was sent from (only ever a page of this site)."""
    target = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return redirect(target if safe and target.startswith("/") else fallback)


@login_required
@require_POST
def prediction_cancel(request: HttpRequest, prediction_id: str) -> HttpResponse:
    found = _prediction(request, prediction_id)
    try:
        canceled = predictions.prediction_cancel(actor=request.user, prediction=found)
    except PermissionDenied as e:
        raise DjangoPermissionDenied(e.detail) from e
    if request.headers.get("HX-Request") == "true":
        canceled.version = found.version
        return _live(request, canceled)
    return _back(request, reverse("catalog:prediction", kwargs={"prediction_id": found.pk}))


@login_required
@require_POST
def prediction_share(request: HttpRequest, prediction_id: str) -> HttpResponse:
    found = _prediction(request, prediction_id)
    shared = request.POST.get("shared") == "true"
    try:
        predictions.prediction_mark_shared(actor=request.user, prediction=found, shared=shared)
    except PermissionDenied as e:
        raise DjangoPermissionDenied(e.detail) from e
    except Conflict as e:
        messages.error(request, e.detail)
    else:
        if shared:
            messages.success(request, "Shared: anyone with the link can see this prediction.")
        else:
            messages.success(request, "No longer shared: only you can see this prediction.")
    return _back(request, reverse("catalog:prediction", kwargs={"prediction_id": found.pk}))


@login_required
@require_POST
def prediction_example(request: HttpRequest, prediction_id: str) -> HttpResponse:
    """Model owners add a succeeded prediction to the model's examples (or make it the
    default example, or take it out again)."""
    found = _prediction(request, prediction_id)
    action = request.POST.get("action", "add")
    try:
        if action == "remove":
            services.example_remove(actor=request.user, model=found.model, prediction=found)
            messages.success(request, "Taken out of the examples.")
        else:
            services.example_add(
                actor=request.user,
                model=found.model,
                prediction=found,
                make_default=action == "default",
            )
            if action == "default":
                messages.success(request, "This is now the example the playground opens with.")
            else:
                messages.success(request, "Added to the examples (and shared).")
    except NotFound as e:
        raise Http404(str(e)) from e
    except PermissionDenied as e:  # they see the prediction and its model: not theirs
        raise DjangoPermissionDenied(e.detail) from e
    except InvalidInput as e:
        messages.error(request, " ".join(m for ms in e.fields.values() for m in ms))
    return _back(request, reverse("catalog:prediction", kwargs={"prediction_id": found.pk}))


# Publishing ---------------------------------------------------------------------------


def _writable_model(request: HttpRequest, owner: str, name: str) -> MLModel:
    """The model, if the viewer may publish to it; 403 if they only see it, else the usual
    404."""
    model = _model(request, owner, name)
    if not selectors.can_write_owner(request.user, model.owner):
        raise DjangoPermissionDenied(f"You are not allowed to publish versions of {owner}/{name}.")
    return model


@login_required
@require_http_methods(["GET", "POST"])
def version_new(request: HttpRequest, owner: str, name: str) -> HttpResponse:
    model = _writable_model(request, owner, name)
    form = (
        VersionUploadForm(request.POST, request.FILES)
        if request.method == "POST"
        else VersionUploadForm()
    )
    if request.method == "POST" and form.is_valid():
        try:
            build = builds.build_create_from_archive(
                actor=request.user, model=model, upload=form.cleaned_data["source"]
            )
        except PayloadTooLarge as e:
            form.add_error("source", e.detail)
        except VitrineError as e:
            add_service_errors(form, e, conflict_field="source")
        else:
            return redirect(
                "catalog:build", owner=model.owner.username, name=model.name, build_id=build.pk
            )
    context = _model_context(request, model, "versions")
    context.update(
        {
            "form": form,
            "builds": list(selectors.build_list(model=model, user=request.user)[:RECENT_BUILDS]),
            "base_url": links.base_url(request),
            "max_source_bytes": schema_forms.size_text(settings.VITRINE_MAX_SOURCE_BYTES),
        }
    )
    status = 422 if form.errors else 200
    return render(request, "catalog/version_new.html", context, status=status)


def _build(request: HttpRequest, owner: str, name: str, build_id: str) -> Build:
    """The build of this model, for those who may publish to it; 404 for anyone else."""
    try:
        found = builds.build_get(build_id=build_id, user=request.user)
    except NotFound as e:
        raise Http404(str(e)) from e
    if found.model.owner.username != owner or found.model.name != name:
        raise Http404(f"Build {build_id} not found.")
    return found


def _build_context(build: Build) -> dict[str, Any]:
    model = build.model
    kwargs = {"owner": model.owner.username, "name": model.name, "build_id": build.pk}
    return {
        "build": build,
        "poll_url": reverse("catalog:build-status", kwargs=kwargs),
        "poll_every": runs.poll_every(build.created_at),
    }


@require_GET
def build(request: HttpRequest, owner: str, name: str, build_id: str) -> HttpResponse:
    model = _model(request, owner, name)
    found = _build(request, owner, name, build_id)
    found.model = model
    context = _model_context(request, model, "versions")
    context.update(_build_context(found))
    return render(request, "catalog/build.html", context)


@require_GET
def build_status(request: HttpRequest, owner: str, name: str, build_id: str) -> HttpResponse:
    found = _build(request, owner, name, build_id)
    return render(request, "catalog/partials/build_status.html", _build_context(found))


# Accounts ----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_create(
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"],
                email=form.cleaned_data.get("email") or "",
            )
        except VitrineError as e:
            add_service_errors(form, e, conflict_field="username")
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, f"Welcome to Vitrine, {user.username}.")
            return redirect("catalog:owner", owner=user.username)
    status = 422 if form.errors else 200
    return render(request, "catalog/signup.html", {"form": form}, status=status)


def _user(request: HttpRequest) -> User:
    user = selectors.signed_in(request.user)
    assert user is not None  # guarded by login_required
    return user


@login_required
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = TokenCreateForm(request.POST or None)
    created = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            token, plaintext = services.token_create(user=user, name=form.cleaned_data["name"])
            created = {"token": token, "plaintext": plaintext}
            form = TokenCreateForm()
            status = 201
        else:
            status = 422
    context = {"form": form, "tokens": selectors.token_list(user=user), "created": created}
    response = render(request, "catalog/tokens.html", context, status=status)
    response["Cache-Control"] = "no-store"  # the new token is on this page once
    return response


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    try:
        services.token_revoke(user=_user(request), token_id=token_id)
    except NotFound as e:
        raise Http404(str(e)) from e
    messages.success(request, "The token was revoked; it no longer works.")
    return redirect("catalog:tokens")


@login_required
@require_http_methods(["GET", "POST"])
def model_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    services.owner_ensure_for_user(user=user)
    owners = [(o.username, o.username) for o in selectors.writable_owners(user)]
    hardware = [(h.sku, h.name) for h in selectors.hardware_list()]
    form = ModelCreateForm(
        request.POST or None,
        owners=owners,
        hardware=hardware,
        initial={"owner": user.username, "hardware": "cpu"},
    )
    if request.method == "POST" and form.is_valid():
        try:
            model = services.model_create(actor=user, **form.service_arguments())
        except VitrineError as e:
            add_service_errors(form, e, conflict_field="name")
        else:
            messages.success(request, f"Created {model.full_name}. Push a version to run it.")
            return redirect("catalog:model", owner=model.owner.username, name=model.name)
    status = 422 if form.errors else 200
    return render(request, "catalog/model_new.html", {"form": form}, status=status)


# Errors ------------------------------------------------------------------------------


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # No context processors, no database: this page must render when everything else fails.
    return HttpResponse(render_to_string("500.html"), status=500)


def service_unavailable(request: HttpRequest) -> HttpResponse:
    """The database is gone: said plainly, without touching it (as `server_error`)."""
    response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = DATABASE_RETRY_AFTER
    return response
