"""Files API (`/v1/files`): uploads for prediction inputs, as Replicate's client sends them."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import FileResponse, HttpRequest, HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status
from rest_framework.request import Request
from rest_framework.response import Response

from registry import files, selectors
from registry.api.errors import problem_response
from registry.api.serializers import FileCreateSerializer, FileSerializer
from registry.api.views import ApiView, signed_in
from registry.inference import internal
from registry.models import File


class FileListView(ApiView):
    permission_classes = [permissions.IsAuthenticated]
    pagination_ordering = ("-created_at", "-id")

    @extend_schema(operation_id="files_list", responses=FileSerializer(many=True))
    def get(self, request: Request) -> Response:
        return self.paginate(files.file_list(owner=signed_in(request)), FileSerializer)

    @extend_schema(
        operation_id="files_create",
        request={"multipart/form-data": FileCreateSerializer},
        responses={201: FileSerializer},
    )
    def post(self, request: Request) -> Response:
        data = FileCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        file = files.file_create(
            owner=signed_in(request),
            upload=data.validated_data["content"],
            filename=data.validated_data.get("filename"),
            content_type=data.validated_data.get("type"),
            metadata=data.validated_data.get("metadata"),
        )
        return Response(
            FileSerializer(file, context={"request": request}).data, status=status.HTTP_201_CREATED
        )


class FileDetailView(ApiView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(operation_id="files_get", responses=FileSerializer)
    def get(self, request: Request, file_id: str) -> Response:
        file = files.file_get(file_id=file_id, owner=signed_in(request))
        return Response(FileSerializer(file, context={"request": request}).data)

    @extend_schema(operation_id="files_delete", responses={204: None})
    def delete(self, request: Request, file_id: str) -> Response:
        files.file_delete(file_id=file_id, owner=signed_in(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


def file_download(request: HttpRequest, file_id: str) -> HttpResponse | FileResponse:
    """The file's bytes: for a signed URL (what Cog servers get), the owner's session, or
    staff. Anyone else gets the same 404 as for a missing file, headers included."""
    import time

    # Read the session whether or not the file exists: it adds `Vary: Cookie`, which
    # would otherwise tell an existing file from a missing one.
    user = request.user if request.user.is_authenticated else None
    file = File.objects.select_related("owner").filter(pk=file_id).first()
    allowed = False
    if file is not None:
        owner, expiry = request.GET.get("owner", ""), request.GET.get("expiry", "")
        signature = request.GET.get("signature", "")
        if owner and expiry.isdigit() and signature:
            allowed = (
                owner == file.owner.username
                and int(expiry) >= time.time()
                and internal.file_signature(owner, file.pk, int(expiry)) == signature
            )
        allowed = (
            allowed
            or (isinstance(user, User) and user.pk == file.owner_id)
            or selectors.sees_everything(user)
        )
    if file is None or not allowed:
        return problem_response(404, f"File {file_id} not found.")
    response = FileResponse(file.content.open("rb"), content_type=file.content_type)
    response["Content-Disposition"] = f'inline; filename="{file.name}"'
    return response
