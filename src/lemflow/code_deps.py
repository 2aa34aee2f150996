"""Which package source files a workflow script runs: the transitive closure of its `lemflow`
imports, found by reading the source (nothing is imported).

The rules list these files as inputs (`code=script_code("mine.py")`), so that editing a module
reruns exactly the jobs whose scripts import it, directly or through another module, and a new
import can never be forgotten in a hand-kept list. Imports inside functions count too (the
workflow scripts import heavy modules lazily).
"""
from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

PACKAGE = "lemflow"


def _module_file(package_dir: Path, dotted: str) -> Path | None:
    """`lemflow.x.y` -> package_dir/x/y.py or package_dir/x/y/__init__.py (None if neither)."""
    parts = dotted.split(".")[1:]
    if not parts:
        return package_dir / "__init__.py"
    base = package_dir.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _module_name(package_dir: Path, path: Path) -> str:
    relative = path.relative_to(package_dir).with_suffix("")
    parts = [p for p in relative.parts if p != "__init__"]
    return ".".join([PACKAGE, *parts])


def imported_modules(path: Path, package_dir: Path) -> set[str]:
    """Dotted names of the package modules that the source file at ``path`` imports (absolute
    `lemflow...` imports and, inside the package, relative ones; `from lemflow import x` counts x
    when x is a module)."""
    tree = ast.parse(Path(path).read_text(encoding="utf-8"), filename=str(path))
    path, package_dir = Path(path).resolve(), Path(package_dir).resolve()
    inside = path.is_relative_to(package_dir)
    current = _module_name(package_dir, path) if inside else None
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == PACKAGE)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                if not inside:
                    continue
                anchor = current.split(".")
                if path.name != "__init__.py":
                    anchor = anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            elif node.module and node.module.split(".")[0] == PACKAGE:
                base = node.module
            else:
                continue
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
    return {name for name in found if _module_file(package_dir, name) is not None}


@lru_cache(maxsize=None)
def import_closure(path: str, package_dir: str) -> tuple[str, ...]:
    """Sorted package source files reachable from ``path`` through imports, with every
    package `__init__.py` on the way (Python runs them on import)."""
    package = Path(package_dir).resolve()
    seen: set[Path] = set()
    todo = [Path(path).resolve()]
    while todo:
        current = todo.pop()
        for name in imported_modules(current, package):
            module_file = _module_file(package, name).resolve()
            if module_file not in seen:
                seen.add(module_file)
                todo.append(module_file)
    for module_file in list(seen):
        parent = module_file.parent
        while parent.is_relative_to(package):
            init = parent / "__init__.py"
            if init.is_file():
                seen.add(init)
            if parent == package:
                break
            parent = parent.parent
    return tuple(sorted(str(p) for p in seen))
