"""imafs-policy as a user runs it: check's messages, print, and explain's output.

explain runs on a backing tree, and through a real imafs mount where the test
needs the backing filesystem's facts or the measurement list.

Environment:
  IMAFS_POLICY_BIN  the tool under test (default: build/imafs-policy)
"""

import json
import os
import subprocess

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FUSE_SUPER_MAGIC = 0x65735546


@pytest.fixture(scope="module")
def tool():
    path = os.environ.get("IMAFS_POLICY_BIN", os.path.join(REPO_ROOT, "build", "imafs-policy"))
    if not os.access(path, os.X_OK):
        pytest.skip(f"imafs-policy not found at {path}: build it (target imafs-policy) or set "
                    "IMAFS_POLICY_BIN")
    return path


def run(tool, *args, expect=0):
    proc = subprocess.run([tool, *args], capture_output=True, text=True, timeout=60)
    assert proc.returncode == expect, (f"{' '.join(args)}: exit {proc.returncode}\n"
                                       f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc


def explain_json(tool, *args):
    return json.loads(run(tool, "explain", "--json", *args).stdout)


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return str(path)


def fs_magic(path):
    out = subprocess.run(["stat", "-f", "-c", "%t", path], capture_output=True, text=True,
                         check=True).stdout
    return int(out.strip(), 16)


# check

def test_check_error_format(tool, tmp_path):
    policy = write(tmp_path / "p", "measure func=BPRM_CHECK\n"
                                   "measure func=FILE_CHECK mask=MAY_RAED uid=0\n"
                                   "dont_measure fsmagic=PROC_SUPER_MAGIC\n")
    out = run(tool, "check", policy, expect=1).stdout.splitlines()
    assert out[0].startswith(f"{policy}:2:25: error: invalid mask value 'MAY_RAED'")
    assert out[1] == "    token: mask=MAY_RAED"
    assert out[2].startswith("    kernel: rejects the rule: write() fails with EINVAL")
    assert out[3].startswith(f"{policy}:3:14: error: invalid fsmagic value 'PROC_SUPER_MAGIC'")
    assert out[-2] == f"{policy}: rejected by the kernel parser: 2 errors, 0 warnings"
    assert out[-1] == f"{policy}: checked for Linux 6.19"


def test_check_unknown_token_kernel_text(tool, tmp_path):
    policy = write(tmp_path / "p", "mesure func=BPRM_CHECK\n")
    report = json.loads(run(tool, "check", "--json", policy, expect=1).stdout)
    (error,) = report["errors"]
    assert (error["line"], error["col"], error["token"]) == (1, 1, "mesure")
    assert "did you mean 'measure'?" in error["message"]
    assert "UNKNOWN=mesure res=0" in error["kernel"]
    assert "ima: policy update failed" in error["kernel"]


def test_check_accepts_with_warnings(tool, tmp_path):
    policy = write(tmp_path / "p", "dont_measure func=FILE_CHECK\n"
                                   "measure func=FILE_CHECK mask=MAY_READ uid=0\n"
                                   "measure func=MMAP_CHECK\n")
    out = run(tool, "check", policy).stdout
    assert f"{policy}:2:1: warning: this rule can never decide measure, because the " \
           "measure rule on line 1" in out
    assert f"{policy}:3:9: warning: cannot be evaluated exactly: FUSE receives no request " \
           "for mmap()" in out
    assert f"{policy}: accepted by the kernel parser: 3 rules, 2 warnings" in out


def test_check_kernel_flags_extensions(tool, tmp_path):
    policy = write(tmp_path / "p", 'measure path="/opt/My App/*" comm=app\n')
    run(tool, "check", policy, expect=1)
    run(tool, "check", "--extensions", policy)
    report = json.loads(run(tool, "check", "--kernel", "--extensions", "--json", policy,
                            expect=1).stdout)
    assert [(e["code"], e["col"], e["token"]) for e in report["errors"]] == [
        ("extension", 9, "path=/opt/My App/*"), ("extension", 30, "comm=app")]
    assert all("cannot be loaded into a kernel" in e["message"] for e in report["errors"])


def test_usage_errors(tool, tmp_path):
    policy = write(tmp_path / "p", "measure\n")
    assert "usage:" in run(tool, expect=2).stderr
    assert "unknown command 'lint'" in run(tool, "lint", policy, expect=2).stderr
    assert "invalid kernel version '6'" in run(tool, "check", "--kernel-version", "6", policy,
                                               expect=2).stderr
    assert "print takes only" in run(tool, "print", "--kernel", policy, expect=2).stderr
    assert "--kernel belongs to check" in run(tool, "explain", "--kernel", policy,
                                              expect=2).stderr
    assert "explain needs --policy" in run(tool, "explain", policy, expect=2).stderr
    assert "no such file" in run(tool, "check", str(tmp_path / "missing"),
                                 expect=1).stderr.lower()


def test_print_canonical(tool, tmp_path):
    policy = write(tmp_path / "p", "measure uid=+0 mask=^MAY_READ func=PATH_CHECK # root\n"
                                   "appraise appraise_type=imasig fowner=0 appraise_flag=x\n")
    assert run(tool, "print", policy).stdout == (
        "measure func=FILE_CHECK mask=^MAY_READ uid=0 \n"
        "appraise fowner=0 appraise_type=imasig \n")
    out = run(tool, "print", "builtin:critical_data|secure_boot").stdout.splitlines()
    assert out[0] == "appraise func=MODULE_CHECK appraise_type=imasig|modsig "
    assert out[-1] == "measure func=CRITICAL_DATA "


# explain on a backing tree

@pytest.fixture
def tree(tmp_path):
    os.makedirs(tmp_path / "src" / "bin")
    write(tmp_path / "src" / "data", "data\n")
    write(tmp_path / "src" / "bin" / "tool", "#!/bin/sh\n")
    os.chmod(tmp_path / "src" / "bin" / "tool", 0o755)
    return tmp_path


def test_explain_uid_versus_euid(tool, tree):
    policy = write(tree / "p", "measure func=FILE_CHECK uid=0\n"
                               "measure func=FILE_CHECK euid=0 pcr=11\n")
    data = str(tree / "src" / "data")
    report = explain_json(tool, "--policy", policy, "--uid", "1000", "--euid", "0", data)
    (event,) = report["events"]
    measure = event["kinds"]["measure"]
    assert (measure["decision"], measure["line"]) == ("measure", 2)
    assert measure["skipped"] == [{"line": 1, "rule": "measure func=FILE_CHECK uid=0",
                                   "result": "no-match", "keyword": "uid=",
                                   "reason": "uid=0: the subject's real uid is 1000"}]
    assert event["measure"]["pcr"] == 11

    # Real uid 0 but effective uid 1000: uid= decides, euid= would need CAP_SETUID.
    report = explain_json(tool, "--policy", write(tree / "q", "measure euid=0\nmeasure uid=0\n"),
                          "--uid", "0", "--euid", "1000", data)
    measure = report["events"][0]["kinds"]["measure"]
    assert measure["line"] == 2
    assert measure["skipped"][0]["reason"] == "euid=0: the subject's effective uid is 1000"
    report = explain_json(tool, "--policy", str(tree / "q"), "--uid", "0", "--euid", "1000",
                          "--cap-setuid", data)
    assert report["events"][0]["kinds"]["measure"]["line"] == 1


def test_explain_exec_versus_read(tool, tree):
    policy = write(tree / "p", "measure func=BPRM_CHECK mask=MAY_EXEC\n"
                               "measure func=FILE_CHECK mask=MAY_READ\n")
    program = str(tree / "src" / "bin" / "tool")
    report = explain_json(tool, "--policy", policy, "--exec", program)
    file_check, bprm = report["events"]
    assert (file_check["func"], file_check["mask"]) == ("FILE_CHECK", "MAY_EXEC")
    assert file_check["kinds"]["measure"]["decision"] == "none"
    assert [s["reason"] for s in file_check["kinds"]["measure"]["skipped"]] == [
        "func=BPRM_CHECK: the event is FILE_CHECK",
        "mask=MAY_READ: the event mask is MAY_EXEC, not exactly MAY_READ"]
    assert (bprm["func"], bprm["kinds"]["measure"]["line"]) == ("BPRM_CHECK", 1)

    report = explain_json(tool, "--policy", policy, program)
    assert report["events"][0]["kinds"]["measure"]["line"] == 2

    out = run(tool, "explain", "--policy", policy, "--exec", program).stdout
    assert "event: BPRM_CHECK mask=MAY_EXEC\n  measure: yes: decided by line 1: " \
           "measure func=BPRM_CHECK mask=MAY_EXEC\n" in out
    assert "    line 2 skipped: measure func=FILE_CHECK mask=MAY_READ\n" \
           "      mask=MAY_READ: the event mask is MAY_EXEC, not exactly MAY_READ\n" in out


def test_explain_dont_measure_shadows(tool, tree):
    data = str(tree / "src" / "data")
    owner = os.stat(data).st_uid
    policy = write(tree / "p", f"dont_measure fowner={owner}\n"
                               "measure func=FILE_CHECK\n"
                               "audit\n")
    out = run(tool, "explain", "--policy", policy, data).stdout
    assert f"  measure: no: decided by line 1: dont_measure fowner={owner}\n" in out
    assert "  audit: yes: decided by line 3: audit\n" in out
    assert "  appraise: not evaluated: the policy has no appraise rule\n" in out
    assert "verdict: allowed: not measured; not appraised; an audit record is written" in out
    # The measure rule still decides for files of other owners, so check does not warn.
    check = json.loads(run(tool, "check", "--json", policy).stdout)
    assert not [w for w in check["warnings"] if w["code"] == "shadowed"]


def test_explain_inexact_and_xattrs(tool, tree):
    policy = write(tree / "p", "dont_appraise obj_type=tmp_t\n"
                               "appraise func=FILE_CHECK appraise_type=imasig\n")
    data = str(tree / "src" / "data")
    digest = bytes([0x04, 0x04]) + bytes(32)
    try:
        os.setxattr(data, "user.ima", digest)
    except OSError as exc:
        pytest.skip(f"user xattrs not supported here: {exc}")
    report = explain_json(tool, "--policy", policy, "--xattr", "user.ima", data)
    (event,) = report["events"]
    if report["file"]["selinux"] is None:
        # Without a label the dont_appraise rule cannot be evaluated.
        assert event["inexact"] == {"line": 1, "keyword": "obj_type="}
    xattr = report["file"]["xattrs"]["user.ima"]
    assert (xattr["present"], xattr["length"], xattr["type"]) == (True, 34, 4)
    assert xattr["hex_prefix"] == digest[:32].hex()
    # A digest where a signature is required fails in enforce mode.
    assert event["appraise"]["cause"] == "IMA-signature-required"
    assert report["verdict"] == "denied"


def test_explain_appraisal_passes_with_good_digest(tool, tree):
    import hashlib

    data = str(tree / "src" / "data")
    with open(data, "rb") as f:
        digest = hashlib.sha256(f.read()).digest()
    try:
        os.setxattr(data, "user.ima", bytes([0x04, 0x04]) + digest)
    except OSError as exc:
        pytest.skip(f"user xattrs not supported here: {exc}")
    policy = write(tree / "p", "appraise func=FILE_CHECK\n")
    report = explain_json(tool, "--policy", policy, "--xattr", "user.ima", data)
    assert report["events"][0]["appraise"]["passed"] is True
    assert report["verdict"] == "allowed"
    out = run(tool, "explain", "--policy", policy, "--xattr", "user.ima", data).stdout
    assert "  appraisal of user.ima with sha256: pass\n" in out


def test_explain_live_process(tool, tree):
    policy = write(tree / "p", "measure euid=0\nmeasure\n")
    report = explain_json(tool, "--policy", policy, "--pid", str(os.getpid()),
                          str(tree / "src" / "data"))
    subject = report["subject"]
    assert subject["pid"] == os.getpid()
    assert (subject["uid"], subject["euid"]) == (os.getuid(), os.geteuid())
    assert subject["exe"] == os.path.realpath(f"/proc/{os.getpid()}/exe")


# explain through an imafs mount

def test_explain_through_mount(tool, imafs, tmp_path):
    mount = imafs(args=["--policy", "builtin:tcb"])
    write(mount.src("data"), "hello\n")
    with open(mount.path("data"), "rb") as f:
        f.read()
    backing_magic = fs_magic(mount.source)
    assert backing_magic != FUSE_SUPER_MAGIC

    # The backing filesystem's magic decides, not FUSE's.
    policy = write(tmp_path / "p", f"dont_measure fsmagic={FUSE_SUPER_MAGIC:#x}\n"
                                   f"dont_measure fsmagic={backing_magic:#x} uid=1000\n"
                                   "measure func=FILE_CHECK\n")
    report = explain_json(tool, "--policy", policy, "--uid", "0", "--runtime-dir",
                          mount.runtime_dir, mount.path("data"))
    f = report["file"]
    assert (f["through_mount"], f["backing"]) == (True, mount.src("data"))
    assert f["name"] == mount.path("data")
    assert f["fsmagic"] == f"{backing_magic:#x}"
    measure = report["events"][0]["kinds"]["measure"]
    assert measure["line"] == 3
    assert measure["skipped"][0]["reason"] == (
        f"fsmagic={FUSE_SUPER_MAGIC:#x}: the filesystem magic is {backing_magic:#x}")
    assert measure["skipped"][1]["reason"] == "uid=1000: the subject's real uid is 0"
    # The tcb mount measured the read, so the list has the entry.
    assert f["measurements"]["count"] == 1
    assert f["measurements"]["pcr"] == 10

    # The same file named in the backing tree gets the name the list records.
    report = explain_json(tool, "--policy", policy, mount.src("data"))
    assert report["file"]["name"] == mount.path("data")
    assert report["file"]["through_mount"] is False

    out = run(tool, "explain", "--policy", policy, "--runtime-dir", mount.runtime_dir,
              mount.path("data")).stdout
    assert f"  read from {mount.src('data')}, the backing file of the imafs mount on " \
           f"{mount.mountpoint}\n" in out
    assert f"magic {backing_magic:#x}" in out
    assert "measurement list: 1 entry in" in out
