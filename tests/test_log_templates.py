"""Records of every template equal the kernel's, byte for byte, and evmctl replays them.

Two kinds of checks:
  * vectors: on a swtpm prepared like the one that made the generated vector
    logs, the same file operations under /opt/demo must give byte-identical
    lists (every bank, binary and ASCII) and identical PCR values;
  * self-made: template data rebuilt in Python from the file contents, names,
    xattrs and inode fields, for every built-in template and a custom field
    list. These need no vector files.
"""

import hashlib
import os
import shutil
import struct

import pytest

from helpers import (BANK_SIZES, evmctl_measurement, extend_boot_pcrs, field_d_ng, field_d_ngv2,
                     field_n_ng, pack_template_data, parse_log, parse_pcrs, read_bytes, read_log,
                     read_text, run, write_file)

VECTOR_DIR = os.path.join("vectors", "logs", "generated")
MATCHED = "Matched per TPM bank"
KERNEL_HASH_NAMES = {2: "sha1", 4: "sha256", 5: "sha384", 6: "sha512"}


def open_writers(path):
    """Read PATH while a write descriptor of it is open: one open_writers violation."""
    writer = os.open(path, os.O_WRONLY)
    try:
        with open(path, "rb") as f:
            f.read()
    finally:
        os.close(writer)


def read_file(path):
    with open(path, "rb") as f:
        f.read()


# Per vector folder: daemon arguments, the xattrs to set, and the steps that made its records.
VECTOR_CASES = {
    "ima-ng-violation": {
        "args": ["--template", "ima-ng", "--hash", "sha256"],
        "steps": [(read_file, "hello.txt"), (open_writers, "world.txt")],
        "violations": True,
    },
    "ima": {
        "args": ["--template", "ima", "--hash", "sha1"],
        "steps": [(read_file, "hello.txt"), (open_writers, "world.txt")],
        "violations": True,
    },
    "ima-sig": {
        "args": ["--template", "ima-sig", "--hash", "sha256"],
        "xattrs": {"hello.txt": "hello_rsa_xattr.bin", "world.txt": "world_ec_xattr.bin"},
        "steps": [(read_file, "hello.txt"), (read_file, "world.txt"),
                  (read_file, "unsigned copy.txt")],
    },
    "ima-ngv2": {
        "args": ["--template", "ima-ngv2", "--hash", "sha256"],
        "steps": [(read_file, "hello.txt")],
    },
}

LIST_SUFFIXES = ("", "_sha256", "_sha384", "_sha512")


@pytest.fixture(params=sorted(VECTOR_CASES))
def vector_run(request, opt_demo, shared_dir, swtpm, imafs, workdir):
    """Repeat the file operations of one vector log under /opt/demo on a prepared swtpm.

    Returns (case, snapshot of the runtime directory, vector folder, swtpm).
    """
    case = request.param
    spec = VECTOR_CASES[case]
    vector = os.path.join(shared_dir, VECTOR_DIR, case)
    inputs = os.path.join(shared_dir, VECTOR_DIR, "inputs")
    extend_boot_pcrs(swtpm)

    source = os.path.join(workdir, "demo-src")
    os.makedirs(source)
    shutil.copyfile(os.path.join(inputs, "hello.txt"), os.path.join(source, "hello.txt"))
    shutil.copyfile(os.path.join(inputs, "world.txt"), os.path.join(source, "world.txt"))
    shutil.copyfile(os.path.join(inputs, "hello.txt"), os.path.join(source, "unsigned copy.txt"))
    for name, value_file in spec.get("xattrs", {}).items():
        os.setxattr(os.path.join(source, name), "security.ima",
                    read_bytes(os.path.join(inputs, value_file)))

    m = imafs(tpm=swtpm.tcti, args=spec["args"], source=source, mountpoint=opt_demo, name="vec")
    for step, name in spec["steps"]:
        step(m.path(name))
    snap = m.snapshot(os.path.join(workdir, "snapshot"))
    m.stop()
    return case, snap, vector, swtpm


def raw_records(path):
    """Return the bytes of each record of the binary list PATH."""
    data = read_bytes(path)
    bank = os.path.basename(path).rsplit("measurements", 1)[1].lstrip("_") or "sha1"
    offsets = [r.offset for r in parse_log(data, BANK_SIZES[bank])] + [len(data)]
    return [data[a:b] for a, b in zip(offsets, offsets[1:])]


def test_vector_records_byte_identical(vector_run):
    """Every record equals the kernel's record for the same event, in every bank."""
    _, snap, vector, _ = vector_run
    for suffix in LIST_SUFFIXES:
        name = f"binary_runtime_measurements{suffix}"
        ours = raw_records(os.path.join(snap, name))
        theirs = raw_records(os.path.join(vector, name))
        assert sorted(ours) == sorted(theirs), f"{name}: records differ from {vector}"
        name = f"ascii_runtime_measurements{suffix}"
        ours = read_text(os.path.join(snap, name)).splitlines()
        theirs = read_text(os.path.join(vector, name)).splitlines()
        assert sorted(ours) == sorted(theirs), f"{name}: lines differ from {vector}"


def test_vector_lists_byte_identical(request, vector_run):
    """The lists, and so the PCRs, equal the kernel's: same records in the same order."""
    case, snap, vector, swtpm = vector_run
    for suffix in LIST_SUFFIXES:
        for kind in ("binary", "ascii"):
            name = f"{kind}_runtime_measurements{suffix}"
            ours = read_bytes(os.path.join(snap, name))
            assert ours == read_bytes(os.path.join(vector, name)), f"{name} differs"
    for bank in ("sha1", "sha256"):
        expected = parse_pcrs(read_text(os.path.join(vector, f"pcrs_{bank}.txt")))
        assert swtpm.pcrread(bank) == expected, f"{bank} PCRs differ from the vector"


def test_vector_evmctl_replays(vector_run, evmctl, workdir):
    case, snap, _, swtpm = vector_run
    pcrs = {bank: swtpm.write_pcrs_file(bank, os.path.join(workdir, f"pcrs_{bank}"))
            for bank in ("sha1", "sha256")}
    extra = ["--ignore-violations"] if VECTOR_CASES[case].get("violations") else []
    res = evmctl_measurement(os.path.join(snap, "binary_runtime_measurements"), pcrs, extra)
    assert res.returncode == 0, res.stdout + res.stderr
    assert MATCHED in res.stdout + res.stderr


# --- self-made checks -----------------------------------------------------------------------

TEMPLATES = {
    "ima": (["--template", "ima", "--hash", "sha1"], ["d", "n"]),
    "ima-ng": (["--template", "ima-ng", "--hash", "sha256"], ["d-ng", "n-ng"]),
    "ima-ng-sha512": (["--template", "ima-ng", "--hash", "sha512"], ["d-ng", "n-ng"]),
    "ima-sig": (["--template", "ima-sig"], ["d-ng", "n-ng", "sig"]),
    "ima-ngv2": (["--template", "ima-ngv2"], ["d-ngv2", "n-ng"]),
    "ima-sigv2": (["--template", "ima-sigv2"], ["d-ngv2", "n-ng", "sig"]),
    "custom": (["--template", "d-ng|n-ng|sig|iuid|igid|imode"],
               ["d-ng", "n-ng", "sig", "iuid", "igid", "imode"]),
}

FILES = {
    "plain.txt": b"hello IMA\n",
    "with space.txt": b"spaces become underscores\n",
    "empty": b"",
    "signed.txt": b"signed content\n",
    "hashed.txt": b"a sha512 xattr picks the hash\n",
}


def option(args, name, default):
    return args[args.index(name) + 1] if name in args else default


def measure_algo(args, xattr):
    """Return the hash the kernel measures with: the xattr's algorithm, else --hash."""
    if xattr and xattr[0] == 0x03:
        return KERNEL_HASH_NAMES[xattr[2]]
    if xattr and xattr[0] == 0x04:
        return KERNEL_HASH_NAMES[xattr[1]]
    return option(args, "--hash", "sha256")


def expected_fields(ids, args, logged_name, content, xattr, st):
    """Return the template field values the kernel writes for one measured file."""
    algo = measure_algo(args, xattr)
    digest = hashlib.new(algo, content).digest()
    values = {
        "d": hashlib.sha1(content).digest(),
        "n": logged_name.replace(" ", "_").encode(),
        "d-ng": field_d_ng(algo, digest),
        "d-ngv2": field_d_ngv2("ima", algo, digest),
        "n-ng": field_n_ng(logged_name),
        "sig": xattr if xattr and xattr[0] in (0x03, 0x06) else b"",
        "iuid": struct.pack("<I", st.st_uid),
        "igid": struct.pack("<I", st.st_gid),
        "imode": struct.pack("<H", st.st_mode),
    }
    return [values[i] for i in ids]


def render(ids, record):
    """Render RECORD as the kernel's ASCII line; empty integer fields print nothing."""
    parts = [f"{record.pcr:2d}", record.digest.hex(), record.template]
    if record.template == "ima":
        return " ".join(parts + [record.fields[0].hex(), record.fields[1].decode()]) + "\n"
    for field_id, value in zip(ids, record.fields):
        if field_id in ("d-ng", "d-ngv2"):
            prefix, _, digest = value.partition(b"\0")
            parts.append(prefix.decode() + digest.hex())
        elif field_id == "n-ng":
            parts.append(value.rstrip(b"\0").decode())
        elif field_id in ("iuid", "igid", "imode"):
            parts.append(str(int.from_bytes(value, "little")) if value else "")
        else:
            parts.append(value.hex())
    return " ".join(parts) + "\n"


@pytest.fixture
def signing_key(workdir):
    """An EC P-256 key and certificate for evmctl ima_sign."""
    key = os.path.join(workdir, "sign.key")
    run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", key, "-out", os.path.join(workdir, "sign.crt"), "-subj",
         "/CN=imafs-test", "-days", "2", "-addext", "subjectKeyIdentifier=hash"])
    return key


def populate(m, signing_key):
    """Write FILES into the source with their xattrs and owners; return {name: xattr}."""
    xattrs = {}
    for name, data in FILES.items():
        write_file(m.src(name), data, mode=0o640)
    os.chown(m.src("plain.txt"), 1234, 5678)
    run(["evmctl", "ima_sign", "--key", signing_key, "-a", "sha256", m.src("signed.txt")])
    xattrs["signed.txt"] = os.getxattr(m.src("signed.txt"), "security.ima")
    xattrs["hashed.txt"] = b"\x04\x06" + hashlib.sha512(FILES["hashed.txt"]).digest()
    os.setxattr(m.src("hashed.txt"), "security.ima", xattrs["hashed.txt"])
    return xattrs


@pytest.fixture(params=sorted(TEMPLATES))
def template_mount(request, imafs, evmctl, signing_key):
    """A software-bank mount of one template in which root read every file of FILES."""
    args, ids = TEMPLATES[request.param]
    m = imafs(args=args, name="tmpl")
    m.xattrs = populate(m, signing_key)
    for name in FILES:
        read_file(m.path(name))
    m.args, m.ids = args, ids
    return m


def test_file_records_rebuilt(template_mount):
    m = template_mount
    by_name = {r.name: r for r in m.records()[1:]}
    for name, content in FILES.items():
        logged = m.path(name).replace(" ", "_")
        assert logged in by_name, f"{logged} not in the list: {sorted(by_name)}"
        record = by_name[logged]
        expected = expected_fields(m.ids, m.args, m.path(name), content, m.xattrs.get(name),
                                   os.stat(m.src(name)))
        assert record.fields == expected, name
        if m.ids[0] == "d":
            name_field = expected[1].ljust(256, b"\0")
            assert record.data == expected[0] + name_field, name
        else:
            assert record.data == pack_template_data(expected), name


def test_boot_aggregate_without_tpm(template_mount):
    m = template_mount
    first = m.records()[0]
    assert first.name == "boot_aggregate"
    algo = option(m.args, "--hash", "sha256")
    zeros = bytes(BANK_SIZES[algo])
    if m.ids[0] == "d":
        assert first.fields[0] == bytes(20)
    elif m.ids[0] == "d-ngv2":
        assert first.fields[0] == field_d_ngv2("ima", algo, zeros)
    else:
        assert first.fields[0] == field_d_ng(algo, zeros)
    if "sig" in m.ids:
        assert first.fields[m.ids.index("sig")] == b""


def test_boot_aggregate_inode_fields_empty(imafs):
    m = imafs(args=["--template", "d-ng|n-ng|iuid|igid|imode"], name="tmpl")
    first = m.records()[0]
    assert first.fields[2:] == [b"", b"", b""]


def test_template_digests_every_bank(template_mount):
    m = template_mount
    reference = m.records()
    for bank in ("sha1", "sha256"):
        records = m.records(bank)
        assert [r.data for r in records] == [r.data for r in reference], bank
        for record in records:
            assert record.digest == hashlib.new(bank, record.data).digest(), (bank, record.name)


def test_ascii_matches_kernel_rendering(template_mount):
    m = template_mount
    for bank in ("sha1", "sha256"):
        expected = "".join(render(m.ids, r) for r in m.records(bank))
        assert read_text(m.rt(f"ascii_runtime_measurements_{bank}")) == expected, bank


def test_evmctl_replays_template(template_mount, workdir):
    m = template_mount
    snap = m.snapshot(os.path.join(workdir, "snapshot"))
    pcrs = {bank: os.path.join(snap, f"pcrs_{bank}") for bank in ("sha1", "sha256")}
    res = evmctl_measurement(os.path.join(snap, "binary_runtime_measurements"), pcrs)
    assert res.returncode == 0, res.stdout + res.stderr
    assert MATCHED in res.stdout + res.stderr


def test_policy_rule_template(imafs, evmctl, workdir):
    """A template= on the deciding rule overrides --template for that file only."""
    policy = os.path.join(workdir, "policy")
    write_file(policy, "measure func=FILE_CHECK mask=MAY_READ fowner=1234 template=ima-sig\n"
                       "measure func=FILE_CHECK mask=MAY_READ\n")
    m = imafs(args=["--policy", policy], name="rule")
    write_file(m.src("owned.txt"), b"owned by 1234\n")
    os.chown(m.src("owned.txt"), 1234, 1234)
    write_file(m.src("other.txt"), b"owned by root\n")
    read_file(m.path("owned.txt"))
    read_file(m.path("other.txt"))

    by_name = {r.name: r for r in m.records()}
    assert by_name[m.path("owned.txt")].template == "ima-sig"
    assert by_name[m.path("other.txt")].template == "ima-ng"
    assert by_name["boot_aggregate"].template == "ima-ng"

    snap = m.snapshot(os.path.join(workdir, "snapshot"))
    pcrs = {bank: os.path.join(snap, f"pcrs_{bank}") for bank in ("sha1", "sha256")}
    res = evmctl_measurement(os.path.join(snap, "binary_runtime_measurements"), pcrs)
    assert res.returncode == 0, res.stdout + res.stderr
    assert len(read_log(os.path.join(snap, "binary_runtime_measurements"))) == 3
