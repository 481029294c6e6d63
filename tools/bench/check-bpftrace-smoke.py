#!/usr/bin/env python3
"""Check and summarise one guest-bpftrace-smoke.sh result directory.

    tools/bench/check-bpftrace-smoke.py OUTDIR [--json FILE]

For every tracer: attach time (readytime: exec -> ready), the workload's
wall time, the kernel's nr_foll_pin_acquired/_released deltas around it,
and what the tracer counted. bpftrace (pins.bt) must count exactly the
kernel's pins and unpins, match every unpin to a pin and end with nothing
outstanding; pintrace's summary must agree with the kernel as well. Prints
one line per tracer and "ok"/"not ok" lines; exits 1 if any check failed.
"""
import json
import re
import sys
from pathlib import Path

fails = 0


def check(cond, what):
    global fails
    print(("ok - " if cond else "not ok - ") + what)
    if not cond:
        fails += 1


def read_ready(p):
    if not p.exists():
        return None
    m = re.search(r"ready_ns=(-?\d+)", p.read_text())
    return int(m.group(1)) if m else None


MAP = re.compile(r"^@(\w+)(?:\[(.*)\])?: (-?\d+)$")


def parse_bt(log):
    """Scalar and keyed count/sum maps of bpftrace's exit dump -> {map: {key: n}}."""
    maps, legend = {}, {}
    for line in log.read_text(errors="replace").splitlines():
        m = re.match(r"^pins\.bt: api (\d+) = (\S+)", line)
        if m:
            legend[m.group(1)] = m.group(2)
            continue
        m = MAP.match(line)
        if m:
            maps.setdefault(m.group(1), {})[m.group(2) or ""] = int(m.group(3))
    # the per-API maps are keyed by number: name them
    for name in ("pins", "pins_folio_add_pin", "refs", "matched", "calls", "call_errors"):
        if name in maps:
            maps[name] = {legend.get(k, k): v for k, v in maps[name].items()}
    return maps


def total(maps, name):
    return sum(maps.get(name, {}).values())


def pintrace_summary(p):
    if not p.exists():
        return None
    summ = None
    for line in p.read_text(errors="replace").splitlines():
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if r.get("type") == "summary":
            summ = r
    return summ


def main():
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    out = Path(args[0])
    kernel = (out / "kernel.txt").read_text().strip() if (out / "kernel.txt").exists() else "?"
    rows = []
    cases = (out / "cases.txt").read_text().splitlines() if (out / "cases.txt").exists() else []
    check(bool(cases), f"{kernel}: guest wrote cases.txt")
    for line in cases:
        f = line.split()
        name, rc = f[0], int(f[1])
        acq = int(f[4]) - int(f[2])
        rel = int(f[5]) - int(f[3])
        row = {"kernel": kernel, "tracer": name, "rc": rc, "kernel_acquired": acq,
               "kernel_released": rel, "workload_ms": int(f[6]), "stop_ms": int(f[7]),
               "attach_ms": None}
        ready = read_ready(out / f"{name}.ready")
        if ready is not None and ready >= 0:
            row["attach_ms"] = round(ready / 1e6, 1)
        tag = f"{kernel} {name}"
        if name.startswith("bpftrace"):
            m = parse_bt(out / f"{name}.log")
            row.update(pins=total(m, "pins"), unpins=total(m, "unpins"),
                       matched=total(m, "matched"),
                       unmatched=total(m, "unmatched_unpins"),
                       outstanding=total(m, "pins_outstanding"),
                       folio_add_pin=total(m, "pins_folio_add_pin"),
                       refs=total(m, "refs"), pins_by_api=m.get("pins", {}),
                       unpins_by_hook=m.get("unpins", {}))
            check(rc == 0, f"{tag}: bpftrace exited 0 after SIGINT (rc {rc})")
            check(row["attach_ms"] is not None, f"{tag}: became ready ({row['attach_ms']} ms)")
            check(acq > 0 and rel > 0, f"{tag}: the workload pinned ({acq}/{rel})")
            # folio_add_pin's extra pins are not in nr_foll_pin_acquired
            check(row["pins"] == acq, f"{tag}: pins {row['pins']} == kernel acquired {acq}")
            check(row["unpins"] == rel, f"{tag}: unpins {row['unpins']} == kernel released {rel}")
            check(row["matched"] == row["unpins"] and row["unmatched"] == 0,
                  f"{tag}: every unpin matched a pin (matched {row['matched']}, "
                  f"unmatched {row['unmatched']})")
            check(row["outstanding"] == 0, f"{tag}: nothing outstanding ({row['outstanding']})")
        elif name.startswith("pintrace"):
            s = pintrace_summary(out / f"{name}.ndjson")
            check(rc == 0 and s is not None, f"{tag}: exit 0 with a summary (rc {rc})")
            if s:
                p = s["pins"]
                row.update(pins=p["acquired_refs"], unpins=p["released_refs"],
                           lost=s["loss"]["total"])
                check(row["attach_ms"] is not None, f"{tag}: became ready ({row['attach_ms']} ms)")
                check(p["acquired_refs"] == acq,
                      f"{tag}: pins {p['acquired_refs']} == kernel acquired {acq}")
                check(p["released_refs"] == rel,
                      f"{tag}: unpins {p['released_refs']} == kernel released {rel}")
                check(s["loss"]["total"] == 0, f"{tag}: nothing lost")
        rows.append(row)
    print(f"# {'kernel':22} {'tracer':16} {'attach_ms':>9} {'workload_ms':>11} {'stop_ms':>7} "
          f"{'k_acq':>6} {'k_rel':>6} {'pins':>6} {'unpins':>6} {'matched':>7}")
    for r in rows:
        print(f"# {r['kernel']:22} {r['tracer']:16} {str(r['attach_ms']):>9} {r['workload_ms']:>11} "
              f"{r['stop_ms']:>7} {r['kernel_acquired']:>6} {r['kernel_released']:>6} "
              f"{str(r.get('pins', '-')):>6} {str(r.get('unpins', '-')):>6} "
              f"{str(r.get('matched', '-')):>7}")
    # attach-only rounds (REPEAT): the first, measured run plus these
    rounds = {}
    for r in rows:
        if r["attach_ms"] is not None:
            rounds.setdefault(r["tracer"], []).append(r["attach_ms"])
    att = out / "attach.txt"
    for line in att.read_text().splitlines() if att.exists() else []:
        f = line.split()
        if len(f) >= 3 and int(f[2]) >= 0:
            rounds.setdefault(f[0], []).append(round(int(f[2]) / 1e6, 1))
    summary = {}
    for name, v in rounds.items():
        v = sorted(v)
        summary[name] = {"n": len(v), "min_ms": v[0], "median_ms": v[len(v) // 2],
                         "max_ms": v[-1], "all_ms": v}
        print(f"# attach {kernel} {name}: n={len(v)} min {v[0]} median {v[len(v) // 2]} "
              f"max {v[-1]} ms")
    if "--json" in args:
        Path(args[args.index("--json") + 1]).write_text(
            json.dumps({"runs": rows, "attach": summary}, indent=1) + "\n")
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main()
