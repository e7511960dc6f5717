"""Mounting, daemon life cycle and command-line handling."""

import os
import re
import shutil
import subprocess
import time

import pytest

from helpers import (EXIT_TIMEOUT, MOUNT_TIMEOUT, daemon_env, fuse_mounts, imafs_bin, is_mounted,
                     read_bytes, read_text, run, sanitizer_reports, write_file)


def test_source_equals_mountpoint(imafs, workdir):
    tree = os.path.join(workdir, "overlay")
    write_file(os.path.join(tree, "sub", "kept.txt"), "written before the mount\n")

    m = imafs(source=tree, mountpoint=tree, name="self")
    assert read_bytes(os.path.join(tree, "sub", "kept.txt")) == b"written before the mount\n"
    write_file(os.path.join(tree, "new.txt"), "written through the mount\n")
    assert read_bytes(os.path.join(tree, "new.txt")) == b"written through the mount\n"
    assert m.names() == [os.path.join(tree, "sub", "kept.txt"), os.path.join(tree, "new.txt")]

    m.stop()
    assert not is_mounted(tree)
    assert read_bytes(os.path.join(tree, "new.txt")) == b"written through the mount\n"


def _imafs_pids(mountpoint):
    """Return PIDs of processes running the imafs binary with MOUNTPOINT in argv."""
    binary = imafs_bin()
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            exe = os.readlink(f"/proc/{entry}/exe")
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if exe == binary and mountpoint.encode() in argv:
            pids.append(int(entry))
    return pids


def _wait_gone(pids, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(os.path.exists(f"/proc/{pid}") for pid in pids):
            return True
        time.sleep(0.05)
    return False


def test_daemon_mode_mounts_and_exits(fuse, workdir):
    source = os.path.join(workdir, "src")
    mnt = os.path.join(workdir, "mnt")
    os.mkdir(source)
    os.mkdir(mnt)
    write_file(os.path.join(source, "f.txt"), "daemon mode\n")
    stderr_path = os.path.join(workdir, "stderr.log")
    cmd = [fuse, "--tpm", "none", "--runtime-dir", os.path.join(workdir, "rt"), source, mnt]

    # Files, not pipes: the daemon keeps the descriptors it inherits.
    with open(stderr_path, "wb") as err:
        parent = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                                  env=daemon_env())
    returncode = parent.wait(timeout=MOUNT_TIMEOUT)
    pids = _imafs_pids(mnt)
    try:
        assert returncode == 0, read_text(stderr_path)
        assert is_mounted(mnt), "the mount must be up when the parent returns"
        assert read_bytes(os.path.join(mnt, "f.txt")) == b"daemon mode\n"
        assert len(pids) == 1, f"expected one daemon process, found {pids}"
    finally:
        if is_mounted(mnt):
            run(["fusermount3", "-u", "-z", mnt])
    assert _wait_gone(pids, EXIT_TIMEOUT), f"imafs {pids} still running after unmount"
    assert _imafs_pids(mnt) == []
    assert sanitizer_reports(read_text(stderr_path)) == []


def test_help_and_version(binary):
    help_res = run([binary, "--help"], check=False)
    assert help_res.returncode == 0, help_res.stderr
    assert "--policy" in help_res.stdout + help_res.stderr

    version = run([binary, "--version"], check=False)
    assert version.returncode == 0, version.stderr
    assert re.search(r"\b\d+\.\d+\.\d+\b", version.stdout + version.stderr)


def _start_expecting_failure(workdir, args):
    """Run the daemon in the foreground with ARGS, which must make it exit."""
    source = os.path.join(workdir, "src")
    mnt = os.path.join(workdir, "mnt")
    os.makedirs(source, exist_ok=True)
    os.makedirs(mnt, exist_ok=True)
    cmd = [imafs_bin(), "-f", "--tpm", "none", "--runtime-dir", os.path.join(workdir, "rt"),
           *args, source, mnt]
    res = run(cmd, env=daemon_env(), timeout=MOUNT_TIMEOUT, check=False)
    if is_mounted(mnt):
        run(["fusermount3", "-u", "-z", mnt])
        pytest.fail(f"{cmd} mounted although it should have failed")
    assert sanitizer_reports(res.stderr) == []
    return res


def test_bad_policy_file_rejected(fuse, workdir):
    policy = os.path.join(workdir, "bad.policy")
    write_file(policy, "measure func=BPRM_CHECK\n# comment\nmeasure func=NOT_A_HOOK\n")

    res = _start_expecting_failure(workdir, ["--policy", policy])
    assert res.returncode == 1, res.stderr
    assert re.search(re.escape(policy) + r":3:\d+", res.stderr), res.stderr
    assert "NOT_A_HOOK" in res.stderr


def test_missing_policy_file_rejected(fuse, workdir):
    missing = os.path.join(workdir, "no-such.policy")
    res = _start_expecting_failure(workdir, ["--policy", missing])
    assert res.returncode == 1, res.stderr
    assert missing in res.stderr


def test_ima_template_needs_sha1(fuse, workdir):
    res = _start_expecting_failure(workdir, ["--template", "ima", "--hash", "sha256"])
    assert res.returncode != 0
    assert "sha1" in res.stderr


def test_unknown_hash_rejected(fuse, workdir):
    res = _start_expecting_failure(workdir, ["--hash", "md4"])
    assert res.returncode != 0
    assert "md4" in res.stderr


def test_default_runtime_dir(imafs):
    """Without --runtime-dir the lists go below /run/imafs, named like systemd does."""
    if shutil.which("systemd-escape") is None:
        pytest.skip("systemd-escape is missing")
    m = imafs(runtime_dir=False, name="defrt")
    escaped = run(["systemd-escape", "--path", m.mountpoint]).stdout.strip()
    m.runtime_dir = os.path.join("/run/imafs", escaped)
    try:
        write_file(m.src("f"), "x")
        read_bytes(m.path("f"))
        assert m.names() == [m.path("f")]
    finally:
        m.stop()
        shutil.rmtree(m.runtime_dir, ignore_errors=True)


def test_no_mount_left_after_stop(imafs):
    m = imafs(name="life")
    m.stop()
    assert m.mountpoint not in fuse_mounts()
    assert _imafs_pids(m.mountpoint) == []
