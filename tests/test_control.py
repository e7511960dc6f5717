"""Run-time control: policy reload on SIGHUP, appraisal mode on SIGUSR1."""

import hashlib
import os
import signal
import threading
import time

from helpers import read_text, run, write_file

MEASURE_READS = "measure func=FILE_CHECK mask=^MAY_READ\n"
MEASURE_EXEC_ONLY = "measure func=BPRM_CHECK\n"


def wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def daemon_pid(m):
    return int(read_text(m.rt("pid")).strip())


def reload_policy(m, text, policy_path):
    """Write TEXT as the policy and send SIGHUP; wait for the reload line."""
    before = m.stderr().count("op=policy-reload")
    write_file(policy_path, text)
    os.kill(daemon_pid(m), signal.SIGHUP)
    assert wait_for(lambda: m.stderr().count("op=policy-reload") > before)


def test_runtime_dir_has_pid_and_policy_hash(imafs, workdir):
    policy = os.path.join(workdir, "policy")
    write_file(policy, MEASURE_READS)
    m = imafs(args=["--policy", policy])

    assert daemon_pid(m) == m.proc.pid
    assert read_text(m.rt("policy_sha256")).strip() == \
        hashlib.sha256(MEASURE_READS.encode()).hexdigest()
    assert read_text(m.rt("appraise_mode")).strip() == "off"


def test_reload_changes_what_is_measured(imafs, workdir):
    policy = os.path.join(workdir, "policy")
    write_file(policy, MEASURE_EXEC_ONLY)
    m = imafs(args=["--policy", policy])
    write_file(m.src("a.txt"), "a\n")
    write_file(m.src("b.txt"), "b\n")

    run(["cat", m.path("a.txt")])
    reload_policy(m, MEASURE_READS, policy)
    run(["cat", m.path("b.txt")])

    assert m.names() == [m.path("b.txt")]
    assert read_text(m.rt("policy_sha256")).strip() == \
        hashlib.sha256(MEASURE_READS.encode()).hexdigest()
    assert "op=policy-reload result=loaded" in m.stderr()


def test_bad_policy_keeps_the_old_one(imafs, workdir):
    policy = os.path.join(workdir, "policy")
    write_file(policy, MEASURE_READS)
    m = imafs(args=["--policy", policy])
    m.allow_error_lines = True
    write_file(m.src("a.txt"), "a\n")
    old_sha = read_text(m.rt("policy_sha256")).strip()

    reload_policy(m, MEASURE_EXEC_ONLY + "measure fnc=FILE_CHECK\n", policy)
    run(["cat", m.path("a.txt")])

    line = [l for l in m.stderr().splitlines() if "op=policy-reload" in l][-1]
    assert "result=failed" in line
    assert f"{policy}:2:9" in line
    assert read_text(m.rt("policy_sha256")).strip() == old_sha
    assert m.names() == [m.path("a.txt")]


def test_appraise_mode_switch(imafs, workdir):
    policy = os.path.join(workdir, "policy")
    write_file(policy, "appraise func=FILE_CHECK\n")
    m = imafs(args=["--policy", policy, "--appraise", "enforce"])
    write_file(m.src("unhashed.txt"), "no xattr\n")
    path = m.path("unhashed.txt")

    denied = run(["cat", path], check=False)
    write_file(m.rt("appraise_mode"), "log\n")
    os.kill(daemon_pid(m), signal.SIGUSR1)
    assert wait_for(lambda: "op=appraise-mode result=changed" in m.stderr())
    allowed = run(["cat", path], check=False)

    assert denied.returncode != 0
    assert allowed.returncode == 0
    assert "from=enforce to=log" in m.stderr()


def test_invalid_appraise_mode_is_rejected(imafs, workdir):
    policy = os.path.join(workdir, "policy")
    write_file(policy, "appraise func=FILE_CHECK\n")
    m = imafs(args=["--policy", policy, "--appraise", "enforce"])
    m.allow_error_lines = True

    write_file(m.rt("appraise_mode"), "lenient\n")
    os.kill(daemon_pid(m), signal.SIGUSR1)
    assert wait_for(lambda: "op=appraise-mode result=failed" in m.stderr())

    assert "requested='lenient'" in m.stderr()
    assert wait_for(lambda: read_text(m.rt("appraise_mode")).strip() == "enforce")


def test_reload_under_load(imafs, workdir):
    """Opens from 4 threads never fail while the policy flips 100 times."""
    policy = os.path.join(workdir, "policy")
    write_file(policy, MEASURE_READS)
    m = imafs(args=["--policy", policy])
    for i in range(20):
        write_file(m.src(f"f{i}.txt"), f"{i}\n")
    stop = threading.Event()
    errors = []
    opens = [0] * 4

    def reader(slot):
        while not stop.is_set():
            for i in range(20):
                try:
                    with open(m.path(f"f{i}.txt"), "rb") as f:
                        f.read()
                    opens[slot] += 1
                except OSError as exc:
                    errors.append(exc)

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    try:
        for flip in range(100):
            reload_policy(m, MEASURE_EXEC_ONLY if flip % 2 == 0 else MEASURE_READS, policy)
    finally:
        stop.set()
        for t in threads:
            t.join()

    assert errors == []
    assert min(opens) > 0
    assert m.stderr().count("op=policy-reload result=loaded") == 100


def ctl_bin():
    return os.path.join(os.path.dirname(os.environ.get("IMAFS_BIN", "build/imafs")), "imafs-ctl")


def test_ctl_appraise_and_reload(imafs, workdir):
    import pytest
    if not os.path.exists(ctl_bin()):
        pytest.skip(f"{ctl_bin()} is not built")
    policy = os.path.join(workdir, "policy")
    write_file(policy, "appraise func=FILE_CHECK\n")
    m = imafs(args=["--policy", policy, "--appraise", "enforce"])

    switched = run([ctl_bin(), "-r", m.runtime_dir, "appraise", "log"])
    write_file(policy, "appraise func=FILE_CHECK\n" + MEASURE_READS)
    reloaded = run([ctl_bin(), "-r", m.runtime_dir, "reload"])
    status = run([ctl_bin(), "-r", m.runtime_dir, "status"])

    assert switched.stdout.strip() == "appraise mode: log"
    assert reloaded.stdout.strip() == "policy reloaded: sha256 " + \
        hashlib.sha256(("appraise func=FILE_CHECK\n" + MEASURE_READS).encode()).hexdigest()
    assert "appraise_mode: log" in status.stdout
