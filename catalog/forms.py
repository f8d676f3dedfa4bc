"""Django forms of the account pages: sign-up, API tokens, creating a model.

They check what a browser form can get wrong on its own (a missing field, two different
passwords); the rules of the domain are the services' to enforce, and their errors are
put back next to the fields by `add_service_errors`.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation

from registry.errors import Conflict, InvalidInput, PermissionDenied, VitrineError
from registry.models import MLModel


class SignupForm(forms.Form):
    username = forms.CharField(
        max_length=39,
        help_text="Lowercase letters, digits, '-', '_' and '.'. It is your namespace: "
        "your models live at /<username>/<model>.",
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    email = forms.EmailField(
        required=False, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 8 characters, not a common password.",
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", "The two passwords differ.")
        elif first:
            try:
                password_validation.validate_password(first)
            except forms.ValidationError as e:
                self.add_error("password1", e)
        return data


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        required=False,
        help_text="To recognise it later, e.g. the machine or app that uses it.",
    )


class ModelCreateForm(forms.Form):
    owner = forms.ChoiceField(help_text="You, or an organization you belong to.")
    name = forms.CharField(
        max_length=100,
        help_text="Lowercase letters, digits, '-', '_' and '.'; the model's URL is "
        "/<owner>/<name>.",
        widget=forms.TextInput(attrs={"autocapitalize": "none", "spellcheck": "false"}),
    )
    description = forms.CharField(
        max_length=500, required=False, help_text="One sentence shown on model cards."
    )
    visibility = forms.ChoiceField(
        choices=MLModel.Visibility.choices,
        initial=MLModel.Visibility.PUBLIC,
        widget=forms.RadioSelect,
        help_text="Private models are visible only to the owner's members.",
    )
    hardware = forms.ChoiceField(help_text="What the model runs on.")
    tags = forms.CharField(
        required=False, help_text="Comma-separated, e.g. image, upscaling", max_length=500
    )
    cover_image_url = forms.URLField(
        label="Cover image URL", required=False, assume_scheme="https", max_length=1000
    )
    github_url = forms.URLField(
        label="GitHub URL", required=False, assume_scheme="https", max_length=1000
    )
    paper_url = forms.URLField(
        label="Paper URL", required=False, assume_scheme="https", max_length=1000
    )
    license_url = forms.URLField(
        label="License URL", required=False, assume_scheme="https", max_length=1000
    )
    readme = forms.CharField(
        label="README",
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Markdown.",
    )

    def __init__(
        self,
        *args: Any,
        owners: list[tuple[str, str]],
        hardware: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        owner_field = self.fields["owner"]
        hardware_field = self.fields["hardware"]
        assert isinstance(owner_field, forms.ChoiceField)
        assert isinstance(hardware_field, forms.ChoiceField)
        owner_field.choices = owners
        hardware_field.choices = hardware

    def service_arguments(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["tags"] = [t.strip() for t in str(data.get("tags") or "").split(",") if t.strip()]
        return data


class VersionUploadForm(forms.Form):
    source = forms.FileField(
        label="Project archive",
        help_text="A .tar.gz of the folder that holds cog.yaml and predict.py, with cog.yaml "
        "at its top level.",
        widget=forms.ClearableFileInput(attrs={"accept": ".tar.gz,.tgz,application/gzip"}),
    )


def add_service_errors(form: forms.Form, error: VitrineError, *, conflict_field: str) -> None:
    """Put a service's refusal next to the field it is about."""
    if isinstance(error, InvalidInput):
        for name, messages in error.fields.items():
            field = name if name in form.fields else None
            for message in messages:
                form.add_error(field, message)
    elif isinstance(error, Conflict):
        form.add_error(conflict_field, error.detail)
    elif isinstance(error, PermissionDenied) and "owner" in form.fields:
        form.add_error("owner", error.detail)
    else:
        form.add_error(None, error.detail)
