#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Print the medians and slowdowns of a bench/run.sh result file as Markdown.

usage: summarize.py RESULTS.tsv

A slowdown is a time ratio: for us/op and ms it is value / reference, for
MB/s it is reference / value, so 2.00 always means "takes twice as long".
"""
import statistics
import sys

PEERS = ("ptll", "ptll-always", "mergerfs")
IMAFS = ("imafs", "imafs-cached", "imafs-empty")
COLUMNS = ("native", "ptll", "ptll-always", "mergerfs", "imafs", "imafs-cached", "imafs-empty",
           "imafs-swtpm", "openssl")
LABELS = {
    "ptll": "passthrough_ll",
    "ptll-always": "passthrough_ll cache=always",
    "mergerfs": "mergerfs auto-full",
    "imafs": "imafs tcb",
    "imafs-cached": "imafs tcb, 86400 s cache",
    "imafs-empty": "imafs empty policy",
    "imafs-swtpm": "imafs tcb + swtpm",
    "openssl": "openssl dgst",
}
WORKLOAD_LABELS = {
    "read-small-cold-1t": "small files cold, 1 thread",
    "read-small-cold-2t": "small files cold, 2 threads",
    "read-small-warm-1t": "small files warm, 1 thread",
    "read-small-warm-2t": "small files warm, 2 threads",
    "stat-small": "stat after read",
    "readdir": "readdir of the small-file directory",
    "first-open": "first open of the large file (measurement)",
    "seq-read-cold": "large file sequential read, cold",
    "seq-read-warm": "large file sequential read, warm",
    "exec": "exec of a small static binary",
    "open-threads": "16 threads open a new version of the large file",
    "create-small": "create+write+close small files",
    "seq-write": "large file sequential write",
    "open-new": "first open of new small files",
}


# Workloads where the peers do no integrity work: imafs is held to one openssl hash of the
# same file, which only the first-open workload runs.
REFERENCES = {"first-open": ("first-open", "openssl"), "open-threads": ("first-open", "openssl")}


def load(path):
    header, rows, notes = [], [], []
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("#"):
                (notes if line.startswith("# rss") else header).append(line[2:])
                continue
            fields = line.split("\t")
            if fields[0] == "round":
                continue
            rows.append(fields)
    return header, rows, notes


def slowdown(value, ref, unit):
    if value is None or ref is None or value == 0 or ref == 0:
        return None
    return ref / value if unit == "MB/s" else value / ref


def fmt_ratio(r):
    return "–" if r is None else f"{r:.2f}x"


def fmt_value(v):
    if v is None:
        return "–"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: summarize.py RESULTS.tsv")
    header, rows, notes = load(sys.argv[1])

    values, units, details, fails, order = {}, {}, {}, {}, []
    for rnd, system, workload, value, unit, extra in rows:
        if workload not in order:
            order.append(workload)
        key = (workload, system)
        if value == "FAIL":
            fails[key] = fails.get(key, 0) + 1
            continue
        values.setdefault(key, []).append(float(value))
        units[workload] = unit if system != "openssl" else units.get(workload, unit)
        details.setdefault(key, []).append(extra)

    seen = {k[1] for k in values} | {k[1] for k in fails}
    systems = [s for s in COLUMNS if s in seen] + sorted(s for s in seen if s.startswith("v-"))
    measuring = [s for s in systems if s in IMAFS or s.startswith("v-")]
    med = {k: statistics.median(v) for k, v in values.items()}

    for line in header:
        print(f"<!-- {line} -->")
    print("\n### Medians\n")
    print("| workload | unit | " + " | ".join(LABELS.get(s, s) for s in systems) + " |")
    print("|---|---|" + "---:|" * len(systems))
    for w in order:
        cells = []
        for s in systems:
            v = med.get((w, s))
            cell = fmt_value(v)
            if fails.get((w, s)):
                cell += f" ({fails[(w, s)]} failed)"
            cells.append(cell)
        print(f"| {WORKLOAD_LABELS.get(w, w)} | {units.get(w, '')} | " + " | ".join(cells) + " |")

    fuse = [s for s in systems if s not in ("native", "openssl", "imafs-swtpm")]
    print("\n### Slowdown vs native (time ratio; 1.00 = as fast as native)\n")
    print("| workload | " + " | ".join(LABELS.get(s, s) for s in fuse) + " |")
    print("|---|" + "---:|" * len(fuse))
    for w in order:
        ref = med.get((w, "native"))
        cells = [fmt_ratio(slowdown(med.get((w, s)), ref, units.get(w))) for s in fuse]
        print(f"| {WORKLOAD_LABELS.get(w, w)} | " + " | ".join(cells) + " |")

    print("\n### imafs against the best peer (time ratio; target <= 1.00)\n")
    print("First open and 16-thread open compare with `openssl dgst -sha256` of the same "
          "file instead, since the peers do not hash.\n")
    print("| workload | best peer | " + " | ".join(LABELS.get(s, s) for s in measuring) +
          " | tcb vs empty | spread of imafs tcb |")
    print("|---|---|" + "---:|" * (len(measuring) + 2))
    for w in order:
        unit = units.get(w)
        peers = [(med[(w, p)], p) for p in PEERS if (w, p) in med]
        if w in REFERENCES and REFERENCES[w] in med:
            peers = [(med[REFERENCES[w]], REFERENCES[w][1])]
        if not peers:
            continue
        best = max(peers) if unit == "MB/s" else min(peers)
        if w == "open-threads":
            unit = "ms"  # compared with the one hash that openssl takes
        tcb = med.get((w, "imafs"))
        empty = med.get((w, "imafs-empty"))
        vals = values.get((w, "imafs"), [])
        spread = "–"
        if vals and tcb:
            spread = f"{(max(vals) - min(vals)) / tcb * 100:.0f} %"
        # Against a hash, a system that hashes nothing has no ratio worth printing.
        cells = [fmt_ratio(None if w in REFERENCES and s == "imafs-empty" else
                           slowdown(med.get((w, s)), best[0], unit)) for s in measuring]
        vs_empty = None if w in REFERENCES else slowdown(tcb, empty, unit)
        print(f"| {WORKLOAD_LABELS.get(w, w)} | {LABELS[best[1]]} | " + " | ".join(cells) +
              f" | {fmt_ratio(vs_empty)} | {spread} |")

    print("\n### Checks\n")
    tcb, ssl = med.get(("first-open", "imafs")), med.get(("first-open", "openssl"))
    if tcb and ssl:
        print(f"- first-open measurement throughput vs `openssl dgst -sha256`: "
              f"{ssl / tcb:.2f}x (target >= 0.90x)")
    variants = [s for s in measuring if s.startswith("v-")]
    for s in ["imafs", "imafs-cached", "imafs-swtpm"] + variants:
        for w in ("first-open", "open-threads"):
            d = details.get((w, s))
            if d:
                deltas = sorted({x.split("log_delta=")[1].split()[0] for x in d
                                 if "log_delta=" in x})
                print(f"- {w} on {LABELS.get(s, s)}: log entries added per run: {', '.join(deltas)}"
                      " (1 = hashed and logged once)")
    for s in ("imafs", "imafs-swtpm", "imafs-empty"):
        v = med.get(("open-new", s))
        if v:
            print(f"- new-file measurements per second on {LABELS[s]}: {1e6 / v:.0f}")
    v, n = med.get(("exec", "imafs")), med.get(("exec", "native"))
    if v and n:
        print(f"- exec of a measured binary vs native: {v / n:.2f}x (target <= 1.15x)")
    for note in notes:
        print(f"- {note}")


if __name__ == "__main__":
    main()
