"""imafs-log verify on every vector log reaches the PCR values their provenance records.

The expected values come from PROVENANCE.md (the table of generated logs and
the embrave paragraph), and for sha384 and sha512 from each generated
folder's tpm2_pcrread.txt. The vectors' own pcrs files are not used, so a
change in either place shows up. The 922-record 32-bit ARM list is also checked after
conversion to big-endian byte order.
"""

import glob
import hashlib
import os
import re
import struct

import pytest

from helpers import BANK_SIZES, imafs_log, parse_log, read_bytes, read_text, write_file

LOGS = os.path.join("vectors", "logs")


def provenance_values(shared_dir):
    """Return {vector folder: {bank: PCR 10 hex}} from PROVENANCE.md and tpm2_pcrread.txt."""
    text = read_text(os.path.join(shared_dir, LOGS, "PROVENANCE.md"))
    values = {}
    for folder, sha1, sha256 in re.findall(
            r"^\| `(generated/[\w-]+)/` \|[^\n]*\| ([0-9a-f]{40}) \| ([0-9a-f]{64}) \|$", text,
            re.M):
        values[folder] = {"sha1": sha1, "sha256": sha256}
        raw = read_text(os.path.join(shared_dir, LOGS, folder, "tpm2_pcrread.txt"))
        for bank in ("sha384", "sha512"):
            section = raw.split(f"{bank}:", 1)[1]
            values[folder][bank] = re.search(r"10\s*:\s*0x([0-9A-F]+)", section).group(1).lower()
    embrave = re.search(r"Replaying here gives PCR 10 =\s*`([0-9a-f]{40})` \(sha1\) and\s*"
                        r"`([0-9a-f]{64})` \(sha256\)", text)
    values["embrave"] = {"sha1": embrave.group(1), "sha256": embrave.group(2)}
    return values


def vector_lists(shared_dir):
    """Yield (folder, binary list path) for every binary list of the vectors."""
    for path in sorted(glob.glob(os.path.join(shared_dir, LOGS, "*", "binary_runtime_*")) +
                       glob.glob(os.path.join(shared_dir, LOGS, "generated", "*",
                                              "binary_runtime_*"))):
        folder = os.path.relpath(os.path.dirname(path), os.path.join(shared_dir, LOGS))
        yield folder, path


def pcr_files(workdir, values, banks):
    args = []
    for bank in banks:
        path = os.path.join(workdir, f"pcr10_{bank}")
        write_file(path, f"PCR-10: {values[bank]}\n")
        args += ["--pcrs", f"{bank},{path}"]
    return args


def record_count(path):
    suffix = os.path.basename(path).rsplit("measurements", 1)[1].lstrip("_") or "sha1"
    return len(parse_log(read_bytes(path), BANK_SIZES[suffix]))


def test_provenance_lists_every_vector(shared_dir):
    values = provenance_values(shared_dir)
    folders = {folder for folder, _ in vector_lists(shared_dir)}
    assert folders == set(values), "a vector folder has no PCR values in PROVENANCE.md"
    assert len(folders) == 5


def test_verify_reaches_provenance_pcrs(shared_dir, imafs_log_tool, workdir):
    values = provenance_values(shared_dir)
    checked = 0
    for folder, path in vector_lists(shared_dir):
        expected = values[folder]
        count = record_count(path)
        res = imafs_log(["verify", *pcr_files(workdir, expected, sorted(expected)), path],
                        check=False)
        assert res.returncode == 0, f"{path}:\n{res.stderr}"
        for bank in expected:
            assert f"verified: PCR-10 {bank} matches after record {count} of {count}\n" \
                in res.stdout, f"{path}: {res.stdout}"
        for bank in expected:
            replayed = imafs_log(["replay", "--bank", bank, "--pcr", "10", path]).stdout
            assert replayed == f"PCR-10: {expected[bank]}\n", (path, bank)
        checked += 1
    assert checked == 17


def test_verify_rejects_other_pcr(shared_dir, imafs_log_tool, workdir):
    values = provenance_values(shared_dir)
    for folder, path in vector_lists(shared_dir):
        wrong = {bank: value[:-1] + ("0" if value[-1] != "0" else "1")
                 for bank, value in values[folder].items()}
        res = imafs_log(["verify", *pcr_files(workdir, wrong, ["sha256"]), path], check=False)
        assert res.returncode == 1, path
        assert "verified:" not in res.stdout


def to_big_endian(buf):
    """Rewrite a little-endian list (SHA-1 digests) as a big-endian host writes it.

    Returns (list, [template data]). The field lengths inside the template
    data are big-endian too and so is what the template digest covers, so
    every stored digest is recomputed.
    """
    out, datas = bytearray(), []
    for record in parse_log(buf):
        data = b"".join(struct.pack(">I", len(value)) + value for value in record.fields)
        datas.append(data)
        out += struct.pack(">I", record.pcr) + hashlib.sha1(data).digest()
        out += struct.pack(">I", len(record.template)) + record.template.encode()
        out += struct.pack(">I", len(data)) + data
    return bytes(out), datas


def replay_pcr10(datas, bank):
    pcr = bytes(BANK_SIZES[bank])
    for data in datas:
        pcr = hashlib.new(bank, pcr + hashlib.new(bank, data).digest()).digest()
    return pcr.hex()


@pytest.mark.parametrize("order", ["--big-endian", "--auto-endian"])
def test_big_endian_arm_list(shared_dir, imafs_log_tool, workdir, order):
    little = os.path.join(shared_dir, LOGS, "embrave", "binary_runtime_measurements")
    big = os.path.join(workdir, "binary_runtime_measurements")
    converted, datas = to_big_endian(read_bytes(little))
    write_file(big, converted)
    expected = {bank: replay_pcr10(datas, bank) for bank in ("sha1", "sha256")}
    assert expected != provenance_values(shared_dir)["embrave"]

    res = imafs_log(["verify", order, *pcr_files(workdir, expected, ["sha1", "sha256"]), big],
                    check=False)
    assert res.returncode == 0, res.stderr
    assert "verified: PCR-10 sha256 matches after record 922 of 922" in res.stdout

    ascii_lines = read_text(os.path.join(shared_dir, LOGS, "embrave",
                                         "ascii_runtime_measurements")).splitlines()
    dumped = imafs_log(["dump", order, big]).stdout.splitlines()
    assert len(dumped) == len(ascii_lines) == 922
    for ours, theirs, data in zip(dumped, ascii_lines, datas):
        pcr, _, rest = theirs.split(" ", 2)
        assert ours == f"{pcr} {hashlib.sha1(data).hexdigest()} {rest}"

    as_little = imafs_log(["verify", *pcr_files(workdir, expected, ["sha1"]), big], check=False)
    assert as_little.returncode != 0, "a big-endian list read as little-endian must fail"
