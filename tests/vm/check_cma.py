#!/usr/bin/env python3
"""Check the results of guest-cma.sh (arm64, 3 GiB, cma=64M hugetlb_cma=1G).

Usage: check_cma.py OUTDIR [--backends "fentry kprobe"]

Ground truth is the kernel: the hugetlb_cma area from its boot log (the
"cma: Reserved 1024 MiB at 0x..." line), /proc/vmstat deltas around each
`pintrace run` (pgmigrate_*, cma_alloc_*, nr_foll_pin_* after
vm.stat_refresh), the cma:cma_alloc_busy_retry, cma:cma_alloc_finish and
migrate:mm_migrate_pages tracepoints read through tracefs, and what pinload
saw (pagemap PFNs, syscall results, nr_hugepages). First the workloads must
have reproduced the arm64 CMA study (reference/arm64-cma.md §6 A, §6 C, §7),
or nothing below means anything; then pintrace's records must agree with
the kernel. Prints one TAP-style line per check and "N passed, N failed".
"""
import argparse
import json
import os
import re
import sys

from tap import check, finish, load_case, of_type, summary

WIN = 8192		# 32 MiB in 4 KiB pages: one gigantic page, one CMA window
AREA_PAGES = 262144	# hugetlb_cma=1G
# The study's figures (reference/arm64-cma.md), printed beside ours
STUDY = {
    "6.1": {"full": 31, "hold_fail": 29, "busy": 841},
    "6.12": {"full": 32, "hold_fail": 30, "busy": 900},
}


def read(outdir, name, default=""):
    try:
        with open(os.path.join(outdir, name), errors="replace") as f:
            return f.read()
    except OSError:
        return default


def kernel_series(outdir):
    m = re.match(r"(\d+\.\d+)", read(outdir, "kernel.txt"))
    return m.group(1) if m else "?"


def area_from_dmesg(outdir):
    """(base_pfn, pages) of the 1024 MiB area the kernel reserved, or None."""
    m = re.search(r"cma: Reserved 1024 MiB at (0x[0-9a-fA-F]+)", read(outdir, "dmesg.txt"))
    return (int(m.group(1), 16) // 4096, AREA_PAGES) if m else None


def vmstat(outdir, b, name):
    """Deltas of the counters guest-cma.sh saved around the case."""
    def parse(suffix):
        d = {}
        for line in read(outdir, f"{b}-{name}.{suffix}").splitlines():
            k, _, v = line.partition(" ")
            if v.strip().lstrip("-").isdigit():
                d[k] = int(v)
        return d
    a, z = parse("vmstat0"), parse("vmstat1")
    return {k: z[k] - a[k] for k in a if k in z}


def tracefs(outdir, b, name):
    """The kernel's cma:* and migrate:* events of the case."""
    t = {"busy": 0, "busy_pfns": {}, "finish": 0, "finish_failed": 0,
         "lt_failed": 0, "lt_moved": 0, "lines": 0}
    for line in read(outdir, f"{b}-{name}.trace").splitlines():
        if line.startswith("#"):
            continue
        t["lines"] += 1
        if "cma_alloc_busy_retry:" in line:
            m = re.search(r"pfn=(0x[0-9a-f]+)", line)
            t["busy"] += 1
            if m:
                p = int(m.group(1), 16)
                t["busy_pfns"][p] = t["busy_pfns"].get(p, 0) + 1
        elif "cma_alloc_finish:" in line:
            t["finish"] += 1
            # 6.1: page=0000000000000000 on failure; 6.12 adds errorno=-16
            e = re.search(r"errorno=(-?\d+)", line)
            if re.search(r"page=0+ ", line) or (e and int(e.group(1)) != 0):
                t["finish_failed"] += 1
        elif "mm_migrate_pages:" in line and "reason=longterm_pin" in line:
            t["lt_moved"] += int(re.search(r"nr_succeeded=(\d+)", line).group(1))
            t["lt_failed"] += int(re.search(r"nr_failed=(\d+)", line).group(1))
    return t


def pfn_of(v):
    """A PFN as pintrace writes it: an integer or a "0x..." string."""
    if isinstance(v, str):
        try:
            return int(v, 0)
        except ValueError:
            return None
    return v



def check_setup(outdir, series, area):
    cmdline = read(outdir, "cmdline.txt")
    check("hugetlb_cma=1G" in cmdline and "cma=64M" in cmdline,
          f"VM booted with cma=64M hugetlb_cma=1G ({cmdline.strip()})")
    check(area is not None, "the kernel's boot log reserved the 1024 MiB hugetlb_cma area "
          f"(base pfn {hex(area[0]) if area else '-'})")
    check(read(outdir, "check.rc").strip() == "0", "pintrace check exited 0")
    check(not read(outdir, "error.txt"), f"guest set-up complete {read(outdir, 'error.txt')!r}")


def check_placement(b, s, series, area):
    """Where pintrace found the CMA areas: the hugetlb one as the boot log says."""
    p = f"[{b}] placement"
    pl = s.get("placement", {})
    want = {"6.12": "kallsyms", "6.1": "boot-log"}.get(series)
    check(pl.get("cma_source") == want,
          f"{p}: CMA areas from {want} on {series} (cma_source {pl.get('cma_source')!r})")
    ranges = pl.get("cma_ranges", [])
    hit = [r for r in ranges if area and r.get("base_pfn") == area[0]]
    check(len(hit) == 1 and hit[0].get("count") == area[1],
          f"{p}: hugetlb_cma area at pfn {hex(area[0]) if area else '-'} +{AREA_PAGES} "
          f"(dmesg) in cma_ranges: {[(r.get('name'), hex(r.get('base_pfn', 0)), r.get('count'), r.get('exact')) for r in ranges]}")


def check_pins(p, s, vm):
    """pintrace's pin and unpin counts against nr_foll_pin_* (as check_pins.py)."""
    pins = s.get("pins", {})
    acq, rel = vm.get("nr_foll_pin_acquired"), vm.get("nr_foll_pin_released")
    check(pins.get("acquired_refs") == acq and pins.get("released_refs") == rel,
          f"{p}: pins/unpins seen {pins.get('acquired_refs')}/{pins.get('released_refs')} == "
          f"kernel nr_foll_pin_acquired/released deltas {acq}/{rel}")
    check(pins.get("outstanding_refs") == 0 and pins.get("preexisting") == 0,
          f"{p}: every unpin matched a pin, none outstanding")
    check(s.get("loss", {}).get("total") == 0, f"{p}: nothing lost ({s.get('loss')})")


def check_uring(b, recs, pl, vm, tr, series, area):
    p = f"[{b}] cma-uring"
    s = summary(recs)
    n = pl.get("pages", 256)
    # the kernel reproduced §6 A
    check(pl.get("ok") and pl.get("ret") == 0 and pl.get("verified"),
          f"{p}: io_uring registered the {n} pages, data intact (ret {pl.get('ret')}, "
          f"errno {pl.get('errno')}, failed_at {pl.get('failed_at')})")
    check(pl.get("in_range_before") == n and pl.get("in_range_after") == 0,
          f"{p}: all {n} pages were in hugetlb_cma before and none after (pagemap: "
          f"{pl.get('in_range_before')} -> {pl.get('in_range_after')}; study 256 -> 0)")
    mig = vm.get("pgmigrate_success", -1)
    check(mig >= n and vm.get("pgmigrate_fail") == 0 and tr["lt_moved"] == n,
          f"{p}: kernel migrated them (pgmigrate_success +{mig}, fail +{vm.get('pgmigrate_fail')}, "
          f"tracefs longterm_pin nr_succeeded {tr['lt_moved']}; study +256)")
    check(vm.get("nr_foll_pin_acquired") == 2 * n,
          f"{p}: kernel pinned each page twice (nr_foll_pin_acquired +"
          f"{vm.get('nr_foll_pin_acquired')}; study +512)")
    # pintrace
    check_placement(b, s, series, area)
    lt = s.get("migration", {}).get("by_reason", {}).get("longterm_pin", {})
    moved = lt.get("pages_moved", 0)
    check(n <= moved <= mig, f"{p}: pintrace counts {moved} pages migrated for longterm_pin "
          f"(buffer {n}, kernel pgmigrate_success +{mig})")
    check(not of_type(recs, "migrate_fail") and not of_type(recs, "pin_fail"),
          f"{p}: no migration or pin failure reported")
    groups = s.get("movable", {}).get("groups", [])
    bad = [g for g in groups if g.get("kind") == "longterm_pin" and g.get("cma_pages", 0) > 0]
    check(not bad, f"{p}: no long-term pin left on CMA ({bad})")
    check_pins(p, s, vm)


def check_hugepin(b, recs, pl, vm, tr, series, area):
    p = f"[{b}] cma-hugepin"
    s = summary(recs)
    # the kernel reproduced §6 C
    check(pl.get("ok") and pl.get("ret") == -1 and pl.get("errno") == 12 and pl.get("in_range"),
          f"{p}: registering the 32 MiB hugetlb page at pfn {hex(pl.get('pfn', 0))} in "
          f"hugetlb_cma failed with ENOMEM (errno {pl.get('errno')}, failed_at "
          f"{pl.get('failed_at')}; study: -12 on both kernels)")
    check(pl.get("nr_hugepages_final") == 0, f"{p}: nr_hugepages back to 0")
    kfail = vm.get("pgmigrate_fail", -1)
    if series == "6.12":
        check(kfail == 8192 and tr["lt_failed"] == 8192,
              f"{p}: 6.12 tried to migrate it: pgmigrate_fail +{kfail}, tracefs longterm_pin "
              f"nr_failed {tr['lt_failed']} (study +8192)")
    else:
        check(kfail == 0 and tr["lt_failed"] == 0,
              f"{p}: 6.1 fails before any migration: pgmigrate_fail +{kfail}, tracefs "
              f"longterm_pin nr_failed {tr['lt_failed']} (study: nothing)")
    # pintrace: the failure is explained
    mf = [f for f in of_type(recs, "migrate_fail") if f.get("reason") == "longterm_pin"]
    if kfail > 0:
        check(len(mf) == 1 and mf[0].get("pages_failed") == kfail and mf[0].get("cma_pages", 0) > 0,
              f"{p}: one longterm_pin migrate_fail with pages_failed == kernel pgmigrate_fail "
              f"+{kfail}, on CMA: {[(f.get('pages_failed'), f.get('cma_pages')) for f in mf]}")
    else:
        check(not mf, f"{p}: no migration failure invented ({len(mf)})")
    fails = [r for r in recs if r.get("type") in ("pin_fail", "call") and r.get("ret") == -12]
    check(any(r.get("api") for r in fails),
          f"{p}: the failed long-term pin is reported with ret -12 and its API: "
          f"{[(r['type'], r.get('api'), r.get('ret')) for r in fails]}")
    pe = of_type(recs, "pin_fail_errno")
    check(any(r.get("syscall") == "io_uring_register" and r.get("ret") == -12 for r in pe),
          f"{p}: the errno the process saw is reported: "
          f"{[(r.get('syscall'), r.get('ret')) for r in pe]} (pinload: -12)")
    # why: the page is in CMA, by a migrate_fail on CMA pages (6.12) or by the
    # page the failed pin refused (6.1: no migration is tried)
    names = {r.get("name") for r in s.get("placement", {}).get("cma_ranges", [])
             if area and r.get("base_pfn") == area[0]}
    refused = [r["refused"] for r in of_type(recs, "pin_fail") if r.get("refused")]
    why = [f for f in mf if f.get("cma_pages", 0) > 0] + \
        [r for r in refused if pfn_of(r.get("pfn")) == pl.get("pfn") and r.get("cma_area") in names]
    check(why, f"{p}: pintrace says the page is in the CMA area {names}: migrate_fail cma_pages "
          f"{[f.get('cma_pages') for f in mf]}, refused {refused} (pinload pfn {hex(pl.get('pfn', 0))})")
    check_pins(p, s, vm)


def check_hold(outdir, b, recs, pl, vm, tr, series, area):
    p = f"[{b}] cma-hold"
    s = summary(recs)
    study = STUDY.get(series, {})
    full = sum(1 for w0 in range(area[0] // WIN * WIN, area[0] + area[1], WIN)
               if w0 >= area[0] and w0 + WIN <= area[0] + area[1]) if area else -1
    hf = pl.get("held_cma_alloc_fail", -1)
    held = pl.get("held_pfns", [])
    # the kernel reproduced §7
    check(pl.get("windows_full") == full and pl.get("held_requested") == full,
          f"{p}: requested one 32 MiB page per full window: {pl.get('held_requested')} of "
          f"{full} (study: {study.get('full')})")
    check(pl.get("holder_pid", 0) > 0 and pl.get("windows_full_held", 0) > 0,
          f"{p}: a child ({pl.get('holder_pid')}) holds pages in {pl.get('windows_held')} windows, "
          f"{pl.get('windows_full_held')} of them full (study: 30)")
    check(hf > 0 and hf == pl.get("windows_full_held"),
          f"{p}: cma_alloc failed once per held full window while held: cma_alloc_fail +{hf} "
          f"(held {pl.get('windows_full_held')}; study +{study.get('hold_fail')})")
    check(pl.get("held_got") == full,
          f"{p}: the rest came from the non-CMA fallback: nr_hugepages {pl.get('held_got')}")
    check(pl.get("drain") == "done" and pl.get("drained_got") == full and
          pl.get("drained_cma_alloc_fail") == 0 and pl.get("drained_cma_alloc_success") == full,
          f"{p}: after the drain all {full} came from CMA (cma_alloc_success "
          f"+{pl.get('drained_cma_alloc_success')}, fail +{pl.get('drained_cma_alloc_fail')})")
    check(pl.get("ok") and pl.get("nr_hugepages_final") == 0,
          f"{p}: workload ok, nr_hugepages back to 0 (failed_at {pl.get('failed_at')})")
    kf = vm.get("cma_alloc_fail", -1)
    check(kf == hf + pl.get("drained_cma_alloc_fail", 0) == tr["finish_failed"],
          f"{p}: kernel cma_alloc_fail +{kf} == pinload's phases {hf}+"
          f"{pl.get('drained_cma_alloc_fail')} == tracefs failed cma_alloc_finish {tr['finish_failed']}")
    check(tr["busy"] >= hf > 0,
          f"{p}: tracefs cma_alloc_busy_retry {tr['busy']} in {len(tr['busy_pfns'])} windows "
          f"(study {study.get('busy')})")
    busy_held = [w for w in tr["busy_pfns"] if any(w <= x < w + WIN for x in held)]
    check(len(busy_held) == len(tr["busy_pfns"]),
          f"{p}: every window the kernel found busy holds one of pinload's pages "
          f"({len(busy_held)} of {len(tr['busy_pfns'])})")
    # pintrace: migration.cma
    cma = s.get("migration", {}).get("cma")
    if not check(isinstance(cma, dict),
                 f"{p}: summary has migration.cma ({sorted(s.get('migration', {}))})"):
        cma = {}
    check(cma.get("alloc_failures") == kf,
          f"{p}: migration.cma.alloc_failures {cma.get('alloc_failures')} == kernel cma_alloc_fail +{kf}")
    check(cma.get("busy_retries") == tr["busy"],
          f"{p}: migration.cma.busy_retries {cma.get('busy_retries')} == tracefs busy retries "
          f"{tr['busy']}")
    wins = {pfn_of(w.get("pfn")): w for w in cma.get("windows", [])}
    missing, wrong = [], []
    for w0 in sorted(tr["busy_pfns"]):
        w = wins.get(w0)
        if w is None:
            missing.append(hex(w0))
            continue
        ph = [h for h in w.get("holders", []) if h.get("kind") == "pipe"]
        if not (w.get("pages") == WIN and w.get("retries", 0) >= 1 and
                any(h.get("pid") == pl.get("holder_pid") and h.get("comm") == "pinload" and
                    h.get("ino", 0) > 0 and h.get("stack") for h in ph) and
                any(w0 <= x < w0 + w.get("pages", 0) for x in held)):
            wrong.append((hex(w0), w.get("pages"), w.get("retries"),
                          [(h.get("pid"), h.get("ino")) for h in ph]))
    check(tr["busy_pfns"] and not missing and not wrong,
          f"{p}: each of the {len(tr['busy_pfns'])} busy windows is in migration.cma.windows "
          f"with a pipe holder pid {pl.get('holder_pid')} (pinload's holder child) and a held "
          f"page inside; missing {missing[:4]}, wrong {wrong[:2]}")
    check(sum(w.get("retries", 0) for w in cma.get("windows", [])) == tr["busy"],
          f"{p}: the windows' retries add up to the kernel's {tr['busy']}")
    req = {w.get("pid") for w in cma.get("windows", [])}
    check(req and pl.get("holder_pid") not in req,
          f"{p}: the windows name the requester ({sorted(req, key=str)}), not the holder "
          f"{pl.get('holder_pid')}")
    areas = {w.get("area") for w in cma.get("windows", [])}
    check(areas <= {"hugetlb0"} and areas, f"{p}: the windows are named hugetlb0 ({areas})")
    # what pintrace says today about each busy window (migrate_fail reason cma_busy)
    cb = [f for f in of_type(recs, "migrate_fail") if f.get("reason") == "cma_busy"]
    named = [f for f in cb if f.get("holder_not_seen") == 0 and
             any(h.get("kind") == "pipe" and h.get("pid") == pl.get("holder_pid")
                 for h in f.get("holders", []))]
    check(cb and len(named) == len(cb),
          f"{p}: cma_busy migrate_fail records name the holder child's pipe ({len(named)} of {len(cb)})")
    # nothing outstanding once the pipes are drained
    ph = s.get("pipe_holds", {})
    check(ph.get("taken") == pl.get("windows_held") and ph.get("released") == ph.get("taken") and
          ph.get("outstanding_refs") == 0 and not ph.get("pipes"),
          f"{p}: nothing outstanding after the drain: pipe holds taken/released/outstanding "
          f"{ph.get('taken')}/{ph.get('released')}/{ph.get('outstanding_refs')} "
          f"(pinload held {pl.get('windows_held')})")
    leaks = s.get("leaks", {})
    check(not leaks.get("holders") and not leaks.get("pipes"),
          f"{p}: no leak reported ({json.dumps(leaks)[:200]})")
    check_pins(p, s, vm)


def check_hold_text(outdir, b):
    p = f"[{b}] cma-hold text"
    t = read(outdir, f"{b}-cma-hold.txt")
    pl = {}
    for line in t.splitlines():
        if line.startswith("{") and '"cma-hold"' in line:
            pl = json.loads(line)
    hp = pl.get("holder_pid")
    check(pl.get("ok"), f"{p}: the workload ran ({pl.get('failed_at')})")
    check("CMA window busy" in t and "held by pipe ino" in t and f"vmspliced by pinload/{hp}" in t,
          f"{p}: names the busy window, the pipe and the holder child pinload/{hp}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--backends", default="fentry kprobe")
    a = ap.parse_args()
    series = kernel_series(a.outdir)
    area = area_from_dmesg(a.outdir)
    cases = {}
    for line in read(a.outdir, "cases.txt").splitlines():
        b, name, rc, t0, t1 = line.split()
        cases[(b, name)] = (int(rc), float(t1) - float(t0))
    check(bool(cases), "guest produced cases.txt")
    check_setup(a.outdir, series, area)
    text = read(a.outdir, "text.txt").split()
    for b in a.backends.split():
        for name in ("cma-uring", "cma-hugepin", "cma-hold"):
            if (b, name) not in cases:
                check(False, f"[{b}] {name}: case ran in the guest")
                continue
            rc, secs = cases[(b, name)]
            print(f"# [{b}] {name}: {secs:.1f} s in the guest")
            try:
                recs, pl = load_case(a.outdir, b, name)
            except (OSError, ValueError) as e:
                check(False, f"[{b}] {name}: readable results ({e})")
                continue
            check(rc == 0, f"[{b}] {name}: pintrace run exited 0 (got {rc})")
            vm, tr = vmstat(a.outdir, b, name), tracefs(a.outdir, b, name)
            if name == "cma-uring":
                check_uring(b, recs, pl, vm, tr, series, area)
            elif name == "cma-hugepin":
                check_hugepin(b, recs, pl, vm, tr, series, area)
            elif name == "cma-hold" and area:
                check_hold(a.outdir, b, recs, pl, vm, tr, series, area)
        if text and text[0] == b:
            check_hold_text(a.outdir, b)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
