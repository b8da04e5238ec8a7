"""Imports run one way, down the layers of DESIGN.md: no module imports a layer above its own."""

import ast
from pathlib import Path

import dexterous

LAYERS = {
    "contracts": 0, "catalog": 0, "cluster": 0, "assets": 0, "progress": 0,
    "scenes": 1, "render": 2, "envs": 3, "gallery": 4, "video": 4, "sim": 4, "planning": 4,
    "demos": 5, "mpc": 6, "rl": 6, "experiments": 7, "commands": 8, "cli": 9,
}
"""Each part of the package by layer: a module may import its own part and lower layers only.
planning sits beside sim and may import only the contracts (tests/planning checks that)."""
ROOT = Path(dexterous.__file__).parent


def _imports(path: Path) -> set[str]:
    """The dexterous parts a module imports (at any depth of its code, lazy imports included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = [node.module or ""] if isinstance(node, ast.ImportFrom) else (
            [alias.name for alias in node.names] if isinstance(node, ast.Import) else [])
        if isinstance(node, ast.ImportFrom) and node.module == "dexterous":  # from dexterous import commands
            names = [f"dexterous.{alias.name}" for alias in node.names]
        found |= {name.split(".")[1] for name in names if name.startswith("dexterous.")}
    return {part for part in found if (ROOT / part).is_dir() or (ROOT / f"{part}.py").is_file()}  # not names


def _part(path: Path) -> str:
    relative = path.relative_to(ROOT)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def test_every_part_of_the_package_has_a_layer():
    parts = {_part(p) for p in ROOT.rglob("*.py")} - {"__init__"}
    assert parts == set(LAYERS)


def test_no_module_imports_a_layer_above_its_own():
    upward = []
    for path in sorted(ROOT.rglob("*.py")):
        part = _part(path)
        if part == "__init__":
            continue
        for imported in _imports(path) - {part}:
            if LAYERS[imported] >= LAYERS[part] and LAYERS[part] > 0:
                upward.append(f"{path.relative_to(ROOT)} imports {imported}")
            elif LAYERS[part] == 0 and imported != part:
                upward.append(f"{path.relative_to(ROOT)} (ground level) imports {imported}")
    assert not upward, "imports that run up or sideways:\n" + "\n".join(upward)
