"""The runtime directory contains well-formed IMA lists, checked by our own parser."""

import glob
import hashlib
import os

import pytest

from helpers import (BANK_SIZES, LogFormatError, parse_log, parse_pcrs, read_bytes, read_log,
                     read_text, render_ascii, replay, run, write_file)

CONFIGS = {
    "ima-ng-sha256": ["--template", "ima-ng", "--hash", "sha256"],
    "ima-ng-sha512": ["--template", "ima-ng", "--hash", "sha512"],
    "ima-ng-sha1": ["--template", "ima-ng", "--hash", "sha1"],
    "ima-sha1": ["--template", "ima", "--hash", "sha1"],
}
FILES = {"plain.txt": b"hello IMA\n", "empty": b"", "with space.txt": b"spaces become _\n",
         "big.bin": bytes(range(256)) * 4096}


@pytest.fixture(params=sorted(CONFIGS))
def measured(request, imafs):
    """A mount of CONFIG in which every file of FILES was read once by root."""
    m = imafs(args=CONFIGS[request.param], name="fmt")
    for name, data in FILES.items():
        write_file(m.src(name), data)
        run(["cat", m.path(name)])
    m.config = request.param
    return m


def banks(m):
    """Return the banks that have a per-bank binary list in the runtime directory."""
    prefix = m.rt("binary_runtime_measurements_")
    return sorted(p[len(prefix):] for p in glob.glob(prefix + "*"))


def test_template_digests(measured):
    for bank in banks(measured):
        for rec in measured.records(bank):
            assert rec.digest == hashlib.new(bank, rec.data).digest(), (bank, rec.name)


def test_banks_present(measured):
    assert "sha1" in banks(measured)
    assert "sha256" in banks(measured)


def test_bank_lists_share_template_data(measured):
    reference = measured.records("sha1")
    for bank in banks(measured):
        records = measured.records(bank)
        assert [(r.pcr, r.template, r.data) for r in records] == \
            [(r.pcr, r.template, r.data) for r in reference], bank


def test_classic_names_link_to_sha1(measured):
    for kind in ("binary", "ascii"):
        link = measured.rt(f"{kind}_runtime_measurements")
        assert os.path.islink(link), link
        assert os.path.realpath(link) == measured.rt(f"{kind}_runtime_measurements_sha1")


def test_ascii_renders_binary(measured):
    for bank in banks(measured):
        records = measured.records(bank)
        text = read_text(measured.rt(f"ascii_runtime_measurements_{bank}"))
        assert text == "".join(render_ascii(r) for r in records), bank


def test_counters(measured):
    count = read_text(measured.rt("runtime_measurements_count"))
    assert count.strip() == str(len(measured.records()))
    assert count.endswith("\n")
    assert read_text(measured.rt("violations")).strip() == "0"
    assert read_text(measured.rt("tpm")).strip() == "software"


def test_file_records(measured):
    records = measured.records()
    assert records[0].name == "boot_aggregate"
    by_name = {r.name: r for r in records[1:]}
    assert len(by_name) == len(records) - 1, "a file appears twice"
    hash_alg = CONFIGS[measured.config][CONFIGS[measured.config].index("--hash") + 1]
    for name, data in FILES.items():
        logged = measured.path(name).replace(" ", "_")
        assert logged in by_name, f"{logged} not measured"
        rec = by_name[logged]
        assert rec.pcr == 10
        assert rec.file_digest == (hash_alg, hashlib.new(hash_alg, data).digest()), name


def test_template_name(measured):
    expected = "ima" if measured.config == "ima-sha1" else "ima-ng"
    assert {r.template for r in measured.records()} == {expected}


def test_pcr_option(imafs):
    m = imafs(args=["--pcr", "11"], name="pcr")
    write_file(m.src("f"), "x")
    run(["cat", m.path("f")])
    records = m.records()
    assert records[-1].name == m.path("f")
    assert records[-1].pcr == 11


def test_parser_reproduces_vectors(shared_dir):
    """Check this file's parser and renderer against independently made lists."""
    logs = os.path.join(shared_dir, "vectors", "logs")
    cases = [os.path.join(logs, "embrave")] + sorted(glob.glob(os.path.join(logs, "generated", "*")))
    checked = 0
    for case in cases:
        for ascii_path in sorted(glob.glob(os.path.join(case, "ascii_runtime_measurements*"))):
            suffix = ascii_path.rsplit("ascii_runtime_measurements", 1)[1]
            binary = os.path.join(case, "binary_runtime_measurements" + suffix)
            bank = suffix.lstrip("_") or "sha1"
            records = parse_log(read_bytes(binary), BANK_SIZES[bank])
            assert "".join(render_ascii(r) for r in records) == read_text(ascii_path), ascii_path
            for rec in records:
                if not rec.is_violation:
                    assert rec.digest == hashlib.new(bank, rec.data).digest(), ascii_path
            checked += 1
    assert checked >= 5


def test_parse_rejects_truncated_list(shared_dir):
    data = read_bytes(os.path.join(shared_dir, "vectors", "logs", "embrave",
                                   "binary_runtime_measurements"))
    with pytest.raises(LogFormatError):
        parse_log(data[:-3])
    assert len(read_log(os.path.join(shared_dir, "vectors", "logs", "embrave",
                                     "binary_runtime_measurements"))) == 922


def test_replay_reproduces_vectors(shared_dir):
    """Check this file's PCR replay against PCRs read back from swtpm for the vectors."""
    case = os.path.join(shared_dir, "vectors", "logs", "generated", "ima-ng-violation")
    for bank in ("sha1", "sha256"):
        records = read_log(os.path.join(case, "binary_runtime_measurements"))
        expected = parse_pcrs(read_text(os.path.join(case, f"pcrs_{bank}.txt")))
        assert replay(records, bank)[10] == expected[10], bank
