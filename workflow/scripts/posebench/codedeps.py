"""The code a step runs, derived from its imports: a script and every module under
workflow/scripts that it imports, directly or through other modules, read with `ast` (nothing is
imported). A step's jobs list this as input, so a change to any of it re-runs them and a new
import can never be missed. Modules loaded by name at run time (a backend's adapter, a runtime
beyond eager) are not seen here: the rules add them per job."""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Iterator, List, Optional


def module_file(scripts_dir: Path, module: str) -> Optional[Path]:
    """The file of a dotted module name under scripts_dir (a package's __init__.py), if ours."""
    base = scripts_dir.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def module_name(scripts_dir: Path, path: Path) -> str:
    parts = list(path.relative_to(scripts_dir).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(scripts_dir: Path, path: Path) -> Iterator[str]:
    """Every module an import statement in the file names, at any depth of the file (imports
    inside functions count: they run too), relative imports made absolute."""
    package = module_name(scripts_dir, path)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            yield base
            # `from package import module` imports the module too
            yield from ("%s.%s" % (base, alias.name) for alias in node.names)


def with_parents(module: str) -> List[str]:
    """Importing a.b.c runs a/__init__.py and a/b/__init__.py first."""
    parts = module.split(".")
    return [".".join(parts[:end]) for end in range(1, len(parts) + 1)]


def import_closure(scripts_dir: Path, script: str) -> List[str]:
    """`script` (relative to scripts_dir) and every module of ours it imports, transitively, as
    sorted paths relative to scripts_dir."""
    scripts_dir = Path(scripts_dir)
    seen = set()
    pending = [scripts_dir / script]
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        for name in imported_names(scripts_dir, path):
            for module in with_parents(name):
                found = module_file(scripts_dir, module)
                if found and found not in seen:
                    pending.append(found)
    return sorted(str(path.relative_to(scripts_dir)) for path in seen)
