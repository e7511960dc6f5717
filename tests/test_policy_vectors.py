"""imafs-policy check gives the kernel's verdict on real and hand-written policies.

The shared vectors (../shared/vectors/policies next to the repository) come with
PROVENANCE.md, which states the Linux 6.19 verdict of each file and, for rejected
ones, the first failing line. Those tests skip when the directory is absent; the
cases under tests/data/policies always run.

Environment:
  IMAFS_POLICY_BIN  the tool under test (default: build/imafs-policy)
"""

import json
import os
import re
import subprocess

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VECTOR_DIR = os.path.realpath(os.path.join(REPO_ROOT, os.pardir, "shared", "vectors",
                                           "policies"))
LOCAL_DIR = os.path.join(REPO_ROOT, "tests", "data", "policies")


def policy_bin():
    return os.environ.get("IMAFS_POLICY_BIN", os.path.join(REPO_ROOT, "build", "imafs-policy"))


@pytest.fixture(scope="module")
def tool():
    path = policy_bin()
    if not os.access(path, os.X_OK):
        pytest.skip(f"imafs-policy not found at {path}: build it (target imafs-policy) or set "
                    "IMAFS_POLICY_BIN")
    return path


def check(tool, path, *options):
    """Run check --json; return (exit status, parsed report)."""
    proc = subprocess.run([tool, "check", "--json", *options, path], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode in (0, 1), f"exit {proc.returncode}: {proc.stderr}"
    report = json.loads(proc.stdout)
    assert report["verdict"] == ("accept" if proc.returncode == 0 else "reject")
    return proc.returncode, report


def previous_version(version):
    major, minor = (int(x) for x in version.split("."))
    return f"{major}.{minor - 1}" if minor > 0 else f"{major - 1}.99"


# Provenance parsing

def _provenance():
    with open(os.path.join(VECTOR_DIR, "PROVENANCE.md"), encoding="utf-8") as f:
        return f.read()


def provenance_verdicts(text):
    """Map each vector path to its verdict text as PROVENANCE.md states it."""
    verdicts = {}
    whole, _, excerpts = text.partition("## Excerpts")
    # Whole files: a "**name**" paragraph followed by a "Verdict: ..." sentence.
    blocks = re.split(r"^\*\*([^*\n]+)\*\* ", whole, flags=re.M)
    for name, body in zip(blocks[1::2], blocks[2::2]):
        m = re.search(r"^Verdict(?: as stored)?: (.+)$", body, flags=re.M)
        assert m, f"no verdict for {name} in PROVENANCE.md"
        verdicts[name] = m.group(1).strip()
    # Excerpts: the table's fourth column.
    for line in excerpts.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0].startswith("`") and cells[0] != "`file`":
            verdicts["excerpts/" + cells[0].strip("`")] = cells[3]
    return verdicts


def provenance_first_lines(text):
    """Map each known-invalid vector to the line of its first error."""
    _, _, table = text.partition("## Known-invalid summary")
    lines = {}
    for line in table.splitlines():
        m = re.match(r"\|\s*`([^`]+)`\s*\|\s*(\d+)", line)
        if m:
            name = m.group(1)
            if not os.path.exists(os.path.join(VECTOR_DIR, name)):
                name = "excerpts/" + name
            lines[name] = int(m.group(2))
    return lines


def expected_runs(verdict):
    """Turn a PROVENANCE verdict into [(kernel version, accepted)]."""
    m = re.match(r"accept on (\d+\.\d+)\+, reject before", verdict)
    if m:
        return [(m.group(1), True), (previous_version(m.group(1)), False)]
    if verdict.startswith("accept"):
        # "accept*" is true under the stated configuration, which the parser assumes.
        return [("6.19", True)]
    if verdict.startswith("reject"):
        return [("6.19", False)]
    raise AssertionError(f"verdict not understood: {verdict!r}")


def vector_files():
    if not os.path.isdir(VECTOR_DIR):
        return []
    found = []
    for root, _, files in os.walk(VECTOR_DIR):
        for name in files:
            if name != "PROVENANCE.md":
                found.append(os.path.relpath(os.path.join(root, name), VECTOR_DIR))
    return sorted(found)


needs_vectors = pytest.mark.skipif(not os.path.isdir(VECTOR_DIR),
                                   reason=f"shared policy vectors not found at {VECTOR_DIR}")


@needs_vectors
def test_every_vector_has_a_verdict():
    verdicts = provenance_verdicts(_provenance())
    missing = [name for name in vector_files() if name not in verdicts]
    assert not missing, f"PROVENANCE.md gives no verdict for {missing}"


@needs_vectors
@pytest.mark.parametrize("name", vector_files() or ["(none)"])
def test_vector_verdict(tool, name):
    text = _provenance()
    verdict = provenance_verdicts(text)[name]
    first_lines = provenance_first_lines(text)
    for version, accepted in expected_runs(verdict):
        status, report = check(tool, os.path.join(VECTOR_DIR, name), "--kernel-version", version)
        assert (status == 0) == accepted, (
            f"{name} on Linux {version}: expected {'accept' if accepted else 'reject'} "
            f"({verdict}), got {report['errors']}")
        if not accepted and name in first_lines:
            assert report["errors"][0]["line"] == first_lines[name], report["errors"][0]


@needs_vectors
def test_katafork_shadowed_rules(tool):
    _, report = check(tool, os.path.join(VECTOR_DIR, "katafork-ima-policy"))
    shadowed = {(w["line"], w["related_line"]) for w in report["warnings"]
                if w["code"] == "shadowed"}
    # The fsname=rootfs MMAP_CHECK and BPRM_CHECK rules come after broader twins.
    assert shadowed == {(16, 15), (17, 14)}
    assert any(w["code"] == "no-final-newline" for w in report["warnings"])


# Own cases

LOCAL_CASES = [
    # file, kernel version, extra options, accepted, first error (line, col) or None
    ("measure-exec-and-root-reads.policy", "6.19", [], True, None),
    ("measure-exec-and-root-reads.policy", "5.4", [], True, None),
    ("suffix-comment.policy", "6.14", [], True, None),
    ("suffix-comment.policy", "6.13", [], False, (1, 29)),
    ("fuse-subtype.policy", "6.19", [], True, None),
    ("fuse-subtype.policy", "6.18", [], False, (1, 1)),
    ("typo.policy", "6.19", [], False, (3, 1)),
    ("placeholder.policy", "6.19", [], False, (2, 25)),
    ("continuation.policy", "6.19", [], False, (1, 25)),
    ("only-comments.policy", "6.19", [], False, (0, 0)),
    ("extensions.policy", "6.19", [], False, (1, 14)),
    ("extensions.policy", "6.19", ["--extensions"], True, None),
    ("extensions.policy", "6.19", ["--extensions", "--kernel"], False, (1, 14)),
    ("gid-conditions.policy", "5.16", [], True, None),
    ("gid-conditions.policy", "5.15", [], False, (1, 25)),
    ("hook-limits.policy", "6.19", [], False, (2, 28)),
]


@pytest.mark.parametrize("name,version,options,accepted,first_error", LOCAL_CASES)
def test_local_case(tool, name, version, options, accepted, first_error):
    status, report = check(tool, os.path.join(LOCAL_DIR, name), "--kernel-version", version,
                           *options)
    assert (status == 0) == accepted, report
    if first_error:
        assert (report["errors"][0]["line"], report["errors"][0]["col"]) == first_error, report


def test_every_bad_line_reported(tool):
    _, report = check(tool, os.path.join(LOCAL_DIR, "continuation.policy"))
    # The second half of the split rule has no action of its own.
    assert [(e["line"], e["token"]) for e in report["errors"]] == [
        (1, "\\"), (2, "template=ima-ng")]


def test_crlf_rejected(tool, tmp_path):
    path = tmp_path / "crlf.policy"
    path.write_bytes(b"measure func=BPRM_CHECK\r\nmeasure func=FILE_CHECK\r\n")
    status, report = check(tool, str(path))
    assert status == 1
    assert [(e["line"], e["col"]) for e in report["errors"]] == [(1, 9), (2, 9)]
    assert "carriage return" in report["errors"][0]["message"]


def test_missing_final_newline_warns(tool, tmp_path):
    path = tmp_path / "last-line.policy"
    path.write_bytes(b"measure func=BPRM_CHECK mask=MAY_EXEC\n"
                     b"measure func=BPRM_CHECK mask=MAY_EXEC fsmagic=0xef53")
    status, report = check(tool, str(path))
    assert status == 0
    codes = sorted((w["code"], w["line"]) for w in report["warnings"])
    assert codes == [("no-final-newline", 2), ("shadowed", 2)]
