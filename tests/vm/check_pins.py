#!/usr/bin/env python3
"""Check the results of guest-pins.sh against the kernel's own counters.

Usage: check_pins.py OUTDIR --odirect refs|pins [--backends "fentry kprobe"]
                      [--unsupported "fentry"]

--backends: the backends guest-pins.sh ran every case with (its BACKENDS);
"auto" lets pintrace choose per hook, among the backends this kernel has.
--unsupported: backends this kernel cannot attach (its UNSUPPORTED): a run
forced onto one must be refused with exit code 4 (Debian arm64 6.1 has no
BPF trampolines: fentry programs load, attaching them fails with -524).

Ground truth is the kernel: /proc/vmstat nr_foll_pin_acquired/released deltas
around each `pintrace run`, and the workload's own syscall results. Prints one
TAP-style line per check and a closing "N passed, N failed" line.
"""
import argparse
import os
import re
import sys

import check_holds

from tap import SCHEMA_VERSION, check, finish, load_ndjson


def api_row(summary, name):
    for row in summary.get("by_api", []):
        if row["api"] == name:
            return row
    return None


def attached(attach, symbol):
    for h in attach["hooks"]:
        if h["symbol"] == symbol and h["backend"] != "none":
            return h["backend"]
    return None


# pages each workload pins (FOLL_PIN) or references (FOLL_GET)
def expectations(name, odirect):
    return {
        "pvr": dict(pins=64, cls="short", api="pin_user_pages_remote",
                    calls=(("pin_user_pages_remote",), 64)),
        "pvr-write": dict(pins=32, cls="short", api="pin_user_pages_remote"),
        "uring": dict(pins=64, cls="longterm", api=("pin_user_pages", "pin_user_pages_fast"),
                      calls=(("pin_user_pages", "pin_user_pages_fast"), 64)),
        # pinning an unmapped buffer fails: the API's result is -EFAULT
        "uring-fault": dict(pins=0, calls=(("pin_user_pages", "pin_user_pages_fast"), -14)),
        "vmsplice": dict(pins=0, refs=32, pipe=(32, 32, 0)),
        "vmsplice-close": dict(pins=0, refs=16, pipe=(16, 16, 0)),
        "pipe-leak": dict(pins=0, refs=16, pipe=(16, 0, 16)),
        # tee'd into a second pipe that is closed first: the first pipe still holds
        "vmsplice-tee": dict(pins=0, refs=16, pipe=(16, 32, 0), teed=16),
        "tee-leak": dict(pins=0, refs=16, pipe=(16, 16, 16), teed=16),
        # a pipe of 16 slots fills inside the call: 16 queued, the refused one
        # released, 15 dropped by put_page(); all accounted, none left
        "vmsplice-full": dict(pins=0, refs=32, pipe=(32, 32, 0)),
        "odirect": dict(pins=32, cls="short") if odirect == "pins" else dict(pins=0, refs=32),
        "held": dict(pins=16, held=True, api="pin_user_pages_remote"),
        "fork": dict(pins=48, cls="short", procs=3),
        # skb frag holds: no pins; details in check_holds.py
        "splice-sock": dict(pins=0, refs=64),
        "sock-leak": dict(pins=0, refs=32),
        "zerocopy": dict(pins=0, refs=64),
        "zerocopy-veth": dict(pins=0, refs=64),
        "zerocopy-queued": dict(pins=0, refs=256),
        "zerocopy-fault": dict(pins=0, refs=48),
    }[name]


# Backends a run with `--backend B` may attach hooks with (tp_btf hooks,
# which have no alternative, aside). auto picks per hook among those this
# kernel can attach.
def allowed_backends(b, unsupported):
    if b != "auto":
        return {b}
    return {"fentry", "kprobe"} - set(unsupported)


def check_case(outdir, b, name, rc, vm0, vm1, odirect, unsupported=()):
    tag = f"[{b}] {name}"
    allowed = allowed_backends(b, unsupported)
    acq, rel = vm1[0] - vm0[0], vm1[1] - vm0[1]
    # NAME-stream: the same workload with --stream (every event through the ring);
    # NAME-nostacks: with --no-stacks; NAME-noop: --noop-programs (the bench floor)
    variant = name.rsplit("-", 1)[1] if name.rsplit("-", 1)[-1] in ("stream", "nostacks", "noop") \
        else ""
    stream = variant == "stream"
    exp = expectations(name[:-len(variant) - 1] if variant else name, odirect)
    check(rc == 0, f"{tag}: pintrace run exits with the workload's status 0 (got {rc})")
    try:
        recs = load_ndjson(os.path.join(outdir, f"{b}-{name}.ndjson"))
    except (OSError, ValueError) as e:
        check(False, f"{tag}: NDJSON output readable: {e}")
        return
    check(len(recs) >= 2, f"{tag}: NDJSON has attach and summary records")
    if len(recs) < 2:
        return
    attach, summary = recs[0], recs[-1]
    check(attach.get("type") == "attach" and attach.get("schema_version") == SCHEMA_VERSION,
          f"{tag}: first record is attach with schema_version {SCHEMA_VERSION}")
    check(summary.get("type") == "summary", f"{tag}: last record is the summary")
    if summary.get("type") != "summary":
        return
    if variant == "noop":
        check_noop(tag, summary, acq)
        return
    backends = {h["backend"] for h in attach["hooks"] if h["backend"] not in ("none", "tp_btf")}
    if b == "auto":
        check(backends and backends <= allowed,
              f"{tag}: every hook attached with a backend this kernel has, {sorted(allowed)} "
              f"({sorted(backends)})")
    else:
        check(backends == {b}, f"{tag}: every hook attached with the forced backend ({sorted(backends)})")
    check(summary["loss"]["total"] == 0, f"{tag}: nothing lost ({summary['loss']})")
    pins = summary["pins"]
    check(pins["acquired_refs"] == acq,
          f"{tag}: pins seen {pins['acquired_refs']} == kernel nr_foll_pin_acquired delta {acq}")
    check(pins["released_refs"] == rel,
          f"{tag}: unpins seen {pins['released_refs']} == kernel nr_foll_pin_released delta {rel}")
    check(acq == exp["pins"], f"{tag}: kernel pinned the expected {exp['pins']} pages (delta {acq})")
    check(pins["outstanding_refs"] == 0 and pins["preexisting"] == 0,
          f"{tag}: every unpin matched a pin, none outstanding")
    events = [r for r in recs if r.get("type") in ("pin", "ref", "unpin", "call")]
    pin_recs = sum(r["refs"] for r in recs if r.get("type") == "pin")
    unpin_recs = sum(r["refs"] for r in recs if r.get("type") == "unpin")
    m = summary.get("matching", {})
    check(m.get("in_kernel") is (not stream),
          f"{tag}: pins matched {'from the stream' if stream else 'in the kernel'} ({m})")
    if exp.get("held") and not stream:
        check(m.get("unpin_records_refs") == exp["pins"],
              f"{tag}: the held pins' unpins left the kernel as records "
              f"({m.get('unpin_records_refs')} refs == {exp['pins']})")
    # per-stack counts, from the kernel's counters or from the stream, add up
    bs = summary.get("by_stack", [])
    if acq and not summary.get("by_stack_omitted") and variant != "nostacks":
        check(sum(r["pin_refs"] for r in bs) == acq and all(r["stack"] for r in bs),
              f"{tag}: by_stack rows add up to the {acq} pins, each with a kernel stack "
              f"({[(r['api'], r['pin_refs'], len(r['stack'])) for r in bs]})")
    if variant == "nostacks":
        check(m.get("pin_stacks") is False and acq > 0 and
              sum(r["pin_refs"] for r in bs) == acq and not any(r["stack"] for r in bs),
              f"{tag}: --no-stacks: by_stack rows add up to the {acq} pins, none with a stack "
              f"({[(r['api'], r['pin_refs'], len(r['stack'])) for r in bs]}, {m})")
    else:
        check(m.get("pin_stacks") is True, f"{tag}: stacks walked by default ({m})")
    if stream:
        check(pin_recs == acq and unpin_recs == rel,
              f"{tag}: --stream: pin/unpin records {pin_recs}/{unpin_recs} == kernel {acq}/{rel}")
    elif exp.get("cls") == "short":
        # default mode: short-term pins are matched and counted in the kernel
        check(pin_recs == 0 and unpin_recs == 0,
              f"{tag}: short-term pins counted in the kernel, not streamed "
              f"({pin_recs} pin, {unpin_recs} unpin records)")
    check(all(e["backend"] in allowed for e in events if "backend" in e),
          f"{tag}: every event came from a {'/'.join(sorted(allowed))} program")
    if "refs" in exp:
        check(summary["get_refs"] >= exp["refs"],
              f"{tag}: FOLL_GET references seen {summary['get_refs']} >= {exp['refs']}, not pins")
    if "pipe" in exp:
        taken, released, left = exp["pipe"]
        ph = summary.get("pipe_holds", {})
        got = (ph.get("taken"), ph.get("released"), ph.get("outstanding_refs"))
        check(ph.get("teed") == exp.get("teed", 0),
              f"{tag}: tee references seen {ph.get('teed')} == {exp.get('teed', 0)}")
        check(got == exp["pipe"] and ph.get("unmatched_releases") == 0,
              f"{tag}: pipe holds taken/released/outstanding {got} == {exp['pipe']}")
        if left:
            pipes = ph.get("pipes", [])
            check(len(pipes) == 1 and pipes[0]["refs"] == left and pipes[0]["comm"] == "pinload"
                  and pipes[0]["ino"] > 0 and pipes[0]["oldest_age_ns"] > 1e9,
                  f"{tag}: the leaking pipe is named with its vmsplicer and age ({pipes})")
    if name in check_holds.skb_cases():
        check_holds.check_skb_case(check, outdir, b, name, recs)
    if name == "pipe-leak":
        check_holds.check_pipe_leak_sampler(check, b, summary)
    if exp.get("cls") == "short":
        check(pins["short"] == exp["pins"], f"{tag}: all {exp['pins']} pins short-term ({pins['short']})")
    if exp.get("cls") == "longterm":
        pin_ev = [r for r in recs if r.get("type") == "pin"]
        check(pins["longterm"] == exp["pins"] and pin_ev and all(r["longterm"] for r in pin_ev),
              f"{tag}: all pins declared long-term ({pins['longterm']})")
    if exp.get("held"):
        held = [r for r in recs if r.get("type") == "held_long"]
        check(pins["held_long"] >= 1 and held,
              f"{tag}: a pin held past --min-hold is reported held long "
              f"({pins['held_long']} unpinned held-long, {len(held)} live reports)")
    api = exp.get("api")
    if api:
        # io_uring pins through pin_user_pages on 6.1, pin_user_pages_fast from 6.6
        names = api if isinstance(api, tuple) else (api,)
        syms = [n for n in names if attached(attach, n)]
        if syms:
            got = {n: (api_row(summary, n) or {}).get("pin_refs", 0) for n in syms}
            check(exp["pins"] in got.values(),
                  f"{tag}: all {exp['pins']} pins attributed to one of {syms} ({got})")
        else:
            print(f"# {tag}: {'/'.join(names)} not attachable with {b}: attribution not checked")
    if "calls" in exp:
        names, want = exp["calls"]
        syms = [n for n in names if attached(attach, n)]
        calls = [r for r in recs if r.get("type") == "call" and r["api"] in syms
                 and r["comm"] == "pinload"]
        if not syms:
            print(f"# {tag}: {'/'.join(names)} not attachable with {b}: call results not checked")
        elif want < 0:
            check(len(calls) == 1 and calls[0]["ret"] == want and summary["call_failures"] >= 1,
                  f"{tag}: the failed call is reported with ret {want} "
                  f"({[(c['api'], c['ret']) for c in calls]})")
        else:
            # successful short-term calls are counted in the kernel (by_api);
            # with --stream they come as records too, and those must agree
            rows = [api_row(summary, n) or {} for n in syms]
            n_calls = sum(r.get("calls", 0) for r in rows)
            ret = sum(r.get("pages_ret", 0) for r in rows)
            check(n_calls > 0 and ret == want and sum(r.get("call_failures", 0) for r in rows) == 0,
                  f"{tag}: API call results add up to {want} pages "
                  f"({[(r.get('api'), r.get('calls'), r.get('pages_ret')) for r in rows]})")
            check(not calls or (sum(c["ret"] for c in calls) == want and
                                all(c["ret"] > 0 for c in calls)),
                  f"{tag}: streamed call records, if any, agree "
                  f"({[(c['api'], c['ret'], c['nr_req']) for c in calls]})")
    if exp.get("procs"):
        pids = {p["pid"] for p in summary["by_process"] if p["pin_refs"] > 0}
        check(len(pids) >= exp["procs"], f"{tag}: pins of {len(pids)} descendant processes traced")


def check_noop(tag, summary, acq):
    """--noop-programs: the same hooks attached, and nothing counted."""
    hooks = summary.get("hooks", [])
    check(acq > 0 and summary["pins"]["acquired_refs"] == 0 and summary["calls"] == 0,
          f"{tag}: --noop-programs: the kernel pinned {acq} pages, pintrace counted none "
          f"({summary['pins']['acquired_refs']} pins, {summary['calls']} calls)")
    check(any(h["symbol"] in ("try_grab_folio", "try_grab_page") for h in hooks) and
          all(h["hits"] == 0 and h["events"] == 0 for h in hooks),
          f"{tag}: --noop-programs: the grab hooks are attached and no program did any work "
          f"({[(h['hook'], h['hits']) for h in hooks if h['hits']]})")


def check_filter(outdir, name, want):
    """-p / -n: only the selected process's 8 pins; another's 4 ran meanwhile."""
    tag = f"filter {name}"
    try:
        rc, a0, r0, a1, r1 = map(int, open(os.path.join(outdir, f"{name}.case")).read().split())
        recs = load_ndjson(os.path.join(outdir, f"{name}.ndjson"))
    except (OSError, ValueError) as e:
        check(False, f"{tag}: ran and produced output: {e}")
        return
    summary = recs[-1] if recs else {}
    check(rc == 0 and summary.get("type") == "summary", f"{tag}: exit 0 with a summary")
    if summary.get("type") != "summary":
        return
    check(a1 - a0 == want + 4, f"{tag}: the kernel saw both processes pin ({a1 - a0} == {want + 4})")
    pins = summary["pins"]
    check(pins["acquired_refs"] == want and pins["released_refs"] == want,
          f"{tag}: only the selected process's {want} pins and unpins counted "
          f"({pins['acquired_refs']}/{pins['released_refs']})")
    check(summary["loss"]["total"] == 0, f"{tag}: nothing lost")
    procs = {p["comm"] for p in summary["by_process"] if p["pin_refs"] > 0}
    check(procs == {"pinload"}, f"{tag}: pins counted only for pinload ({procs})")
    comms = {r.get("comm") for r in recs if r.get("type") == "pin"}
    check(comms <= {"pinload"}, f"{tag}: pin records, if any, only from pinload ({comms})")


def check_lifecycle(outdir):
    try:
        got = dict(l.split() for l in open(os.path.join(outdir, "lifecycle.txt")))
    except (OSError, ValueError) as e:
        check(False, f"run lifecycle cases ran: {e}")
        return
    check(got.get("enoent") == "127", f"run: a command that does not exist exits 127 ({got.get('enoent')})")
    check(got.get("duration") == "143", f"run -d: the command gets SIGTERM, exit 143 ({got.get('duration')})")
    # busybox sh: SIGKILL of the shell (137), or of its sleep child
    check(got.get("ignores-term") in ("137",),
          f"run -d: a command ignoring SIGTERM is killed, exit 137 ({got.get('ignores-term')})")


def check_system(outdir):
    try:
        text = open(os.path.join(outdir, "system.txt"), errors="replace").read()
        rc = int(open(os.path.join(outdir, "system.rc")).read())
    except OSError as e:
        check(False, f"system-wide run produced output: {e}")
        return
    check(rc == 0, f"system-wide: pintrace -d exits 0 (got {rc})")
    check("HELD" in text and "short-term pin held" in text,
          "system-wide: the text stream flags the held pin live")
    check("--- pintrace summary" in text and
          "Loss: ring buffer drops 0, map full 0, recursion misses 0, kretprobe misses 0, "
          "pin table full 0, bad records 0" in text,
          "system-wide: summary printed with no loss of any kind")
    # the tracer ran inside the guest's vmstat bracket, in a quiet VM: equal
    try:
        a0, r0, a1, r1 = map(int, open(os.path.join(outdir, "system.vm")).read().split())
    except (OSError, ValueError) as e:
        check(False, f"system-wide: vmstat bracket recorded: {e}")
        return
    m = re.search(r"Pins taken: (\d+) refs; unpinned: (\d+)", text)
    check(m and int(m.group(1)) == a1 - a0 and int(m.group(2)) == r1 - r0,
          f"system-wide: pins/unpins seen {m and m.groups()} == kernel deltas ({a1 - a0}, {r1 - r0})")


def check_unsupported(outdir, unsupported):
    """A backend this kernel cannot attach, forced: refused with exit code 4
    ("unsupported") and the reason, before the workload runs."""
    try:
        # "fentry 0 <why>": availability, then the reason when it is 0
        facts = {l.split()[0]: l.split()[1:] for l in open(os.path.join(outdir, "facts.txt"))
                 if len(l.split()) >= 2 and not l.startswith("sym ")}
        runs = {}
        for line in open(os.path.join(outdir, "unsupported.txt")):
            b, rc, a0, r0, a1, r1 = line.split()
            runs[b] = (int(rc), int(a1) - int(a0), int(r1) - int(r0))
    except (OSError, ValueError) as e:
        check(False, f"forced unsupported backends ran: {e}")
        return
    for b in unsupported:
        tag = f"[{b}] forced on a kernel without {b}"
        check(facts.get(b, ["?"])[0] == "0",
              f"{tag}: pintrace's kernel probe finds no {b} ({' '.join(facts.get(b, ['?']))})")
        if b not in runs:
            check(False, f"{tag}: case ran in the guest")
            continue
        rc, acq, rel = runs[b]
        try:
            err = open(os.path.join(outdir, f"unsupported-{b}.stderr"), errors="replace").read()
            out = open(os.path.join(outdir, f"unsupported-{b}.pinload"), errors="replace").read()
        except OSError as e:
            check(False, f"{tag}: output readable: {e}")
            continue
        check(rc == 4, f"{tag}: pintrace run exits with 4, unsupported (got {rc})")
        check("cannot be traced" in err and f"{b} unavailable on this kernel" in err
              and "do not attach" in err,
              f"{tag}: stderr says this kernel cannot be traced with {b} and why "
              f"({err.strip()[:300]!r})")
        check(out == "" and acq == 0 and rel == 0,
              f"{tag}: refused before the workload started (no workload output, pin deltas "
              f"{acq}/{rel})")
        path = os.path.join(outdir, f"unsupported-{b}.ndjson")
        check(not os.path.exists(path) or os.path.getsize(path) == 0,
              f"{tag}: no NDJSON records written")


def check_fallback(outdir, unsupported=()):
    """auto mode: fentry attach of gup_put_folio fails (injected), kprobe takes over.
    On a kernel without fentry, auto plans kprobes from the start: the injected
    failure has nothing to hit, and every hook must be a kprobe."""
    tag = "[auto] attach fallback"
    no_fentry = "fentry" in unsupported
    try:
        rc, a0, r0, a1, r1 = map(int, open(os.path.join(outdir, "fallback.txt")).read().split())
        recs = load_ndjson(os.path.join(outdir, "fallback.ndjson"))
        err = open(os.path.join(outdir, "fallback.stderr")).read()
    except (OSError, ValueError) as e:
        check(False, f"{tag}: results readable: {e}")
        return
    check(rc == 0, f"{tag}: pintrace run exits 0 (got {rc})")
    if not no_fentry:
        check("loading the programs again" in err, f"{tag}: says it loads the programs again")
    if len(recs) < 2 or recs[0].get("type") != "attach" or recs[-1].get("type") != "summary":
        check(False, f"{tag}: attach and summary records present")
        return
    attach, summary = recs[0], recs[-1]
    check(attached(attach, "gup_put_folio") == "kprobe",
          f"{tag}: gup_put_folio fell back to kprobe ({attached(attach, 'gup_put_folio')})")
    others = {h["backend"] for h in attach["hooks"]
              if h["symbol"] != "gup_put_folio" and h["backend"] not in ("none", "tp_btf")}
    if no_fentry:
        check(others == {"kprobe"},
              f"{tag}: no fentry on this kernel: every other hook is a kprobe too ({sorted(others)})")
    else:
        # (6.1 plans some hooks on kprobe anyway: pin_user_pages_remote has 7 arguments)
        check("fentry" in others, f"{tag}: the other hooks kept fentry ({sorted(others)})")
    pins = summary["pins"]
    check(summary["loss"]["total"] == 0, f"{tag}: nothing lost")
    check(pins["acquired_refs"] == a1 - a0 == 64,
          f"{tag}: pins {pins['acquired_refs']} == kernel delta {a1 - a0} == 64")
    check(pins["released_refs"] == r1 - r0 and pins["outstanding_refs"] == 0,
          f"{tag}: unpins {pins['released_refs']} == kernel delta {r1 - r0}, none outstanding")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--odirect", choices=("refs", "pins"), required=True)
    ap.add_argument("--backends", default="fentry kprobe")
    ap.add_argument("--unsupported", default="")
    a = ap.parse_args()
    unsupported = a.unsupported.split()
    cases = {}
    try:
        for line in open(os.path.join(a.outdir, "cases.txt")):
            b, name, rc, a0, r0, a1, r1 = line.split()
            cases[(b, name)] = (int(rc), (int(a0), int(r0)), (int(a1), int(r1)))
    except OSError as e:
        check(False, f"guest produced cases.txt: {e}")
    for b in a.backends.split():
        for name in ("pvr", "pvr-write", "uring", "uring-fault", "vmsplice", "odirect", "held", "fork",
                     "vmsplice-close", "pipe-leak", "vmsplice-tee", "tee-leak", "vmsplice-full",
                     "pvr-stream", "held-stream", "odirect-stream", "pvr-nostacks",
                     "pvr-noop") + check_holds.skb_cases():
            if (b, name) not in cases:
                check(False, f"[{b}] {name}: case ran in the guest")
                continue
            rc, vm0, vm1 = cases[(b, name)]
            check_case(a.outdir, b, name, rc, vm0, vm1, a.odirect, unsupported)
    if unsupported:
        check_unsupported(a.outdir, unsupported)
    check_filter(a.outdir, "filter-pid", 8)
    check_filter(a.outdir, "filter-comm", 8)
    check_lifecycle(a.outdir)
    check_fallback(a.outdir, unsupported)
    check_holds.check_leaks_cmd(check, a.outdir, load_ndjson)
    check_system(a.outdir)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
