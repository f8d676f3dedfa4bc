"""Project archives: deterministic packing that honours ignore files, and unpacking that
refuses anything unsafe without writing a byte."""

from __future__ import annotations

import gzip
import io
import os
import tarfile
from pathlib import Path

import pytest

from registry import archives
from registry.archives import ArchiveError, Limits


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def names(archive: bytes) -> list[str]:
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        return tar.getnames()


def tar_gz(*members: tuple[tarfile.TarInfo, bytes | None]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def file_member(name: str, data: bytes = b"x") -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def special_member(name: str, kind: bytes, linkname: str = "") -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info, None


def saved(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "upload.tar.gz"
    path.write_bytes(data)
    return path


# Packing ----------------------------------------------------------------------------


def test_packing_the_same_files_gives_the_same_bytes(tmp_path: Path) -> None:
    files = {"cog.yaml": "predict: predict.py:P\n", "predict.py": "x = 1\n", "lib/util.py": ""}
    first = write(tmp_path / "a", files)
    second = write(tmp_path / "b", dict(reversed(files.items())))
    os.utime(second / "predict.py", (1_000_000, 1_000_000))  # other mtimes, other order
    assert archives.pack(first) == archives.pack(second)
    assert names(archives.pack(first)) == ["cog.yaml", "predict.py", "lib/util.py"]


def test_packing_keeps_the_executable_bit_and_nothing_else_of_the_owner(tmp_path: Path) -> None:
    root = write(tmp_path, {"run.sh": "#!/bin/sh\n", "data.txt": "x"})
    (root / "run.sh").chmod(0o700)
    (root / "data.txt").chmod(0o600)
    with tarfile.open(fileobj=io.BytesIO(archives.pack(root)), mode="r:gz") as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert members["run.sh"].mode == 0o755
    assert members["data.txt"].mode == 0o644
    assert {(m.uid, m.gid, m.uname, m.mtime) for m in members.values()} == {(0, 0, "", 0)}


def test_a_changed_file_changes_the_archive(tmp_path: Path) -> None:
    root = write(tmp_path, {"cog.yaml": "", "predict.py": "x = 1\n"})
    before = archives.pack(root)
    (root / "predict.py").write_text("x = 2\n")
    assert archives.pack(root) != before


def test_packing_honours_dockerignore_and_cogignore(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            ".dockerignore": "# comment\n*.ckpt\ndata/\n*.txt\n!keep.txt\n",
            ".cogignore": "secret.env\nnotes/draft.md\n",
            "cog.yaml": "",
            "predict.py": "",
            "weights.ckpt": "big",
            "sub/model.ckpt": "big",
            "data/train.csv": "a,b",
            "data/nested/more.csv": "a,b",
            "readme.txt": "ignored",
            "keep.txt": "kept by negation",
            "secret.env": "TOKEN=1",
            "notes/draft.md": "ignored",
            "notes/final.md": "kept",
            "database.py": "kept: data/ names a folder, not a prefix",
        },
    )
    assert sorted(names(archives.pack(root))) == [
        ".cogignore",
        ".dockerignore",
        "cog.yaml",
        "database.py",
        "keep.txt",
        "notes/final.md",
        "predict.py",
    ]


def test_packing_always_leaves_out_git_caches_and_virtualenvs(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "cog.yaml": "",
            ".git/HEAD": "ref",
            "__pycache__/predict.cpython-311.pyc": "",
            "lib/__pycache__/x.pyc": "",
            "stray.pyc": "",
            ".cog/openapi_schema.json": "{}",
            ".venv/bin/python": "",
        },
    )
    assert names(archives.pack(root)) == ["cog.yaml"]


def test_packing_skips_symlinks(tmp_path: Path) -> None:
    root = write(tmp_path / "project", {"cog.yaml": ""})
    (tmp_path / "outside.txt").write_text("secret")
    (root / "link.txt").symlink_to(tmp_path / "outside.txt")
    assert names(archives.pack(root)) == ["cog.yaml"]


def test_a_packed_project_unpacks_to_the_same_files(tmp_path: Path) -> None:
    files = {"cog.yaml": "predict: predict.py:P\n", "predict.py": "x = 1\n", "a/b/c.txt": "deep"}
    root = write(tmp_path / "project", files)
    archive = saved(tmp_path, archives.pack(root))
    target = tmp_path / "out"
    assert archives.unpack(archive, target) == 3
    assert {p.relative_to(target).as_posix(): p.read_text() for p in target.rglob("*.*")} == files


# Unpacking --------------------------------------------------------------------------


def assert_refused(tmp_path: Path, data: bytes, message: str, limits: Limits | None = None) -> None:
    archive = saved(tmp_path, data)
    target = tmp_path / "out"
    with pytest.raises(ArchiveError, match=message):
        archives.unpack(archive, target, limits)
    assert not target.exists()
    # Nothing half-written beside it either.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["upload.tar.gz"]
    # The same verdict comes from checking the upload without unpacking it.
    with pytest.raises(ArchiveError, match=message):
        archives.check(io.BytesIO(data), limits)


def test_it_refuses_a_member_that_climbs_out(tmp_path: Path) -> None:
    data = tar_gz(file_member("cog.yaml"), file_member("../escape.txt"))
    assert_refused(tmp_path, data, r"'\.\./escape\.txt' points outside the project")


def test_it_refuses_a_member_that_climbs_out_from_inside(tmp_path: Path) -> None:
    data = tar_gz(file_member("lib/../../escape.txt"))
    assert_refused(tmp_path, data, "points outside the project")


def test_it_refuses_an_absolute_member(tmp_path: Path) -> None:
    data = tar_gz(file_member("cog.yaml"), file_member("/etc/cron.d/evil"))
    assert_refused(tmp_path, data, "'/etc/cron.d/evil' points outside the project")


def test_it_refuses_a_symlink(tmp_path: Path) -> None:
    data = tar_gz(file_member("cog.yaml"), special_member("link", tarfile.SYMTYPE, "/etc/passwd"))
    assert_refused(tmp_path, data, "'link' is a link")


def test_it_refuses_a_hard_link(tmp_path: Path) -> None:
    data = tar_gz(file_member("cog.yaml"), special_member("hard", tarfile.LNKTYPE, "cog.yaml"))
    assert_refused(tmp_path, data, "'hard' is a link")


@pytest.mark.parametrize("kind", [tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE])
def test_it_refuses_devices_and_fifos(tmp_path: Path, kind: bytes) -> None:
    data = tar_gz(file_member("cog.yaml"), special_member("dev", kind))
    assert_refused(tmp_path, data, "'dev' is not a file")


def test_it_refuses_too_many_members(tmp_path: Path) -> None:
    data = tar_gz(*(file_member(f"f{i}.txt") for i in range(6)))
    assert_refused(tmp_path, data, "more than 5 members", Limits(max_members=5))
    assert archives.unpack(saved(tmp_path, data), tmp_path / "ok", Limits(max_members=6)) == 6


def test_it_refuses_an_archive_bomb(tmp_path: Path) -> None:
    data = tar_gz(file_member("cog.yaml"), file_member("zeros.bin", bytes(50 * 1024 * 1024)))
    assert len(data) < 200 * 1024  # 50 MB of zeros squeezes to almost nothing
    assert_refused(tmp_path, data, "unpacks to too much data")


def test_it_refuses_more_data_than_the_total_limit(tmp_path: Path) -> None:
    data = tar_gz(file_member("a.bin", os.urandom(3000)), file_member("b.bin", os.urandom(3000)))
    limits = Limits(max_total_bytes=5000)
    assert_refused(tmp_path, data, r"over 5000 bytes", limits)


def test_a_small_but_very_compressible_project_is_not_a_bomb(tmp_path: Path) -> None:
    data = tar_gz(file_member("vocab.json", b'{"token": 0}\n' * 200_000))  # 2.6 MB, ratio > 200
    target = tmp_path / "out"
    assert archives.unpack(saved(tmp_path, data), target) == 1
    assert (target / "vocab.json").stat().st_size == 2_600_000


@pytest.mark.parametrize(
    "data",
    [
        b"PK\x03\x04 a zip file",
        b"",
        gzip.compress(b"just some gzipped text, not a tar archive" * 20),
    ],
)
def test_it_refuses_what_is_not_a_tar_gz(tmp_path: Path, data: bytes) -> None:
    assert_refused(tmp_path, data, "not a readable .tar.gz archive")


def test_a_truncated_archive_leaves_nothing_behind(tmp_path: Path) -> None:
    data = tar_gz(file_member("a.txt", b"a" * 1000), file_member("b.bin", os.urandom(100_000)))
    archive = saved(tmp_path, data[: len(data) - 5000])
    target = tmp_path / "out"
    with pytest.raises(ArchiveError, match="not a readable"):
        archives.unpack(archive, target)
    assert not target.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["upload.tar.gz"]


def test_it_unpacks_into_an_existing_empty_folder_but_not_a_full_one(tmp_path: Path) -> None:
    archive = saved(tmp_path, tar_gz(file_member("cog.yaml", b"predict: p.py:P")))
    target = tmp_path / "out"
    target.mkdir()
    assert archives.unpack(archive, target) == 1
    with pytest.raises(ArchiveError, match="not empty"):
        archives.unpack(archive, target)


def test_directory_members_and_dot_prefixes_are_fine(tmp_path: Path) -> None:
    directory = tarfile.TarInfo("./src")
    directory.type = tarfile.DIRTYPE
    data = tar_gz((directory, None), file_member("./src/predict.py", b"x = 1\n"))
    target = tmp_path / "out"
    assert archives.unpack(saved(tmp_path, data), target) == 1
    assert (target / "src" / "predict.py").read_text() == "x = 1\n"


def test_the_executable_bit_survives_and_other_mode_bits_do_not(tmp_path: Path) -> None:
    run, data_file = file_member("run.sh", b"#!/bin/sh\n"), file_member("setuid", b"")
    run[0].mode = 0o700
    data_file[0].mode = 0o4777 & ~0o100  # setuid, world-writable, not owner-executable
    target = tmp_path / "out"
    archives.unpack(saved(tmp_path, tar_gz(run, data_file)), target)
    assert (target / "run.sh").stat().st_mode & 0o7777 == 0o755
    assert (target / "setuid").stat().st_mode & 0o7777 == 0o644


def test_checking_leaves_the_upload_where_it_was(tmp_path: Path) -> None:
    upload = io.BytesIO(tar_gz(file_member("cog.yaml"), file_member("predict.py")))
    assert archives.check(upload) == (2, None)
    assert upload.tell() == 0


def test_checking_reads_the_one_top_level_file_asked_for(tmp_path: Path) -> None:
    upload = io.BytesIO(
        tar_gz(file_member("./cog.yaml", b"predict: p.py:P"), file_member("sub/cog.yaml", b"no"))
    )
    assert archives.check(upload, read="cog.yaml") == (2, b"predict: p.py:P")
    assert archives.check(upload, read="missing.txt") == (2, None)
    assert upload.tell() == 0


def test_a_member_that_cannot_be_written_leaves_nothing_behind(tmp_path: Path) -> None:
    # Every header is fine, but `lib/x.py` cannot be made under the *file* `lib`: the
    # failure comes mid-extraction, after `cog.yaml` and `lib` were written.
    data = tar_gz(file_member("cog.yaml"), file_member("lib"), file_member("lib/x.py"))
    target = tmp_path / "out"
    with pytest.raises(ArchiveError):
        archives.unpack(saved(tmp_path, data), target)
    assert not target.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["upload.tar.gz"]
