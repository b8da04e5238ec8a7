"""Planners see physics only through `contracts.protocol` (and read the environments' table,
`catalog`, and the shared config checks): no module here may import MuJoCo."""

import ast
from pathlib import Path

import dexterous.planning

ALLOWED_INTERNAL = ("dexterous.planning", "dexterous.contracts.protocol", "dexterous.contracts.configs",
                    "dexterous.catalog")


def test_planning_imports_nothing_but_numpy_and_the_protocol():
    modules = sorted(Path(dexterous.planning.__file__).parent.glob("*.py"))
    assert len(modules) >= 6
    for module in modules:
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert not name.startswith("mujoco"), f"{module.name} imports {name}"
                if name.startswith("dexterous"):
                    assert name.startswith(ALLOWED_INTERNAL), f"{module.name} imports {name}"
