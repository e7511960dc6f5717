"""The kernel's exec open flag (0x20) must reach the daemon as BPRM_CHECK.

Under the tcb policy a read by uid 65534 is never measured, but an exec by
the same user is. So an entry for a program run by that user can only come
from the daemon recognising the exec open.
"""

import os
import shutil

from helpers import copy_file, run, write_file

NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def _program():
    path = shutil.which("true")
    assert path, "no 'true' program found on PATH"
    return os.path.realpath(path)


def test_exec_by_nobody_measured(imafs):
    m = imafs(args=["-o", "allow_other"], name="exec")
    copy_file(_program(), m.src("bin", "prog"), mode=0o755)
    write_file(m.src("notes.txt"), "plain data\n", mode=0o644)
    os.chmod(m.src("bin"), 0o755)
    prog = m.path("bin", "prog")
    notes = m.path("notes.txt")

    run([*NOBODY, "cat", notes])
    run([*NOBODY, "cat", prog])
    assert m.names() == [], "reads by uid 65534 must not be measured"

    run([*NOBODY, prog])
    assert m.names() == [prog], "exec by uid 65534 must be measured once"


def test_read_then_exec_by_root(imafs):
    m = imafs(name="root")
    copy_file(_program(), m.src("prog"), mode=0o755)
    prog = m.path("prog")

    run([prog])
    run(["cat", prog])
    assert m.names() == [prog]
