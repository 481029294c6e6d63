#!/usr/bin/env python3
"""Pick real records for tests/fixtures/ndjson/ from VM test output.

Usage: sample.py OUT DIR...    (e.g. build/vm-6.12 build/vm-6.12-movable)

Keeps, per record type (and backend, but for summaries), each record that has a field path
(array elements merged) no record kept before it has: every optional field
pintrace wrote stays in the fixture, in few records. Records are copied
byte for byte. Regenerate after a VM run when the output changes
(the host tests validate these files against the schema).
"""
import glob
import json
import os
import sys


def shape(v, prefix="", out=None):
    out = set() if out is None else out
    if isinstance(v, dict):
        for k, x in v.items():
            # maps keyed by names (zones, by_reason, verdict counts) count as one
            key = "*" if prefix[:-1].rsplit(".", 1)[-1] in ("zones", "by_reason", "counts") else k
            out.add(prefix + key + ":" + type(x).__name__)
            shape(x, prefix + key + ".", out)
    elif isinstance(v, list):
        for x in v:
            shape(x, prefix + "[].", out)
    return out


def main():
    if len(sys.argv) < 3:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    out, dirs = sys.argv[1], sys.argv[2:]
    recs = []	# (group, paths, raw), in file order
    for d in dirs:
        for path in sorted(glob.glob(os.path.join(d, "*.ndjson"))):
            backend = "-"
            with open(path, "rb") as f:
                for raw in f:
                    rec = json.loads(raw)
                    if rec.get("type") == "attach":
                        backend = rec.get("backend_mode", "-")
                    # the summary's shape does not depend on the backend; an
                    # attach record of each kernel and backend is kept
                    t = rec.get("type")
                    group = (t, "" if t == "summary" else backend,
                             rec.get("kernel") if t == "attach" else "")
                    recs.append((group, shape(rec),
                                 raw if raw.endswith(b"\n") else raw + b"\n"))
    # greedy cover, richest records first; written in their original order
    seen, keep = {}, set()
    for i in sorted(range(len(recs)), key=lambda i: -len(recs[i][1])):
        have = seen.setdefault(recs[i][0], set())
        if not recs[i][1] <= have:
            have |= recs[i][1]
            keep.add(i)
    kept = [recs[i][2] for i in sorted(keep)]
    with open(out, "wb") as f:
        f.writelines(kept)
    print(f"{out}: {len(kept)} records", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
