"""Helpers shared by the imafs integration tests.

Parsers here are written from the IMA list formats (binary records with
length-prefixed template fields, the ASCII rendering, evmctl's --pcrs files)
so the tests do not trust the daemon's own formatting code.
"""

import hashlib
import os
import re
import shutil
import socket
import struct
import subprocess
import time
from dataclasses import dataclass, field

REPO_ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), os.pardir))
MOUNT_TIMEOUT = 20.0  # seconds from start until the mount shows in mountinfo
EXIT_TIMEOUT = 20.0  # seconds from unmount until the daemon has exited
PCR_COUNT = 24
BANK_SIZES = {"sha1": 20, "sha256": 32, "sha384": 48, "sha512": 64}

# Field ids of the built-in templates; a custom template's name is its format.
TEMPLATE_FIELDS = {
    "ima-ng": ["d-ng", "n-ng"],
    "ima-sig": ["d-ng", "n-ng", "sig"],
    "ima-buf": ["d-ng", "n-ng", "buf"],
    "ima-ngv2": ["d-ngv2", "n-ng"],
    "ima-sigv2": ["d-ngv2", "n-ng", "sig"],
    "ima-modsig": ["d-ng", "n-ng", "sig", "d-modsig", "modsig"],
}

SANITIZER_MARKERS = (
    "ERROR: AddressSanitizer",
    "ERROR: LeakSanitizer",
    "runtime error:",
    "SUMMARY: UndefinedBehaviorSanitizer",
)


def imafs_bin():
    """Return the daemon under test: $IMAFS_BIN, else build/imafs in the repository."""
    path = os.environ.get("IMAFS_BIN", os.path.join(REPO_ROOT, "build", "imafs"))
    return os.path.realpath(path)


def daemon_env():
    """Return the daemon's environment, with sanitizer options unless already set."""
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    return env


class LogFormatError(Exception):
    """A binary measurement list that does not follow the record layout."""


@dataclass
class Record:
    """One record of a binary measurement list."""

    offset: int
    pcr: int
    digest: bytes
    template: str
    data: bytes  # template data as hashed for the template digest
    fields: list = field(default_factory=list)

    @property
    def name(self):
        """Return the file or event name of the record."""
        if self.template == "ima":
            return self.fields[1].decode()
        return self.fields[1].rstrip(b"\0").decode()

    @property
    def file_digest(self):
        """Return (algorithm, digest bytes) of the d / d-ng field."""
        value = self.fields[0]
        if self.template == "ima":
            return "sha1", value
        prefix, sep, digest = value.partition(b"\0")
        if not sep or not prefix.endswith(b":"):
            raise LogFormatError(f"d-ng field {value.hex()} has no 'algo:' NUL prefix")
        return prefix[:-1].decode(), digest

    @property
    def is_violation(self):
        return self.digest == bytes(len(self.digest))


def _take(buf, pos, size, field_name):
    if pos + size > len(buf):
        raise LogFormatError(f"{field_name} at offset {pos} runs past the end "
                             f"({len(buf)} bytes)")
    return buf[pos:pos + size], pos + size


def _u32(buf, pos, field_name):
    raw, pos = _take(buf, pos, 4, field_name)
    return struct.unpack("<I", raw)[0], pos


def parse_log(buf, digest_size=20):
    """Parse a binary measurement list whose template digests are DIGEST_SIZE bytes.

    Integers are read little-endian: the canonical IMA byte order, and the host
    order on x86 and the usual ARM configurations.
    """
    records = []
    pos = 0
    while pos < len(buf):
        start = pos
        pcr, pos = _u32(buf, pos, "PCR index")
        digest, pos = _take(buf, pos, digest_size, "template digest")
        name_len, pos = _u32(buf, pos, "template name length")
        if name_len == 0 or name_len > 255:
            raise LogFormatError(f"record at offset {start}: template name length {name_len}")
        name, pos = _take(buf, pos, name_len, "template name")
        template = name.decode("ascii")
        if template == "ima":
            file_digest, pos = _take(buf, pos, 20, "ima d field")
            n_len, pos = _u32(buf, pos, "ima n length")
            file_name, pos = _take(buf, pos, n_len, "ima n field")
            hashed = file_digest + file_name.ljust(256, b"\0")
            records.append(Record(start, pcr, digest, template, hashed, [file_digest, file_name]))
            continue
        data_len, pos = _u32(buf, pos, "template data length")
        data, pos = _take(buf, pos, data_len, "template data")
        fields = []
        fpos = 0
        while fpos < len(data):
            flen, fpos = _u32(data, fpos, "field length")
            value, fpos = _take(data, fpos, flen, "field")
            fields.append(value)
        expected = TEMPLATE_FIELDS.get(template, template.split("|"))
        if len(fields) != len(expected):
            raise LogFormatError(f"record at offset {start}: {len(fields)} fields, "
                                 f"template {template} has {len(expected)}")
        records.append(Record(start, pcr, digest, template, data, fields))
    return records


def read_log(path, digest_size=20):
    with open(path, "rb") as f:
        return parse_log(f.read(), digest_size)


def template_digest(record, bank):
    """Compute the template digest of RECORD for the PCR bank BANK."""
    return hashlib.new(bank, record.data).digest()


def _render_field(field_id, value):
    if field_id in ("d-ng", "d-ngv2", "d-modsig"):
        if not value:
            return ""
        prefix, _, digest = value.partition(b"\0")
        return prefix.decode() + digest.hex()
    if field_id in ("n-ng", "xattrnames"):
        return value.rstrip(b"\0").decode()
    if field_id in ("iuid", "igid", "imode"):
        return str(int.from_bytes(value, "little"))
    return value.hex()


def render_ascii(record):
    """Render RECORD as one line of an ASCII measurement list (with newline)."""
    parts = [f"{record.pcr:2d}", record.digest.hex(), record.template]
    if record.template == "ima":
        parts += [record.fields[0].hex(), record.fields[1].decode()]
    else:
        ids = TEMPLATE_FIELDS.get(record.template, record.template.split("|"))
        parts += [_render_field(i, v) for i, v in zip(ids, record.fields)]
    return " ".join(parts) + "\n"


def extend(old, value, bank):
    return hashlib.new(bank, old + value).digest()


def replay(records, bank):
    """Replay RECORDS (parsed from the BANK list) into 24 PCR values of BANK."""
    size = BANK_SIZES[bank]
    pcrs = [bytes(size)] * PCR_COUNT
    for rec in records:
        value = b"\xff" * size if rec.is_violation else template_digest(rec, bank)
        pcrs[rec.pcr] = extend(pcrs[rec.pcr], value, bank)
    return pcrs


def format_pcrs(values):
    """Format PCR values in evmctl's --pcrs file format."""
    return "".join(f"PCR-{i:02d}: {v.hex()}\n" for i, v in enumerate(values))


def parse_pcrs(text):
    """Parse an evmctl --pcrs file into a list of PCR values, in PCR order."""
    values = []
    for lineno, line in enumerate(text.splitlines(), 1):
        m = re.fullmatch(r"PCR-(\d\d): ([0-9a-f]+)", line)
        if not m:
            raise ValueError(f"line {lineno}: {line!r} is not 'PCR-NN: <lowercase hex>'")
        if int(m.group(1)) != len(values):
            raise ValueError(f"line {lineno}: PCR-{m.group(1)} out of order")
        values.append(bytes.fromhex(m.group(2)))
    return values


def free_port_pair():
    """Return a loopback port P where P and P + 1 were both free just now."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port >= 65535:
            continue
        try:
            with socket.socket() as a, socket.socket() as b:
                a.bind(("127.0.0.1", port))
                b.bind(("127.0.0.1", port + 1))
        except OSError:
            continue
        return port
    raise RuntimeError("no free pair of loopback ports found in 50 attempts")


class Swtpm:
    """A swtpm TPM 2.0 simulator listening on loopback, with its own state dir."""

    def __init__(self, state_dir):
        self.state_dir = state_dir
        self.port = free_port_pair()
        self.tcti = f"swtpm:host=127.0.0.1,port={self.port}"
        self.log_path = os.path.join(state_dir, "swtpm.log")
        self.cmd = [
            "swtpm", "socket", "--tpm2",
            "--tpmstate", f"dir={state_dir}",
            "--server", f"type=tcp,port={self.port},bindaddr=127.0.0.1",
            "--ctrl", f"type=tcp,port={self.port + 1},bindaddr=127.0.0.1",
            "--flags", "not-need-init,startup-clear",
            "--log", f"file={self.log_path}",
        ]
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self._wait_listening()

    def _wait_listening(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace")
                raise RuntimeError(f"swtpm exited with {self.proc.returncode}: {err}")
            try:
                # The control port, because the server port serves one client at a time.
                with socket.create_connection(("127.0.0.1", self.port + 1), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"swtpm did not listen on port {self.port + 1} within {timeout} s")

    def env(self):
        return dict(os.environ, TPM2TOOLS_TCTI=self.tcti)

    def run_tool(self, args, timeout=30):
        """Run a tpm2-tools command against this TPM and return its stdout.

        swtpm serves one connection at a time, so this blocks (and then times
        out) while a running imafs holds the TPM open.
        """
        try:
            res = subprocess.run(args, env=self.env(), capture_output=True, text=True,
                                 timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"{args[0]} timed out after {timeout} s; another client "
                               f"(imafs?) may hold the swtpm connection") from None
        if res.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed ({res.returncode}): {res.stderr}")
        return res.stdout

    def pcrread(self, bank):
        """Return the 24 PCR values of BANK as bytes."""
        sel = f"{bank}:" + ",".join(str(i) for i in range(PCR_COUNT))
        out = self.run_tool(["tpm2_pcrread", sel])
        values = {}
        for line in out.splitlines():
            m = re.fullmatch(r"\s*(\d+)\s*:\s*0x([0-9A-Fa-f]+)", line)
            if m:
                values[int(m.group(1))] = bytes.fromhex(m.group(2))
        if sorted(values) != list(range(PCR_COUNT)):
            raise RuntimeError(f"tpm2_pcrread {sel} returned PCRs {sorted(values)}:\n{out}")
        return [values[i] for i in range(PCR_COUNT)]

    def write_pcrs_file(self, bank, path):
        with open(path, "w") as f:
            f.write(format_pcrs(self.pcrread(bank)))
        return path

    def extend(self, pcr, data_by_bank):
        """Extend PCR in each bank with the hash of the bytes given for it."""
        parts = [f"{bank}={hashlib.new(bank, data).hexdigest()}"
                 for bank, data in data_by_bank.items()]
        self.run_tool(["tpm2_pcrextend", f"{pcr}:" + ",".join(parts)])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc.stderr.close()


def unescape_mountinfo(field_text):
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field_text)


def fuse_mounts():
    """Return {mount point: fstype} for every FUSE mount in this namespace."""
    mounts = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            pre, _, post = line.partition(" - ")
            mountpoint = unescape_mountinfo(pre.split()[4])
            fstype = post.split()[0]
            if fstype == "fuse" or fstype.startswith("fuse."):
                mounts[mountpoint] = fstype
    return mounts


def is_mounted(path):
    return path in fuse_mounts()


def sanitizer_reports(text):
    return [line for line in text.splitlines() if any(m in line for m in SANITIZER_MARKERS)]


def run(args, timeout=60, check=True, **kwargs):
    """Run ARGS and return the CompletedProcess with text output."""
    res = subprocess.run(args, capture_output=True, encoding="utf-8", errors="replace",
                         timeout=timeout,
                         stdin=subprocess.DEVNULL, **kwargs)
    if check and res.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))} exited {res.returncode}\n"
                             f"stdout: {res.stdout}\nstderr: {res.stderr}")
    return res


def evmctl_measurement(log_path, pcrs_files, extra=()):
    """Run evmctl ima_measurement with --pcrs files given as {bank: path}."""
    args = ["evmctl", "ima_measurement", *extra]
    for bank, path in pcrs_files.items():
        args += ["--pcrs", f"{bank},{path}"]
    args.append(log_path)
    return run(args, check=False)


def read_text(path):
    with open(path) as f:
        return f.read()


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def write_file(path, data, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)
    os.chmod(path, mode)


def copy_file(src, dst, mode=None):
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    shutil.copy2(src, dst)
    if mode is not None:
        os.chmod(dst, mode)


def file_hash(path, alg):
    h = hashlib.new(alg)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.digest()


# --- measurement list tests (test_log_*.py) ---------------------------------------------------


def imafs_log_bin():
    """Return imafs-log: $IMAFS_LOG_BIN, else the file next to the daemon under test."""
    path = os.environ.get("IMAFS_LOG_BIN", os.path.join(os.path.dirname(imafs_bin()), "imafs-log"))
    return os.path.realpath(path)


def imafs_log(args, check=True, timeout=60):
    """Run imafs-log with ARGS and return the CompletedProcess."""
    return run([imafs_log_bin(), *map(str, args)], check=check, timeout=timeout)


def extend_boot_pcrs(tpm):
    """Extend PCRs 0 to 9 of every bank once with H_bank("pcrN").

    The generated vector logs were made on a swtpm prepared this way, so the
    boot aggregate a daemon computes afterwards equals theirs.
    """
    for pcr in range(10):
        tpm.extend(pcr, {bank: f"pcr{pcr}".encode() for bank in BANK_SIZES})


def field_d_ng(algo, digest):
    """Encode a d-ng field: "<algo>:" NUL digest."""
    return algo.encode() + b":\0" + digest


def field_d_ngv2(kind, algo, digest):
    """Encode a d-ngv2 field: "<kind>:<algo>:" NUL digest (kind "ima" or "verity")."""
    return f"{kind}:{algo}:".encode() + b"\0" + digest


def field_n_ng(name):
    """Encode an n-ng field as the kernel does: spaces become '_', one NUL after."""
    return name.replace(" ", "_").encode() + b"\0"


def pack_template_data(values):
    """Join field values into template data: each a little-endian u32 length, then the bytes."""
    return b"".join(struct.pack("<I", len(v)) + v for v in values)

