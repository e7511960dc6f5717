"""kill -9 during a stream of opens never leaves the list behind the PCR.

Each round starts the daemon on the same runtime directory and swtpm, reads
new files through the mount from a second thread, and kills the daemon with
SIGKILL at a random moment. After the kill, the list must replay to the PCRs
read from the swtpm after its last record, or after the one before it when
the last record was durable but not yet extended. A match any earlier fails.
The next start must continue the list and extend such a record.
"""

import os
import random
import re
import signal
import struct
import threading
import time

from helpers import evmctl_measurement, imafs_log, read_bytes, read_log, run, write_file

ROUNDS = 20
CONTINUED = re.compile(r"op=log-start continuing the list of (\d+) records; extended (\d+) "
                       r"logged but unextended records; cut (\d+) bytes")
MATCH = re.compile(r"^verified: PCR-10 (sha1|sha256) matches after record (\d+) of (\d+)$", re.M)


class OpenStream(threading.Thread):
    """Write new files into SOURCE and read each through MOUNTPOINT until the mount fails."""

    def __init__(self, source, mountpoint, first):
        super().__init__(daemon=True)
        self.source, self.mountpoint, self.next = source, mountpoint, first
        self.stop = threading.Event()
        self.read = 0

    def run(self):
        while not self.stop.is_set():
            name = f"f{self.next:05d}"
            self.next += 1
            write_file(os.path.join(self.source, name), f"file {name}\n")
            try:
                with open(os.path.join(self.mountpoint, name), "rb") as f:
                    f.read()
            except OSError:
                return
            self.read += 1


def whole_records(buf):
    """Return the length of the whole records at the start of an ima-ng list with SHA-1 digests.

    SIGKILL can stop a write(2) between two pages, so the last record may be
    cut short. It was never extended, and the next start removes it.
    """
    end = 0
    while end + 28 <= len(buf):
        name_len = struct.unpack_from("<I", buf, end + 24)[0]
        data_at = end + 28 + name_len + 4
        if data_at > len(buf):
            break
        data_len = struct.unpack_from("<I", buf, data_at - 4)[0]
        if data_at + data_len > len(buf):
            break
        end = data_at + data_len
    return end


def verify_position(swtpm, workdir, log):
    """Return {bank: (matching record, record count)} from imafs-log verify against the swtpm."""
    files = [swtpm.write_pcrs_file(bank, os.path.join(workdir, f"pcrs_{bank}"))
             for bank in ("sha1", "sha256")]
    data = read_bytes(log)
    whole = os.path.join(workdir, "whole_records")
    write_file(whole, data[:whole_records(data)])
    res = imafs_log(["verify", "--pcrs", f"sha1,{files[0]}", "--pcrs", f"sha256,{files[1]}",
                     whole], check=False)
    assert res.returncode == 0, f"the list lags the PCR or does not replay:\n{res.stderr}"
    found = {m.group(1): (int(m.group(2)), int(m.group(3))) for m in MATCH.finditer(res.stdout)}
    assert set(found) == {"sha1", "sha256"}, res.stdout
    return found


def kill_round(mount, rng):
    """Run the open stream for a random time, then SIGKILL the daemon; return the reads done."""
    stream = OpenStream(mount.source, mount.mountpoint, kill_round.counter)
    stream.start()
    time.sleep(rng.uniform(0.05, 0.3))
    mount.proc.send_signal(signal.SIGKILL)
    mount.returncode = mount.proc.wait(timeout=10)
    stream.stop.set()
    stream.join(timeout=10)
    run(["fusermount3", "-u", "-z", mount.mountpoint], check=False)
    kill_round.counter = stream.next
    return stream.read


kill_round.counter = 0


def check_continued(mount, records, in_flight):
    """Check the op=log-start line after a kill; return the record count the list continues with.

    A record that reached the sha1 list but not every other list file when
    the daemon died was never extended, so the start cuts it. A record in
    every file but not extended gets extended.
    """
    lines = [line for line in mount.stderr().splitlines() if "op=log-start" in line]
    assert lines, mount.describe()
    found = CONTINUED.search(lines[0])
    assert found, lines[0]
    count, extended, cut = (int(g) for g in found.groups())
    if count == records:
        assert extended == in_flight, lines[0]
    else:
        assert (count, extended, in_flight) == (records - 1, 0, 1), lines[0]
        assert cut > 0, lines[0]
    return count


def test_kill9_rounds(swtpm, imafs, imafs_log_tool, evmctl, workdir):
    rng = random.Random(20260)
    source = os.path.join(workdir, "crash-src")
    mountpoint = os.path.join(workdir, "crash-mnt")
    runtime = os.path.join(workdir, "crash-runtime")
    log = os.path.join(runtime, "binary_runtime_measurements")
    os.makedirs(source)
    os.makedirs(mountpoint)
    kill_round.counter = 0

    records, in_flight, reads = 0, 0, 0
    for round_no in range(ROUNDS + 1):
        m = imafs(tpm=swtpm.tcti, source=source, mountpoint=mountpoint, runtime_dir=runtime,
                  name=f"round{round_no}")
        if round_no:
            records = check_continued(m, records, in_flight)
        if round_no == ROUNDS:
            m.stop()
            break
        m.allow_error_lines = True
        reads += kill_round(m, rng)

        positions = verify_position(swtpm, workdir, log)
        (at, count), = set(positions.values())
        assert count - at in (0, 1), f"round {round_no}: the list leads by {count - at} records"
        assert count >= records, f"round {round_no}: the list shrank from {records} to {count}"
        records, in_flight = count, count - at
        print(f"round {round_no}: killed after {reads} reads in all; list of {count} records, "
              f"PCRs match after record {at}")

    final = read_log(log)
    assert len(final) == records
    assert [r.name for r in final].count("boot_aggregate") == 1
    assert reads > ROUNDS, "the open stream hardly ran; the rounds tested nothing"
    pcrs = {bank: swtpm.write_pcrs_file(bank, os.path.join(workdir, f"final_{bank}"))
            for bank in ("sha1", "sha256")}
    res = evmctl_measurement(log, pcrs)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Matched per TPM bank" in res.stdout + res.stderr
    positions = verify_position(swtpm, workdir, log)
    assert set(positions.values()) == {(records, records)}
