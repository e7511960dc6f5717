"""File system operations through the mount behave as on the source directory.

These mounts use a policy that measures only exec, so reading the 5 GiB
sparse file does not make the daemon hash it.
"""

import ctypes
import errno
import os
import socket
import stat

import pytest

from helpers import read_bytes, write_file

GIB = 1 << 30
EXEC_ONLY_POLICY = "measure func=BPRM_CHECK mask=MAY_EXEC\n"
AT_FDCWD = -100
RENAME_NOREPLACE = 1
RENAME_EXCHANGE = 2
FALLOC_FL_KEEP_SIZE = 1
FALLOC_FL_PUNCH_HOLE = 2

libc = ctypes.CDLL(None, use_errno=True)
libc.renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                           ctypes.c_uint]
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]


def renameat2(old, new, flags):
    if libc.renameat2(AT_FDCWD, os.fsencode(old), AT_FDCWD, os.fsencode(new), flags) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), old)


def fallocate(fd, mode, offset, length):
    if libc.fallocate(fd, mode, offset, length) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


@pytest.fixture
def m(imafs, workdir):
    policy = os.path.join(workdir, "exec-only.policy")
    write_file(policy, EXEC_ONLY_POLICY)
    return imafs(args=["--policy", policy], name="posix")


def test_create_write_read(m):
    path = m.path("new.txt")
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o640)
    try:
        assert os.write(fd, b"hello, world\n") == 13
        assert os.pread(fd, 5, 7) == b"world"
    finally:
        os.close(fd)
    assert read_bytes(m.src("new.txt")) == b"hello, world\n"
    assert stat.S_IMODE(os.stat(m.src("new.txt")).st_mode) == 0o640
    with pytest.raises(FileExistsError):
        os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)


def test_rename(m):
    write_file(m.src("a"), "A")
    os.rename(m.path("a"), m.path("b"))
    assert not os.path.exists(m.src("a"))
    assert read_bytes(m.src("b")) == b"A"
    assert read_bytes(m.path("b")) == b"A"


def test_rename_noreplace(m):
    write_file(m.src("a"), "A")
    write_file(m.src("b"), "B")
    with pytest.raises(OSError) as exc:
        renameat2(m.path("a"), m.path("b"), RENAME_NOREPLACE)
    assert exc.value.errno == errno.EEXIST
    assert read_bytes(m.path("b")) == b"B"

    renameat2(m.path("a"), m.path("c"), RENAME_NOREPLACE)
    assert read_bytes(m.path("c")) == b"A"
    assert not os.path.exists(m.path("a"))


def test_rename_exchange(m):
    write_file(m.src("a"), "A")
    write_file(m.src("b"), "B")
    renameat2(m.path("a"), m.path("b"), RENAME_EXCHANGE)
    assert read_bytes(m.path("a")) == b"B"
    assert read_bytes(m.path("b")) == b"A"
    assert read_bytes(m.src("a")) == b"B"


def test_hard_link(m):
    write_file(m.src("orig"), "linked")
    os.link(m.path("orig"), m.path("alias"))
    assert os.stat(m.path("orig")).st_nlink == 2
    assert os.stat(m.path("alias")).st_ino == os.stat(m.path("orig")).st_ino
    assert os.stat(m.src("alias")).st_ino == os.stat(m.src("orig")).st_ino
    with open(m.path("alias"), "a") as f:
        f.write(" twice")
    assert read_bytes(m.path("orig")) == b"linked twice"


def test_symlink_readlink(m):
    os.symlink("target/../file", m.path("link"))
    assert os.readlink(m.path("link")) == "target/../file"
    assert os.readlink(m.src("link")) == "target/../file"
    assert stat.S_ISLNK(os.lstat(m.path("link")).st_mode)


def test_chmod(m):
    write_file(m.src("f"), "x", mode=0o644)
    os.chmod(m.path("f"), 0o600)
    assert stat.S_IMODE(os.stat(m.path("f")).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(m.src("f")).st_mode) == 0o600


def test_chown(m):
    write_file(m.src("f"), "x")
    os.chown(m.path("f"), 65534, 65534)
    st = os.stat(m.src("f"))
    assert (st.st_uid, st.st_gid) == (65534, 65534)
    st = os.stat(m.path("f"))
    assert (st.st_uid, st.st_gid) == (65534, 65534)


def test_truncate(m):
    write_file(m.src("f"), "0123456789")
    os.truncate(m.path("f"), 4)
    assert read_bytes(m.path("f")) == b"0123"
    os.truncate(m.path("f"), 8)
    assert read_bytes(m.src("f")) == b"0123\0\0\0\0"


def test_utime(m):
    write_file(m.src("f"), "x")
    os.utime(m.path("f"), ns=(1_000_000_123, 2_000_000_456))
    for path in (m.path("f"), m.src("f")):
        st = os.stat(path)
        assert st.st_atime_ns == 1_000_000_123, path
        assert st.st_mtime_ns == 2_000_000_456, path


def test_user_xattrs(m):
    write_file(m.src("f"), "x")
    path = m.path("f")
    os.setxattr(path, "user.colour", b"blue")
    assert os.getxattr(path, "user.colour") == b"blue"
    assert os.getxattr(m.src("f"), "user.colour") == b"blue"
    assert "user.colour" in os.listxattr(path)
    os.removexattr(path, "user.colour")
    assert "user.colour" not in os.listxattr(path)
    with pytest.raises(OSError) as exc:
        os.getxattr(path, "user.colour")
    assert exc.value.errno == errno.ENODATA


def test_mkfifo(m):
    os.mkfifo(m.path("fifo"), 0o600)
    assert stat.S_ISFIFO(os.stat(m.path("fifo")).st_mode)
    assert stat.S_ISFIFO(os.stat(m.src("fifo")).st_mode)


def test_unix_socket(m):
    path = m.path("sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(path)
        server.listen(1)
        assert stat.S_ISSOCK(os.stat(path).st_mode)
        assert stat.S_ISSOCK(os.stat(m.src("sock")).st_mode)
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.connect(path)
            conn, _ = server.accept()
            with conn:
                client.sendall(b"ping")
                assert conn.recv(4) == b"ping"


def test_mkdir_rmdir_readdir(m):
    os.mkdir(m.path("d"), 0o750)
    assert stat.S_ISDIR(os.stat(m.src("d")).st_mode)
    for name in ("one", "two", "three"):
        write_file(m.path("d", name), name)
    os.mkdir(m.path("d", "sub"))
    assert sorted(os.listdir(m.path("d"))) == ["one", "sub", "three", "two"]
    assert sorted(os.listdir(m.path("d"))) == sorted(os.listdir(m.src("d")))

    with pytest.raises(OSError) as exc:
        os.rmdir(m.path("d"))
    assert exc.value.errno == errno.ENOTEMPTY
    os.rmdir(m.path("d", "sub"))
    assert not os.path.exists(m.src("d", "sub"))


def test_readdir_many_entries(m):
    names = {f"entry-{i:04d}" for i in range(1500)}
    for name in names:
        open(m.src(name), "w").close()
    assert set(os.listdir(m.mountpoint)) == names


def test_statvfs(m):
    through = os.statvfs(m.mountpoint)
    direct = os.statvfs(m.source)
    assert through.f_blocks == direct.f_blocks
    assert through.f_frsize == direct.f_frsize
    assert through.f_namemax > 0


def test_sparse_5gib(m):
    path = m.path("sparse")
    with open(path, "wb") as f:
        f.truncate(5 * GIB)
        f.seek(GIB * 9 // 2)
        f.write(b"far away")
    assert os.stat(path).st_size == 5 * GIB
    assert os.stat(m.src("sparse")).st_blocks * 512 < 64 << 20
    with open(path, "rb") as f:
        f.seek(GIB * 9 // 2)
        assert f.read(8) == b"far away"
        f.seek(GIB)
        assert f.read(4096) == bytes(4096)


def test_seek_data_hole(m):
    path = m.path("sparse")
    with open(path, "wb") as f:
        f.truncate(5 * GIB)
        f.seek(GIB * 9 // 2)
        f.write(b"x" * 4096)
    fd = os.open(path, os.O_RDONLY)
    try:
        assert os.lseek(fd, 0, os.SEEK_DATA) == GIB * 9 // 2
        hole = os.lseek(fd, GIB * 9 // 2, os.SEEK_HOLE)
        assert GIB * 9 // 2 + 4096 <= hole < 5 * GIB
    finally:
        os.close(fd)


def test_fallocate(m):
    path = m.path("alloc")
    write_file(m.src("alloc"), b"")
    fd = os.open(path, os.O_RDWR)
    try:
        fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 1 << 20)
        assert os.fstat(fd).st_size == 0
        assert os.stat(m.src("alloc")).st_blocks * 512 >= 1 << 20

        os.write(fd, b"y" * 8192)
        fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096)
        assert os.pread(fd, 8192, 0) == bytes(4096) + b"y" * 4096
    finally:
        os.close(fd)


def test_copy_file_range(m):
    payload = os.urandom(256 << 10)
    write_file(m.src("from"), payload)
    src = os.open(m.path("from"), os.O_RDONLY)
    dst = os.open(m.path("to"), os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        copied = 0
        while copied < len(payload):
            n = os.copy_file_range(src, dst, len(payload) - copied)
            assert n > 0
            copied += n
    finally:
        os.close(src)
        os.close(dst)
    assert read_bytes(m.src("to")) == payload
