#!/usr/bin/env python3
"""Write a small recording (the --record format of src/record.h) whose
replay makes pintrace render every kind of live record it has: pins and
references, unpins of every class, calls, held-long pins, pipe holds, tee,
releases (matched, pre-existing, not queued), skb frag holds (zerocopy,
spliced from a pipe, skb copies) and releases (sampled too), zerocopy
completions, a migration failure with its holders, a failed long-term pin
and the errno of its syscall, a lone failed pin, memory offline, a busy CMA
window and a failed CMA allocation, and leftovers for the summary's
outstanding, pipes and leaks sections.

Usage: mkrec.py [REPO_ROOT] OUT

`pintrace replay OUT -o json` then gives the host real NDJSON of pintrace's
own renderers to validate against the schema, with no kernel to trace.
Enum values, flags and the ABI number are read from include/pintrace.h and
src/record.h; a changed struct pt_event layout makes the replay refuse the
file (event size), which the host test reports.
"""
import os
import re
import struct
import sys

EVENT = struct.Struct("<BBBBIIIQQIiQQqQQQQ16sQB7x")
HEADER = struct.Struct("<8sHHIIIQII")
FOLL = struct.Struct("<20sI")
MS = 1000000


def parse(root):
    h = open(os.path.join(root, "include", "pintrace.h"), encoding="utf-8").read()
    r = open(os.path.join(root, "src", "record.h"), encoding="utf-8").read()
    d = {}
    body = re.search(r"enum pt_hook\s*\{(.*?)\};", h, re.S).group(1)
    for i, name in enumerate(re.findall(r"^\s*(PT_HOOK_\w+)", body, re.M)):
        d[name] = i
    for name, val in re.findall(r"^\s*(PT_EV_\w+)\s*=\s*(\d+)", h, re.M):
        d[name] = int(val)
    for name, sh in re.findall(r"#define\s+(PT_F_\w+)\s+\(1u << (\d+)\)", h):
        d[name] = 1 << int(sh)
    for name in ("PT_BACKEND_NONE", "PT_BACKEND_FENTRY", "PT_BACKEND_KPROBE"):
        d[name] = int(re.search(name + r"\s*=\s*(\d+)", h).group(1))
    d["PT_EVENT_ABI"] = int(re.search(r"#define\s+PT_EVENT_ABI\s+(\d+)", h).group(1))
    d["PT_REC_VERSION"] = int(re.search(r"#define\s+PT_REC_VERSION\s+(\d+)", r).group(1))
    d["PT_REC_BYTE_ORDER"] = int(re.search(r"#define\s+PT_REC_BYTE_ORDER\s+(0x[0-9a-f]+)",
                                           r).group(1), 16)
    return d


# FOLL_* as 6.3+ kernels number them (names without FOLL_, as in recordings)
FOLLS = [("WRITE", 0x1), ("NOWAIT", 0x2), ("PIN", 0x4), ("GET", 0x8), ("LONGTERM", 0x10),
         ("FORCE", 0x100), ("TOUCH", 0x10000), ("REMOTE", 0x2000)]
F = dict(FOLLS)


def main():
    if len(sys.argv) == 3:
        root, out = sys.argv[1], sys.argv[2]
    elif len(sys.argv) == 2:
        root, out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."), \
            sys.argv[1]
    else:
        print(__doc__.split("\n\n")[2], file=sys.stderr)
        return 2
    c = parse(root)
    H = lambda n: c["PT_HOOK_" + n]	# noqa: E731
    PF = lambda *ns: sum(c["PT_F_" + n] for n in ns)	# noqa: E731
    t0 = 10 * 1000 * MS
    evs = []

    def ev(kind, ts, hook, api="NONE", flags=0, pid=100, tid=None, folio=0, refs=0, gup=0,
           nr_req=0, ret=0, addr=0, dur=0, holder=0, holder_id=0, comm=b"pinload",
           pfn=0xffffffffffffffff, zone=0xff, backend="FENTRY"):
        evs.append(EVENT.pack(c["PT_EV_" + kind], H(hook), H(api), c["PT_BACKEND_" + backend],
                              flags, pid, tid or pid, t0 + ts, folio, refs, -1, gup, nr_req, ret,
                              addr, dur, holder, holder_id, comm, pfn, zone))

    page = lambda i: 0xffffea0000400000 + 64 * i	# noqa: E731
    P1, P2, SOCK = 0xffff888104000100, 0xffff888104000200, 0xffff888105000000
    lt = F["PIN"] | F["LONGTERM"] | F["WRITE"]
    # a long-term pin (io_uring style) and its call; unpinned later: class longterm
    ev("GRAB", 1 * MS, "TRY_GRAB_FOLIO_FAST", "PIN_USER_PAGES_FAST", PF("PIN", "LONGTERM", "WRITE"),
       folio=page(1), refs=2, gup=lt, nr_req=2)
    ev("CALL", 2 * MS, "PIN_USER_PAGES_FAST", "PIN_USER_PAGES_FAST", gup=lt, nr_req=2, ret=2,
       addr=0x7f0000000000, dur=20000)
    # a short-term pin of another process (process_vm_readv), released fast: class short
    ev("GRAB", 3 * MS, "TRY_GRAB_FOLIO", "PIN_USER_PAGES_REMOTE", PF("PIN"), pid=101,
       folio=page(2), refs=1, gup=F["PIN"] | F["TOUCH"] | F["REMOTE"], nr_req=1, backend="KPROBE")
    ev("UNPIN", 4 * MS, "GUP_PUT_FOLIO", pid=101, folio=page(2), refs=1, backend="KPROBE")
    # a large folio pinned through folio_add_pin: no flags of its own
    ev("GRAB", 5 * MS, "FOLIO_ADD_PIN", "MEMFD_PIN_FOLIOS", PF("PIN", "LARGE", "NOFLAGS"),
       folio=page(3), refs=1)
    ev("UNPIN", 6 * MS, "UNPIN_FOLIO", folio=page(3), refs=1)
    # an unpin of a pin taken before tracing
    ev("UNPIN", 7 * MS, "UNPIN_USER_PAGE", pid=102, folio=page(9), refs=1, comm=b"fio")
    # a short-term pin held past --min-hold: held_long live, class held-long
    ev("GRAB", 10 * MS, "TRY_GRAB_FOLIO", "PIN_USER_PAGES_REMOTE", PF("PIN"), pid=103,
       folio=page(4), refs=1, gup=F["PIN"] | F["REMOTE"], nr_req=1, comm=b"held")
    # FOLL_GET references: a plain one, and vmsplice's into pipe P1 (ino 1001)
    ev("GRAB", 11 * MS, "TRY_GRAB_FOLIO_FAST", "GET_USER_PAGES_FAST", PF("GET"), folio=page(5),
       refs=1, gup=F["GET"], nr_req=1)
    for i in range(10, 14):
        ev("GRAB", 12 * MS, "TRY_GRAB_FOLIO_FAST", "GET_USER_PAGES_FAST", PF("GET", "PIPE"),
           folio=page(i), refs=1, gup=F["GET"], nr_req=4, holder=P1, holder_id=1001)
    ev("CALL", 13 * MS, "GET_USER_PAGES_FAST", "GET_USER_PAGES_FAST", gup=F["GET"], nr_req=4,
       ret=4, addr=0x7f0000100000, dur=5000)
    # tee: pipe P2 (ino 1002) references page 10 too; then P2 releases it
    ev("HOLD", 14 * MS, "PIPE_BUF_GET", flags=PF("PIPE"), folio=page(10), refs=1, holder=P2,
       holder_id=1002)
    ev("RELEASE", 15 * MS, "PIPE_BUF_RELEASE", flags=PF("PIPE"), folio=page(10), refs=1,
       holder=P2)
    # a reader drains page 11; vmsplice gives back a page it could not queue;
    # a release of a page put there before tracing
    ev("RELEASE", 16 * MS, "PIPE_BUF_RELEASE", flags=PF("PIPE"), folio=page(11), refs=1,
       holder=P1)
    ev("RELEASE", 17 * MS, "NONE", flags=PF("PIPE", "DROPPED"), folio=page(12), refs=1,
       holder=P1, backend="NONE")
    ev("RELEASE", 18 * MS, "PIPE_BUF_RELEASE", flags=PF("PIPE"), folio=page(30), refs=1,
       holder=P1)
    # skb frags: MSG_ZEROCOPY into a TCP socket 127.0.0.1:5000 -> 127.0.0.1:41234
    tup = (0x0100007f << 32) | 0x0100007f
    ports = (2 << 32) | (5000 << 16) | 41234
    for i in range(20, 22):
        ev("HOLD", 20 * MS, "ZEROCOPY_SG", "NONE", PF("GET", "SKB", "ZEROCOPY"),
           folio=page(i), refs=1, nr_req=ports, addr=tup, holder=SOCK, holder_id=2001)
    # page 13 of pipe P1 spliced into the socket: its origin is the pipe
    ev("HOLD", 21 * MS, "SKB_APPEND_PAGEFRAGS", flags=PF("GET", "SKB"), folio=page(13), refs=1,
       nr_req=ports, addr=tup, holder=SOCK, holder_id=2001)
    # an unclone copies the frags' references (no addresses known)
    ev("HOLD", 22 * MS, "PSKB_EXPAND_HEAD", flags=PF("GET", "SKB", "MOVED"), pid=0, folio=page(20),
       refs=1, holder=SOCK, holder_id=2001, comm=b"swapper/0")
    # releases: by the hook, by the refcount sampler, and of a frag from before tracing
    ev("RELEASE", 23 * MS, "SKB_RELEASE_DATA", flags=PF("SKB"), pid=0, folio=page(20), refs=1,
       holder=SOCK, comm=b"ksoftirqd/0")
    ev("RELEASE", 24 * MS, "SKB_RELEASE_DATA", flags=PF("SKB", "SAMPLED"), pid=0, folio=page(20),
       refs=1, holder=SOCK, comm=b"pintrace", backend="NONE")
    ev("RELEASE", 25 * MS, "SKB_RELEASE_DATA", flags=PF("SKB"), pid=0, folio=page(31), refs=1,
       holder=SOCK, comm=b"ksoftirqd/1")
    ev("ZC_DONE", 26 * MS, "ZEROCOPY_DONE", flags=PF("SKB", "ZEROCOPY", "COPIED"), folio=0, refs=2, addr=0,
       nr_req=ports, holder=SOCK, holder_id=2001)
    # a long-term pin migration fails: page 1 is pinned, page 13 held by pipe P1
    # (and a socket), page 40 by nobody pintrace follows; then the pin fails
    # and io_uring_register returns -ENOMEM
    for i in (1, 13, 40):
        ev("MIGRATE_PAGE", 30 * MS, "PUTBACK", pid=104, folio=page(i), refs=3, nr_req=7, addr=77,
           pfn=0x10000 + i, zone=3, comm=b"uring")
    ev("MIGRATE_FAIL", 31 * MS, "MIGRATE_END", pid=104, refs=3, nr_req=7, ret=3, dur=1, addr=77,
       gup=2, comm=b"uring")
    ev("PIN_FAIL", 32 * MS, "GUP_LONGTERM_LOCKED", "PIN_USER_PAGES_FAST", pid=104, ret=-12,
       addr=0x7f0000200000, nr_req=3, gup=lt, comm=b"uring")
    ev("SYSCALL", 33 * MS, "SYS_EXIT", pid=104, nr_req=427, ret=-12, comm=b"uring")
    # a failed long-term pin with no migration failure before it
    ev("PIN_FAIL", 34 * MS, "GUP_LONGTERM_LOCKED", "PIN_USER_PAGES", pid=105, ret=-14,
       addr=0x1000, nr_req=1, gup=lt, comm=b"fault")
    # memory offline fails with EBUSY; a contiguous allocation succeeds
    ev("RANGE", 35 * MS, "OFFLINE_PAGES", pid=106, addr=0x18000, nr_req=32768, ret=-16, gup=1,
       comm=b"sh")
    ev("RANGE", 36 * MS, "ALLOC_CONTIG", pid=106, addr=0x20000, nr_req=512, ret=0, comm=b"sh")
    # CMA: a busy window, and an allocation that failed
    ev("CMA", 37 * MS, "CMA_BUSY", pid=107, addr=0x30000, nr_req=8, comm=b"cma")
    ev("CMA", 38 * MS, "CMA_FINISH", pid=107, addr=0x30000, nr_req=8, ret=-16, comm=b"cma")
    # time passes (the replay's held-long scans run on these): the held pin is
    # reported, then released; the long-term pin is released too
    for ms in range(100, 1600, 100):
        ev("CALL", ms * MS, "GET_USER_PAGES", "GET_USER_PAGES", pid=108, gup=F["GET"], nr_req=1,
           ret=1, addr=0x7f0000300000, dur=1000, comm=b"tick")
    ev("UNPIN", 1600 * MS, "GUP_PUT_FOLIO", pid=103, folio=page(4), refs=1, comm=b"held")
    ev("UNPIN", 1700 * MS, "UNPIN_USER_FOLIO", folio=page(1), refs=1)
    # left at the end: one pin of page 1, pages 13 in P1 and 21 in the socket
    # (older than --min-age: leaks), an outstanding long-term pin of page 6
    ev("GRAB", 2500 * MS, "TRY_GRAB_FOLIO_FAST", "PIN_USER_PAGES_FAST",
       PF("PIN", "LONGTERM", "WRITE"), folio=page(6), refs=1, gup=lt, nr_req=1)
    ev("CALL", 2600 * MS, "PIN_USER_PAGES_FAST", "PIN_USER_PAGES_FAST", gup=lt, nr_req=1, ret=1,
       addr=0x7f0000400000, dur=9000)

    folls = b"".join(FOLL.pack(n.encode(), v) for n, v in FOLLS)
    hdr = HEADER.pack(b"PTREC\0\0\0", c["PT_REC_VERSION"], HEADER.size + len(folls),
                      c["PT_REC_BYTE_ORDER"], EVENT.size, c["PT_EVENT_ABI"], t0, len(FOLLS), 1)
    with open(out, "wb") as f:
        f.write(hdr + folls)
        for e in evs:
            f.write(struct.pack("<I", len(e)) + e)
    return 0


if __name__ == "__main__":
    sys.exit(main())
