#!/usr/bin/env python3
"""The public API of spectro-packs, one item per line, from rustdoc's JSON output.

    scripts/public_api.py            # compare with spectro-packs/public-api.txt (exit 1 on a diff)
    scripts/public_api.py --bless    # rewrite spectro-packs/public-api.txt

Every item reachable from the crate root with all features on is listed with its path and
signature: modules, re-exports, structs and their public fields, enums and their variants,
functions and methods, traits and their items, constants, type aliases, and the traits
each type implements (auto traits and blanket impls left out). A change to the list is a
change to what users can write against, so CI fails until the file is updated in the same
commit, which makes every API change visible in review.

rustdoc's JSON is unstable: it is produced with RUSTC_BOOTSTRAP=1 on the stable toolchain,
and its `format_version` is recorded in the file's first line. A toolchain with another
format version skips the check loudly (rerun with --bless on that toolchain).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = ROOT / "spectro-packs" / "public-api.txt"
AUTO_TRAITS = {
    "Send", "Sync", "Unpin", "UnwindSafe", "RefUnwindSafe", "Freeze", "StructuralPartialEq",
}


def build_json() -> dict:
    target = ROOT / "target"
    env = dict(os.environ, RUSTC_BOOTSTRAP="1", CARGO_TERM_COLOR="never")
    subprocess.run(
        ["cargo", "rustdoc", "-q", "--locked", "-p", "spectro-packs", "--all-features", "--lib",
         "--target-dir", str(target), "--", "-Z", "unstable-options", "--output-format", "json"],
        cwd=ROOT, env=env, check=True,
    )
    return json.loads((target / "doc" / "spectro_packs.json").read_text())


class Api:
    def __init__(self, doc: dict):
        self.index = doc["index"]
        self.paths = doc.get("paths", {})
        self.lines: set[str] = set()
        self.seen: set[tuple[str, str]] = set()

    def item(self, item_id):
        return self.index.get(str(item_id))

    # ---- types -------------------------------------------------------------------
    def ty(self, t) -> str:
        if t is None:
            return "()"
        if isinstance(t, str):
            return "_" if t == "infer" else t
        (kind, v), = t.items()
        if kind == "resolved_path":
            return self.path(v)
        if kind == "primitive" or kind == "generic":
            return v
        if kind == "borrowed_ref":
            lt = f"{v['lifetime']} " if v.get("lifetime") else ""
            return f"&{lt}{'mut ' if v['is_mutable'] else ''}{self.ty(v['type'])}"
        if kind == "raw_pointer":
            return f"*{'mut' if v['is_mutable'] else 'const'} {self.ty(v['type'])}"
        if kind == "tuple":
            return "(" + ", ".join(self.ty(x) for x in v) + ")"
        if kind == "slice":
            return f"[{self.ty(v)}]"
        if kind == "array":
            return f"[{self.ty(v['type'])}; {v['len']}]"
        if kind == "impl_trait":
            return "impl " + " + ".join(self.bound(b) for b in v)
        if kind == "dyn_trait":
            parts = [self.path(p["trait"]) for p in v["traits"]]
            if v.get("lifetime"):
                parts.append(v["lifetime"])
            return "dyn " + " + ".join(parts)
        if kind == "qualified_path":
            trait = self.path(v["trait"]) if v.get("trait") else "_"
            return f"<{self.ty(v['self_type'])} as {trait}>::{v['name']}"
        if kind == "function_pointer":
            return "fn(" + ", ".join(self.ty(x[1]) for x in v["sig"]["inputs"]) + ")" + self.ret(v["sig"]["output"])
        return json.dumps(t, sort_keys=True)

    def path(self, p) -> str:
        # Our own types by their last segment (the path as written in the source,
        # `crate::error::Result`, is not part of the API); other crates' types by their
        # full path, so a foreign type in a signature shows as one (`serde_json::Value`).
        name = p["path"].split("::")[-1]
        known = self.paths.get(str(p.get("id")))
        if known and known.get("crate_id") != 0:
            name = "::".join(known["path"])
        args = p.get("args")
        if not args:
            return name
        if "angle_bracketed" in args:
            ab = args["angle_bracketed"]
            parts = []
            for a in ab["args"]:
                (k, v), = a.items() if isinstance(a, dict) else (("other", a),)
                parts.append(self.ty(v) if k == "type" else str(v) if k == "lifetime" else json.dumps(v))
            for c in ab.get("constraints", []):
                binding = c.get("binding", {})
                if "equality" in binding:
                    parts.append(f"{c['name']} = {self.ty(binding['equality'].get('type'))}")
                else:
                    parts.append(f"{c['name']}: {' + '.join(self.bound(b) for b in binding.get('constraint', []))}")
            return f"{name}<{', '.join(parts)}>" if parts else name
        if "parenthesized" in args:
            pa = args["parenthesized"]
            return f"{name}(" + ", ".join(self.ty(x) for x in pa["inputs"]) + ")" + self.ret(pa.get("output"))
        return name

    def bound(self, b) -> str:
        if "trait_bound" in b:
            return self.path(b["trait_bound"]["trait"])
        if "outlives" in b:
            return b["outlives"]
        return json.dumps(b, sort_keys=True)

    def ret(self, out) -> str:
        return f" -> {self.ty(out)}" if out is not None else ""

    def generics(self, g) -> str:
        params = []
        for p in g.get("params", []):
            kind = p["kind"]
            if "type" in kind:
                if kind["type"].get("is_synthetic"):
                    continue  # `impl Trait` in argument position, shown in the argument
                bounds = kind["type"].get("bounds", [])
                params.append(p["name"] + (": " + " + ".join(self.bound(b) for b in bounds) if bounds else ""))
            elif "lifetime" in kind:
                params.append(p["name"])
            elif "const" in kind:
                params.append(f"const {p['name']}: {self.ty(kind['const']['type'])}")
        preds = []
        for w in g.get("where_predicates", []):
            if "bound_predicate" in w:
                bp = w["bound_predicate"]
                preds.append(f"{self.ty(bp['type'])}: " + " + ".join(self.bound(b) for b in bp["bounds"]))
        out = f"<{', '.join(params)}>" if params else ""
        if preds:
            out += " where " + ", ".join(preds)
        return out

    def fn_sig(self, name: str, f) -> str:
        sig = f["sig"]
        inputs = ", ".join(n if n == "self" and False else f"{n}: {self.ty(t)}" for n, t in sig["inputs"])
        header = f.get("header", {})
        prefix = "const " if header.get("is_const") else ""
        return f"{prefix}fn {name}{self.generics(f['generics'])}({inputs}){self.ret(sig['output'])}"

    # ---- items -------------------------------------------------------------------
    def emit(self, line: str):
        self.lines.add(line)

    def attrs(self, item) -> str:
        return "#[non_exhaustive] " if "non_exhaustive" in item.get("attrs", []) else ""

    def walk(self, item_id, path: str):
        item = self.item(item_id)
        if item is None:
            return
        if (str(item_id), path) in self.seen:
            return
        self.seen.add((str(item_id), path))
        (kind, inner), = item["inner"].items()
        if kind == "module":
            self.emit(f"pub mod {path}")
            for child in inner["items"]:
                self.child(child, path)
        elif kind == "struct":
            g = self.generics(inner["generics"])
            sk = inner["kind"]
            if sk == "unit":
                self.emit(f"{self.attrs(item)}pub struct {path}{g};")
            elif "tuple" in sk:
                fields = [self.ty(self.item(f)["inner"]["struct_field"]) if f is not None else "_" for f in sk["tuple"]]
                self.emit(f"{self.attrs(item)}pub struct {path}{g}({', '.join('pub ' + f if f != '_' else f for f in fields)})")
            else:
                self.emit(f"{self.attrs(item)}pub struct {path}{g}")
                for f in sk["plain"]["fields"]:
                    fi = self.item(f)
                    if fi and fi["visibility"] == "public":
                        self.emit(f"pub {path}::{fi['name']}: {self.ty(fi['inner']['struct_field'])}")
            self.impls(inner["impls"], path)
        elif kind == "enum":
            self.emit(f"{self.attrs(item)}pub enum {path}{self.generics(inner['generics'])}")
            for v in inner["variants"]:
                vi = self.item(v)
                vk = vi["inner"]["variant"]["kind"]
                vpath = f"{path}::{vi['name']}"
                if vk == "plain":
                    self.emit(f"{self.attrs(vi)}{vpath}")
                elif "tuple" in vk:
                    fields = [self.ty(self.item(f)["inner"]["struct_field"]) if f is not None else "_" for f in vk["tuple"]]
                    self.emit(f"{self.attrs(vi)}{vpath}({', '.join(fields)})")
                else:
                    self.emit(f"{self.attrs(vi)}{vpath} {{ .. }}")
                    for f in vk["struct"]["fields"]:
                        fi = self.item(f)
                        self.emit(f"{vpath}::{fi['name']}: {self.ty(fi['inner']['struct_field'])}")
            self.impls(inner["impls"], path)
        elif kind == "function":
            self.emit(f"pub {self.fn_sig(path, inner)}")
        elif kind == "constant":
            self.emit(f"pub const {path}: {self.ty(inner['type'])}")
        elif kind == "static":
            self.emit(f"pub static {path}: {self.ty(inner['type'])}")
        elif kind == "type_alias":
            self.emit(f"pub type {path}{self.generics(inner['generics'])} = {self.ty(inner['type'])}")
        elif kind == "trait":
            bounds = " + ".join(self.bound(b) for b in inner.get("bounds", []))
            self.emit(f"pub trait {path}" + (f": {bounds}" if bounds else ""))
            for t in inner["items"]:
                self.assoc(t, path)
        elif kind == "macro":
            self.emit(f"macro {path}!")
        else:
            self.emit(f"{kind} {path}")

    def assoc(self, item_id, owner: str):
        ti = self.item(item_id)
        (tk, tinner), = ti["inner"].items()
        p = f"{owner}::{ti['name']}"
        if tk == "function":
            self.emit(f"{self.fn_sig(p, tinner)}")
        elif tk == "assoc_const":
            self.emit(f"const {p}: {self.ty(tinner['type'])}")
        elif tk == "assoc_type":
            self.emit(f"type {p}" + (f" = {self.ty(tinner['type'])}" if tinner.get("type") else ""))

    def impls(self, impl_ids, path: str):
        for i in impl_ids:
            im = self.item(i)["inner"]["impl"]
            if im["is_synthetic"] or im["blanket_impl"] is not None:
                continue
            if im["trait"] is None:
                for m in im["items"]:
                    mi = self.item(m)
                    if mi and mi["visibility"] == "public":
                        self.assoc(m, path)
            else:
                trait = self.path(im["trait"])
                if trait.split("<")[0].split("::")[-1] in AUTO_TRAITS:
                    continue
                neg = "!" if im.get("is_negative") else ""
                self.emit(f"impl{self.generics(im['generics'])} {neg}{trait} for {self.ty(im['for'])}")

    def child(self, child_id, parent: str):
        item = self.item(child_id)
        if item is None or item["visibility"] != "public":
            return
        (kind, inner), = item["inner"].items()
        if kind == "use":
            target = inner.get("id")
            if inner["is_glob"]:
                t = self.item(target) if target is not None else None
                if t and "module" in t["inner"]:
                    for c in t["inner"]["module"]["items"]:
                        self.child(c, parent)
                else:
                    self.emit(f"pub use {parent}::{inner['source']}::*")
                return
            if target is not None and self.item(target) is not None and self.item(target).get("crate_id") == 0:
                self.walk(target, f"{parent}::{inner['name']}")
            else:
                self.emit(f"pub use {parent}::{inner['name']} = {inner['source']}")
            return
        self.walk(child_id, f"{parent}::{item['name']}")


def render(doc: dict) -> str:
    api = Api(doc)
    api.walk(doc["root"], "spectro_packs")
    header = f"# rustdoc JSON format_version {doc['format_version']}; regenerate with scripts/public_api.py --bless\n"
    return header + "\n".join(sorted(api.lines)) + "\n"


def main() -> int:
    bless = "--bless" in sys.argv[1:]
    doc = build_json()
    current = render(doc)
    if bless:
        SNAPSHOT.write_text(current)
        print(f"wrote {SNAPSHOT.relative_to(ROOT)} ({current.count(chr(10)) - 1} items)")
        return 0
    old = SNAPSHOT.read_text() if SNAPSHOT.exists() else ""
    if old.splitlines()[:1] != current.splitlines()[:1]:
        print(f"\n!!! public API check SKIPPED: {SNAPSHOT.name} was made with "
              f"`{old.splitlines()[0] if old else 'nothing'}`, this toolchain writes "
              f"`{current.splitlines()[0]}` !!!\n", file=sys.stderr)
        return 0
    if old == current:
        print(f"public API unchanged ({current.count(chr(10)) - 1} items)")
        return 0
    import difflib
    sys.stdout.writelines(difflib.unified_diff(
        old.splitlines(True), current.splitlines(True), "public-api.txt (committed)", "public-api.txt (this tree)"))
    print("\nThe public API of spectro-packs changed. If that is deliberate, run "
          "scripts/public_api.py --bless and commit the file with the change.", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
