"""imafs-log quote writes evidence that imafs-log verify --evidence checks offline.

The quote comes from swtpm after the daemon measured a few files and let go
of the TPM (swtpm serves one client at a time). tpm2_checkquote checks the
same quote independently. Every kind of change to the evidence file must
fail verification, and a changed list must be reported by its first bad
record.
"""

import base64
import hashlib
import os
import re
import shutil
import struct

import pytest

from helpers import (field_d_ng, field_n_ng, imafs_log, pack_template_data, parse_log, read_text,
                     run, write_file)

NONCE = "5eed" * 10
FILES = {"a.txt": b"first file\n", "b.txt": b"second file\n", "c.txt": b"third file\n"}


@pytest.fixture
def measured(swtpm, imafs, imafs_log_tool):
    """A stopped daemon whose swtpm PCR 10 contains boot_aggregate and three file records."""
    missing = [t for t in ("tpm2_createek", "tpm2_createak", "tpm2_checkquote",
                           "tpm2_flushcontext") if not shutil.which(t)]
    if missing:
        pytest.skip(f"missing tools: {', '.join(missing)}")
    m = imafs(tpm=swtpm.tcti, name="att")
    for name, data in FILES.items():
        write_file(m.src(name), data)
        with open(m.path(name), "rb") as f:
            f.read()
    m.stop()
    return m


def quote(swtpm, m, out, *ak_args, nonce=NONCE):
    return imafs_log(["quote", "--tpm", swtpm.tcti, *ak_args, "--nonce", nonce,
                      "--runtime-dir", m.runtime_dir, "-o", out])


def verify(evidence, *extra):
    return imafs_log(["verify", "--evidence", evidence, *extra], check=False)


def split_evidence(path):
    """Return (text before the list, list bytes) of an evidence file."""
    head, rest = read_text(path).split("log:\n", 1)
    body, tail = rest.split("end\n", 1)
    assert tail == ""
    return head, base64.b64decode(body)


def join_evidence(path, head, log):
    head = re.sub(r"^log-size: \d+$", f"log-size: {len(log)}", head, flags=re.M)
    encoded = base64.b64encode(log).decode()
    lines = "".join(encoded[i:i + 76] + "\n" for i in range(0, len(encoded), 76))
    write_file(path, head + "log:\n" + lines + "end\n")
    return path


def test_round_trip_created_ak(measured, swtpm, workdir):
    evidence = os.path.join(workdir, "evidence")
    out = quote(swtpm, measured, evidence, "--ak-create").stdout
    assert f"list '{measured.rt('binary_runtime_measurements')}' of 4 records" in out, out

    res = verify(evidence, "--nonce", NONCE)
    assert res.returncode == 0, res.stderr
    assert "ECDSA-SHA256 signature by the AK (ECC NIST P-256) verifies" in res.stdout
    assert f"nonce: {NONCE} matches --nonce" in res.stdout
    assert "verified: PCR-10 sha1 matches after record 4 of 4\n" in res.stdout
    assert "verified: PCR-10 sha256 matches after record 4 of 4\n" in res.stdout

    head, log = split_evidence(evidence)
    with open(measured.rt("binary_runtime_measurements"), "rb") as f:
        assert log == f.read()
    for bank in ("sha1", "sha256"):
        value = re.search(rf"^pcr-{bank}-10: ([0-9a-f]+)$", head, re.M).group(1)
        assert bytes.fromhex(value) == swtpm.pcrread(bank)[10], bank


def test_tpm2_checkquote_accepts(measured, swtpm, workdir):
    """The attest bytes, signature and key are the standard TPM structures."""
    evidence = os.path.join(workdir, "evidence")
    quote(swtpm, measured, evidence, "--ak-create")
    head, _ = split_evidence(evidence)
    attest = os.path.join(workdir, "attest.bin")
    signature = os.path.join(workdir, "signature.bin")
    key = os.path.join(workdir, "ak.pem")
    write_file(attest, bytes.fromhex(re.search(r"^attest: (\w+)$", head, re.M).group(1)))
    write_file(signature, bytes.fromhex(re.search(r"^signature: (\w+)$", head, re.M).group(1)))
    write_file(key, re.search(r"-----BEGIN PUBLIC KEY-----.*?-----END PUBLIC KEY-----\n", head,
                              re.S).group(0))
    run(["tpm2_checkquote", "-u", key, "-m", attest, "-s", signature, "-q", NONCE, "-g",
         "sha256"])


@pytest.mark.parametrize("key", [["-G", "ecc", "-s", "ecdsa"], ["-G", "rsa", "-s", "rsassa"]])
def test_round_trip_tpm2_tools_ak(measured, swtpm, workdir, key):
    ek, ak, pem = (os.path.join(workdir, n) for n in ("ek.ctx", "ak.ctx", "ak.pem"))
    swtpm.run_tool(["tpm2_createek", "-c", ek, "-G", "ecc", "-u", os.path.join(workdir, "ek")])
    swtpm.run_tool(["tpm2_createak", "-C", ek, "-c", ak, *key, "-g", "sha256", "-u", pem,
                    "-f", "pem"])
    # Without a resource manager, objects stay loaded and fill the TPM's three slots.
    swtpm.run_tool(["tpm2_flushcontext", "-t"])

    evidence = os.path.join(workdir, "evidence")
    quote(swtpm, measured, evidence, "--ak-context", ak)
    res = verify(evidence, "--nonce", NONCE, "--ak-public", pem)
    assert res.returncode == 0, res.stderr
    assert "matches after record 4 of 4" in res.stdout

    other = os.path.join(workdir, "other.pem")
    run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-out", os.path.join(workdir, "other.key")])
    run(["openssl", "pkey", "-in", os.path.join(workdir, "other.key"), "-pubout", "-out", other])
    res = verify(evidence, "--ak-public", other)
    assert res.returncode == 1
    assert "is not the trusted AK given with --ak-public" in res.stderr


@pytest.fixture
def evidence(measured, swtpm, workdir):
    path = os.path.join(workdir, "evidence")
    quote(swtpm, measured, path, "--ak-create")
    return path


def name_byte(log, index):
    """Return the offset of a byte in the file name of record INDEX (0-based) of LOG."""
    record = parse_log(log)[index]
    return record.offset + 4 + 20 + 4 + len(record.template) + 4 + 4 + len(record.fields[0]) + 6


def changed_record(log, record_index, where):
    data = bytearray(log)
    record = parse_log(log)[record_index]
    data[name_byte(log, record_index) if where == "name" else record.offset + 4] ^= 0x01
    return bytes(data)


@pytest.mark.parametrize("where", ["name", "stored digest"])
def test_changed_record_named(evidence, workdir, where):
    head, log = split_evidence(evidence)
    bad = join_evidence(os.path.join(workdir, "bad"), head, changed_record(log, 2, where))
    res = verify(bad, "--nonce", NONCE)
    assert res.returncode == 1
    assert "first bad entry: record 3 at byte offset" in res.stderr, res.stderr
    assert "verification failed" in res.stderr
    assert "verified:" not in res.stdout


def test_removed_record_fails(evidence, workdir):
    head, log = split_evidence(evidence)
    last = parse_log(log)[-1]
    bad = join_evidence(os.path.join(workdir, "bad"), head, log[:last.offset])
    res = verify(bad)
    assert res.returncode == 1
    assert "does not reach the quoted PCR values after any of its 3 records" in res.stderr


@pytest.mark.parametrize("pattern,message", [
    (r"(pcr-sha256-10: )(\w)", "do not hash to the PCR digest the TPM signed"),
    (r"(nonce: )(\w)", "qualifying data differs from the nonce"),
    (r"(attest: \w{40})(\w)", "signature over the quote does not verify"),
    (r"(signature: \w{80})(\w)", "signature over the quote does not verify"),
])
def test_changed_quote_fails(evidence, workdir, pattern, message):
    head, log = split_evidence(evidence)
    changed = re.sub(pattern, lambda m: m.group(1) + ("1" if m.group(2) != "1" else "2"), head,
                     count=1)
    assert changed != head
    res = verify(join_evidence(os.path.join(workdir, "bad"), changed, log))
    assert res.returncode == 1
    assert message in res.stderr, res.stderr


def test_wrong_nonce_fails(evidence):
    res = verify(evidence, "--nonce", "00" * 20)
    assert res.returncode == 1
    assert "stale or replayed" in res.stderr


def test_truncated_file_fails(evidence, workdir):
    text = read_text(evidence)
    bad = os.path.join(workdir, "bad")
    write_file(bad, text[:len(text) // 2])
    res = verify(bad)
    assert res.returncode == 1
    assert "verified:" not in res.stdout


def test_records_after_quote_noted(evidence, workdir):
    """A list longer than the quote verifies up to the quote and names the rest."""
    head, log = split_evidence(evidence)
    data = pack_template_data([field_d_ng("sha256", hashlib.sha256(b"later\n").digest()),
                               field_n_ng("/later.txt")])
    record = struct.pack("<I", 10) + hashlib.sha1(data).digest() + struct.pack("<I", 6) + \
        b"ima-ng" + struct.pack("<I", len(data)) + data
    longer = join_evidence(os.path.join(workdir, "longer"), head, log + record)
    res = verify(longer, "--nonce", NONCE)
    assert res.returncode == 0, res.stderr
    assert "matches after record 4 of 5" in res.stdout
    assert "records 5 to 5 came after the quote" in res.stdout


def allowlist_for(m, names):
    return "".join(f"{hashlib.sha256(FILES[n]).hexdigest()}  {m.path(n)}\n" for n in names)


def test_allowlist_passes(measured, evidence, workdir):
    allow = os.path.join(workdir, "allow")
    write_file(allow, allowlist_for(measured, FILES))
    res = verify(evidence, "--nonce", NONCE, "--allowlist", allow)
    assert res.returncode == 0, res.stderr
    assert "allowlist: all 3 file records the quote covers are in" in res.stdout


def test_allowlist_names_first_unlisted(measured, evidence, workdir):
    allow = os.path.join(workdir, "allow")
    write_file(allow, allowlist_for(measured, ["a.txt", "c.txt"]))
    res = verify(evidence, "--allowlist", allow)
    assert res.returncode == 1
    digest = hashlib.sha256(FILES["b.txt"]).hexdigest()
    assert f"first bad entry: record 3 ('{measured.path('b.txt')}'): file digest sha256:{digest} " \
        "is not in the allowlist" in res.stderr, res.stderr


def test_quote_needs_nonce(swtpm, imafs_log_tool, workdir):
    res = imafs_log(["quote", "--tpm", swtpm.tcti, "--ak-create", "-o",
                     os.path.join(workdir, "e")], check=False)
    assert res.returncode == 2
    assert "quote needs --nonce" in res.stderr


def test_allowlist_rejects_violation(swtpm, imafs, imafs_log_tool, workdir):
    m = imafs(tpm=swtpm.tcti, name="att")
    write_file(m.src("a.txt"), FILES["a.txt"])
    writer = os.open(m.path("a.txt"), os.O_WRONLY)
    with open(m.path("a.txt"), "rb") as f:
        f.read()
    os.close(writer)
    m.stop()
    evidence = os.path.join(workdir, "evidence")
    quote(swtpm, m, evidence, "--ak-create")

    plain = verify(evidence)
    assert plain.returncode == 0, plain.stderr
    assert "note: 1 of the covered records are violations" in plain.stdout
    allow = os.path.join(workdir, "allow")
    write_file(allow, allowlist_for(m, ["a.txt"]))
    res = verify(evidence, "--allowlist", allow)
    assert res.returncode == 1
    assert f"('{m.path('a.txt')}') is a violation" in res.stderr, res.stderr


def test_verify_reads_tpm(measured, swtpm):
    res = imafs_log(["verify", "--tpm", swtpm.tcti, measured.rt("binary_runtime_measurements")],
                    check=False)
    assert res.returncode == 0, res.stderr
    assert "verified: PCR-10 sha1 matches after record 4 of 4\n" in res.stdout
    assert "verified: PCR-10 sha256 matches after record 4 of 4\n" in res.stdout


def test_quote_leaves_out_partial_record(measured, swtpm, workdir):
    """A record still being written when quote reads the list is not part of the evidence."""
    with open(measured.rt("binary_runtime_measurements"), "rb") as f:
        whole = f.read()
    growing = os.path.join(workdir, "growing")
    write_file(growing, whole + whole[parse_log(whole)[1].offset:][:40])
    evidence = os.path.join(workdir, "evidence")
    res = imafs_log(["quote", "--tpm", swtpm.tcti, "--ak-create", "--nonce", NONCE, "--log",
                     growing, "-o", evidence])
    assert "left out the last 40 bytes" in res.stderr
    assert split_evidence(evidence)[1] == whole
    assert verify(evidence, "--nonce", NONCE).returncode == 0


@pytest.mark.parametrize("pcrs,ok", [("10", False), ("11", True), ("10,11", True)])
def test_quote_covers_list_pcrs(swtpm, imafs, imafs_log_tool, workdir, pcrs, ok):
    m = imafs(tpm=swtpm.tcti, args=["--pcr", "11"], name="att")
    write_file(m.src("a.txt"), FILES["a.txt"])
    with open(m.path("a.txt"), "rb") as f:
        f.read()
    m.stop()
    used = sorted({r.pcr for r in m.records()})
    evidence = os.path.join(workdir, "evidence")
    imafs_log(["quote", "--tpm", swtpm.tcti, "--ak-create", "--nonce", NONCE, "--pcr", pcrs,
               "--runtime-dir", m.runtime_dir, "-o", evidence])
    res = verify(evidence)
    if ok:
        assert res.returncode == 0, res.stderr
        for pcr in used:
            assert f"verified: PCR-{pcr:02d} sha256 matches" in res.stdout
    else:
        assert res.returncode == 1
        assert "extends PCR 11, which the quote does not cover" in res.stderr, res.stderr
