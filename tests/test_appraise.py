"""Appraisal through a real mount, with evmctl as the signer and the hasher.

Keys and certificates are made with openssl when the session starts: an RSA
key and an EC P-256 key whose certificates the daemon loads, and a third RSA
key that the daemon does not load. Files are signed or hashed in SOURCE, so
the daemon reads what evmctl wrote. Faults are made behind the mount, in
SOURCE, as an attacker with access to the backing store would make them.
Every denial is checked twice: the errno the caller gets, and the NOTICE
line on the daemon's stderr that names the cause.
"""

import errno
import os
import re
import shutil
import subprocess
import time

import pytest

from helpers import (copy_file, evmctl_measurement, imafs_bin, daemon_env, is_mounted,
                     read_bytes, run, write_file)

NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
IMA = "security.ima"
USER_IMA = "user.ima"
SHA256_ID = 4  # kernel hash algorithm ids, as in the xattr's algorithm byte
SHA1_ID = 2
SHA512_ID = 6
SIG_HEADER = 9  # type, version, algorithm, key id (4), length (2)

OPEN_RULES = ["appraise func=FILE_CHECK"]
EXEC_RULES = ["appraise func=BPRM_CHECK"]
OPEN_AND_EXEC_RULES = OPEN_RULES + EXEC_RULES
# The list only gains records for measured files, so ima-sig tests measure reads too.
MEASURE_RULES = ["measure func=FILE_CHECK mask=^MAY_READ", "measure func=BPRM_CHECK"]

# One line of the daemon's stderr: "<N>key=value key='quoted value' ...".
LOG_LINE = re.compile(r"<(\d)>(.*)")
LOG_FIELD = re.compile(r"(\w+)=('[^']*'|\S+)")
FIX_TIMEOUT = 5.0  # seconds for an xattr rewrite that runs in the asynchronous FUSE release


# --- keys and evmctl ---------------------------------------------------------------------------

class SigningKey:
    """A private key for evmctl and the certificate the daemon may load."""

    def __init__(self, key, cert_pem, cert_der):
        self.key = key
        self.cert_pem = cert_pem
        self.cert_der = cert_der


def _make_key(directory, name, newkey_args):
    key = os.path.join(directory, f"{name}.key")
    pem = os.path.join(directory, f"{name}.crt")
    der = os.path.join(directory, f"{name}.der")
    run(["openssl", "req", "-x509", *newkey_args, "-nodes", "-keyout", key, "-out", pem,
         "-subj", f"/CN=imafs test {name}", "-days", "30",
         "-addext", "subjectKeyIdentifier=hash"])
    run(["openssl", "x509", "-in", pem, "-outform", "DER", "-out", der])
    return SigningKey(key, pem, der)


class KeySet:
    """The session's keys; TRUSTED is a directory with one PEM and one DER certificate."""

    def __init__(self, directory):
        self.rsa = _make_key(directory, "rsa", ["-newkey", "rsa:2048"])
        self.ec = _make_key(directory, "ec", ["-newkey", "ec", "-pkeyopt",
                                              "ec_paramgen_curve:prime256v1"])
        self.stranger = _make_key(directory, "stranger", ["-newkey", "rsa:2048"])
        self.trusted = os.path.join(directory, "trusted")
        os.mkdir(self.trusted)
        # One certificate in each encoding, so the directory load covers both.
        shutil.copyfile(self.rsa.cert_der, os.path.join(self.trusted, "rsa.der"))
        shutil.copyfile(self.ec.cert_pem, os.path.join(self.trusted, "ec.pem"))

    def get(self, kind):
        return {"rsa": self.rsa, "ec": self.ec, "stranger": self.stranger}[kind]


@pytest.fixture(scope="session")
def keys(tmp_path_factory):
    for tool in ("openssl", "evmctl"):
        if shutil.which(tool) is None:
            pytest.skip(f"missing tool: {tool}")
    directory = str(tmp_path_factory.mktemp("imafs-keys"))
    os.chmod(directory, 0o755)
    return KeySet(directory)


def evm_sign(path, key, algo="sha256", xattr_user=False):
    """Write an IMA signature of PATH made with KEY (a SigningKey)."""
    args = ["evmctl"] + (["--xattr-user"] if xattr_user else [])
    run(args + ["ima_sign", "--key", key.key, "-a", algo, path])


def evm_hash(path, algo="sha256", xattr_user=False):
    """Write the IMA hash xattr of PATH as evmctl computes it."""
    args = ["evmctl"] + (["--xattr-user"] if xattr_user else [])
    run(args + ["ima_hash", "-a", algo, path])


def evm_hash_value(path, algo="sha256"):
    """Return the hash xattr value that evmctl computes for PATH, without writing it."""
    out = run(["evmctl", "ima_hash", "-n", "-a", algo, path]).stdout.split()
    assert out, f"evmctl ima_hash -n printed nothing for {path}"
    return bytes.fromhex(out[-1])


def mark(kind, path, keys, xattr_user=False):
    """Give PATH an xattr of KIND: 'rsa' or 'ec' signature, or 'hash'."""
    if kind == "hash":
        evm_hash(path, xattr_user=xattr_user)
    else:
        evm_sign(path, keys.get(kind), xattr_user=xattr_user)


def flip_byte(path, offset=-1):
    """Change one byte of PATH in place; the size and the xattrs stay."""
    with open(path, "r+b") as f:
        f.seek(offset, os.SEEK_END if offset < 0 else os.SEEK_SET)
        pos = f.tell()
        byte = f.read(1)
        f.seek(pos)
        f.write(bytes([byte[0] ^ 0x01]))


def program_path():
    path = shutil.which("true")
    assert path, "no 'true' program found on PATH"
    return os.path.realpath(path)


# --- mounts and the daemon's stderr ------------------------------------------------------------

def appraise_mount(imafs, workdir, keys, rules, mode="enforce", args=(), name=None, tpm="none",
                   source=None):
    """Start imafs with RULES as its policy, appraisal MODE and the trusted keys."""
    name = name or f"ap{len(os.listdir(workdir))}"
    policy = os.path.join(workdir, f"{name}.policy")
    write_file(policy, "".join(line + "\n" for line in rules))
    full = ["--policy", policy, "--appraise", mode, "--keys", keys.trusted, *args]
    m = imafs(tpm=tpm, args=full, name=name, source=source)
    os.chmod(m.source, 0o755)
    return m


def put(m, name, data, mode=0o644):
    write_file(m.src(name), data, mode=mode)
    return m.src(name)


def put_program(m, name):
    copy_file(program_path(), m.src(name), mode=0o755)
    return m.src(name)


def log_events(m):
    """Parse the daemon's stderr into dicts of key=value fields, with 'level' added."""
    events = []
    for line in m.stderr().splitlines():
        match = LOG_LINE.fullmatch(line)
        if not match:
            continue
        fields = {k: v[1:-1] if v.startswith("'") else v
                  for k, v in LOG_FIELD.findall(match.group(2))}
        if "op" in fields:
            fields["level"] = int(match.group(1))
            events.append(fields)
    return events


def events_for(m, path, result=None):
    """Return the security events about the mounted PATH, optionally with RESULT."""
    return [e for e in log_events(m)
            if e.get("path") == path and (result is None or e.get("result") == result)]


def denials(m, path=None):
    return [e for e in log_events(m)
            if e.get("result") == "denied" and (path is None or e.get("path") == path)]


def reasons(events):
    return [e.get("reason") for e in events]


def open_errno(path, flags=os.O_RDONLY):
    """Open PATH with FLAGS; return 0 on success, else the errno."""
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        return exc.errno
    os.close(fd)
    return 0


def exec_errno(path):
    """Run PATH with no arguments; return 0 if it ran and exited 0, else the exec errno."""
    try:
        res = subprocess.run([path], stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
    except OSError as exc:
        return exc.errno
    return 0 if res.returncode == 0 else f"ran, exit {res.returncode}"


def shell_exec_status(path):
    return run(["sh", "-c", '"$0"', path], check=False).returncode


def wait_for_xattr(path, name, expected, timeout=FIX_TIMEOUT):
    """Poll PATH's xattr NAME until it equals EXPECTED; return the last value read."""
    deadline = time.monotonic() + timeout
    value = None
    while True:
        try:
            value = os.getxattr(path, name)
        except OSError:
            value = None
        if value == expected or time.monotonic() > deadline:
            return value
        time.sleep(0.02)


# --- passing files -----------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["rsa", "ec", "hash"])
def test_intact_file_passes(imafs, workdir, keys, kind):
    m = appraise_mount(imafs, workdir, keys, OPEN_AND_EXEC_RULES)
    mark(kind, put(m, "data.txt", b"payload\n"), keys)
    mark(kind, put_program(m, "prog"), keys)

    assert read_bytes(m.path("data.txt")) == b"payload\n"
    assert exec_errno(m.path("prog")) == 0
    assert denials(m) == []


# --- tampered files ----------------------------------------------------------------------------

TAMPER_CASES = [("rsa", "invalid-signature"), ("ec", "invalid-signature"),
                ("hash", "invalid-hash")]


@pytest.mark.parametrize("kind,reason", TAMPER_CASES)
def test_tampered_file_denied_on_open(imafs, workdir, keys, kind, reason):
    m = appraise_mount(imafs, workdir, keys, OPEN_RULES)
    mark(kind, put(m, "data.txt", b"payload\n"), keys)
    flip_byte(m.src("data.txt"))
    path = m.path("data.txt")

    with pytest.raises(PermissionError) as exc:
        read_bytes(path)
    assert exc.value.errno == errno.EACCES
    lines = denials(m, path)
    assert reasons(lines) == [reason]
    assert lines[0]["op"] == "appraise"
    assert lines[0]["level"] == 5
    assert lines[0]["uid"] == "0"
    assert lines[0]["pid"] == str(os.getpid())


@pytest.mark.parametrize("kind,reason", TAMPER_CASES)
def test_tampered_program_denied_on_exec(imafs, workdir, keys, kind, reason):
    """Only exec is appraised here, so the denial must come from the exec open."""
    m = appraise_mount(imafs, workdir, keys, EXEC_RULES)
    mark(kind, put_program(m, "prog"), keys)
    flip_byte(m.src("prog"))
    prog = m.path("prog")

    assert exec_errno(prog) == errno.EACCES
    assert shell_exec_status(prog) == 126
    assert read_bytes(prog) == read_bytes(m.src("prog")), "a plain read is not appraised"
    lines = denials(m, prog)
    assert lines, "no denial line for the exec"
    assert set(reasons(lines)) == {reason}


@pytest.mark.parametrize("kind,reason", TAMPER_CASES)
def test_change_after_pass_denied(imafs, workdir, keys, kind, reason):
    """A change in SOURCE after a passing open must not be served from the cache."""
    m = appraise_mount(imafs, workdir, keys, OPEN_RULES)
    mark(kind, put(m, "data.txt", b"payload\n"), keys)
    path = m.path("data.txt")
    assert open_errno(path) == 0

    flip_byte(m.src("data.txt"), 0)

    assert open_errno(path) == errno.EACCES
    assert reasons(denials(m, path)) == [reason]


def test_xattr_change_after_pass_denied(imafs, workdir, keys):
    m = appraise_mount(imafs, workdir, keys, OPEN_RULES)
    src = put(m, "data.txt", b"payload\n")
    evm_hash(src)
    path = m.path("data.txt")
    assert open_errno(path) == 0

    os.setxattr(src, IMA, bytes([4, SHA256_ID]) + bytes(32))

    assert open_errno(path) == errno.EACCES
    assert reasons(denials(m, path)) == ["invalid-hash"]


def test_xattr_added_after_denial_passes(imafs, workdir, keys):
    m = appraise_mount(imafs, workdir, keys, OPEN_RULES)
    src = put(m, "data.txt", b"payload\n")
    path = m.path("data.txt")
    assert open_errno(path) == errno.EACCES

    evm_sign(src, keys.rsa)

    assert open_errno(path) == 0
    assert reasons(denials(m, path)) == ["missing-hash"]


# --- malformed and foreign xattrs --------------------------------------------------------------

class XattrSource:
    """The file under test and a second file, both without xattr until a case signs them."""

    def __init__(self, src, other, keys):
        self.src = src
        self.other = other
        self.keys = keys

    def signature(self, key="rsa", path=None):
        """Return a valid signature of PATH (default: the file under test) made with KEY."""
        path = path or self.src
        evm_sign(path, self.keys.get(key))
        return bytearray(os.getxattr(path, IMA))


def _set_byte(value, index, byte):
    value[index] = byte
    return value


def _with_length(sig, length):
    sig[7:9] = length.to_bytes(2, "big")
    return sig


def _with_length_one_too_big(sig):
    return _with_length(sig, len(sig) - SIG_HEADER + 1)


def _with_last_byte_flipped(sig):
    sig[-1] ^= 0x01
    return sig


# Each case maps to (builder of the raw xattr value, expected cause).
BAD_XATTR_CASES = {
    "unknown-key": (lambda x: x.signature("stranger"), "unknown-key"),
    "truncated-header": (lambda x: x.signature()[:SIG_HEADER - 3], "invalid-xattr"),
    "truncated-signature": (lambda x: x.signature()[:-1], "invalid-xattr"),
    "length-one-too-big": (lambda x: _with_length_one_too_big(x.signature()), "invalid-xattr"),
    "length-max": (lambda x: _with_length(x.signature(), 0xffff), "invalid-xattr"),
    "algorithm-sha1": (lambda x: _set_byte(x.signature(), 2, SHA1_ID), "invalid-signature"),
    "algorithm-unknown": (lambda x: _set_byte(x.signature(), 2, 0x7f), "invalid-xattr"),
    "version-1": (lambda x: _set_byte(x.signature(), 1, 1), "invalid-signature-version"),
    "portable-type": (lambda x: _set_byte(x.signature(), 0, 0x05),
                      "portable-signature-unsupported"),
    "unknown-type": (lambda x: _set_byte(x.signature(), 0, 0x07), "unknown-ima-data"),
    "flipped-signature-byte": (lambda x: _with_last_byte_flipped(x.signature()),
                               "invalid-signature"),
    "copied-from-other-file": (lambda x: x.signature(path=x.other), "invalid-signature"),
    "hash-short": (lambda x: bytes([4, SHA256_ID]) + bytes(31), "invalid-xattr"),
    "hash-algorithm-mismatch": (lambda x: bytes([4, SHA512_ID]) + evm_hash_value(x.src)[2:],
                                "invalid-xattr"),
    "empty": (lambda x: b"", "missing-hash"),
}


@pytest.mark.parametrize("case", sorted(BAD_XATTR_CASES))
def test_bad_xattr_denied(imafs, workdir, keys, case):
    m = appraise_mount(imafs, workdir, keys, OPEN_RULES)
    src = put(m, "data.txt", b"payload\n")
    other = put(m, "other.txt", b"another file\n")
    build, reason = BAD_XATTR_CASES[case]
    os.setxattr(src, IMA, bytes(build(XattrSource(src, other, keys))))
    path = m.path("data.txt")

    assert open_errno(path) == errno.EACCES
    assert reasons(denials(m, path)) == [reason]


def test_donor_signature_passes(imafs, workdir, keys):
    """Control for the copied-signature case: the donor file itself passes."""
    m = appraise_mount(imafs, workdir, keys, OPEN_RULES)
    evm_sign(put(m, "other.txt", b"another file\n"), keys.rsa)

    assert open_errno(m.path("other.txt")) == 0


# --- signature rules, modes --------------------------------------------------------------------

def test_imasig_rejects_hash_on_open(imafs, workdir, keys):
    m = appraise_mount(imafs, workdir, keys, ["appraise func=FILE_CHECK appraise_type=imasig"])
    evm_hash(put(m, "hashed.txt", b"hashed\n"))
    evm_sign(put(m, "signed.txt", b"signed\n"), keys.ec)

    assert open_errno(m.path("hashed.txt")) == errno.EACCES
    assert open_errno(m.path("signed.txt")) == 0
    assert reasons(denials(m)) == ["IMA-signature-required"]


def test_imasig_rejects_hash_on_exec(imafs, workdir, keys):
    m = appraise_mount(imafs, workdir, keys,
                       OPEN_RULES + ["appraise func=BPRM_CHECK appraise_type=imasig"])
    evm_hash(put_program(m, "hashed"))
    evm_sign(put_program(m, "signed"), keys.rsa)

    assert open_errno(m.path("hashed")) == 0, "a read needs only the hash"
    assert exec_errno(m.path("hashed")) == errno.EACCES
    assert exec_errno(m.path("signed")) == 0
    assert set(reasons(denials(m, m.path("hashed")))) == {"IMA-signature-required"}


def test_imasig_rejects_missing_xattr(imafs, workdir, keys):
    m = appraise_mount(imafs, workdir, keys, ["appraise func=FILE_CHECK appraise_type=imasig"])
    put(m, "bare.txt", b"no xattr\n")

    assert open_errno(m.path("bare.txt")) == errno.EACCES
    assert reasons(denials(m)) == ["IMA-signature-required"]


def test_log_mode_allows_and_logs(imafs, workdir, keys):
    m = appraise_mount(imafs, workdir, keys, OPEN_RULES, mode="log")
    evm_sign(put(m, "data.txt", b"payload\n"), keys.rsa)
    flip_byte(m.src("data.txt"))
    path = m.path("data.txt")

    assert read_bytes(path) == read_bytes(m.src("data.txt"))
    assert denials(m) == []
    assert reasons(events_for(m, path, "allowed")) == ["invalid-signature"]


def test_off_mode_ignores_appraise_rules(imafs, workdir, keys):
    m = appraise_mount(imafs, workdir, keys, OPEN_RULES, mode="off")
    evm_sign(put(m, "data.txt", b"payload\n"), keys.rsa)
    flip_byte(m.src("data.txt"))
    put(m, "bare.txt", b"no xattr\n")

    assert open_errno(m.path("data.txt")) == 0
    assert open_errno(m.path("bare.txt")) == 0
    assert log_events(m) == []


@pytest.mark.parametrize("start", ["missing", "stale-hash"])
def test_fix_mode_writes_hash(imafs, workdir, keys, start):
    m = appraise_mount(imafs, workdir, keys, OPEN_RULES, mode="fix")
    src = put(m, "data.txt", b"payload\n")
    if start == "stale-hash":
        evm_hash(src)
        flip_byte(src)
    path = m.path("data.txt")

    assert read_bytes(path) == read_bytes(src)
    assert os.getxattr(src, IMA) == evm_hash_value(src)
    assert reasons(events_for(m, path, "fixed")) == ["fixed-hash"]
    assert denials(m) == []


def test_fixed_file_passes_enforce(imafs, workdir, keys):
    fixer = appraise_mount(imafs, workdir, keys, OPEN_RULES, mode="fix", name="fix")
    put(fixer, "data.txt", b"payload\n")
    assert open_errno(fixer.path("data.txt")) == 0
    fixer.stop()

    m = appraise_mount(imafs, workdir, keys, OPEN_RULES, name="enforce", source=fixer.source)

    assert open_errno(m.path("data.txt")) == 0
    assert log_events(m) == []


def test_fix_mode_keeps_bad_signature(imafs, workdir, keys):
    m = appraise_mount(imafs, workdir, keys, OPEN_RULES, mode="fix")
    src = put(m, "data.txt", b"payload\n")
    evm_sign(src, keys.rsa)
    flip_byte(src)
    signature = os.getxattr(src, IMA)
    path = m.path("data.txt")

    assert open_errno(path) == 0
    assert os.getxattr(src, IMA) == signature
    assert reasons(events_for(m, path, "allowed")) == ["invalid-signature"]


# --- writes --------------------------------------------------------------------------------------

@pytest.mark.parametrize("flags", [os.O_WRONLY, os.O_RDWR, os.O_WRONLY | os.O_APPEND],
                         ids=["wronly", "rdwr", "append"])
def test_signed_file_write_denied(imafs, workdir, keys, flags):
    m = appraise_mount(imafs, workdir, keys, OPEN_RULES)
    src = put(m, "signed.txt", b"signed\n")
    evm_sign(src, keys.rsa)
    path = m.path("signed.txt")

    assert open_errno(path, flags) == errno.EACCES
    assert open_errno(path) == 0, "reading stays allowed"
    assert read_bytes(src) == b"signed\n"
    lines = denials(m, path)
    assert [(e["op"], e["reason"]) for e in lines] == [("open", "write-to-signed-file")]


def test_exec_rule_allows_signed_write(imafs, workdir, keys):
    """An exec-only appraise rule does not make a signed file immutable."""
    m = appraise_mount(imafs, workdir, keys, EXEC_RULES)
    evm_sign(put(m, "signed.txt", b"signed\n"), keys.rsa)

    assert open_errno(m.path("signed.txt"), os.O_WRONLY) == 0
    assert denials(m) == []


@pytest.mark.parametrize("how", ["append", "truncate"])
def test_hash_file_edit_rewrites_xattr(imafs, workdir, keys, how):
    m = appraise_mount(imafs, workdir, keys, OPEN_RULES)
    src = put(m, "data.txt", b"first version\n")
    evm_hash(src)
    old = os.getxattr(src, IMA)
    path = m.path("data.txt")

    with open(path, "ab" if how == "append" else "wb") as f:
        f.write(b"second version\n")

    expected = evm_hash_value(src)
    assert expected != old
    assert wait_for_xattr(src, IMA, expected) == expected
    assert read_bytes(path) == read_bytes(src)
    assert denials(m) == []


def test_created_file_gets_hash_xattr(imafs, workdir, keys):
    m = appraise_mount(imafs, workdir, keys, OPEN_RULES)
    path = m.path("new.txt")

    with open(path, "wb") as f:
        f.write(b"created through the mount\n")

    src = m.src("new.txt")
    expected = evm_hash_value(src)
    assert wait_for_xattr(src, IMA, expected) == expected
    assert read_bytes(path) == b"created through the mount\n"
    assert denials(m) == []


# --- setting the IMA xattr through the mount -----------------------------------------------------

SET_AS_NOBODY = """
import os, sys
try:
    if sys.argv[1] == "set":
        os.setxattr(sys.argv[2], sys.argv[3], bytes.fromhex(sys.argv[4]))
    else:
        os.removexattr(sys.argv[2], sys.argv[3])
except OSError as exc:
    print(exc.errno)
else:
    print(0)
"""


def xattr_op_as_nobody(op, path, name, value=b""):
    """Set or remove xattr NAME of PATH as uid 65534; return 0 or the errno."""
    res = run([*NOBODY, "/usr/bin/python3", "-c", SET_AS_NOBODY, op, path, name, value.hex()])
    return int(res.stdout.strip())


def _nobody_mount(imafs, workdir, keys, extra=()):
    m = appraise_mount(imafs, workdir, keys, OPEN_RULES,
                       args=["-o", "allow_other", *extra])
    os.chmod(m.mountpoint, 0o755)
    # Writable by all: the kernel then passes a user.* xattr request on to the daemon.
    src = put(m, "shared.txt", b"shared\n", mode=0o666)
    return m, src


def test_nobody_setxattr_user_ima_eperm(imafs, workdir, keys):
    m, src = _nobody_mount(imafs, workdir, keys, ["--xattr-user"])
    path = m.path("shared.txt")
    value = evm_hash_value(src)

    assert xattr_op_as_nobody("set", path, USER_IMA, value) == errno.EPERM
    with pytest.raises(OSError):
        os.getxattr(src, USER_IMA)
    lines = denials(m, path)
    assert [(e["op"], e["reason"]) for e in lines] == [("setxattr", "missing-cap-sys-admin")]
    assert lines[0]["uid"] == "65534"


def test_nobody_removexattr_user_ima_eperm(imafs, workdir, keys):
    m, src = _nobody_mount(imafs, workdir, keys, ["--xattr-user"])
    evm_hash(src, xattr_user=True)
    path = m.path("shared.txt")

    assert xattr_op_as_nobody("remove", path, USER_IMA) == errno.EPERM
    assert os.getxattr(src, USER_IMA) == evm_hash_value(src)
    assert [(e["op"], e["reason"]) for e in denials(m, path)] == [
        ("removexattr", "missing-cap-sys-admin")]


def test_nobody_sets_other_user_xattr(imafs, workdir, keys):
    """Control: the daemon checks the capability for the IMA xattr only, not every user.* name."""
    m, src = _nobody_mount(imafs, workdir, keys, ["--xattr-user"])

    assert xattr_op_as_nobody("set", m.path("shared.txt"), "user.note", b"hi") == 0
    assert os.getxattr(src, "user.note") == b"hi"


def test_nobody_setxattr_security_ima_eperm(imafs, workdir, keys):
    """Linux 6.18 rejects this before the daemon (security.* needs CAP_SYS_ADMIN); either may."""
    m, src = _nobody_mount(imafs, workdir, keys)

    assert xattr_op_as_nobody("set", m.path("shared.txt"), IMA, evm_hash_value(src)) \
        == errno.EPERM
    with pytest.raises(OSError):
        os.getxattr(src, IMA)


@pytest.mark.parametrize("name,extra", [(IMA, []), (USER_IMA, ["--xattr-user"])],
                         ids=["security", "user"])
def test_root_setxattr_ima_allowed(imafs, workdir, keys, name, extra):
    m = appraise_mount(imafs, workdir, keys, OPEN_RULES, args=extra)
    src = put(m, "data.txt", b"payload\n")
    value = evm_hash_value(src)
    path = m.path("data.txt")

    os.setxattr(path, name, value)

    assert os.getxattr(src, name) == value
    assert open_errno(path) == 0
    assert denials(m) == []


# --- user.ima ------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["rsa", "hash"])
def test_xattr_user_appraises_user_ima(imafs, workdir, keys, kind):
    m = appraise_mount(imafs, workdir, keys, OPEN_RULES, args=["--xattr-user"])
    mark(kind, put(m, "good.txt", b"good\n"), keys, xattr_user=True)
    bad = put(m, "bad.txt", b"bad\n")
    mark(kind, bad, keys, xattr_user=True)
    flip_byte(bad)

    assert open_errno(m.path("good.txt")) == 0
    assert open_errno(m.path("bad.txt")) == errno.EACCES
    expected = "invalid-hash" if kind == "hash" else "invalid-signature"
    assert reasons(denials(m)) == [expected]


def test_xattr_user_ignores_security_ima(imafs, workdir, keys):
    m = appraise_mount(imafs, workdir, keys, OPEN_RULES, args=["--xattr-user"])
    evm_sign(put(m, "data.txt", b"payload\n"), keys.rsa)

    assert open_errno(m.path("data.txt")) == errno.EACCES
    assert reasons(denials(m)) == ["missing-hash"]


# --- ima-sig list checked by evmctl --------------------------------------------------------------

def _verify_sig(m, workdir, keys):
    snap = m.snapshot(os.path.join(workdir, f"snapshot-{os.path.basename(m.runtime_dir)}"))
    pcrs = {bank: os.path.join(snap, f"pcrs_{bank}") for bank in ("sha1", "sha256")}
    res = evmctl_measurement(os.path.join(snap, "binary_runtime_measurements"), pcrs,
                             ["-v", "--verify-sig", "--key",
                              f"{keys.rsa.cert_der},{keys.ec.cert_der}"])
    return res, res.stdout + res.stderr


def test_ima_sig_list_verifies(imafs, workdir, keys):
    m = appraise_mount(imafs, workdir, keys, MEASURE_RULES + OPEN_AND_EXEC_RULES,
                       args=["--template", "ima-sig"])
    evm_sign(put(m, "rsa.txt", b"rsa signed\n"), keys.rsa)
    evm_sign(put(m, "ec.txt", b"ec signed\n"), keys.ec)
    evm_hash(put(m, "hashed.txt", b"hashed\n"))
    evm_sign(put_program(m, "prog"), keys.rsa)
    for name in ("rsa.txt", "ec.txt", "hashed.txt"):
        read_bytes(m.path(name))
    assert exec_errno(m.path("prog")) == 0

    res, output = _verify_sig(m, workdir, keys)

    assert res.returncode == 0, output
    assert "Matched per TPM bank" in output
    assert "verification failed" not in output
    assert output.count("verification is OK") == 3, output


def test_ima_sig_records_carry_xattr(imafs, workdir, keys):
    m = appraise_mount(imafs, workdir, keys, MEASURE_RULES + OPEN_RULES,
                       args=["--template", "ima-sig"])
    signed = put(m, "signed.txt", b"signed\n")
    evm_sign(signed, keys.ec)
    evm_hash(put(m, "hashed.txt", b"hashed\n"))
    read_bytes(m.path("signed.txt"))
    read_bytes(m.path("hashed.txt"))

    by_name = {r.name: r for r in m.records()[1:]}
    assert by_name[m.path("signed.txt")].fields[2] == os.getxattr(signed, IMA)
    assert by_name[m.path("hashed.txt")].fields[2] == b"", "a hash xattr is not a signature"


def test_ima_sig_list_flags_tampered(imafs, workdir, keys):
    m = appraise_mount(imafs, workdir, keys, MEASURE_RULES + OPEN_RULES, mode="log",
                       args=["--template", "ima-sig"])
    evm_sign(put(m, "good.txt", b"good\n"), keys.rsa)
    bad = put(m, "bad.txt", b"bad\n")
    evm_sign(bad, keys.rsa)
    flip_byte(bad)
    read_bytes(m.path("good.txt"))
    read_bytes(m.path("bad.txt"))

    res, output = _verify_sig(m, workdir, keys)

    assert "Matched per TPM bank" in output, output
    failed = [line for line in output.splitlines() if "verification failed" in line]
    assert len(failed) == 1, output
    assert failed[0].startswith(m.path("bad.txt") + ":")


def test_ima_sig_list_verifies_swtpm(imafs, swtpm, workdir, keys):
    m = appraise_mount(imafs, workdir, keys, MEASURE_RULES + OPEN_RULES,
                       args=["--template", "ima-sig"], tpm=swtpm.tcti)
    evm_sign(put(m, "rsa.txt", b"rsa signed\n"), keys.rsa)
    evm_sign(put(m, "ec.txt", b"ec signed\n"), keys.ec)
    read_bytes(m.path("rsa.txt"))
    read_bytes(m.path("ec.txt"))
    snap = m.snapshot(os.path.join(workdir, "snapshot"))
    m.stop()
    pcrs = {bank: swtpm.write_pcrs_file(bank, os.path.join(workdir, f"pcrs_{bank}"))
            for bank in ("sha1", "sha256")}

    res = evmctl_measurement(os.path.join(snap, "binary_runtime_measurements"), pcrs,
                             ["-v", "--verify-sig", "--key",
                              f"{keys.rsa.cert_der},{keys.ec.cert_der}"])
    output = res.stdout + res.stderr

    assert res.returncode == 0, output
    assert "Matched per TPM bank" in output
    assert "verification failed" not in output
    assert output.count("verification is OK") == 2, output


# --- allowlist, blocklist, algorithms ------------------------------------------------------------

def _digest_line(path, name=None, sep="  "):
    digest = run(["sha256sum", path]).stdout.split()[0]
    return f"{digest}{sep}{name or os.path.basename(path)}"


def test_allowlist_passes_listed_digest(imafs, workdir, keys):
    listed = os.path.join(workdir, "listed.txt")
    write_file(listed, b"listed\n")
    allowlist = os.path.join(workdir, "allow.sha256")
    write_file(allowlist, _digest_line(listed) + "\n")
    m = appraise_mount(imafs, workdir, keys, OPEN_RULES, args=["--allowlist", allowlist])
    copy_file(listed, m.src("listed.txt"))
    put(m, "unlisted.txt", b"unlisted\n")

    assert open_errno(m.path("listed.txt")) == 0
    assert open_errno(m.path("unlisted.txt")) == errno.EACCES
    assert reasons(denials(m)) == ["missing-hash"]


ALLOWLIST_FORMATS = {
    "comment-and-blank": lambda line: f"# digests of the test tree\n\n{line}\n",
    "crlf": lambda line: f"{line}\r\n",
    "name-with-spaces": lambda line: f"{line.split()[0]}  a name with spaces.txt\n",
    "binary-marker": lambda line: f"{line.split()[0]} *listed.txt\n",
    "no-final-newline": lambda line: line,
}


@pytest.mark.parametrize("fmt", sorted(ALLOWLIST_FORMATS))
def test_allowlist_formats(imafs, workdir, keys, fmt):
    listed = os.path.join(workdir, "listed.txt")
    write_file(listed, b"listed\n")
    allowlist = os.path.join(workdir, "allow.sha256")
    write_file(allowlist, ALLOWLIST_FORMATS[fmt](_digest_line(listed)))
    m = appraise_mount(imafs, workdir, keys, OPEN_RULES, args=["--allowlist", allowlist])
    copy_file(listed, m.src("listed.txt"))

    assert open_errno(m.path("listed.txt")) == 0


def test_allowlist_ignored_with_bad_xattr(imafs, workdir, keys):
    listed = os.path.join(workdir, "listed.txt")
    write_file(listed, b"listed\n")
    allowlist = os.path.join(workdir, "allow.sha256")
    write_file(allowlist, _digest_line(listed) + "\n")
    m = appraise_mount(imafs, workdir, keys, OPEN_RULES, args=["--allowlist", allowlist])
    src = m.src("listed.txt")
    copy_file(listed, src)
    os.setxattr(src, IMA, bytes([4, SHA256_ID]) + bytes(32))

    assert open_errno(m.path("listed.txt")) == errno.EACCES
    assert reasons(denials(m)) == ["invalid-hash"]


def test_allowlist_not_enough_for_imasig(imafs, workdir, keys):
    listed = os.path.join(workdir, "listed.txt")
    write_file(listed, b"listed\n")
    allowlist = os.path.join(workdir, "allow.sha256")
    write_file(allowlist, _digest_line(listed) + "\n")
    m = appraise_mount(imafs, workdir, keys, ["appraise func=FILE_CHECK appraise_type=imasig"],
                       args=["--allowlist", allowlist])
    copy_file(listed, m.src("listed.txt"))

    assert open_errno(m.path("listed.txt")) == errno.EACCES
    assert reasons(denials(m)) == ["IMA-signature-required"]


def _blocklist_mount(imafs, workdir, keys, rule, kind):
    """Mount with RULE and a blocklist that lists blocked.txt; both files get a KIND xattr."""
    blocked = os.path.join(workdir, "blocked.txt")
    write_file(blocked, b"blocked\n")
    blocklist = os.path.join(workdir, "block.sha256")
    write_file(blocklist, _digest_line(blocked) + "\n")
    m = appraise_mount(imafs, workdir, keys, [rule], args=["--blocklist", blocklist])
    copy_file(blocked, m.src("blocked.txt"))
    mark(kind, m.src("blocked.txt"), keys)
    mark(kind, put(m, "fine.txt", b"fine\n"), keys)
    return m


@pytest.mark.parametrize("kind", ["rsa", "ec"])
def test_blocklist_denies_under_imasig(imafs, workdir, keys, kind):
    """Every appraise_type= rule checks the deny list, as in Linux 6.x."""
    m = _blocklist_mount(imafs, workdir, keys, "appraise func=FILE_CHECK appraise_type=imasig",
                         kind)

    assert open_errno(m.path("blocked.txt")) == errno.EACCES
    assert open_errno(m.path("fine.txt")) == 0
    assert reasons(denials(m)) == ["blacklisted-hash"]


@pytest.mark.parametrize("kind", ["hash", "rsa"])
def test_check_blacklist_flag_is_ignored(imafs, workdir, keys, kind):
    """appraise_flag=check_blacklist is obsolete: Linux 6.x parses and ignores it."""
    m = _blocklist_mount(imafs, workdir, keys,
                         "appraise func=FILE_CHECK appraise_flag=check_blacklist", kind)

    assert open_errno(m.path("blocked.txt")) == 0
    assert open_errno(m.path("fine.txt")) == 0
    assert denials(m) == []


def test_appraise_algos_denies_sha512(imafs, workdir, keys):
    m = appraise_mount(imafs, workdir, keys, ["appraise func=FILE_CHECK appraise_algos=sha256"])
    evm_hash(put(m, "sha512.txt", b"sha512\n"), algo="sha512")
    evm_hash(put(m, "sha256.txt", b"sha256\n"), algo="sha256")

    assert open_errno(m.path("sha512.txt")) == errno.EACCES
    assert open_errno(m.path("sha256.txt")) == 0
    assert reasons(denials(m)) == ["denied-hash-algorithm"]


def test_sha512_hash_passes_without_algos(imafs, workdir, keys):
    """Control for appraise_algos: the sha512 xattr itself is valid."""
    m = appraise_mount(imafs, workdir, keys, OPEN_RULES)
    evm_hash(put(m, "sha512.txt", b"sha512\n"), algo="sha512")

    assert open_errno(m.path("sha512.txt")) == 0


# --- rate limiting -------------------------------------------------------------------------------

def test_repeated_denials_logged_once(imafs, workdir, keys):
    m = appraise_mount(imafs, workdir, keys, OPEN_RULES)
    put(m, "a.txt", b"a\n")
    put(m, "b.txt", b"b\n")

    results = [open_errno(m.path(name)) for _ in range(20) for name in ("a.txt", "b.txt")]

    assert results == [errno.EACCES] * 40
    assert len(denials(m, m.path("a.txt"))) == 1
    assert len(denials(m, m.path("b.txt"))) == 1


# --- start-up errors -----------------------------------------------------------------------------

def _start_expecting_failure(workdir, args):
    """Run imafs with ARGS; it must exit non-zero without mounting. Return its stderr."""
    src = os.path.join(workdir, "fail-src")
    mnt = os.path.join(workdir, "fail-mnt")
    os.makedirs(src, exist_ok=True)
    os.makedirs(mnt, exist_ok=True)
    cmd = [imafs_bin(), "-f", "--tpm", "none", "--runtime-dir",
           os.path.join(workdir, "fail-runtime"), *args, src, mnt]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, env=daemon_env())
    try:
        out, _ = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        if is_mounted(mnt):
            run(["fusermount3", "-u", "-z", mnt], check=False)
        proc.kill()
        proc.communicate()
        raise AssertionError(f"{' '.join(cmd)} kept running; expected a start-up error")
    assert proc.returncode != 0, out.decode(errors="replace")
    assert not is_mounted(mnt)
    return out.decode(errors="replace")


def test_duplicate_key_id_rejected(fuse, workdir, keys):
    keydir = os.path.join(workdir, "keys")
    os.mkdir(keydir)
    shutil.copyfile(keys.rsa.cert_der, os.path.join(keydir, "one.der"))
    shutil.copyfile(keys.rsa.cert_pem, os.path.join(keydir, "two.pem"))

    out = _start_expecting_failure(workdir, ["--appraise", "enforce", "--keys", keydir])

    assert "one.der" in out
    assert "two.pem" in out


def test_unusable_certificate_rejected(fuse, workdir, keys):
    keydir = os.path.join(workdir, "keys")
    os.mkdir(keydir)
    shutil.copyfile(keys.rsa.cert_der, os.path.join(keydir, "good.der"))
    write_file(os.path.join(keydir, "junk.der"), b"not a certificate\n")

    out = _start_expecting_failure(workdir, ["--appraise", "enforce", "--keys", keydir])

    assert "junk.der" in out


def test_bad_allowlist_line_rejected(fuse, workdir, keys):
    allowlist = os.path.join(workdir, "allow.sha256")
    write_file(allowlist, "# header\n" + "ab" * 32 + "  ok.txt\nnot-a-digest  bad.txt\n")

    out = _start_expecting_failure(workdir, ["--appraise", "enforce",
                                             "--allowlist", allowlist])

    assert "line 3" in out
