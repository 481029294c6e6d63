"""TAP-style results shared by the VM result checks: one "ok"/"not ok" line
per check, a closing "N passed, N failed" line, and NDJSON loading.

Every NDJSON file loaded, and every other *.ndjson file beside it, is
validated against include/pintrace-ndjson.schema.json: one check per file
(tests/schema/validate.py; without the jsonschema module that check fails)."""
import collections
import glob
import json
import os
import sys

PASSED = []
FAILED = []

_HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA_PATH = os.path.join(_HERE, "..", "..", "include", "pintrace-ndjson.schema.json")
with open(SCHEMA_PATH, encoding="utf-8") as _f:
    SCHEMA_VERSION = json.load(_f)["version"]	# the attach record's schema_version


def check(cond, desc):
    (PASSED if cond else FAILED).append(desc)
    print(("ok - " if cond else "not ok - ") + desc, flush=True)
    return cond


def load_case(outdir, b, name):
    """The records of case NAME run with backend B, and pinload's JSON line."""
    recs = load_ndjson(os.path.join(outdir, f"{b}-{name}.ndjson"))
    try:
        with open(os.path.join(outdir, f"{b}-{name}.pinload"), errors="replace") as f:
            text = f.read().strip()
    except OSError:
        text = ""
    return recs, json.loads(text.splitlines()[-1]) if text else {}


def of_type(recs, t):
    return [r for r in recs if r.get("type") == t]


def summary(recs):
    """The last summary record ({} when there is none)."""
    s = of_type(recs, "summary")
    return s[-1] if s else {}


def load_ndjson(path):
    recs = []
    with open(path, "rb") as f:
        for i, line in enumerate(f, 1):
            try:
                recs.append(json.loads(line.decode("utf-8")))
            except (ValueError, UnicodeDecodeError) as e:
                raise ValueError(f"{path}:{i}: invalid JSON record: {e}")
    schema_check(path)
    return recs


_schema = {"validator": None, "error": None, "files": set(), "dirs": set(),
           "records": 0, "types": collections.Counter()}


def _validator():
    s = _schema
    if s["validator"] is None and s["error"] is None:
        try:
            sys.path.insert(0, os.path.join(_HERE, "..", "schema"))
            import validate
            s["validator"] = validate.load_validator(SCHEMA_PATH)
            s["validate"] = validate
        except Exception as e:	# ImportError: no jsonschema; SchemaError
            s["error"] = f"{type(e).__name__}: {e}"
            check(False, "schema: NDJSON output validated against include/pintrace-ndjson."
                  f"schema.json (Debian: python3-jsonschema): {s['error']}")
    return s["validator"]


def schema_check(path):
    """One check per NDJSON file: every record valid against the schema."""
    key = os.path.realpath(path)
    if key in _schema["files"]:
        return
    _schema["files"].add(key)
    _schema["dirs"].add(os.path.dirname(path))
    v = _validator()
    if v is None:
        return
    res = _schema["validate"].validate_file(v, path, max_errors=5)
    _schema["records"] += res.records
    _schema["types"].update(res.types)
    check(res.ok, res.describe())
    for e in res.errors[1:]:
        print(f"#   {e}")


def finish():
    """Print the closing line; the exit status for main()."""
    # every NDJSON file of the run is validated, also those no check loaded
    for d in sorted(_schema["dirs"]):
        for path in sorted(glob.glob(os.path.join(d, "*.ndjson"))):
            schema_check(path)
    if _schema["records"]:
        types = ", ".join(f"{t} {n}" for t, n in sorted(_schema["types"].items()))
        print(f"# schema: {_schema['records']} records in {len(_schema['files'])} files "
              f"validated ({types})")
    print(f"{len(PASSED)} passed, {len(FAILED)} failed")
    return 1 if FAILED else 0
