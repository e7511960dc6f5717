"""Run real programs, libraries and Python modules out of a mounted tree.

The expected log is computed from what was run: every file the programs
opened through the mount appears exactly once, and no other file of the tree
appears at all.
"""

import hashlib
import json
import os
import re
import shutil
import sys

import pytest

from helpers import copy_file, run, write_file

PROGRAMS = ["env", "sha256sum", "cat"]  # cat is copied but never run
PYTHON_PACKAGES = ["json", "html"]


def _ldd(binary):
    """Return (loader path, [library paths]) of a dynamically linked BINARY."""
    out = run(["ldd", binary]).stdout
    loader = None
    libs = []
    for line in out.splitlines():
        m = re.match(r"\s*\S+ => (/\S+) \(", line)
        if m:
            libs.append(m.group(1))
            continue
        m = re.match(r"\s*(/\S+) \(", line)
        if m:
            loader = m.group(1)
    if loader is None:
        pytest.skip(f"{binary} has no ELF interpreter (static binary?)")
    return loader, libs


def _populate(source):
    """Copy programs, their loader and libraries, and Python packages into SOURCE.

    Returns (loader path relative to the tree, {program: [libraries]}).
    """
    loader = None
    needs = {}
    for prog in PROGRAMS:
        path = shutil.which(prog)
        assert path, f"{prog} not found on PATH"
        path = os.path.realpath(path)
        loader, libs = _ldd(path)
        copy_file(path, os.path.join(source, "bin", prog))
        for lib in libs:
            copy_file(lib, os.path.join(source, "lib", os.path.basename(lib)))
        needs[prog] = [os.path.join("lib", os.path.basename(lib)) for lib in libs]
    loader_rel = os.path.join("lib64", os.path.basename(loader))
    copy_file(os.path.realpath(loader), os.path.join(source, loader_rel), mode=0o755)

    stdlib = os.path.dirname(os.path.dirname(json.__file__))
    for pkg in PYTHON_PACKAGES:
        shutil.copytree(os.path.join(stdlib, pkg), os.path.join(source, "py", pkg),
                        ignore=shutil.ignore_patterns("__pycache__"))
    write_file(os.path.join(source, "data", "hello.txt"), "hello imafs\n")
    write_file(os.path.join(source, "data", "unread.txt"), "never opened\n")
    return loader_rel, needs


IMPORT_SCRIPT = """
import sys
sys.path.insert(0, sys.argv[1])
import json, html
print(json.dumps(sorted(m.__file__ for m in list(sys.modules.values())
                        if getattr(m, "__file__", None)
                        and m.__file__.startswith(sys.argv[1] + "/"))))
"""


def test_programs_and_modules_from_mount(imafs):
    m = imafs(name="app")
    loader_rel, needs = _populate(m.source)
    loader = m.path(loader_rel)
    libdir = m.path("lib")
    expected = {loader}

    run([loader, "--library-path", libdir, m.path("bin", "env"), "true"])
    expected |= {m.path("bin", "env")} | {m.path(lib) for lib in needs["env"]}

    digest = run([loader, "--library-path", libdir, m.path("bin", "sha256sum"),
                  m.path("data", "hello.txt")])
    assert digest.stdout.split()[0] == hashlib.sha256(b"hello imafs\n").hexdigest()
    expected |= {m.path("bin", "sha256sum"), m.path("data", "hello.txt")}
    expected |= {m.path(lib) for lib in needs["sha256sum"]}

    py = run([sys.executable, "-B", "-E", "-s", "-c", IMPORT_SCRIPT, m.path("py")])
    imported = json.loads(py.stdout)
    assert m.path("py", "json", "__init__.py") in imported
    assert m.path("py", "html", "__init__.py") in imported
    expected |= set(imported)

    names = m.names()
    duplicates = sorted({n for n in names if names.count(n) > 1})
    assert duplicates == [], "each file version must be measured once"
    assert set(names) == expected
    assert m.path("bin", "cat") not in names
    assert m.path("py", "json", "tool.py") not in names
    assert m.path("data", "unread.txt") not in names
