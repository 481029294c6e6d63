#!/usr/bin/env python3
"""Validate pintrace NDJSON output against its JSON Schema.

Usage: validate.py [--tap] [--quiet] [--max-errors N] SCHEMA FILE...

Every line of every FILE must be one JSON object that the schema accepts
(include/pintrace-ndjson.schema.json: one definition per record `type`).
Failures name file:line, the record's type and the failing path inside the
record ($.socket.tuple). An empty file is a failure too. Exits 0 when every
record of every file is valid, 1 otherwise, 2 on usage errors or when the
jsonschema module (Debian: python3-jsonschema) is missing.

--tap prints one "ok"/"not ok" line per file (the failures as "#" lines
under it) instead of plain messages.

Also a module: tests/vm/tap.py validates the NDJSON files of every VM run
with load_validator() and validate_file().
"""
import argparse
import collections
import json
import os
import sys

DEBIAN_DIST = "/usr/lib/python3/dist-packages"


def import_jsonschema():
    """The jsonschema module; Debian's python3-jsonschema also serves a
    python3 of another installation (pyenv) that lacks it."""
    try:
        import jsonschema
    except ImportError:
        if not os.path.isdir(DEBIAN_DIST) or DEBIAN_DIST in sys.path:
            raise
        sys.path.append(DEBIAN_DIST)
        try:
            import jsonschema
        except ImportError:
            sys.path.remove(DEBIAN_DIST)
            raise
    return jsonschema


def default_schema():
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.join(here, "..", "..", "include", "pintrace-ndjson.schema.json")


def load_validator(schema_path=None):
    """A validator for the schema (checked against its metaschema first).
    Raises ImportError without the jsonschema module."""
    jsonschema = import_jsonschema()
    with open(schema_path or default_schema(), encoding="utf-8") as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def where(path):
    """A JSON path for an error's absolute_path: $.holders[0].stack"""
    s = "$"
    for p in path:
        s += f"[{p}]" if isinstance(p, int) else f".{p}"
    return s


def error_text(err):
    import jsonschema.exceptions as ex  # noqa: imported by load_validator first

    best = ex.best_match([err])
    # an if/then failure: name the deepest, most specific cause
    while best.context:
        best = ex.best_match(best.context)
    msg = best.message
    if best.validator == "not" and best.validator_value == {}:
        msg = "not allowed here (see the conditions of this record's definition)"
    if len(msg) > 300:
        msg = msg[:300] + "..."
    return f"{where(best.absolute_path)}: {msg}"


class Result:
    def __init__(self, path):
        self.path = path
        self.records = 0
        self.types = collections.Counter()
        self.errors = []	# "file:line: type=T: $.path: message"
        self.invalid = 0	# records with at least one error

    @property
    def ok(self):
        return self.records > 0 and not self.invalid

    def describe(self):
        name = self.path
        if self.ok:
            return f"schema: {name}: {self.records} records valid"
        if not self.records and not self.errors:
            return f"schema: {name}: no records (empty file)"
        return (f"schema: {name}: {self.invalid} of {self.records} records invalid; "
                f"first: {self.errors[0]}")


def validate_lines(validator, path, lines, max_errors=20):
    """lines: an iterable of (lineno, bytes or str)."""
    res = Result(path)
    for no, raw in lines:
        if isinstance(raw, bytes):
            try:
                raw = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                res.records += 1
                res.invalid += 1
                res.errors.append(f"{path}:{no}: not UTF-8: {e}")
                continue
        if not raw.strip():
            res.records += 1
            res.invalid += 1
            res.errors.append(f"{path}:{no}: empty line")
            continue
        res.records += 1
        try:
            rec = json.loads(raw)
        except ValueError as e:
            res.invalid += 1
            res.errors.append(f"{path}:{no}: invalid JSON: {e}")
            continue
        rtype = rec.get("type", "?") if isinstance(rec, dict) else "?"
        res.types[rtype] += 1
        errs = sorted(validator.iter_errors(rec), key=lambda e: list(map(str, e.absolute_path)))
        if not errs:
            continue
        res.invalid += 1
        for err in errs:
            if len(res.errors) < max_errors:
                res.errors.append(f"{path}:{no}: type={rtype}: {error_text(err)}")
    return res


def validate_file(validator, path, max_errors=20):
    try:
        with open(path, "rb") as f:
            return validate_lines(validator, path, enumerate(f, 1), max_errors)
    except OSError as e:
        res = Result(path)
        res.errors.append(f"{path}: {e.strerror or e}")
        res.invalid = 1
        return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("schema")
    ap.add_argument("files", nargs="+")
    ap.add_argument("--tap", action="store_true", help="one TAP line per file")
    ap.add_argument("--quiet", "-q", action="store_true", help="print failures only")
    ap.add_argument("--max-errors", type=int, default=20, help="errors shown per file")
    a = ap.parse_args()
    try:
        v = load_validator(a.schema)
    except ImportError as e:
        msg = f"the jsonschema module is missing (Debian: apt-get install python3-jsonschema): {e}"
        print(f"not ok - schema: {msg}" if a.tap else f"validate.py: {msg}",
              file=sys.stdout if a.tap else sys.stderr)
        return 2
    except (OSError, ValueError) as e:
        print(f"validate.py: {a.schema}: {e}", file=sys.stderr)
        return 2
    failed = 0
    for path in a.files:
        res = validate_file(v, path, a.max_errors)
        failed += not res.ok
        if a.tap:
            print(("ok - " if res.ok else "not ok - ") + res.describe())
            for e in res.errors:
                print(f"#   {e}")
            continue
        for e in res.errors:
            print(e)
        if not res.ok and not res.errors:
            print(f"{path}: no records (empty file)")
        if res.invalid > len(res.errors):
            print(f"{path}: ... {res.invalid} invalid records in all")
        if not a.quiet:
            types = ", ".join(f"{t} {n}" for t, n in sorted(res.types.items()))
            print(f"{path}: {res.records} records, {res.invalid} invalid ({types})",
                  file=sys.stderr if res.ok else sys.stdout)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
