"""Readers of the list files during 2,000 measurements only ever see a prefix of the final file.

Three readers run while four threads read new files through the mount:
  * the ASCII list read 7 bytes per read(2), like a slow `tail -f`;
  * the binary list read 13 bytes per read(2);
  * keylime's pattern: reopen the ASCII list, seek to the offset where
    line N started on an earlier pass, and read from there to the end.
Every byte a reader got must equal the byte at the same offset of the file
after the last measurement.
"""

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from helpers import read_bytes, write_file

MEASUREMENTS = 2000


class SmallReader(threading.Thread):
    """Read PATH in CHUNK-byte reads until DONE is set, then read on to the end."""

    def __init__(self, path, chunk):
        super().__init__(daemon=True)
        self.path, self.chunk = path, chunk
        self.data = bytearray()
        self.reads = 0
        self.done = threading.Event()

    def run(self):
        fd = os.open(self.path, os.O_RDONLY)
        try:
            while True:
                piece = os.read(fd, self.chunk)
                self.reads += 1
                if piece:
                    self.data += piece
                elif self.done.is_set():
                    return
                else:
                    time.sleep(0.0005)
        finally:
            os.close(fd)


class SeekingReader(threading.Thread):
    """Reopen PATH, seek to the start of a line seen before, and record what follows."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path = path
        self.seen = []  # (offset, bytes read from there)
        self.done = threading.Event()

    def run(self):
        offset = 0
        while not self.done.is_set():
            with open(self.path, "rb") as f:
                f.seek(offset)
                tail = f.read()
            self.seen.append((offset, tail))
            lines = tail.split(b"\n")
            # Resume at the middle line of what was read: a line N keylime saw before.
            if len(lines) > 2:
                offset += sum(len(line) + 1 for line in lines[:len(lines) // 2])
            time.sleep(0.002)


def measure(m, index):
    name = f"f{index:05d}"
    write_file(m.src("many", name), f"measurement {index}\n")
    with open(m.path("many", name), "rb") as f:
        f.read()


def test_readers_see_prefixes(imafs):
    m = imafs(name="tail")
    os.makedirs(m.src("many"))
    ascii_path = m.rt("ascii_runtime_measurements")
    binary_path = m.rt("binary_runtime_measurements")
    readers = [SmallReader(ascii_path, 7), SmallReader(binary_path, 13)]
    seeker = SeekingReader(ascii_path)
    for reader in readers + [seeker]:
        reader.start()

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda i: measure(m, i), range(MEASUREMENTS)))

    for reader in readers + [seeker]:
        reader.done.set()
    for reader in readers + [seeker]:
        reader.join(timeout=30)
        assert not reader.is_alive()

    final_ascii = read_bytes(ascii_path)
    final_binary = read_bytes(binary_path)
    assert final_ascii.count(b"\n") == MEASUREMENTS + 1
    assert len(m.records()) == MEASUREMENTS + 1

    assert bytes(readers[0].data) == final_ascii
    assert bytes(readers[1].data) == final_binary
    assert readers[0].reads > MEASUREMENTS, "the ASCII reader did not read while the list grew"
    assert len(seeker.seen) > 10, "the seeking reader made too few passes"
    for offset, tail in seeker.seen:
        assert final_ascii[offset:offset + len(tail)] == tail, f"bytes at offset {offset} changed"
        assert offset == 0 or final_ascii[offset - 1:offset] == b"\n", "seek target not a line"
