"""Checks of pipe and skb frag holds (vmsplice, splice to sockets, MSG_ZEROCOPY).

Ground truth: the workload's own results (bytes spliced and received,
zerocopy completion notifications read from MSG_ERRQUEUE), and the pages'
reference counts as the refcount sampler read them in the kernel.
"""
import json
import os


def pinload_result(outdir, b, name):
    try:
        with open(os.path.join(outdir, f"{b}-{name}.pinload")) as f:
            return json.loads(f.read().strip().splitlines()[-1])
    except (OSError, ValueError, IndexError):
        return None


def skb_cases():
    return ("splice-sock", "zerocopy", "zerocopy-veth", "zerocopy-queued", "zerocopy-fault",
            "sock-leak")


# GUP references the sends took (iov_iter_get_pages2 -> get_user_pages_fast);
# exec's argument pages (get_user_pages_remote) are references too
GUP_FAST = ("get_user_pages_fast", "gup_fast_fallback", "internal_get_user_pages_fast")


def check_skb_case(check, outdir, b, name, recs):
    tag = f"[{b}] {name}"
    summary = recs[-1]
    sh = summary.get("skb_holds", {})
    ph = summary.get("pipe_holds", {})
    zc = summary.get("zerocopy", {})
    smp = summary.get("refcount_sampler", {})
    holds = [r for r in recs if r.get("type") == "skb_hold"]
    taken = sh.get("taken", 0)
    check(sh.get("unmatched_releases") == 0,
          f"{tag}: every skb frag release matched a hold ({sh})")
    if name in ("splice-sock", "sock-leak"):
        pages = 64 if name == "splice-sock" else 32
        check(ph.get("taken") == pages and ph.get("released") == pages and ph.get("outstanding_refs") == 0,
              f"{tag}: the pipe took {pages} page references and released them all on splice ({ph})")
        # a page split between two skbs is in two frags: two references
        check(taken >= pages and sh.get("from_pipes") == taken,
              f"{tag}: the socket took >= {pages} frag references, all from the pipe ({sh})")
        inos = {r["holder"]["ino"] for r in recs if r.get("type") == "ref" and "holder" in r}
        origins = {(h.get("origin") or {}).get("ino") for h in holds if h["how"] == "splice"}
        check(len(inos) == 1 and origins == inos,
              f"{tag}: each socket hold names the vmspliced pipe as its origin ({origins} vs {inos})")
        tuples = {h["socket"].get("tuple") for h in holds}
        res = pinload_result(outdir, b, name) if name == "splice-sock" else None
        if res:
            check(res.get("verified") and res.get("spliced") == pages * 4096,
                  f"{tag}: workload spliced and received every byte ({res.get('spliced')})")
            want = f"127.0.0.1:{res['local_port']} -> 127.0.0.1:{res['peer_port']}"
            check(want in tuples, f"{tag}: the holding socket is named by its 4-tuple {want} ({tuples})")
    if name == "splice-sock" or name.startswith("zerocopy"):
        check(sh.get("outstanding_refs") == 0,
              f"{tag}: nothing held by sockets after the receiver read and closed ({sh})")
    if name.startswith("zerocopy"):
        res = pinload_result(outdir, b, name)
        pages = {"zerocopy-queued": 256, "zerocopy-fault": 48}.get(name, 64)
        # A page split between two skbs is in two frags, each with its own
        # GUP reference. A page split between two GUP calls of one skb is
        # merged into one frag and the second reference dropped at once
        # (page_ref_sub): so pages <= frag holds <= GUP references.
        zc_holds = [h for h in holds if h["how"] == "zerocopy"]
        grabs = sum(r["refs"] for r in recs if r.get("type") == "ref" and r.get("api") in GUP_FAST
                    and r.get("comm") == "pinload")
        check(pages <= taken <= grabs and len(zc_holds) == taken,
              f"{tag}: MSG_ZEROCOPY put its {pages} pages into {taken} frags, at most one per "
              f"GUP reference of the sends ({grabs}) ({sh})")
        if res:
            check(res.get("ok") and res.get("zc_all_completed"),
                  f"{tag}: the workload got all its completions ({res.get('zc_ranges')})")
            check(zc.get("completed_sends") == res.get("sends"),
                  f"{tag}: completions seen {zc.get('completed_sends')} == sends {res.get('sends')}")
            # loopback and veth both deliver to a local socket: the kernel copies
            check(zc.get("copied_sends") == (res.get("sends") if res.get("zc_copied") else 0),
                  f"{tag}: copied completions {zc.get('copied_sends')} agree with the "
                  f"workload's SO_EE_CODE_ZEROCOPY_COPIED ({res.get('zc_copied')})")
        else:
            check(False, f"{tag}: workload result readable")
    if name == "sock-leak":
        check(sh.get("outstanding_refs") >= 32,
              f"{tag}: the receiver's queue still holds the {taken} frag references at exit ({sh})")
        # the sender's socket (data shared with the receiver's clone) and,
        # for frags an rx coalesce copied, the receiving socket
        socks = [h for h in summary.get("leaks", {}).get("holders", []) if h["kind"] == "socket"]
        pipe_inos = {r["holder"]["ino"] for r in recs if r.get("type") == "ref" and "holder" in r}
        check(socks and sum(s["refs"] for s in socks) == sh.get("outstanding_refs")
              and all(s["oldest_age_ns"] > 1e9 and s.get("comm") == "pinload"
                      and (s.get("origin") or {}).get("comm") == "pinload"
                      and (s.get("origin") or {}).get("ino") in pipe_inos for s in socks),
              f"{tag}: the leak report names each holding socket, its age and the pipe the "
              f"pages came from ({socks})")
        check(socks and socks[0].get("stack"), f"{tag}: the socket hold has a kernel stack")
        check(smp.get("last_folios", 0) >= 32 and smp.get("last_agree") == smp.get("last_folios")
              and smp.get("corrected_skb_refs") == 0 and smp.get("corrected_pipe_refs") == 0,
              f"{tag}: the refcount sampler agrees with every tracked hold ({smp})")
    if name == "zerocopy-fault":
        # the failed send's frags were trimmed without a hook: only the
        # sampler can see them go, and must, or they would pass for a leak
        res = pinload_result(outdir, b, name) or {}
        check(res.get("efault") is True, f"{tag}: the last send failed with EFAULT ({res.get('errno')})")
        check(smp.get("corrected_skb_refs", 0) >= 1 and sh.get("sampled_releases") ==
              smp.get("corrected_skb_refs"),
              f"{tag}: the refcount sampler found the trimmed frags released ({smp})")
    else:
        check(smp.get("corrected_skb_refs", 0) == 0,
              f"{tag}: no skb release was missed (sampler corrections {smp.get('corrected_skb_refs')})")


def check_pipe_leak_sampler(check, b, summary):
    smp = summary.get("refcount_sampler", {})
    check(smp.get("passes", 0) >= 1 and smp.get("last_folios") == 16 and smp.get("last_agree") == 16
          and smp.get("corrected_pipe_refs") == 0,
          f"[{b}] pipe-leak: pintrace's 16 held pages agree with the reference counts it sampled ({smp})")
    leaks = summary.get("leaks", {}).get("holders", [])
    check(len(leaks) == 1 and leaks[0]["kind"] == "pipe" and leaks[0]["refs"] == 16
          and leaks[0]["bytes"] == 65536 and leaks[0].get("stack"),
          f"[{b}] pipe-leak: the leak section lists the pipe with pages, bytes and stack ({leaks})")


def check_leaks_cmd(check, outdir, load_ndjson):
    tag = "pintrace leaks"
    try:
        rc = int(open(os.path.join(outdir, "leaks.rc")).read())
        recs = load_ndjson(os.path.join(outdir, "leaks.ndjson"))
    except (OSError, ValueError) as e:
        check(False, f"{tag}: ran and produced output: {e}")
        return
    check(rc == 0, f"{tag}: exit 0 ({rc})")
    reports = [r for r in recs if r.get("type") == "leaks"]
    check(len(reports) >= 2, f"{tag}: periodic leak reports ({len(reports)})")
    check(not [r for r in recs if r.get("type") in ("ref", "skb_hold", "pipe_release")],
          f"{tag}: no per-event stream, only reports")
    # the spliced pages: under the sending socket (data shared with the
    # receiver's clone), plus the receiving one for frags an rx coalesce copied
    spliced = max((sum(h["refs"] for h in r["holders"] if h["kind"] == "socket"
                       and (h.get("origin") or {}).get("kind") == "pipe") for r in reports), default=0)
    piped = {h["refs"] for r in reports for h in r["holders"] if h["kind"] == "pipe"}
    check(spliced >= 16 and piped == {8},
          f"{tag}: sockets holding the 16 spliced pages (origin: pipe, {spliced} frag refs) and "
          f"a pipe holding 8 are reported once older than --min-age ({piped})")
    check(reports and not reports[-1]["holders"],
          f"{tag}: once the workloads drained and closed, the last report lists nothing "
          f"({reports[-1]['holders'] if reports else None})")
    young = [h for r in reports for h in r["holders"] if h["oldest_age_ns"] < 1e9]
    check(not young, f"{tag}: nothing younger than --min-age is listed ({young[:2]})")
