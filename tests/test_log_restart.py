"""Restarting on the same runtime directory and TPM continues, repairs or refuses the list.

The daemon replays the list it finds against the TPM's PCRs. A list that
replays to them is continued. When the PCRs lag by whole records, those
records are extended. A torn last record is cut. Anything else makes the
daemon exit 1 with a message that names the PCR and the --new-log fix.
--new-log moves the old list into RUNDIR/archive-*/ and starts a new one.
"""

import glob
import hashlib
import os
import struct
import subprocess
import time

import pytest

from helpers import (BANK_SIZES, MOUNT_TIMEOUT, daemon_env, field_d_ng, field_n_ng, imafs_bin,
                     imafs_log, is_mounted, pack_template_data, read_bytes, read_log, read_text,
                     run, write_file)

LIST_FILES = [f"{kind}_runtime_measurements_{bank}" for bank in BANK_SIZES
              for kind in ("binary", "ascii")]


def log_start(m):
    """Return the text of the op=log-start NOTICE line of M, or None."""
    for line in m.stderr().splitlines():
        if line.startswith("<5>op=log-start "):
            return line[len("<5>op=log-start "):]
    return None


def measure(m, *names):
    for name in names:
        write_file(m.src(name), f"content of {name}\n")
        with open(m.path(name), "rb") as f:
            f.read()


def start_refused(swtpm, runtime, source, mountpoint, extra=()):
    """Start the daemon where it must refuse; return (exit status, stderr).

    A daemon that mounts after all is unmounted again, and the status is then
    "mounted".
    """
    cmd = [imafs_bin(), "-f", "--tpm", swtpm.tcti, "--runtime-dir", runtime, *extra, source,
           mountpoint]
    err_path = runtime.rstrip("/") + "-refused.log"
    with open(err_path, "wb") as err:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                                env=daemon_env())
    deadline = time.monotonic() + MOUNT_TIMEOUT
    status = None
    while status is None and time.monotonic() < deadline:
        if proc.poll() is not None:
            status = proc.returncode
        elif is_mounted(mountpoint):
            run(["fusermount3", "-u", "-z", mountpoint])
            proc.wait(timeout=MOUNT_TIMEOUT)
            status = "mounted"
        else:
            time.sleep(0.02)
    if status is None:
        proc.kill()
        proc.wait()
        status = "timed out"
    return status, read_text(err_path)


def verify_against(swtpm, workdir, log, tag):
    """Run imafs-log verify of LOG against the swtpm's sha1 and sha256 PCRs."""
    files = [swtpm.write_pcrs_file(bank, os.path.join(workdir, f"{tag}_{bank}"))
             for bank in ("sha1", "sha256")]
    return imafs_log(["verify", "--pcrs", f"sha1,{files[0]}", "--pcrs", f"sha256,{files[1]}",
                      log], check=False)


@pytest.fixture
def first_run(swtpm, imafs, workdir):
    """A stopped daemon that measured three files into the swtpm; returns its mount object."""
    m = imafs(tpm=swtpm.tcti, name="run")
    measure(m, "a.txt", "b.txt", "c.txt")
    m.stop()
    assert len(m.records()) == 4
    return m


@pytest.fixture
def rerun(imafs, swtpm, first_run):
    """Factory: start the daemon again on FIRST_RUN's runtime directory and swtpm."""
    def start(extra=(), name="again"):
        return imafs(tpm=swtpm.tcti, args=extra, source=first_run.source,
                     mountpoint=first_run.mountpoint, runtime_dir=first_run.runtime_dir,
                     name=name)
    return start


def test_clean_restart_continues(first_run, rerun, swtpm, imafs_log_tool, workdir):
    before = read_bytes(first_run.rt("binary_runtime_measurements"))
    m = rerun()
    assert log_start(m).startswith("continuing the list of 4 records"), m.stderr()
    measure(m, "d.txt")
    m.stop()

    records = m.records()
    assert len(records) == 5
    assert [r.name for r in records].count("boot_aggregate") == 1
    assert read_bytes(m.rt("binary_runtime_measurements")).startswith(before)
    assert read_text(m.rt("runtime_measurements_count")).strip() == "5"
    res = verify_against(swtpm, workdir, m.rt("binary_runtime_measurements"), "pcrs")
    assert res.returncode == 0, res.stderr
    assert "matches after record 5 of 5" in res.stdout


def test_new_log_archives(first_run, rerun, swtpm, imafs_log_tool, workdir):
    old = {name: read_bytes(first_run.rt(name)) for name in LIST_FILES}
    m = rerun(extra=["--new-log"])
    note = log_start(m)
    assert note and "archived the previous list in archive-" in note, m.stderr()
    measure(m, "new.txt")
    m.stop()

    archives = glob.glob(m.rt("archive-*"))
    assert len(archives) == 1
    for name, data in old.items():
        assert read_bytes(os.path.join(archives[0], name)) == data, name
    records = m.records()
    assert [r.name for r in records] == ["boot_aggregate", m.path("new.txt")]

    # The PCR covers both lists: the archived one, then the new one.
    both = os.path.join(workdir, "both")
    with open(both, "wb") as f:
        f.write(old["binary_runtime_measurements_sha1"])
        f.write(read_bytes(m.rt("binary_runtime_measurements")))
    res = verify_against(swtpm, workdir, both, "pcrs")
    assert res.returncode == 0, res.stderr
    assert "matches after record 6 of 6" in res.stdout


def flip(path, offset):
    data = bytearray(read_bytes(path))
    data[offset] ^= 0x01
    with open(path, "wb") as f:
        f.write(data)


def middle_name_byte(m):
    """Return the offset of a byte inside the file name of record 3 of the sha1 list."""
    record = m.records()[2]
    header = 4 + 20 + 4 + len(record.template) + 4
    return record.offset + header + 4 + len(record.fields[0]) + 4 + 10


def assert_refused(code, stderr):
    assert code == 1, stderr
    assert "PCR-10" in stderr, stderr
    assert "--new-log" in stderr, stderr


def test_changed_record_refused(first_run, swtpm, workdir):
    m = first_run
    flip(m.rt("binary_runtime_measurements_sha1"), middle_name_byte(m))
    code, stderr = start_refused(swtpm, m.runtime_dir, m.source, m.mountpoint)
    assert code == 1, stderr
    assert "stored sha1 template digest differs" in stderr, stderr
    assert "--new-log" in stderr, stderr
    assert not glob.glob(m.rt("archive-*")), "a refused start must not move the list"


def test_changed_stored_digest_refused(first_run, swtpm):
    m = first_run
    flip(m.rt("binary_runtime_measurements_sha1"), m.records()[2].offset + 4)
    code, stderr = start_refused(swtpm, m.runtime_dir, m.source, m.mountpoint)
    assert code == 1, stderr


def test_extended_pcr_refused(first_run, swtpm):
    m = first_run
    swtpm.extend(10, {"sha1": b"outside", "sha256": b"outside"})
    code, stderr = start_refused(swtpm, m.runtime_dir, m.source, m.mountpoint)
    assert_refused(code, stderr)


def test_refused_list_restarts_with_new_log(first_run, rerun, swtpm):
    m = first_run
    swtpm.extend(10, {"sha1": b"outside", "sha256": b"outside"})
    code, stderr = start_refused(swtpm, m.runtime_dir, m.source, m.mountpoint)
    assert code == 1, stderr
    again = rerun(extra=["--new-log"])
    assert "archived the previous list" in log_start(again)
    assert [r.name for r in again.records()] == ["boot_aggregate"]


def test_torn_tail_cut(first_run, rerun, swtpm, imafs_log_tool, workdir):
    m = first_run
    sizes = {name: os.path.getsize(m.rt(name)) for name in LIST_FILES}
    whole = read_bytes(m.rt("binary_runtime_measurements_sha1"))
    with open(m.rt("binary_runtime_measurements_sha1"), "ab") as f:
        f.write(whole[m.records()[1].offset:][:30])
    with open(m.rt("ascii_runtime_measurements_sha256"), "a") as f:
        f.write("10 0123")

    again = rerun()
    note = log_start(again)
    assert note.startswith("continuing the list of 4 records"), again.stderr()
    assert "cut 37 bytes of a torn record" in note, note
    for name, size in sizes.items():
        assert os.path.getsize(m.rt(name)) == size, name
    measure(again, "after.txt")
    again.stop()
    res = verify_against(swtpm, workdir, m.rt("binary_runtime_measurements"), "pcrs")
    assert res.returncode == 0, res.stderr
    assert "matches after record 5 of 5" in res.stdout


def unextended_record(name, content):
    """Return (template data, {bank: digest}, ASCII tail) of an ima-ng record for NAME."""
    file_digest = hashlib.sha256(content).digest()
    data = pack_template_data([field_d_ng("sha256", file_digest), field_n_ng(name)])
    digests = {bank: hashlib.new(bank, data).digest() for bank in BANK_SIZES}
    return data, digests, f"ima-ng sha256:{file_digest.hex()} {name}\n"


def test_unextended_records_extended(first_run, rerun, swtpm, imafs_log_tool, workdir):
    """A record made durable but never extended (crash in between) is extended at restart."""
    m = first_run
    name = m.path("in-flight.txt")
    data, digests, ascii_tail = unextended_record(name, b"in flight\n")
    for bank in BANK_SIZES:
        record = struct.pack("<I", 10) + digests[bank] + struct.pack("<I", 6) + b"ima-ng" + \
            struct.pack("<I", len(data)) + data
        with open(m.rt(f"binary_runtime_measurements_{bank}"), "ab") as f:
            f.write(record)
        with open(m.rt(f"ascii_runtime_measurements_{bank}"), "a") as f:
            f.write(f"10 {digests[bank].hex()} {ascii_tail}")
    before = verify_against(swtpm, workdir, m.rt("binary_runtime_measurements"), "before")
    assert "matches after record 4 of 5" in before.stdout, before.stdout + before.stderr

    again = rerun()
    note = log_start(again)
    assert note.startswith("continuing the list of 5 records; extended 1 logged but unextended "
                           "records"), again.stderr()
    again.stop()
    after = verify_against(swtpm, workdir, m.rt("binary_runtime_measurements"), "after")
    assert after.returncode == 0, after.stderr
    assert "matches after record 5 of 5" in after.stdout
    assert len(read_log(m.rt("binary_runtime_measurements"))) == 5
