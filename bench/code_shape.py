"""Code shape figures: module and function sizes (median, p90), untyped dicts and raw sessions in service layers.

    python bench/code_shape.py [ROOT]

Counts source lines of every function (its body and signature, docstring included) and every module under the
services' and the platform's `src/`, the way the cosmicpython comparison in style.md counts them.
"""

from __future__ import annotations

import ast
import re
import statistics
import sys
from pathlib import Path

SOURCES = ("platform/src", "services/registry/src", "services/identity/src", "services/referral/src",
           "services/reporting/src")


def _quantile(values: list[int], q: float) -> float:
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, int(q * len(ordered)))]) if ordered else 0.0


def _functions(tree: ast.AST) -> list[int]:
    return [node.end_lineno - node.lineno + 1 for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno is not None]


def _service_layer_counts(root: Path) -> dict[str, tuple[int, int]]:
    counts = {}
    for layer in sorted(root.glob("services/*/src/*/service_layer")):
        text = "\n".join(p.read_text(encoding="utf-8") for p in layer.rglob("*.py"))
        sessions = len(re.findall(r"\w+: AsyncSession\b", text))
        counts[layer.parts[-4]] = (text.count("dict[str, Any]"), sessions)
    return counts


def main(root: Path) -> None:
    """Print the figures for the tree at `root`."""
    modules, functions = [], []
    for source in SOURCES:
        for path in (root / source).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            if not text.strip():
                continue
            modules.append(len(text.splitlines()))
            functions.extend(_functions(ast.parse(text)))
    print(f"modules: {len(modules)}, lines median {statistics.median(modules):.0f}, p90 {_quantile(modules, .9):.0f}")
    print(f"functions: {len(functions)}, lines median {statistics.median(functions):.0f}, "
          f"p90 {_quantile(functions, .9):.0f}")
    everywhere = "\n".join(p.read_text(encoding="utf-8") for s in SOURCES for p in (root / s).rglob("*.py"))
    print(f"dict[str, Any] in all service and platform sources: {everywhere.count('dict[str, Any]')}")
    for service, (dicts, sessions) in _service_layer_counts(root).items():
        print(f"{service} service layer: dict[str, Any] {dicts}, AsyncSession parameters {sessions}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1])
