#!/usr/bin/env python3
"""The core's module dependency graph, from its `crate::` paths.

Each top-level module of core/src (a file `x.rs` or a folder `x/`) is a
node; a `crate::y` path in a file of module x (in `use` lines or in code) is
an edge x -> y. Prints the layers bottom to top and every cycle (a strongly
connected component of more than one module). With --check, exits 1 when
there is a cycle.
"""
import re
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[1] / "core" / "src"
IGNORED = {"lib", "error"}  # the crate root re-exports everything; `error` is below all (its macros are named `crate::fail!`)


def module_of(path: Path) -> str:
    rel = path.relative_to(CORE)
    return rel.parts[0].removesuffix(".rs")


def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for path in sorted(CORE.rglob("*.rs")):
        source = module_of(path)
        if source in IGNORED:
            continue
        edges.setdefault(source, set())
        text = re.sub(r"//[^\n]*", "", path.read_text())  # comments and doc links are not dependencies
        for group in re.findall(r"crate::\{([^}]*)\}", text):
            for name in re.findall(r"\b([a-z_][a-z0-9_]*)\b", group):
                edges[source].add(name)
        for name in re.findall(r"crate::([a-z_][a-z0-9_]*)", text):
            edges[source].add(name)
    modules = set(edges)
    return {m: {t for t in targets if t in modules and t != m and t not in IGNORED} for m, targets in edges.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    # Tarjan's strongly connected components.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def layers(edges: dict[str, set[str]]) -> list[list[str]]:
    left = dict(edges)
    out = []
    while left:
        layer = sorted(m for m, targets in left.items() if not (targets & left.keys()))
        if not layer:  # the rest is in cycles
            out.append(sorted(left))
            break
        out.append(layer)
        for m in layer:
            del left[m]
    return out


def main() -> int:
    edges = graph()
    loops = cycles(edges)
    for k, layer in enumerate(layers(edges)):
        print(f"layer {k}: {', '.join(layer)}")
    for loop in loops:
        inner = {m: sorted(edges[m] & set(loop)) for m in loop}
        print("cycle: " + "; ".join(f"{m} -> {', '.join(t)}" for m, t in inner.items()))
    if "--check" in sys.argv and loops:
        print(f"{len(loops)} import cycle(s) in core/src", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
