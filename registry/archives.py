"""Project archives (.tar.gz): packing with ignore files, and unpacking that refuses
anything that could escape the target folder or exhaust the disk."""

from __future__ import annotations

import gzip
import io
import os
import shutil
import stat
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

import pathspec

IGNORE_FILES = (".dockerignore", ".cogignore")
ALWAYS_IGNORED = (".git/", "__pycache__/", "*.pyc", ".cog/", ".venv/")


# The most `check` reads of a file it is asked for (a cog.yaml is a few hundred bytes).
MAX_READ_BYTES = 1024 * 1024


class ArchiveError(ValueError):
    """The archive is unsafe or unreadable; the message names the member."""


@dataclass(frozen=True)
class Limits:
    max_members: int = 10_000
    max_total_bytes: int = 1024 * 1024 * 1024
    max_ratio: int = 200  # uncompressed / compressed: beyond this it is an archive bomb
    # Below this, a high ratio is just a compressible project (a big JSON, a sparse file).
    ratio_exempt_bytes: int = 16 * 1024 * 1024


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


def _checked_members(
    tar: tarfile.TarFile, limits: Limits, compressed: int
) -> list[tuple[tarfile.TarInfo, PurePosixPath]]:
    """Every member with its safe relative name, or ArchiveError for the first bad one."""
    allowed = min(
        limits.max_total_bytes, max(compressed * limits.max_ratio, limits.ratio_exempt_bytes)
    )
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
        if total > allowed:
            raise ArchiveError(f"The archive unpacks to too much data (over {allowed} bytes).")
        members.append((member, name))
    return members


def check(
    fileobj: IO[bytes], limits: Limits | None = None, *, read: str | None = None
) -> tuple[int, bytes | None]:
    """Read an archive through without writing anything: its member count and the content
    of the top-level file `read` (None when absent), or ArchiveError.

    Lets an upload be refused at once instead of by a build later.
    """
    start = fileobj.tell()
    compressed = max(fileobj.seek(0, os.SEEK_END) - start, 1)
    fileobj.seek(start)
    try:
        with tarfile.open(fileobj=fileobj, mode="r:gz") as tar:
            members = _checked_members(tar, limits or Limits(), compressed)
            wanted = [m for m, name in members if read and name == PurePosixPath(read)]
            handle = tar.extractfile(wanted[-1]) if wanted else None
            return len(members), handle.read(MAX_READ_BYTES) if handle else None
    except (tarfile.TarError, EOFError, OSError, zlib.error) as e:
        raise ArchiveError(f"The upload is not a readable .tar.gz archive: {e}") from e
    finally:
        fileobj.seek(start)


def unpack(archive: Path, target: Path, limits: Limits | None = None) -> int:
    """Unpack a .tar.gz into `target` (absent or empty); returns the number of files.

    Refuses absolute paths, `..`, links, devices, too many members and archive bombs,
    checking every member before writing anything. Files are written to a scratch folder
    that becomes `target` only once all of them are out, so a refused or truncated archive
    leaves nothing behind.
    """
    limits = limits or Limits()
    compressed = max(archive.stat().st_size, 1)
    if target.exists() and any(target.iterdir()):
        raise ArchiveError(f"Cannot unpack into {target}: it is not empty.")
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            members = _checked_members(tar, limits, compressed)
            count = 0
            for member, name in members:
                destination = scratch / name
                if member.isdir():
                    destination.mkdir(parents=True, exist_ok=True)
                    continue
                destination.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                assert source is not None
                with destination.open("wb") as out:
                    shutil.copyfileobj(source, out, 1024 * 1024)
                destination.chmod(0o755 if member.mode & stat.S_IXUSR else 0o644)
                count += 1
        scratch.chmod(0o755)
        if target.exists():
            target.rmdir()
        scratch.rename(target)
        return count
    except (tarfile.TarError, EOFError, OSError, zlib.error) as e:
        raise ArchiveError(f"The upload is not a readable .tar.gz archive: {e}") from e
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
