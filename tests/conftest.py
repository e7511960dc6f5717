"""Fixtures for the imafs integration tests: real FUSE mounts, swtpm, evmctl.

Environment:
  IMAFS_BIN            daemon under test (default: build/imafs in the repository)
  IMAFS_TEST_DIR       parent of the per-test directories; must be a disk file
                       system, because the built-in tcb policy skips tmpfs
  IMAFS_TEST_LOG_LEVEL --log-level passed to the daemon (default: info)
  IMAFS_TEST_KEEP      if set, keep each test's directory for inspection
"""

import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import helpers  # noqa: E402

from helpers import EXIT_TIMEOUT, MOUNT_TIMEOUT, REPO_ROOT, daemon_env, imafs_bin  # noqa: E402

SHARED_DIR = os.path.realpath(os.path.join(REPO_ROOT, os.pardir, "shared"))
# statfs f_type values of file systems that the tcb policy does not measure.
MEMORY_FS_MAGICS = {0x01021994: "tmpfs", 0x858458f6: "ramfs"}


def _fs_magic(path):
    out = subprocess.run(["stat", "-f", "-c", "%t", path], capture_output=True, text=True,
                         check=True).stdout
    return int(out.strip(), 16)


def _pick_test_base():
    candidates = [os.environ.get("IMAFS_TEST_DIR"), "/var/tmp",
                  os.path.join(REPO_ROOT, "build")]
    for cand in candidates:
        if not cand or not os.path.isdir(cand):
            continue
        if _fs_magic(cand) not in MEMORY_FS_MAGICS:
            return os.path.realpath(cand)
    pytest.skip("no disk-backed directory for test trees: set IMAFS_TEST_DIR "
                "(tmpfs is exempt from the tcb policy)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for mount in getattr(item, "imafs_mounts", []):
            report.sections.append((f"imafs reproducer ({mount.mountpoint})",
                                    mount.describe(item.nodeid)))


def require_tools(*tools):
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.skip(f"missing tools: {', '.join(missing)}")


@pytest.fixture
def workdir(request):
    """A fresh directory on a disk file system, readable by every user."""
    base = _pick_test_base()
    path = os.path.realpath(tempfile.mkdtemp(prefix="imafs-test-", dir=base))
    os.chmod(path, 0o755)
    yield path
    leftover = [m for m in helpers.fuse_mounts() if m == path or m.startswith(path + "/")]
    if leftover:
        # Removing a tree with a live mount inside would delete through it.
        print(f"not removing {path}: still mounted at {leftover}")
        return
    if os.environ.get("IMAFS_TEST_KEEP"):
        print(f"kept test directory {path}")
        return
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def swtpm(workdir):
    """A swtpm TPM 2.0 on a free loopback port, fresh state, stopped by PID."""
    require_tools("swtpm", "tpm2_pcrread", "tpm2_pcrextend")
    state = os.path.join(workdir, "swtpm-state")
    os.mkdir(state)
    tpm = helpers.Swtpm(state)
    yield tpm
    tpm.stop()


@pytest.fixture
def evmctl():
    require_tools("evmctl")
    return shutil.which("evmctl")


@pytest.fixture
def shared_dir():
    if not os.path.isdir(SHARED_DIR):
        pytest.skip(f"shared test vectors not found at {SHARED_DIR}")
    return SHARED_DIR


class ImafsMount:
    """One imafs daemon in the foreground and the mount it serves."""

    def __init__(self, source, mountpoint, runtime_dir, stderr_path, args, env):
        self.source = source
        self.mountpoint = mountpoint
        self.runtime_dir = runtime_dir
        self.stderr_path = stderr_path
        self.cmd = [imafs_bin(), "-f", *args, source, mountpoint]
        self.env = env
        self.proc = None
        self.returncode = None
        # A test that provokes daemon errors on purpose sets this to True.
        self.allow_error_lines = False

    def start(self):
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL,
                                         stdout=err, stderr=err, env=self.env)
        deadline = time.monotonic() + MOUNT_TIMEOUT
        while time.monotonic() < deadline:
            if helpers.is_mounted(self.mountpoint):
                return self
            if self.proc.poll() is not None:
                self.returncode = self.proc.returncode
                raise AssertionError(f"imafs exited with {self.returncode} before mounting\n"
                                     f"{self.describe()}")
            time.sleep(0.02)
        raise AssertionError(f"{self.mountpoint} not mounted after {MOUNT_TIMEOUT} s\n"
                             f"{self.describe()}")

    def stderr(self):
        try:
            return helpers.read_text(self.stderr_path)
        except FileNotFoundError:
            return ""

    def describe(self, nodeid=None):
        env = " ".join(f"{k}={shlex.quote(v)}" for k, v in self.env.items()
                       if k.startswith(("ASAN_", "UBSAN_", "LSAN_")))
        lines = [f"daemon: {env + ' ' if env else ''}{shlex.join(self.cmd)}"]
        if nodeid:
            lines.append(f"test:   cd {shlex.quote(REPO_ROOT)} && "
                         f"IMAFS_BIN={shlex.quote(imafs_bin())} "
                         f"/usr/bin/python3 -m pytest -q {shlex.quote(nodeid)}")
        tail = self.stderr().splitlines()[-40:]
        lines.append(f"stderr ({self.stderr_path}), last {len(tail)} lines:")
        lines += ["  " + line for line in tail]
        return "\n".join(lines)

    def path(self, *parts):
        return os.path.join(self.mountpoint, *parts)

    def src(self, *parts):
        return os.path.join(self.source, *parts)

    def rt(self, name):
        return os.path.join(self.runtime_dir, name)

    def records(self, bank=None):
        """Parse the classic list, or the per-bank list of BANK."""
        if bank is None:
            return helpers.read_log(self.rt("binary_runtime_measurements"))
        return helpers.read_log(self.rt(f"binary_runtime_measurements_{bank}"),
                                helpers.BANK_SIZES[bank])

    def names(self):
        """Return the names of every record after boot_aggregate, in log order."""
        return [r.name for r in self.records()[1:]]

    def snapshot(self, dest):
        """Copy the runtime directory (files, symlinks resolved) into DEST."""
        os.makedirs(dest, exist_ok=True)
        for name in os.listdir(self.runtime_dir):
            src = self.rt(name)
            if os.path.isfile(src):
                shutil.copyfile(src, os.path.join(dest, name))
        return dest

    def unmount(self):
        if helpers.is_mounted(self.mountpoint):
            helpers.run(["fusermount3", "-u", "-z", self.mountpoint], timeout=30)

    def stop(self):
        """Unmount, wait for the daemon, and check its exit status and stderr."""
        if self.proc is None or self.returncode is not None:
            return self.returncode
        self.unmount()
        try:
            self.returncode = self.proc.wait(timeout=EXIT_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGKILL)
            self.returncode = self.proc.wait(timeout=EXIT_TIMEOUT)
            raise AssertionError(f"imafs still running {EXIT_TIMEOUT} s after unmount, killed\n"
                                 f"{self.describe()}")
        text = self.stderr()
        reports = helpers.sanitizer_reports(text)
        assert not reports, f"sanitizer reports in imafs stderr:\n{self.describe()}"
        assert self.returncode == 0, f"imafs exited with {self.returncode}\n{self.describe()}"
        if not self.allow_error_lines:
            errors = [line for line in text.splitlines() if line[:3] in ("<0>", "<1>", "<2>", "<3>")]
            assert not errors, f"unexpected error lines in imafs stderr:\n{self.describe()}"
        return self.returncode


@pytest.fixture
def binary():
    """Path of the daemon under test; fails the test when it was not built."""
    path = imafs_bin()
    if not os.access(path, os.X_OK):
        pytest.fail(f"imafs binary {path} not found: build it with cmake or set IMAFS_BIN",
                    pytrace=False)
    return path


@pytest.fixture
def fuse(binary):
    """Skip unless this process can mount FUSE file systems as root."""
    if not os.path.exists("/dev/fuse"):
        pytest.skip("/dev/fuse is missing")
    require_tools("fusermount3")
    if os.geteuid() != 0:
        pytest.skip("the tcb policy measures reads by uid 0 only; run the tests as root")
    return binary


@pytest.fixture
def imafs(request, workdir, fuse):
    """Factory: imafs(tpm="none", args=[...], source=None, mountpoint=None, ...).

    Creates SOURCE and MOUNTPOINT under the test directory unless given,
    starts the daemon in the foreground and waits for the mount. Every mount
    is unmounted at teardown, where a non-zero exit or a sanitizer report fails
    the test.
    """
    mounts = []
    request.node.imafs_mounts = mounts

    def start(tpm="none", args=(), source=None, mountpoint=None, runtime_dir=None,
              name=None):
        name = name or f"m{len(mounts)}"
        if source is None:
            source = os.path.join(workdir, f"{name}-src")
            os.makedirs(source, exist_ok=True)
        if mountpoint is None:
            mountpoint = os.path.join(workdir, f"{name}-mnt")
            os.makedirs(mountpoint, exist_ok=True)
        full_args = ["--log-level", os.environ.get("IMAFS_TEST_LOG_LEVEL", "info")]
        if runtime_dir is None:
            runtime_dir = os.path.join(workdir, f"{name}-runtime")
        # False leaves the daemon's default; the test then sets mount.runtime_dir.
        if runtime_dir is not False:
            full_args += ["--runtime-dir", runtime_dir]
        if tpm is not None:
            full_args += ["--tpm", tpm]
        full_args += list(args)
        mount = ImafsMount(source, mountpoint, runtime_dir,
                           os.path.join(workdir, f"{name}-stderr.log"), full_args, daemon_env())
        mounts.append(mount)
        return mount.start()

    yield start

    failures = []
    for mount in reversed(mounts):
        try:
            mount.stop()
        except AssertionError as exc:
            failures.append(str(exc))
        except Exception as exc:  # keep unmounting the others
            failures.append(f"{mount.mountpoint}: {exc!r}")
    if failures:
        pytest.fail("\n\n".join(failures), pytrace=False)


# --- measurement list tests (test_log_*.py) ---------------------------------------------------

# Directory the generated vector logs name their files under (/opt/demo/hello.txt).
VECTOR_MOUNTPOINT = "/opt/demo"
# Serializes tests that mount at VECTOR_MOUNTPOINT, also across pytest processes.
VECTOR_LOCK = "/run/lock/imafs-test-opt-demo.lock"


@pytest.fixture
def imafs_log_tool():
    """Path of imafs-log next to the daemon under test; fails the test when it was not built."""
    path = helpers.imafs_log_bin()
    if not os.access(path, os.X_OK):
        pytest.fail(f"imafs-log {path} not found: build it with cmake or set IMAFS_LOG_BIN",
                    pytrace=False)
    return path


@pytest.fixture
def opt_demo():
    """/opt/demo as a mount point, so that logged names equal those of the vector logs.

    Request it before `imafs`, so that its teardown runs after the mount is
    gone. It creates /opt/demo when missing and removes it afterwards; an
    existing directory is only mounted over, never changed.
    """
    import fcntl

    os.makedirs(os.path.dirname(VECTOR_LOCK), exist_ok=True)
    lock = open(VECTOR_LOCK, "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    created = not os.path.isdir(VECTOR_MOUNTPOINT)
    try:
        if helpers.is_mounted(VECTOR_MOUNTPOINT):
            pytest.skip(f"{VECTOR_MOUNTPOINT} is already a FUSE mount; unmount it first")
        if created:
            os.makedirs(VECTOR_MOUNTPOINT)
        yield VECTOR_MOUNTPOINT
    finally:
        if helpers.is_mounted(VECTOR_MOUNTPOINT):
            helpers.run(["fusermount3", "-u", "-z", VECTOR_MOUNTPOINT], check=False)
        if created and os.path.isdir(VECTOR_MOUNTPOINT):
            os.rmdir(VECTOR_MOUNTPOINT)
        lock.close()
