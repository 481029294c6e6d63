#!/usr/bin/env python3
"""Check the results of guest-movable.sh (a VM booted with movablecore=).

Usage: check_movable.py OUTDIR [--backends "fentry kprobe"]

Ground truth is the kernel: /proc/vmstat pgmigrate_success/pgmigrate_fail
deltas around each `pintrace run`, the zones of the workload's pages
(pagemap + zoneinfo, reported by pinload), and the syscall results pinload
saw. Prints one TAP-style line per check and a closing "N passed, N failed".
"""
import argparse
import os
import sys

from tap import check, finish, load_case, load_ndjson, of_type, summary



def pipe_holders(fail):
    return [h for h in fail.get("holders", []) if h["kind"] == "pipe"]


def check_setup(outdir):
    try:
        cmdline = open(os.path.join(outdir, "cmdline.txt")).read()
    except OSError:
        cmdline = ""
    check("movablecore=" in cmdline, "VM booted with movablecore=")


def check_uring_movable(b, recs, pl, mig):
    p = f"[{b}] uring-movable"
    s = summary(recs)
    check(pl.get("ok") and pl.get("ret") == 0, f"{p}: io_uring registered the buffer")
    check(pl.get("zones_before", {}).get("Movable", 0) == pl.get("pages"),
          f"{p}: the buffer was in ZONE_MOVABLE before (pagemap + zoneinfo)")
    check("Movable" not in pl.get("zones_after", {"Movable": 1}),
          f"{p}: the kernel migrated it out before pinning it long term")
    check(mig[0] > 0, f"{p}: kernel pgmigrate_success rose ({mig[0]})")
    lt = s.get("migration", {}).get("by_reason", {}).get("longterm_pin", {})
    check(lt.get("pages_moved", 0) >= pl.get("pages", 1) and lt.get("pages_moved", 0) <= mig[0],
          f"{p}: pintrace counts {lt.get('pages_moved')} pages migrated for longterm_pin "
          f"(kernel: {mig[0]} migrated, buffer {pl.get('pages')})")
    check(not of_type(recs, "migrate_fail") and not of_type(recs, "pin_fail"),
          f"{p}: no migration or pin failure reported")
    groups = s.get("movable", {}).get("groups", [])
    check(not [g for g in groups if g["kind"] == "longterm_pin"],
          f"{p}: the final long-term pins are not on movable memory")
    check(s.get("placement", {}).get("zone_known") and s["placement"].get("pfn_known"),
          f"{p}: zone bits and vmemmap_base calibrated")


def check_uring_pipe(b, recs, pl, mig):
    p = f"[{b}] uring-pipe"
    s = summary(recs)
    err = pl.get("errno")
    check(pl.get("ok") and pl.get("ret") == -1 and err in (12, 14),
          f"{p}: registration failed with ENOMEM/EFAULT (errno {err})")
    check(mig[1] >= pl.get("pages", 0) > 0, f"{p}: kernel pgmigrate_fail rose by {mig[1]}")
    fails = [f for f in of_type(recs, "migrate_fail") if f.get("reason") == "longterm_pin"]
    if not check(len(fails) == 1, f"{p}: one longterm_pin migration failure reported ({len(fails)})"):
        return
    f = fails[0]
    check(f["pages_failed"] == mig[1], f"{p}: pages not moved {f['pages_failed']} == kernel "
          f"pgmigrate_fail delta {mig[1]}")
    check(f["folios_listed"] == f["pages_failed"], f"{p}: every unmoved folio listed "
          f"({f['folios_listed']})")
    ph = pipe_holders(f)
    check(len(ph) == 1 and ph[0]["pages"] == pl.get("pipe_pages"),
          f"{p}: the holder named is one pipe with {ph[0]['pages'] if ph else 0} pages "
          f"(pinload vmspliced {pl.get('pipe_pages')})")
    check(ph and ph[0]["pid"] == f["pid"] and ph[0]["comm"] == "pinload" and ph[0]["ino"] > 0,
          f"{p}: the pipe holder is the vmsplicing process, with the pipe's inode")
    check(ph and ph[0].get("stack") and any("vmsplice" in x for x in ph[0]["stack"]),
          f"{p}: the hold's stack shows vmsplice")
    check(f["holder_not_seen"] == 0, f"{p}: no unmoved page without a holder")
    pf = of_type(recs, "pin_fail")
    check(len(pf) == 1 and pf[0]["ret"] < 0 and pf[0]["migrate_fail_id"] == f["id"],
          f"{p}: the failed long-term pin is reported and tied to that migration failure")
    pe = of_type(recs, "pin_fail_errno")
    check(len(pe) == 1 and pe[0]["syscall"] == "io_uring_register" and pe[0]["ret"] == -err,
          f"{p}: the errno the process saw is reported: "
          f"{pe[0]['syscall'] if pe else '-'} -> {pe[0]['ret'] if pe else '-'} (pinload: -{err})")
    sf = s.get("migration", {}).get("failures", [])
    check(len(sf) == 1 and sf[0].get("longterm_pin", {}).get("syscall_ret") == -err,
          f"{p}: the exit summary has the failure, its holder and the errno")


def check_uring_pipe_text(outdir, b):
    p = f"[{b}] uring-pipe text"
    try:
        t = open(os.path.join(outdir, f"{b}-uring-pipe.txt")).read()
    except OSError:
        t = ""
    check("!! migration failed (longterm_pin)" in t and "held by pipe ino" in t and
          "vmspliced by pinload/" in t, f"{p}: names the pipe and the vmsplicing process")
    check("from io_uring_register" in t and "ENOMEM" in t,
          f"{p}: says which syscall failed and with what errno")


def check_offline(b, recs, pl, mig):
    p = f"[{b}] offline"
    s = summary(recs)
    check(pl.get("ok") and pl.get("block_zone") == "Movable", f"{p}: a ZONE_MOVABLE block held our pages")
    check(pl.get("offline1_end") in ("eintr", "killed") and pl.get("state_after_offline1") == "online",
          f"{p}: offline failed while the pipe held pages ({pl.get('offline1_end')})")
    check(pl.get("offline2_end") == "done" and pl.get("state_after_offline2") == "offline",
          f"{p}: offline succeeded after the pipe was drained")
    fails = [f for f in of_type(recs, "migrate_fail") if f.get("reason") == "memory_hotplug"]
    check(len(fails) >= 1, f"{p}: memory_hotplug migration failures reported ({len(fails)})")
    ok = bool(fails)
    for f in fails:
        ph = pipe_holders(f)
        ok &= len(ph) == 1 and ph[0]["pages"] == pl.get("block_pages") and f["holder_not_seen"] == 0
    check(ok, f"{p}: each names the pipe holding the block's {pl.get('block_pages')} pages, "
          f"nothing unattributed")
    hp = s.get("migration", {}).get("by_reason", {}).get("memory_hotplug", {})
    check(hp.get("pages_failed") == mig[1], f"{p}: pages not moved, all failures counted: "
          f"{hp.get('pages_failed')} == kernel pgmigrate_fail delta {mig[1]}")
    check(hp.get("failures", 0) == hp.get("detailed", -1) + hp.get("only_counted", -1),
          f"{p}: every failure detailed or counted ({hp.get('detailed')} + {hp.get('only_counted')})")
    rg = of_type(recs, "range")
    check(len(rg) == 2 and rg[0]["ret"] < 0 and rg[1]["ret"] == 0 and rg[0]["pfn"] == rg[1]["pfn"],
          f"{p}: the failed and the successful offline of the block are reported")
    ph = s.get("pipe_holds", {})
    check(ph.get("outstanding_refs", -1) == 0 and ph.get("taken") == pl.get("pipe_pages"), f"{p}: nothing outstanding after the drain")


def check_held(b, name, recs, pl, want):
    p = f"[{b}] {name}"
    groups = summary(recs).get("movable", {}).get("groups", [])
    live = [r for r in of_type(recs, "held_movable")]
    check(pl.get("ok"), f"{p}: workload ran")
    if want is None:
        check(not groups and not live, f"{p}: a hold released in time is not flagged")
        return
    kind, pages = want
    g = [x for x in groups if x["kind"] == kind]
    check(len(g) == 1 and g[0]["pages"] == pages and g[0]["zones"].get("Movable") == pages,
          f"{p}: flagged as a {kind} hold of {pages} Movable pages "
          f"({g[0]['pages'] if g else 0})")
    check(len(live) == 1 and live[0]["pid"] > 0 and live[0].get("stack"),
          f"{p}: one live held_movable record with process and stack")


# --fail-on cases: name -> (exit status, conditions that must hit)
GATES = {
    "good": (0, []),
    "quick": (0, []),
    "migrate-fail": (3, ["migrate-fail"]),
    "held-long": (3, ["held-long"]),
    "leak": (3, ["leak"]),
}


def check_gates(outdir):
    got = {}
    try:
        for line in open(os.path.join(outdir, "gate.txt")):
            name, rc = line.split()
            got[name] = int(rc)
    except OSError as e:
        check(False, f"gate cases ran: {e}")
        return
    for name, (rc, hits) in GATES.items():
        p = f"[gate] {name}"
        check(got.get(name) == rc, f"{p}: pintrace run --fail-on exits {rc} (got {got.get(name)})")
        try:
            recs = load_ndjson(os.path.join(outdir, f"gate-{name}.ndjson"))
        except (OSError, ValueError) as e:
            check(False, f"{p}: readable results ({e})")
            continue
        v = summary(recs).get("verdict", {})
        check(v.get("result") == ("fail" if hits else "pass") and sorted(v.get("hit", [])) == hits,
              f"{p}: summary verdict {v.get('result')} with {v.get('hit')}")
        if hits:
            check(all(v.get("counts", {}).get(h, 0) > 0 for h in hits),
                  f"{p}: counts of {hits}: {v.get('counts')}")


def check_calib_gup(outdir):
    p = "[calib-gup]"
    try:
        rc = int(open(os.path.join(outdir, "calib-gup.rc")).read())
        recs = load_ndjson(os.path.join(outdir, "calib-gup.ndjson"))
    except (OSError, ValueError) as e:
        check(False, f"{p}: readable results ({e})")
        return
    s = summary(recs)
    pl = s.get("placement", {})
    check(rc == 0 and pl.get("pfn_known") and "from a GUP of our page" in pl.get("pfn", ""),
          f"{p}: vmemmap_base found by a GUP of pintrace's own page: {pl.get('pfn')}")
    check(pl.get("zone_known") and pl.get("zone_shift") == 51, f"{p}: zone bits calibrated with it")
    g = s.get("movable", {}).get("groups", [])
    check(len(g) == 1 and g[0]["pages"] == 16 and g[0]["zones"].get("Movable") == 16,
          f"{p}: the 16 vmspliced Movable pages are classified with it")
    ph = s.get("pipe_holds", {})
    check(ph.get("taken") == 16 and ph.get("outstanding_refs") == 0 and
          not [r for r in recs if r.get("comm") == "pintrace" and r.get("api") == "get_user_pages_fast"],
          f"{p}: the calibration's own vmsplice is neither a hold nor an event")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--backends", default="fentry kprobe")
    a = ap.parse_args()
    cases = {}
    try:
        for line in open(os.path.join(a.outdir, "cases.txt")):
            b, name, rc, s0, f0, s1, f1 = line.split()
            cases[(b, name)] = (int(rc), (int(s1) - int(s0), int(f1) - int(f0)))
    except OSError as e:
        check(False, f"guest produced cases.txt: {e}")
    check_setup(a.outdir)
    for b in a.backends.split():
        for name in ("uring-movable", "uring-pipe", "offline", "held-movable", "quick-movable",
                     "held-pin"):
            if (b, name) not in cases:
                check(False, f"[{b}] {name}: case ran in the guest")
                continue
            rc, mig = cases[(b, name)]
            try:
                recs, pl = load_case(a.outdir, b, name)
            except (OSError, ValueError) as e:
                check(False, f"[{b}] {name}: readable results ({e})")
                continue
            check(rc == 0, f"[{b}] {name}: pintrace run exited 0 (got {rc})")
            if name == "uring-movable":
                check_uring_movable(b, recs, pl, mig)
            elif name == "uring-pipe":
                check_uring_pipe(b, recs, pl, mig)
                check_uring_pipe_text(a.outdir, b)
            elif name == "offline":
                check_offline(b, recs, pl, mig)
            elif name == "held-movable":
                check_held(b, name, recs, pl, ("pipe", 16))
            elif name == "quick-movable":
                check_held(b, name, recs, pl, None)
            elif name == "held-pin":
                check_held(b, name, recs, pl, ("short_term_pin", 16))
    check_gates(a.outdir)
    check_calib_gup(a.outdir)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
