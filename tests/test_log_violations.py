"""ToMToU and open_writers violations provoked through the mount.

Each violation is a record with an all-zero template digest and file digest,
the file's name, 0xff extended into every bank, a higher `violations` count
and a NOTICE line `op=violation cause=...`. Since Linux 6.15 open_writers is
reported once per period of open writers, and ToMToU once until the next
measured read re-arms it. evmctl replays such a list only with
--ignore-violations.
"""

import os

import pytest

from helpers import (BANK_SIZES, evmctl_measurement, field_d_ng, field_n_ng, read_text, replay,
                     parse_pcrs, write_file)

MATCHED = "Matched per TPM bank"


def violations(m):
    return [r for r in m.records() if r.is_violation]


def notice_causes(m):
    """Return the causes of the op=violation NOTICE lines in the daemon's stderr."""
    return [line.split("cause=")[1].split()[0] for line in m.stderr().splitlines()
            if line.startswith("<5>op=violation ")]


def read_once(path):
    with open(path, "rb") as f:
        return f.read()


@pytest.fixture
def mount(imafs):
    m = imafs(name="viol")
    write_file(m.src("data.txt"), b"some data\n")
    return m


def test_open_writers_record(mount):
    m = mount
    writer = os.open(m.path("data.txt"), os.O_WRONLY)
    try:
        read_once(m.path("data.txt"))
    finally:
        os.close(writer)

    found = violations(m)
    assert len(found) == 1
    record = found[0]
    assert record.pcr == 10
    assert record.fields == [field_d_ng("sha256", bytes(32)), field_n_ng(m.path("data.txt"))]
    index = m.records().index(record)
    assert m.records("sha256")[index].digest == bytes(BANK_SIZES["sha256"])
    assert read_text(m.rt("violations")).strip() == "1"
    assert read_text(m.rt("runtime_measurements_count")).strip() == str(len(m.records()))
    assert notice_causes(m) == ["open_writers"]
    assert f"path='{m.path('data.txt')}'" in m.stderr()


def test_open_writers_once_per_writer_period(mount):
    m = mount
    path = m.path("data.txt")
    writer = os.open(path, os.O_WRONLY)
    for _ in range(3):
        read_once(path)
    assert len(violations(m)) == 1, "reads during one period of open writers"

    second = os.open(path, os.O_WRONLY)
    read_once(path)
    os.close(writer)
    read_once(path)
    assert len(violations(m)) == 1, "a writer is still open: same period"
    os.close(second)

    writer = os.open(path, os.O_WRONLY)
    read_once(path)
    os.close(writer)
    assert len(violations(m)) == 2, "the last writer closed, so a new period began"
    assert notice_causes(m) == ["open_writers", "open_writers"]


def test_tomtou_record(mount):
    m = mount
    with open(m.path("data.txt"), "rb") as reader:
        reader.read()
        os.close(os.open(m.path("data.txt"), os.O_WRONLY))

    found = violations(m)
    assert len(found) == 1
    assert found[0].fields == [field_d_ng("sha256", bytes(32)), field_n_ng(m.path("data.txt"))]
    assert notice_causes(m) == ["ToMToU"]
    assert read_text(m.rt("violations")).strip() == "1"


def test_tomtou_rearmed_by_measured_read(mount):
    m = mount
    path = m.path("data.txt")
    reader = open(path, "rb")
    try:
        os.close(os.open(path, os.O_WRONLY))
        os.close(os.open(path, os.O_RDWR))
        assert len(violations(m)) == 1, "ToMToU is reported once until re-armed"

        read_once(path)
        os.close(os.open(path, os.O_WRONLY))
        assert len(violations(m)) == 2, "a measured read re-arms ToMToU"
    finally:
        reader.close()
    assert notice_causes(m) == ["ToMToU", "ToMToU"]


def test_unmeasured_reader_no_tomtou(imafs, workdir):
    """A reader that the policy does not measure does not arm ToMToU."""
    policy = os.path.join(workdir, "policy")
    write_file(policy, "measure func=FILE_CHECK mask=MAY_READ fowner=1234\n")
    m = imafs(args=["--policy", policy], name="viol")
    write_file(m.src("root.txt"), b"owned by root, not measured\n")
    with open(m.path("root.txt"), "rb") as reader:
        reader.read()
        os.close(os.open(m.path("root.txt"), os.O_WRONLY))
    assert violations(m) == []


@pytest.mark.parametrize("args,digest_field", [
    (["--template", "ima", "--hash", "sha1"], bytes(20)),
    (["--template", "ima-ng", "--hash", "sha512"], field_d_ng("sha512", bytes(64))),
])
def test_violation_digest_follows_hash(imafs, args, digest_field):
    m = imafs(args=args, name="viol")
    write_file(m.src("data.txt"), b"x\n")
    writer = os.open(m.path("data.txt"), os.O_WRONLY)
    read_once(m.path("data.txt"))
    os.close(writer)
    found = violations(m)
    assert len(found) == 1
    assert found[0].fields[0] == digest_field


@pytest.mark.parametrize("kind", ["open_writers", "ToMToU"])
def test_evmctl_needs_ignore_violations(mount, evmctl, workdir, kind):
    m = mount
    path = m.path("data.txt")
    read_once(path)
    if kind == "open_writers":
        writer = os.open(path, os.O_WRONLY)
        read_once(path)
        os.close(writer)
    else:
        with open(path, "rb"):
            os.close(os.open(path, os.O_WRONLY))
    write_file(m.src("after.txt"), b"measured after the violation\n")
    read_once(m.path("after.txt"))
    assert notice_causes(m) == [kind]

    snap = m.snapshot(os.path.join(workdir, "snapshot"))
    log = os.path.join(snap, "binary_runtime_measurements")
    pcrs = {bank: os.path.join(snap, f"pcrs_{bank}") for bank in ("sha1", "sha256")}
    for bank in ("sha1", "sha256"):
        assert replay(m.records(bank), bank) == parse_pcrs(read_text(pcrs[bank])), bank

    strict = evmctl_measurement(log, pcrs)
    assert strict.returncode != 0, strict.stdout + strict.stderr
    assert MATCHED not in strict.stdout + strict.stderr
    lenient = evmctl_measurement(log, pcrs, ["--ignore-violations"])
    assert lenient.returncode == 0, lenient.stdout + lenient.stderr
    assert MATCHED in lenient.stdout + lenient.stderr
