"""Policy features as the daemon evaluates them: audit, extensions, filesystem facts."""

import os
import subprocess

from conftest import _fs_magic
from helpers import imafs_bin, read_bytes, run, write_file


def policy_file(workdir, text):
    path = os.path.join(workdir, "policy")
    write_file(path, text)
    return path


def audit_lines(m):
    return [l for l in m.stderr().splitlines() if "op=audit " in l]


def test_audit_rule_logs_once_per_version(imafs, workdir):
    m = imafs(args=["--policy", policy_file(workdir, "audit func=FILE_CHECK mask=^MAY_READ\n")])
    write_file(m.src("a.txt"), "first\n")

    read_bytes(m.path("a.txt"))
    read_bytes(m.path("a.txt"))
    with open(m.path("a.txt"), "a") as f:
        f.write("second\n")
    read_bytes(m.path("a.txt"))

    lines = audit_lines(m)
    assert len(lines) == 2
    assert f"file='{m.path('a.txt')}'" in lines[0]
    assert "hash=sha256:" in lines[0]
    assert "exe='" in lines[0]
    assert m.names() == []


def test_fsname_matches_backing_filesystem(imafs, workdir):
    fsname = run(["stat", "-f", "-c", "%T", workdir]).stdout.strip()
    m = imafs(args=["--policy", policy_file(
        workdir, "dont_measure fsname=nosuchfs\nmeasure fsname=%s func=FILE_CHECK\n" %
        ("ext4" if fsname.startswith("ext") else fsname))])
    write_file(m.src("a.txt"), "a\n")

    read_bytes(m.path("a.txt"))

    assert m.names() == [m.path("a.txt")]


def test_extension_rule_needs_the_option(workdir, fuse):
    policy = policy_file(workdir, "measure func=FILE_CHECK path^=/tmp\n")
    src = os.path.join(workdir, "ext-src")
    mnt = os.path.join(workdir, "ext-mnt")
    os.makedirs(src)
    os.makedirs(mnt)

    proc = subprocess.run([imafs_bin(), "-f", "--tpm", "none", "--policy", policy,
                           "--runtime-dir", os.path.join(workdir, "ext-rt"), src, mnt],
                          capture_output=True, text=True, timeout=30)

    assert proc.returncode == 1
    assert "--policy-extensions" in proc.stderr


def test_path_prefix_extension(imafs, workdir):
    mountpoint = os.path.join(workdir, "prefix-mnt")
    os.makedirs(mountpoint)
    policy = policy_file(workdir, f"measure func=FILE_CHECK path^={mountpoint}/sub/\n")
    m = imafs(name="prefix", mountpoint=mountpoint,
              args=["--policy", policy, "--policy-extensions"])
    os.makedirs(m.src("sub"))
    write_file(m.src("sub", "in.txt"), "in\n")
    write_file(m.src("out.txt"), "out\n")

    read_bytes(m.path("sub", "in.txt"))
    read_bytes(m.path("out.txt"))

    assert m.names() == [m.path("sub", "in.txt")]


def test_comm_extension(imafs, workdir):
    policy = policy_file(workdir, "measure func=FILE_CHECK comm=cat\n")
    m = imafs(args=["--policy", policy, "--policy-extensions"])
    write_file(m.src("a.txt"), "a\n")
    write_file(m.src("b.txt"), "b\n")

    run(["cat", m.path("a.txt")])
    read_bytes(m.path("b.txt"))

    assert m.names() == [m.path("a.txt")]


def test_unevaluable_condition_reported_once(imafs, workdir):
    # SELinux subject labels cannot be read on a host without SELinux.
    if os.path.exists("/sys/fs/selinux/enforce"):
        import pytest
        pytest.skip("the host runs SELinux, so subj_type= can be evaluated")
    policy = policy_file(workdir, "measure func=FILE_CHECK subj_type=unconfined_t\n")
    m = imafs(args=["--policy", policy])
    write_file(m.src("a.txt"), "a\n")

    read_bytes(m.path("a.txt"))
    read_bytes(m.path("a.txt"))

    lines = [l for l in m.stderr().splitlines() if "result=inexact" in l]
    assert len(lines) == 1
    assert "rule=1" in lines[0]
    assert m.names() == []
