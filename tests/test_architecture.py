"""The package's shape: module-level imports form no circle (a module can be read knowing only
those below it)."""
import ast
from pathlib import Path

import automl

PACKAGE = Path(automl.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """automl modules imported at module level (not under ``if TYPE_CHECKING``, not in functions)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        for child in ast.walk(node) if isinstance(node, (ast.Import, ast.ImportFrom, ast.If, ast.Try)) else []:
            if isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    parent = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join(parent + ([base] if base else []))
                if base.startswith("automl"):
                    found.add(base)
            elif isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names if alias.name.startswith("automl"))
    return found


def test_module_level_imports_form_no_circle():
    modules = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph = {name: {m for m in _imports(path) if m in modules and m != name} for name, path in modules.items()}
    # A package's __init__ importing its own submodules is how a package exposes them, not a circle.
    for name in graph:
        if modules[name].name == "__init__.py":
            graph[name] = {m for m in graph[name] if not m.startswith(name + ".")}
    assert "automl.ensemble.search" in graph["automl.estimator"]  # the graph sees relative imports
    assert "automl.ensemble.search" not in graph["automl.ensemble.base"]  # hooks are typed by a protocol
    state, cycle = {}, []

    def visit(node, stack):
        state[node] = "open"
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                cycle.extend(stack[stack.index(target):] + [target])
                return True
            if target not in state and visit(target, stack + [target]):
                return True
        state[node] = "done"
        return False

    for start in sorted(graph):
        if start not in state and visit(start, [start]):
            break
    assert not cycle, " -> ".join(cycle)
