"""One measurement per file version: reopening is free, any change re-measures."""

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor

from helpers import read_bytes, read_text, run, write_file


def digests_of(m, path):
    """Return the d-ng digests logged for PATH, in log order."""
    return [r.file_digest[1] for r in m.records()[1:] if r.name == path]


def test_unchanged_file_measured_once(imafs):
    m = imafs(name="cache")
    write_file(m.src("a.txt"), "first\n")
    path = m.path("a.txt")

    assert read_bytes(path) == b"first\n"
    assert read_bytes(path) == b"first\n"
    run(["cat", path])
    assert m.names() == [path]


def test_change_through_mount_remeasured(imafs):
    m = imafs(name="cache")
    write_file(m.src("a.txt"), "first\n")
    path = m.path("a.txt")
    read_bytes(path)

    with open(path, "a") as f:
        f.write("appended through the mount\n")
    content = read_bytes(path)

    assert m.names() == [path, path]
    assert digests_of(m, path)[-1] == hashlib.sha256(content).digest()


def test_change_behind_mount_remeasured(imafs):
    m = imafs(name="cache")
    write_file(m.src("a.txt"), "first\n")
    path = m.path("a.txt")
    read_bytes(path)
    before = os.stat(m.src("a.txt"))

    # Same size, written directly into the source directory.
    write_file(m.src("a.txt"), "other\n")
    os.utime(m.src("a.txt"), ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
    run(["cat", path])

    assert m.names() == [path, path]
    assert digests_of(m, path) == [hashlib.sha256(b"first\n").digest(),
                                   hashlib.sha256(b"other\n").digest()]


def test_same_mtime_change_behind_mount_remeasured(imafs):
    """A rewrite that restores the old mtime still changes ctime, so it must count."""
    m = imafs(name="cache")
    write_file(m.src("a.txt"), "first\n")
    path = m.path("a.txt")
    read_bytes(path)
    before = os.stat(m.src("a.txt"))

    write_file(m.src("a.txt"), "other\n")
    os.utime(m.src("a.txt"), ns=(before.st_atime_ns, before.st_mtime_ns))
    run(["cat", path])

    assert m.names() == [path, path]


def test_count_file_matches_log(imafs):
    m = imafs(name="cache")
    for i in range(5):
        write_file(m.src(f"f{i}"), f"{i}\n")
        read_bytes(m.path(f"f{i}"))
    read_bytes(m.path("f0"))

    count = int(read_text(m.rt("runtime_measurements_count")))
    assert count == len(m.records())
    assert count == 6


def test_concurrent_opens_measured_once(imafs):
    m = imafs(name="cache")
    payload = os.urandom(4 << 20)
    write_file(m.src("shared.bin"), payload)
    path = m.path("shared.bin")

    with ThreadPoolExecutor(max_workers=16) as pool:
        contents = list(pool.map(lambda _: read_bytes(path), range(64)))

    assert all(c == payload for c in contents)
    assert m.names() == [path]


def test_concurrent_distinct_files(imafs):
    m = imafs(name="cache")
    paths = []
    for i in range(200):
        write_file(m.src("many", f"f{i:03d}"), f"file {i}\n")
        paths.append(m.path("many", f"f{i:03d}"))

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(read_bytes, paths + paths))

    names = m.names()
    assert sorted(names) == sorted(paths)
    assert int(read_text(m.rt("runtime_measurements_count"))) == len(paths) + 1
