"""TAP-style results shared by the VM result checks: one "ok"/"not ok" line
per check, a closing "N passed, N failed" line, and NDJSON loading."""
import json

PASSED = []
FAILED = []


def check(cond, desc):
    (PASSED if cond else FAILED).append(desc)
    print(("ok - " if cond else "not ok - ") + desc, flush=True)
    return cond


def load_ndjson(path):
    recs = []
    with open(path, "rb") as f:
        for i, line in enumerate(f, 1):
            try:
                recs.append(json.loads(line.decode("utf-8")))
            except (ValueError, UnicodeDecodeError) as e:
                raise ValueError(f"{path}:{i}: invalid JSON record: {e}")
    return recs


def finish():
    """Print the closing line; the exit status for main()."""
    print(f"{len(PASSED)} passed, {len(FAILED)} failed")
    return 1 if FAILED else 0
