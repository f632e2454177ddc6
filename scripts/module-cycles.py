#!/usr/bin/env python3
"""Lists the dependencies between Signpost's top-level modules (and the
pipeline's stages) from `crate::` paths in src/, and any cycles among them.
Exit 1 if there is a cycle. Used by tests/all/architecture.rs."""
import os, re, sys, itertools

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
# Modules inside these folders count on their own (one file per stage).
SPLIT = {"pipeline"}

def module_of(rel):
    parts = rel[:-3].split(os.sep)
    if parts[-1] == "mod":
        parts = parts[:-1]
    if not parts or parts[0] in ("main", "lib"):
        return None
    if parts[0] in SPLIT and len(parts) > 1:
        return parts[0] + "::" + parts[1]
    return parts[0]

def deps(text, me):
    out = set()
    text = re.sub(r"//[^\n]*", "", text)
    # use crate::{a, b::c}
    for m in re.finditer(r"crate::\{([^}]*)\}", text):
        for item in m.group(1).split(","):
            out.add(item.strip().split("::")[0])
    for m in re.finditer(r"crate::(\w+)(?:::(\w+))?", text):
        a, b = m.group(1), m.group(2)
        out.add(a + "::" + b if a in SPLIT and b and b[0].islower() else a)
    # super:: inside a split folder refers to the folder's mod.rs
    if "::" in me:
        top = me.split("::")[0]
        for m in re.finditer(r"super::(\w+)", text):
            name = m.group(1)
            out.add(top + "::" + name if os.path.exists(os.path.join(ROOT, top, name + ".rs")) else top)
    return {d for d in out if d and d != me and d not in ("self",)}

graph = {}
for dirpath, _, files in os.walk(ROOT):
    for f in files:
        if f.endswith(".rs"):
            rel = os.path.relpath(os.path.join(dirpath, f), ROOT)
            me = module_of(rel)
            if me is None:
                continue
            graph.setdefault(me, set()).update(deps(open(os.path.join(dirpath, f)).read(), me))
mods = set(graph)
for k in graph:
    graph[k] = {d for d in graph[k] if d in mods or d.split("::")[0] in mods}
    graph[k] = {d if d in mods else d.split("::")[0] for d in graph[k]} - {k}

# Strongly connected components (Tarjan).
index, low, stack, on, sccs, i = {}, {}, [], set(), [], [0]
def visit(v):
    index[v] = low[v] = i[0]; i[0] += 1; stack.append(v); on.add(v)
    for w in graph.get(v, ()):
        if w not in index:
            visit(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v: break
        sccs.append(sorted(comp))
sys.setrecursionlimit(10000)
for v in sorted(graph):
    if v not in index:
        visit(v)
cycles = [c for c in sccs if len(c) > 1]
if "--graph" in sys.argv:
    for k in sorted(graph):
        print(f"{k} -> {', '.join(sorted(graph[k]))}")
for c in cycles:
    print("cycle: " + " <-> ".join(c))
sys.exit(1 if cycles else 0)
