"""The solution blocks of the layer and classifier modules can be stripped into a starter kit.

A starter kit (workbook.starter) replaces each block between the official markers by `pass`.
Code outside the markers must then still run: it may not read a name that only the
stripped block assigned (it would raise NameError in the student's starter file).
"""
import ast
import builtins

import pytest

from cs231n import config
from workbook.starter import END, START, strip_solutions

MODULES = ["layers.py", "layer_utils.py", "fast_layers.py", "im2col.py", "gradient_check.py",
           "_checks.py", *[f"classifiers/{p.name}" for p in
                           sorted((config.REPO_ROOT / "cs231n" / "classifiers").glob("*.py"))]]


def _functions(tree: ast.AST) -> dict[str, ast.AST]:
    """Every function of a module by qualified name (Class.method, outer.inner)."""
    found = {}

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                if not isinstance(child, ast.ClassDef):
                    found[name] = child
                visit(child, name + ".")
            else:
                visit(child, prefix)
    visit(tree, "")
    return found


def _module_names(tree: ast.Module) -> set[str]:
    """Names a module defines at its top level (imports, assignments, functions, classes)."""
    names = set()
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(stmt.name)
        else:
            names |= _stored(stmt)
    return names


def _stored(func: ast.AST) -> set[str]:
    """Names a function (or statement) assigns, its parameters included."""
    args = getattr(func, "args", None)
    names = {a.arg for a in ast.walk(args) if isinstance(a, ast.arg)} if args else set()
    for node in ast.walk(func):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node is not func:
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return names


def _loaded(func: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(func) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def names_only_inside_markers(source: str) -> list[str]:
    """'function: name' for each name read outside the markers but assigned only inside."""
    stripped, _ = strip_solutions(source)
    before, after = _functions(ast.parse(source)), _functions(ast.parse(stripped))
    module_names = _module_names(ast.parse(stripped)) | set(dir(builtins))
    problems = []
    for qualname, func in after.items():
        lost = _stored(before[qualname]) - _stored(func) - module_names
        problems += [f"{qualname}: {name}" for name in sorted(_loaded(func) & lost)]
    return problems


def test_the_check_finds_a_name_defined_only_inside_the_markers():
    bad = f"def f(x):\n    {START}\n    y = 2 * x\n    {END}\n    return y\n"
    good = f"def f(x):\n    y = None\n    {START}\n    y = 2 * x\n    {END}\n    return y\n"
    assert names_only_inside_markers(bad) == ["f: y"]
    assert names_only_inside_markers(good) == []


@pytest.mark.parametrize("module", MODULES)
def test_no_code_outside_the_markers_uses_a_name_defined_only_inside(module):
    source = (config.REPO_ROOT / "cs231n" / module).read_text()
    stripped, _ = strip_solutions(source, module)
    compile(stripped, module, "exec")          # the starter file is valid Python
    assert names_only_inside_markers(source) == []
