"""The import closure that the rules list as code inputs."""
import textwrap
from pathlib import Path

from lemflow.code_deps import import_closure, imported_modules


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")


def make_package(root):
    pkg = root / "lemflow"
    write(pkg / "__init__.py", "")
    write(pkg / "a.py", "from .b import thing\n")
    write(pkg / "b.py", "def thing():\n    from lemflow.sub import c\n")
    write(pkg / "sub" / "__init__.py", "")
    write(pkg / "sub" / "c.py", "from ..d import x\nimport numpy\n")
    write(pkg / "d.py", "x = 1\n")
    write(pkg / "unused.py", "")
    return pkg


def names(paths, pkg):
    return sorted(str(p).split(str(pkg.resolve()) + "/")[1] for p in paths)


def test_closure_follows_relative_lazy_and_nested_imports(tmp_path):
    pkg = make_package(tmp_path)
    script = tmp_path / "script.py"
    write(script, "import argparse\n\ndef main():\n    from lemflow.a import thing\n")
    closure = import_closure(str(script), str(pkg))
    assert names(closure, pkg) == ["__init__.py", "a.py", "b.py", "d.py", "sub/__init__.py", "sub/c.py"]


def test_from_package_import_module_counts_the_module(tmp_path):
    pkg = make_package(tmp_path)
    script = tmp_path / "s.py"
    write(script, "from lemflow import d\nfrom lemflow.d import x\n")
    assert imported_modules(script, pkg) == {"lemflow", "lemflow.d"}


def test_every_workflow_script_resolves(repo):
    """Every lemflow import of every workflow script names a real module (a typo would make the
    closure silently short)."""
    import ast

    package = repo / "src" / "lemflow"
    for script in sorted((repo / "workflow_scripts").glob("*.py")):
        named = {node.module for node in ast.walk(ast.parse(script.read_text(encoding="utf-8")))
                 if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("lemflow")}
        assert named <= imported_modules(script, package), script.name


def test_every_rule_lists_its_scripts_import_closure(repo):
    """Each rule that runs a workflow script (`script=script("x.py")`) lists `code=script_code("x.py")`,
    the script's import closure, and runs nothing but `{input.script}`: a module a script imports,
    directly or not, is always an input of the rules that run it."""
    import re

    rules = {p.name: p.read_text(encoding="utf-8") for p in sorted((repo / "rules").glob("*.smk"))}
    checked = 0
    for name, text in rules.items():
        assert "pkg(" not in text, f"{name}: a hand-kept code list"
        for block in re.split(r"\n(?=rule |checkpoint )", text)[1:]:
            scripts = re.findall(r'script=script\("([^"]+)"\)', block)
            code = re.findall(r'code=script_code\("([^"]+)"\)', block)
            rule = block.split(":", 1)[0]
            assert scripts == code, f"{name} {rule}: scripts {scripts} but code inputs of {code}"
            if "python " in block:
                assert scripts and "{input.script}" in block, f"{name} {rule}: runs python without a declared script"
                checked += 1
    assert checked >= 20
    # and the closure really covers what the scripts import: report.py reaches every module of the
    # report package (through its __init__), and nmt_eval, stats and report_pretraining through them
    package = (repo / "src" / "lemflow").resolve()
    closure = import_closure(str(repo / "workflow_scripts" / "report.py"), str(package))
    reached = {Path(p).relative_to(package).as_posix() for p in closure}
    report_modules = {f"report/{p.name}" for p in (package / "report").glob("*.py")}
    assert len(report_modules) > 2
    assert report_modules | {"__init__.py", "nmt_eval.py", "errors.py", "stats.py", "report_pretraining.py"} <= reached
