"""Project archives (.tar.gz): packing with ignore files, and unpacking that refuses
anything that could escape the target folder or exhaust the disk."""

from __future__ import annotations

import gzip
import io
import os
import stat
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pathspec

IGNORE_FILES = (".dockerignore", ".cogignore")
ALWAYS_IGNORED = (".git/", "__pycache__/", "*.pyc", ".cog/", ".venv/")


class ArchiveError(ValueError):
    """The archive is unsafe or unreadable; the message names the member."""


@dataclass(frozen=True)
class Limits:
    max_members: int = 10_000
    max_total_bytes: int = 1024 * 1024 * 1024
    max_ratio: int = 200  # uncompressed / compressed: beyond this it is an archive bomb


def _ignore_spec(root: Path) -> pathspec.PathSpec:
    lines = list(ALWAYS_IGNORED)
    for name in IGNORE_FILES:
        path = root / name
        if path.is_file():
            lines.extend(path.read_text().splitlines())
    return pathspec.PathSpec.from_lines("gitwildmatch", lines)


def project_files(root: Path) -> Iterator[Path]:
    """Files of a Cog project, honouring .dockerignore and .cogignore."""
    spec = _ignore_spec(root)
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = sorted(
            d for d in dirnames if not spec.match_file(_relative(root, here / d) + "/")
        )
        for name in sorted(filenames):
            if not spec.match_file(_relative(root, here / name)):
                yield here / name


def _relative(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def pack(root: Path) -> bytes:
    """A deterministic .tar.gz of the project (same files → same bytes)."""
    buffer = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for path in project_files(root):
            if path.is_symlink():
                continue
            info = tar.gettarinfo(str(path), arcname=path.relative_to(root).as_posix())
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mtime = 0
            info.mode = 0o755 if info.mode & stat.S_IXUSR else 0o644
            with path.open("rb") as handle:
                tar.addfile(info, handle)
    return buffer.getvalue()


def _safe_name(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or name.startswith("\\"):
        raise ArchiveError(f"The archive member {name!r} points outside the project.")
    parts = [p for p in path.parts if p not in ("", ".")]
    return PurePosixPath(*parts) if parts else PurePosixPath(".")


def unpack(archive: Path, target: Path, limits: Limits | None = None) -> int:
    """Unpack a .tar.gz into `target`; returns the number of files.

    Refuses absolute paths, `..`, links, devices, too many members and archive bombs,
    checking every member before writing anything.
    """
    limits = limits or Limits()
    compressed = max(archive.stat().st_size, 1)
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            members: list[tuple[tarfile.TarInfo, PurePosixPath]] = []
            total = 0
            for member in tar:
                if len(members) >= limits.max_members:
                    raise ArchiveError(f"The archive has more than {limits.max_members} members.")
                name = _safe_name(member.name)
                if member.issym() or member.islnk():
                    raise ArchiveError(f"The archive member {member.name!r} is a link.")
                if not (member.isfile() or member.isdir()):
                    raise ArchiveError(f"The archive member {member.name!r} is not a file.")
                total += member.size
                allowed = min(limits.max_total_bytes, compressed * limits.max_ratio)
                if total > allowed:
                    raise ArchiveError(
                        f"The archive unpacks to too much data (over {allowed} bytes)."
                    )
                members.append((member, name))
            target.mkdir(parents=True, exist_ok=True)
            count = 0
            for member, name in members:
                destination = target / name
                if member.isdir():
                    destination.mkdir(parents=True, exist_ok=True)
                    continue
                destination.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                assert source is not None
                with destination.open("wb") as out:
                    written = 0
                    while chunk := source.read(1024 * 1024):
                        written += len(chunk)
                        if written > member.size:
                            raise ArchiveError(f"The archive member {member.name!r} is corrupt.")
                        out.write(chunk)
                destination.chmod(0o755 if member.mode & stat.S_IXUSR else 0o644)
                count += 1
            return count
    except (tarfile.TarError, EOFError, OSError) as e:
        raise ArchiveError(f"The upload is not a readable .tar.gz archive: {e}") from e
