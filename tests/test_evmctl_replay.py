"""evmctl replays the daemon's list against the PCRs it extended.

The PCR values come from swtpm (read with tpm2_pcrread after the daemon has
released the TPM) or from the software bank's pcrs files. A copy of the list
with one byte flipped must then fail the same check.
"""

import os
import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest

from helpers import (BANK_SIZES, evmctl_measurement, parse_pcrs, read_bytes, read_log, read_text,
                     replay, run, write_file)

CONFIGS = {
    "ima-ng": ["--template", "ima-ng", "--hash", "sha256"],
    "ima": ["--template", "ima", "--hash", "sha1"],
}
MATCHED = "Matched per TPM bank"


def exercise(m):
    """Read a few files and run one program through the mount, as root."""
    for i in range(3):
        write_file(m.src("docs", f"file{i}.txt"), f"content {i}\n" * (i + 1))
        run(["cat", m.path("docs", f"file{i}.txt")])
    shutil.copy2(shutil.which("true"), m.src("true"))
    run([m.path("true")])
    assert len(m.names()) == 4, "exercise() expects four measured files"


def last_digest_byte(record):
    """Return the file offset of the last byte of RECORD's file digest field."""
    header = record.offset + 4 + len(record.digest) + 4 + len(record.template)
    if record.template == "ima":
        return header + 19
    first_field = header + 4 + 4
    return first_field + len(record.fields[0]) - 1


def flipped_copy(log_path, dest):
    data = bytearray(open(log_path, "rb").read())
    last = read_log(log_path)[-1]
    data[last_digest_byte(last)] ^= 0x01
    with open(dest, "wb") as f:
        f.write(data)
    return dest


def check_replay(log_path, pcrs_files, workdir):
    good = evmctl_measurement(log_path, pcrs_files)
    output = good.stdout + good.stderr
    assert good.returncode == 0, output
    assert MATCHED in output

    bad = evmctl_measurement(flipped_copy(log_path, os.path.join(workdir, "flipped")),
                             pcrs_files)
    output = bad.stdout + bad.stderr
    assert bad.returncode != 0, output
    assert MATCHED not in output


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_replay_swtpm(imafs, swtpm, evmctl, workdir, config):
    m = imafs(tpm=swtpm.tcti, args=CONFIGS[config], name="tpm")
    exercise(m)
    snap = m.snapshot(os.path.join(workdir, "snapshot"))
    m.stop()

    pcrs = {bank: swtpm.write_pcrs_file(bank, os.path.join(workdir, f"pcrs_{bank}"))
            for bank in ("sha1", "sha256")}
    check_replay(os.path.join(snap, "binary_runtime_measurements"), pcrs, workdir)


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_replay_software_bank(imafs, evmctl, workdir, config):
    m = imafs(tpm="none", args=CONFIGS[config], name="soft")
    exercise(m)
    snap = m.snapshot(os.path.join(workdir, "snapshot"))

    pcrs = {bank: os.path.join(snap, f"pcrs_{bank}") for bank in ("sha1", "sha256")}
    check_replay(os.path.join(snap, "binary_runtime_measurements"), pcrs, workdir)


def test_replay_after_concurrent_opens(imafs, evmctl, workdir):
    """Records appended by many FUSE threads at once stay in step with the PCR."""
    m = imafs(tpm="none", name="soft")
    paths = []
    for i in range(100):
        write_file(m.src("many", f"f{i:03d}"), f"file {i}\n")
        paths.append(m.path("many", f"f{i:03d}"))
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(read_bytes, paths))
    snap = m.snapshot(os.path.join(workdir, "snapshot"))

    assert len(read_log(os.path.join(snap, "binary_runtime_measurements"))) == 101
    pcrs = {bank: os.path.join(snap, f"pcrs_{bank}") for bank in ("sha1", "sha256")}
    check_replay(os.path.join(snap, "binary_runtime_measurements"), pcrs, workdir)


def test_software_pcrs_match_python_replay(imafs):
    m = imafs(tpm="none", name="soft")
    exercise(m)

    for bank in ("sha1", "sha256"):
        expected = replay(m.records(bank), bank)
        assert parse_pcrs(read_text(m.rt(f"pcrs_{bank}"))) == expected, bank
    assert os.readlink(m.rt("pcrs")) in ("pcrs_sha1", m.rt("pcrs_sha1"))


def test_every_swtpm_bank_replays(imafs, swtpm, workdir):
    m = imafs(tpm=swtpm.tcti, name="tpm")
    exercise(m)
    snap = m.snapshot(os.path.join(workdir, "snapshot"))
    m.stop()

    assert read_text(os.path.join(snap, "tpm")).strip() == swtpm.tcti
    for bank, size in BANK_SIZES.items():
        log = os.path.join(snap, f"binary_runtime_measurements_{bank}")
        assert os.path.exists(log), f"no per-bank list for swtpm bank {bank}"
        records = read_log(log, size)
        replayed = replay(records, bank)
        read_back = swtpm.pcrread(bank)
        # Only PCRs the list extends: PCRs 17 to 22 start as all ones on a TPM.
        for pcr in sorted({r.pcr for r in records}):
            assert replayed[pcr] == read_back[pcr], (bank, pcr)
