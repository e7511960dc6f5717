"""The first record is the boot aggregate over the TPM's PCRs 0 to 9."""

import hashlib
import os

from helpers import run

ZERO_SHA256 = "sha256:" + "00" * 32


def evmctl_boot_aggregate(swtpm, workdir):
    """Return {bank: "bank:hex"} as printed by evmctl ima_boot_aggregate."""
    args = ["evmctl", "ima_boot_aggregate"]
    for bank in ("sha1", "sha256"):
        path = swtpm.write_pcrs_file(bank, os.path.join(workdir, f"boot_pcrs_{bank}"))
        args += ["--pcrs", f"{bank},{path}"]
    lines = run(args).stdout.split()
    return {line.split(":", 1)[0]: line for line in lines}


def extend_boot_pcrs(swtpm):
    for pcr, text in ((0, b"firmware"), (4, b"boot loader"), (8, b"kernel command line"),
                      (9, b"initrd")):
        swtpm.extend(pcr, {"sha1": text, "sha256": text})


def first_record(m):
    with open(m.rt("ascii_runtime_measurements")) as f:
        return f.readline().split()


def test_boot_aggregate_matches_evmctl(imafs, swtpm, evmctl, workdir):
    extend_boot_pcrs(swtpm)
    expected = evmctl_boot_aggregate(swtpm, workdir)
    assert expected["sha256"] != ZERO_SHA256, "PCR extends did not reach swtpm"

    m = imafs(tpm=swtpm.tcti, name="boot")
    pcr, _, template, digest, name = first_record(m)
    assert name == "boot_aggregate"
    assert pcr == "10"
    assert template == "ima-ng"
    assert digest == expected["sha256"]


def test_boot_aggregate_ima_template(imafs, swtpm, evmctl, workdir):
    extend_boot_pcrs(swtpm)
    expected = evmctl_boot_aggregate(swtpm, workdir)

    m = imafs(tpm=swtpm.tcti, args=["--template", "ima", "--hash", "sha1"], name="boot")
    _, _, template, digest, name = first_record(m)
    assert template == "ima"
    assert name == "boot_aggregate"
    assert digest == expected["sha1"].split(":", 1)[1]


def test_boot_aggregate_software_bank_zero(imafs):
    m = imafs(tpm="none", name="soft")
    pcr, digest_hex, template, digest, name = first_record(m)
    assert name == "boot_aggregate"
    assert digest == ZERO_SHA256
    # Not a violation: the template digest is computed over the template data.
    data = (len(b"sha256:\0" + bytes(32)).to_bytes(4, "little") + b"sha256:\0" + bytes(32)
            + (15).to_bytes(4, "little") + b"boot_aggregate\0")
    assert digest_hex == hashlib.sha1(data).hexdigest()
