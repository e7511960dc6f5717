"""The ASCII list parses under keylime's rules, and what keylime computes from it replays.

keylime's verifier never receives the binary list. Its agent sends lines of
the ASCII list (the file that `ima_ml_path` names), and the verifier rebuilds
each record's template data from the text. The rules below restate how keylime's
IMA parser (keylime/ima/ast.py, keylime 7.x) reads a line:

  * the newline is removed and nothing else, so trailing spaces matter;
  * the line splits at single spaces into exactly four tokens: PCR, template
    hash, template name, and the rest; so the PCR column must not start with
    a space, which rules out PCRs below 10 (keylime only accepts PCR 10);
  * the template must be ima, ima-ng, ima-sig or ima-buf;
  * ima and ima-ng: the rest splits once into a digest and a name;
  * ima-sig: the rest splits twice into exactly three tokens, digest, name
    and signature, so an unsigned record needs its trailing space;
  * a digest "algo:hex" becomes the d-ng field, a bare hex digest the 20-byte
    d field of the ima template;
  * the name becomes n-ng (name plus NUL), or for ima the name padded with
    NULs to 256 bytes;
  * the template hash must equal SHA-1 of the rebuilt template data, except
    for an all-zero hash (a violation), which extends ff bytes instead;
  * PCR 10 of a bank is replayed with that bank's hash of the rebuilt data.
"""

import hashlib
import os
import struct

import pytest

from helpers import parse_pcrs, read_text, run, write_file

KEYLIME_TEMPLATES = ("ima", "ima-ng", "ima-sig", "ima-buf")


class KeylimeParseError(Exception):
    pass


def keylime_digest(text, legacy):
    algo, sep, hexdigest = text.rpartition(":")
    if text.count(":") > 1:
        raise KeylimeParseError(f"digest {text!r} has more than one ':'")
    try:
        digest = bytes.fromhex(hexdigest)
    except ValueError as exc:
        raise KeylimeParseError(f"digest {text!r} is not hex") from exc
    if legacy:
        return digest
    if not sep:
        return struct.pack("<I", len(digest)) + digest
    return struct.pack("<I", len(algo) + 2 + len(digest)) + algo.encode() + b":\0" + digest


def keylime_name(name, legacy):
    raw = name.encode()
    if legacy:
        if len(raw) > 255:
            raise KeylimeParseError(f"name of {len(raw)} bytes does not fit the ima template")
        return raw + bytes(256 - len(raw))
    return struct.pack("<I", len(raw) + 1) + raw + b"\0"


def keylime_signature(text):
    if not text:
        return struct.pack("<I", 0)
    sig = bytes.fromhex(text)
    if len(sig) < 9 or 9 + struct.unpack(">H", sig[7:9])[0] != len(sig):
        raise KeylimeParseError(f"signature header does not match its length: {text[:40]}")
    return struct.pack("<I", len(sig)) + sig


def keylime_entry(line):
    """Parse one ASCII line as keylime does; return (PCR text, template hash, template data)."""
    tokens = line.split(" ", 3)
    if len(tokens) != 4:
        raise KeylimeParseError(f"{len(tokens)} tokens, expected 4: {line!r}")
    pcr, template_hash, template, rest = tokens
    if template not in KEYLIME_TEMPLATES:
        raise KeylimeParseError(f"no keylime parser for template {template!r}")
    if template in ("ima", "ima-ng"):
        fields = rest.split(" ", 1)
        if len(fields) != 2:
            raise KeylimeParseError(f"{template}: {len(fields)} tokens, expected 2: {line!r}")
        legacy = template == "ima"
        data = keylime_digest(fields[0], legacy) + keylime_name(fields[1], legacy)
    else:
        fields = rest.split(" ", 2)
        if len(fields) != 3:
            raise KeylimeParseError(f"{template}: {len(fields)} tokens, expected 3: {line!r}")
        data = keylime_digest(fields[0], False) + keylime_name(fields[1], False)
        data += keylime_signature(fields[2]) if template == "ima-sig" else \
            struct.pack("<I", len(fields[2]) // 2) + bytes.fromhex(fields[2])
    return pcr, bytes.fromhex(template_hash), data


def keylime_replay(text, bank):
    """Check every line of TEXT under keylime's rules; return the PCR 10 value of BANK."""
    pcr10 = bytes(hashlib.new(bank).digest_size)
    for line in text.split("\n"):
        if line == "":
            continue
        pcr, template_hash, data = keylime_entry(line)
        if pcr != "10":
            raise KeylimeParseError(f"PCR {pcr!r}: keylime accepts only the IMA PCR, 10")
        if template_hash == bytes(len(template_hash)):
            value = b"\xff" * len(pcr10)
        elif template_hash != hashlib.sha1(data).digest():
            raise KeylimeParseError(f"template hash of {line!r} does not match its fields")
        else:
            value = hashlib.new(bank, data).digest()
        pcr10 = hashlib.new(bank, pcr10 + value).digest()
    return pcr10


NAMES = ["plain.txt", "with space.txt", "new\nline.txt", "tab\tand\x1bescape.txt"]


@pytest.fixture
def signing_key(workdir, evmctl):
    key = os.path.join(workdir, "sign.key")
    run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-out", key])
    return key


@pytest.mark.parametrize("args", [["--template", "ima-ng"], ["--template", "ima-sig"],
                                  ["--template", "ima", "--hash", "sha1"]],
                         ids=["ima-ng", "ima-sig", "ima"])
def test_list_parses_with_keylime_rules(imafs, signing_key, args):
    m = imafs(args=args, name="kl")
    for i, name in enumerate(NAMES):
        write_file(m.src(name), f"file {i}\n")
    run(["evmctl", "ima_sign", "--key", signing_key, "-a", "sha256", m.src("plain.txt")])
    for name in NAMES:
        with open(m.path(name), "rb") as f:
            f.read()
    writer = os.open(m.path("plain.txt"), os.O_WRONLY)
    with open(m.path("plain.txt"), "rb") as f:
        f.read()
    os.close(writer)

    # The agent sends the classic (SHA-1) list; the verifier replays any bank from it.
    text = read_text(m.rt("ascii_runtime_measurements"))
    assert text.endswith("\n")
    assert text.count("\n") == len(m.records()), "a record spans more than one line"
    for bank in ("sha1", "sha256"):
        expected = parse_pcrs(read_text(m.rt(f"pcrs_{bank}")))[10]
        assert keylime_replay(text, bank) == expected, bank

    lines = text.splitlines()
    if args[1] == "ima-sig":
        unsigned = [line for line in lines if "plain.txt" not in line]
        assert unsigned and all(line.endswith(" ") for line in unsigned)
        signed = [line for line in lines if line.split(" ")[4] == m.path("plain.txt")]
        assert any(not line.endswith(" ") for line in signed), "the signature is missing"


def test_parser_rejects_unsigned_line_without_trailing_space():
    """The rule the daemon's trailing space exists for."""
    line = "10 " + "ab" * 20 + " ima-sig sha256:" + "00" * 32 + " /x"
    with pytest.raises(KeylimeParseError):
        keylime_entry(line)
    keylime_entry(line + " ")


def test_parser_reads_keylime_vectors(shared_dir):
    """Check these rules against keylime's own test data and the 922-record ARM list."""
    logs = os.path.join(shared_dir, "vectors", "logs")
    text = read_text(os.path.join(logs, "keylime", "ima-log-sha256"))
    assert len([keylime_entry(line) for line in text.splitlines()]) == 2
    embrave = read_text(os.path.join(logs, "embrave", "ascii_runtime_measurements"))
    expected = parse_pcrs(read_text(os.path.join(logs, "derived", "embrave-pcrs_sha256.txt")))
    assert keylime_replay(embrave, "sha256") == expected[10]
    ima_sig = read_text(os.path.join(logs, "generated", "ima-sig", "ascii_runtime_measurements"))
    assert keylime_replay(ima_sig, "sha1") == \
        parse_pcrs(read_text(os.path.join(logs, "generated", "ima-sig", "pcrs_sha1.txt")))[10]


def test_escaped_names_unambiguous(imafs):
    m = imafs(name="kl")
    write_file(m.src("a\nb"), "newline\n")
    write_file(m.src("a\\x0ab"), "backslash\n")
    for name in ("a\nb", "a\\x0ab"):
        with open(m.path(name), "rb") as f:
            f.read()
    names = [r.name for r in m.records()[1:]]
    assert len(set(names)) == 2, names
