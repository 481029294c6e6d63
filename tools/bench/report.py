#!/usr/bin/env python3
"""Turn the bench VMs' raw results into ratios against the targets.

tools/bench/report.py [--pipeline FILE] --out-json F --out-md F VMDIR...

Per kernel and GUP loop: operations per second in each mode (median of the
rounds), the cost each mode adds per operation over the untraced loop, and
pintrace's added cost as a multiple of the no-op floor's and of bpftrace's.
Plus attach times, peak RSS, losses and the pipeline's events per second.
"""
import argparse
import json
import os
import statistics
import sys

TARGETS = {
    "floor_ratio": 1.5,      # pintrace added cost <= 1.5x the no-op floor's
    "bpftrace_ratio": 1 / 3,  # ... and <= 1/3 of bpftrace's
    "pipeline_eps": 5e6,     # user-space pipeline events/s on one core
    "attach_ratio": 1 / 5,   # attach time <= 1/5 of bpftrace's
    "rss_kib": 32 * 1024,    # peak RSS
}


def read_lines(path):
    try:
        with open(path) as f:
            return [l.rstrip("\n") for l in f if l.strip()]
    except OSError:
        return []


def load_json(path):
    try:
        with open(path) as f:
            return json.loads(f.read().strip().splitlines()[-1])
    except (OSError, ValueError, IndexError):
        return None


def ops_table(d):
    """{op: {mode: [ops_per_s...]}} from ops.txt ("rc mode op round {json}")."""
    t, failed = {}, []
    for line in read_lines(os.path.join(d, "ops.txt")):
        parts = line.split(" ", 4)
        if len(parts) < 5:
            failed.append(line)
            continue
        rc, mode, op, rnd, js = parts
        try:
            v = json.loads(js)["ops_per_s"]
        except (ValueError, KeyError):
            v = None
        if rc != "0" or not v:
            failed.append(f"{op}/{mode}/round {rnd}: rc {rc}")
            continue
        t.setdefault(op, {}).setdefault(mode, []).append(v)
    return t, failed


def losses(d):
    """Loss totals and pin balance of every traced run's summary."""
    out = []
    for name in sorted(os.listdir(d)):
        if not name.endswith(".sum") or "-floor-" in name:
            continue
        s = load_json(os.path.join(d, name))
        if not s or s.get("type") != "summary":
            out.append({"run": name, "error": "no summary"})
            continue
        pins = s.get("pins", {})
        ovh = s.get("overhead", {})
        out.append({"run": name[4:-4], "lost": s.get("loss", {}).get("total"),
                    "rss_kib": ovh.get("rss_peak_kib"), "load_ms": ovh.get("load_ns", 0) / 1e6,
                    "attach_ms": ovh.get("attach_ns", 0) / 1e6,
                    "acquired": pins.get("acquired_refs"),
                    "released": pins.get("released_refs"),
                    "outstanding": pins.get("outstanding_refs")})
    return out


def kernel_result(d):
    t, failed = ops_table(d)
    res = {"kernel": (read_lines(os.path.join(d, "kernel.txt")) or ["?"])[0],
           "failed_runs": failed, "ops": {}}
    for op, modes in t.items():
        med = {m: statistics.median(v) for m, v in modes.items()}
        row = {"ops_per_s": med}
        base = med.get("base")
        if base:
            row["added_ns"] = {m: 1e9 / v - 1e9 / base for m, v in med.items() if m != "base"}
            a = row["added_ns"]
            if a.get("floor", 0) > 0 and "quiet" in a:
                row["quiet_vs_floor"] = a["quiet"] / a["floor"]
            if a.get("floor", 0) > 0 and "stream" in a:
                row["stream_vs_floor"] = a["stream"] / a["floor"]
            if a.get("bpftrace", 0) > 0 and "quiet" in a:
                row["quiet_vs_bpftrace"] = a["quiet"] / a["bpftrace"]
            if a.get("floor", 0) > 0 and "nostacks" in a:
                row["nostacks_vs_floor"] = a["nostacks"] / a["floor"]
            if a.get("bpftrace", 0) > 0 and "nostacks" in a:
                row["nostacks_vs_bpftrace"] = a["nostacks"] / a["bpftrace"]
        res["ops"][op] = row
    att = {}
    for line in read_lines(os.path.join(d, "attach.txt")):
        name, _, js = line.split(" ", 2)
        try:
            att.setdefault(name, []).append(json.loads(js)["waited_ns"] / 1e6)
        except (ValueError, KeyError):
            pass
    res["attach_ms"] = {k: statistics.median(v) for k, v in att.items()}
    if "pintrace" in res["attach_ms"] and res["attach_ms"].get("bpftrace"):
        res["attach_ratio"] = res["attach_ms"]["pintrace"] / res["attach_ms"]["bpftrace"]
    res["runs"] = losses(d)
    res["rss_kib"] = {}
    for x in res["runs"]:
        mode = x["run"].split("-")[-2] if x["run"].count("-") >= 2 else "?"
        if x.get("rss_kib"):
            res["rss_kib"][mode] = max(res["rss_kib"].get(mode, 0), x["rss_kib"])
    return res


def pipeline(path):
    kv = {}
    for line in read_lines(path):
        for tok in line.split():
            if "=" in tok:
                k, v = tok.split("=", 1)
                try:
                    kv[k] = float(v)
                except ValueError:
                    kv[k] = v
    return kv


def verdict(ok):
    return "met" if ok else "MISSED"


def fmt_ns(v):
    return f"{v:.0f}" if v is not None else "-"


def ratio(v, target):
    return f"{v:.2f} ({verdict(v <= target)})" if v is not None else "-"


def markdown(results, pipe):
    out = ["# pintrace benchmark results", "",
           "Produced by `make bench` (tools/bench/run.sh). Each VM runs Debian's kernel under "
           "QEMU TCG (no KVM), so absolute numbers are those of an emulated CPU; the ratios are "
           "what the targets are about.", ""]
    for r in results:
        out += [f"## Debian {r['kernel']}", "",
                "| loop | untraced ops/s | floor ns/op | pintrace -q ns/op | -q --no-stacks ns/op | "
                "stream ns/op | bpftrace ns/op | -q vs floor (≤1.5) | -q vs bpftrace (≤0.33) | "
                "--no-stacks vs floor, vs bpftrace |",
                "|---|---|---|---|---|---|---|---|---|---|"]
        for op, row in sorted(r["ops"].items()):
            a = row.get("added_ns", {})
            qf = ratio(row.get("quiet_vs_floor"), TARGETS["floor_ratio"])
            qb = ratio(row.get("quiet_vs_bpftrace"), TARGETS["bpftrace_ratio"])
            base = row["ops_per_s"].get("base", 0)
            nf, nb = row.get("nostacks_vs_floor"), row.get("nostacks_vs_bpftrace")
            ns = (f"{nf:.2f}" if nf is not None else "-") + ", " + \
                 (f"{nb:.2f}" if nb is not None else "-")
            out.append(f"| {op} | {base:.0f} | {fmt_ns(a.get('floor'))} | "
                       f"{fmt_ns(a.get('quiet'))} | {fmt_ns(a.get('nostacks'))} | "
                       f"{fmt_ns(a.get('stream'))} | "
                       f"{fmt_ns(a.get('bpftrace'))} | {qf} | {qb} | {ns} |")
        att = r["attach_ms"]
        out += ["", "Attach: " + ", ".join(f"{k} {v:.0f} ms" for k, v in sorted(att.items())) +
                (f" (ratio {r['attach_ratio']:.2f}, target ≤ 0.2: "
                 f"{verdict(r['attach_ratio'] <= TARGETS['attach_ratio'])})"
                 if "attach_ratio" in r else "")]
        if r["rss_kib"]:
            out.append("Peak RSS: " + ", ".join(
                f"{k} {v / 1024:.1f} MiB ({verdict(v <= TARGETS['rss_kib'])})"
                for k, v in sorted(r["rss_kib"].items())))
        lost = sum(x.get("lost") or 0 for x in r["runs"])
        bad = [x["run"] for x in r["runs"] if x.get("error") or x.get("lost") is None]
        out.append(f"Losses over {len(r['runs'])} traced runs: {lost} reported"
                   + (f"; runs without a summary: {', '.join(bad)}" if bad else ""))
        if r["failed_runs"]:
            out.append("Failed runs: " + "; ".join(r["failed_runs"]))
        out.append("")
    if pipe:
        eps = pipe.get("summary_eps") or pipe.get("eps")
        out += ["## User-space pipeline (this host, one core)", "",
                " ".join(f"{k}={v:.0f}" if isinstance(v, float) else f"{k}={v}"
                         for k, v in pipe.items())]
        if eps:
            out.append(f"Target ≥ 5 M events/s: {verdict(eps >= TARGETS['pipeline_eps'])}")
        out.append("")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pipeline")
    ap.add_argument("--out-json", required=True)
    ap.add_argument("--out-md", required=True)
    ap.add_argument("dirs", nargs="+")
    a = ap.parse_args()
    results = [kernel_result(d) for d in a.dirs if os.path.isdir(d)]
    if not results:
        print("bench: no VM results", file=sys.stderr)
        return 1
    pipe = pipeline(a.pipeline) if a.pipeline else {}
    with open(a.out_json, "w") as f:
        json.dump({"targets": TARGETS, "kernels": results, "pipeline": pipe}, f, indent=1)
    md = markdown(results, pipe)
    with open(a.out_md, "w") as f:
        f.write(md)
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
