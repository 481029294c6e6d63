#!/usr/bin/env python3
"""Keep include/pintrace-ndjson.schema.json honest about the code.

Usage: check_schema.py [REPO_ROOT]

TAP lines: the schema is a valid JSON Schema; its version equals
PT_SCHEMA_VERSION (src/output.h) and the attach record's schema_version;
every record type the C code writes has a definition; the closed name sets
(hooks, BPF programs, backends, plan states, pin classes, migration reasons,
system calls, --fail-on conditions) equal what the code can print.
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import validate  # noqa: E402

FAILED = 0


def check(cond, desc, detail=""):
    global FAILED
    FAILED += not cond
    print(("ok - " if cond else "not ok - ") + desc + ("" if cond or not detail else f": {detail}"))


def same(desc, want, got):
    want, got = set(want), set(got)
    check(want == got, desc, f"only in the code: {sorted(want - got)}, "
          f"only in the schema: {sorted(got - want)}")


def read(root, rel):
    with open(os.path.join(root, rel), encoding="utf-8") as f:
        return f.read()


def c_strings(text):
    return re.findall(r'"((?:[^"\\]|\\.)*)"', text)


def enum_of(defn):
    """The names a definition allows: enum, or the enum of an anyOf."""
    if "enum" in defn:
        return defn["enum"]
    for alt in defn.get("anyOf", []):
        if "enum" in alt:
            return alt["enum"]
    return []


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..")
    path = os.path.join(root, "include", "pintrace-ndjson.schema.json")
    try:
        validate.load_validator(path)
        check(True, "schema: include/pintrace-ndjson.schema.json is a valid JSON Schema")
    except ImportError as e:
        check(False, "schema: the jsonschema module is available (Debian: python3-jsonschema)",
              str(e))
        return 1
    except Exception as e:  # a SchemaError, or JSON that does not parse
        check(False, "schema: include/pintrace-ndjson.schema.json is a valid JSON Schema", str(e))
        return 1
    schema = json.load(open(path, encoding="utf-8"))
    defs = schema["$defs"]

    m = re.search(r"#define\s+PT_SCHEMA_VERSION\s+(\d+)", read(root, "src/output.h"))
    code_ver = int(m.group(1)) if m else None
    check(schema.get("version") == code_ver and
          defs["attach"]["properties"]["schema_version"].get("const") == code_ver,
          f"schema: version {schema.get('version')} == PT_SCHEMA_VERSION {code_ver} == "
          "attach.schema_version")

    # record types: json_task_record(o, "x", e), live_record(o, "x", ...), and
    # json_object_object_add(j, "type", json_object_new_string(... "x" ...))
    types = set()
    for name in sorted(os.listdir(os.path.join(root, "src"))):
        if not name.endswith(".c"):
            continue
        text = read(root, os.path.join("src", name))
        for m in re.finditer(r"json_task_record\(\s*\w+\s*,([^;]*?),\s*\w+\s*\)", text, re.S):
            types.update(c_strings(m.group(1)))
        for m in re.finditer(r"live_record\(\s*\w+\s*,\s*\"(\w+)\"", text):
            types.add(m.group(1))
        for m in re.finditer(r"\"type\"\s*,\s*json_object_new_string\(([^;]*?)\)\s*\)\s*;",
                             text, re.S):
            types.update(c_strings(m.group(1)))
    stypes = set(schema["properties"]["type"]["enum"])
    check(types and types <= stypes and all(t in defs for t in types),
          f"schema: every record type the code writes is defined ({len(types)} types)",
          f"missing: {sorted(types - stypes)}")
    extra = stypes - types
    if extra:
        print(f"# schema: types not found in src/*.c (written elsewhere or not yet): "
              f"{sorted(extra)}")

    # hooks: { PT_HOOK_X, "prog", { "sym0", "sym1" }, ...
    hooks = re.findall(r"\{\s*PT_HOOK_\w+\s*,\s*\"(\w+)\"\s*,\s*\{([^}]*)\}",
                       read(root, "src/hooks.c"))
    progs = [p for p, _ in hooks]
    syms = [c_strings(s) for _, s in hooks]
    check(len(hooks) > 20, f"schema: hook table of src/hooks.c parsed ({len(hooks)} hooks)")
    same("schema: hook_program names the programs of src/hooks.c", progs,
         defs["hook_program"]["enum"])
    same("schema: hook_symbol names each hook's first symbol, and '-'",
         [s[0] for s in syms] + ["-"], defs["hook_symbol"]["enum"])
    same("schema: kernel_symbol names every symbol of src/hooks.c, and ''",
         [x for s in syms for x in s] + [""], defs["kernel_symbol"]["enum"])

    def names_in(rel, func):
        """The string literals returned by a switch-style name function."""
        text = read(root, rel)
        m = re.search(r"\b" + func + r"\([^)]*\)\s*\{(.*?)\n\}", text, re.S)
        return re.findall(r"return\s+\"([^\"]+)\"", m.group(1)) if m else []

    same("schema: backend names of src/plan.c", names_in("src/plan.c", "backend_name"),
         defs["backend"]["enum"])
    att = defs["attach"]["properties"]["hooks"]["items"]["properties"]
    same("schema: plan states of src/plan.c", names_in("src/plan.c", "plan_state_name"),
         att["state"]["enum"])
    classes = [c for c in names_in("src/pintable.c", "pin_class_name") if c != "unknown"]
    same("schema: pin classes of src/pintable.c", classes,
         defs["unpin"]["properties"]["class"]["enum"])
    same("schema: hold_hist_ns classes of src/pintable.c", classes,
         defs["summary"]["properties"]["hold_hist_ns"]["required"])

    mig = read(root, "src/migrate.c")
    m = re.search(r"reason_names\[\]\s*=\s*\{(.*?)\};", mig, re.S)
    same("schema: migration reasons of src/migrate.c, and cma_busy",
         (c_strings(m.group(1)) if m else []) + ["cma_busy"], enum_of(defs["migrate_reason"]))
    m = re.search(r"syscalls\[\]\s*=\s*\{(.*?)\};", mig, re.S)
    same("schema: system call names of src/migrate.c",
         [s for s in (c_strings(m.group(1)) if m else [])], enum_of(defs["syscall_name"]))
    m = re.search(r"names\[FAIL__MAX\]\s*=\s*\{(.*?)\};", read(root, "src/verdict.c"), re.S)
    same("schema: --fail-on conditions of src/verdict.c", c_strings(m.group(1)) if m else [],
         defs["fail_condition"]["enum"])
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
