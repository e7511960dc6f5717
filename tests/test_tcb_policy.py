"""The built-in tcb policy as the daemon applies it to real processes.

The tcb rules measure FILE_CHECK with a read in the access mask for uid 0 or
euid 0, measure every BPRM_CHECK, and skip pseudo file systems, with tmpfs
skipped for FILE_CHECK only.
"""

import os
import shutil
import tempfile

import pytest

from helpers import copy_file, read_bytes, run, write_file

TMPFS_MAGIC = 0x01021994
# Without allow_other FUSE admits only processes whose uids all match the mounting user.
OTHERS = ["-o", "allow_other"]


def test_read_by_euid0_measured(imafs):
    m = imafs(args=OTHERS, name="tcb")
    write_file(m.src("f"), "x")
    run(["setpriv", "--ruid=65534", "cat", m.path("f")])
    assert m.names() == [m.path("f")]


def test_read_by_uid0_measured(imafs):
    """A process with real uid 0 and effective uid 65534 matches the uid=0 rule."""
    m = imafs(args=OTHERS, name="tcb")
    write_file(m.src("f"), "x", mode=0o644)
    run(["setpriv", "--euid=65534", "cat", m.path("f")])
    assert m.names() == [m.path("f")]


def test_write_only_open_not_measured(imafs):
    m = imafs(name="tcb")
    write_file(m.src("f"), "x")
    with open(m.path("f"), "a") as f:
        f.write("more")
    fd = os.open(m.path("f"), os.O_WRONLY | os.O_TRUNC)
    os.close(fd)
    assert m.names() == []


def test_read_write_open_measured(imafs):
    m = imafs(name="tcb")
    write_file(m.src("f"), "x")
    fd = os.open(m.path("f"), os.O_RDWR)
    os.close(fd)
    assert m.names() == [m.path("f")]


def test_exec_without_read_permission(imafs):
    m = imafs(args=OTHERS, name="tcb")
    copy_file(shutil.which("true"), m.src("prog"), mode=0o711)
    run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", m.path("prog")])
    assert m.names() == [m.path("prog")]


@pytest.fixture
def tmpfs_dir():
    """A directory on tmpfs (/dev/shm), or skip."""
    if not os.path.isdir("/dev/shm"):
        pytest.skip("/dev/shm is missing")
    out = run(["stat", "-f", "-c", "%t", "/dev/shm"]).stdout
    if int(out.strip(), 16) != TMPFS_MAGIC:
        pytest.skip("/dev/shm is not tmpfs")
    path = tempfile.mkdtemp(prefix="imafs-tmpfs-", dir="/dev/shm")
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_tmpfs_source_reads_skipped(tmpfs_dir, imafs, workdir):
    mnt = os.path.join(workdir, "mnt")
    os.mkdir(mnt)
    m = imafs(source=tmpfs_dir, mountpoint=mnt, name="tmpfs")
    write_file(m.src("data"), "on tmpfs\n")
    copy_file(shutil.which("true"), m.src("prog"), mode=0o755)

    assert read_bytes(m.path("data")) == b"on tmpfs\n"
    run([m.path("prog")])
    assert m.names() == [m.path("prog")], "tmpfs is exempt for FILE_CHECK only"
