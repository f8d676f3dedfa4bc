"""Web pages of the catalog: thin views that read through `registry.selectors`, write
through `registry.services`, and leave the work to the catalog's modules (`browse`,
`schema_forms`, `snippets`, `readme`).

`_start_prediction` is where a valid playground submission turns into a run.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods, require_POST

from catalog import browse, caching, schema_forms, snippets
from catalog.forms import ModelCreateForm, SignupForm, TokenCreateForm, add_service_errors
from catalog.modality import for_version
from catalog.readme import readme_html
from catalog.schemas import output_schema
from registry import links, selectors, services
from registry.errors import NotFound, VitrineError
from registry.models import MLModel, Version

PAGE_SIZE = 24
NOT_RUNNING_YET = "Running models arrives with the inference backend."


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
    result = browse.browse(query, user=request.user)
    page = Paginator(result.models, PAGE_SIZE).get_page(request.GET.get("page"))
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
    notice = ""
    status = 200
    if request.method == "POST" and version is not None:
        submission = schema_forms.submit(document, request.POST, request.FILES)
        if submission.is_valid:
            response = _start_prediction(request, version=version, input=submission.input)
            if response is not None:
                return response
            notice = NOT_RUNNING_YET
        else:
            status = 422
        fields = schema_forms.form_fields(document, data=request.POST, errors=submission.errors)
        context["form_errors"] = submission.errors.get(schema_forms.NON_FIELD, [])
    else:
        initial = example.input if example is not None and tab == "playground" else None
        fields = schema_forms.form_fields(document, initial=initial)
    context.update(
        {
            "fields": fields,
            "notice": notice,
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
    request: HttpRequest, *, version: Version, input: dict[str, Any]
) -> HttpResponse | None:
    """THE place where the playground starts a run. Phase B wires it:

        prediction = services.prediction_create(
            actor=request.user, version=version, input=input, source="web"
        )
        return redirect("catalog:prediction", prediction_id=prediction.id)

    (turning `InvalidInput` into field messages as `_playground` does, and deciding what
    anonymous visitors get). Until then a valid submission re-renders the form with
    `NOT_RUNNING_YET`, which is what returning None does.
    """
    return None


def model_examples(request: HttpRequest, owner: str, name: str) -> HttpResponse:
    model = _model(request, owner, name)
    examples = selectors.example_list(model=model).select_related("version")
    context = _model_context(request, model, "examples")
    context["examples"] = list(examples[:50])
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
    return render(request, "catalog/model_versions.html", context)


def prediction(request: HttpRequest, prediction_id: str) -> HttpResponse:
    """Reserved for the prediction page (status, logs, output), built with the inference
    backend in phase B."""
    raise Http404("Prediction pages arrive with the inference backend.")


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
