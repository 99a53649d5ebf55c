"""The house rules, read from the source with ast: folders by concern, each importing only the
folders below it; only the HTTP folders import the web framework; nobody imports another
module's private names; no module grows past 350 lines; each module says its job."""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app"
ALL_MODULES = sorted(APP.rglob("*.py"))
MODULES = [p for p in ALL_MODULES if "migrations" not in p.relative_to(APP).parts]
PACKAGES = sorted(p.name for p in APP.iterdir() if (p / "__init__.py").is_file())

# What each folder may import of the others: inner folders first. main.py wires them all.
MAY_IMPORT: dict[str, set[str]] = {
    "core": set(),
    "i18n": {"core"},
    "timezone": {"core"},
    "models": {"core", "i18n", "timezone"},
    "crud": {"core", "i18n", "timezone", "models"},
    "readmodel": {"core", "i18n", "timezone", "models", "crud", "ical"},
    "ical": {"core", "i18n", "timezone", "models", "readmodel"},
    "feeds": {"core", "i18n", "timezone", "models", "crud", "readmodel", "ical"},
    "store": {"core", "i18n", "timezone", "models", "crud", "readmodel"},
    "auth": {"core", "models"},
    "delivery": {"core", "i18n", "timezone", "models", "crud", "readmodel", "ical"},
    "console": {"core", "i18n", "timezone", "models", "crud", "readmodel", "delivery"},
    "api": {"core", "i18n", "timezone", "models", "crud", "readmodel", "ical", "feeds", "auth"}
    | {"delivery", "console", "edge", "store"},
    "edge": {"core", "i18n", "ical", "feeds"},
    "cli": {"core", "i18n", "models", "crud", "readmodel", "store", "auth", "delivery", "edge"},
}
# The routes, the HTTP layers and the application factory; everything else is plain Python.
WEB_FRAMEWORKS = ("fastapi", "starlette")
WEB_FOLDERS = {"api", "edge"}
# The one seam onto the tz library's private transition tables (pytz's _utc_transition_times).
TZ_SEAM = APP / "timezone" / "tzprovider.py"
MAX_LINES = 350
MAX_LOOSE_MODULES = 4


def _name(path: Path) -> str:
    return str(path.relative_to(APP.parent))


def _folder(path: Path) -> str:
    """The folder of app/ a module lives in ('main' for app/main.py)."""
    relative = path.relative_to(APP)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def _module_of(path: Path) -> str:
    parts = list(path.relative_to(APP.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = _module_of(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    package = package[: len(package) - node.level + 1]
    return ".".join([*package, *([node.module] if node.module else [])])


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[str, list[str]]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.append((_resolve(path, node), [alias.name for alias in node.names]))
    return found


def _folders_imported(path: Path) -> set[str]:
    folders = set()
    for module, names in _imports(path):
        parts = module.split(".")
        if parts[0] != "app":
            continue
        folders |= {parts[1]} if len(parts) > 1 else set(names)
    return folders - {_folder(path)}


def _private_uses(path: Path) -> list[str]:
    """`from app.x import _y`, or `x._y` where x is a project module imported here."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    project_aliases: set[str] = set()
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = _resolve(path, node)
            if module.split(".")[0] != "app":
                continue
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"{module}.{alias.name}")
                project_aliases.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "app":
                    project_aliases.add(alias.asname or alias.name.split(".")[0])
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and isinstance(node.value, ast.Name)
            and node.value.id in project_aliases
        ):
            found.append(f"{node.value.id}.{node.attr}")
        if (
            path != TZ_SEAM
            and isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in {"getattr", "setattr", "hasattr"}
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and node.args[1].value.startswith("_")
            and not node.args[1].value.startswith("__")
        ):
            found.append(f"getattr(..., {node.args[1].value!r})")
    return found


def test_app_is_folders_by_concern_with_few_loose_modules() -> None:
    loose = sorted(p.name for p in APP.glob("*.py"))
    assert len(loose) <= MAX_LOOSE_MODULES, f"app/ has loose modules {loose}: give each a folder"
    assert set(PACKAGES) == set(MAY_IMPORT), "a folder without import rules, or rules for none"


def test_each_folder_imports_only_the_folders_below_it() -> None:
    wrong = {
        _name(path): sorted(extra)
        for path in MODULES
        if _folder(path) in MAY_IMPORT
        and (extra := _folders_imported(path) - MAY_IMPORT[_folder(path)])
    }
    assert not wrong, f"imports across the layering: {wrong}"


def test_each_folder_says_what_it_owns_and_what_it_may_import() -> None:
    for package in PACKAGES:
        docstring = ast.get_docstring(ast.parse((APP / package / "__init__.py").read_text()))
        assert docstring, f"app/{package}/__init__.py does not say what the folder owns"
        assert "import" in docstring.lower(), f"app/{package}/__init__.py: what may it import?"


def test_only_the_http_folders_import_the_web_framework() -> None:
    offending = {
        _name(path): found
        for path in MODULES
        if _folder(path) not in WEB_FOLDERS | {"main"}
        and (found := [m for m, _ in _imports(path) if m.split(".")[0] in WEB_FRAMEWORKS])
    }
    assert not offending, f"only app/main.py, app/api/ and app/edge/ may: {offending}"


def test_no_module_uses_another_modules_private_names() -> None:
    offending = {_name(path): uses for path in ALL_MODULES if (uses := _private_uses(path))}
    assert not offending, f"reaching into private names: {offending}"


def test_no_module_is_over_the_line_limit() -> None:
    sizes = {_name(p): len(p.read_text(encoding="utf-8").splitlines()) for p in ALL_MODULES}
    over = {name: lines for name, lines in sizes.items() if lines > MAX_LINES}
    assert not over, f"split these by job (over {MAX_LINES} lines): {over}"


def test_every_module_opens_with_the_line_saying_its_job() -> None:
    silent = [_name(p) for p in MODULES if not ast.get_docstring(ast.parse(p.read_text()))]
    assert not silent, f"no opening line saying their job: {silent}"


def test_the_tests_are_laid_out_like_app() -> None:
    tests = APP.parent / "tests"
    missing = [name for name in PACKAGES if not (tests / name / "__init__.py").is_file()]
    assert not missing, f"no tests/<package>/ for: {missing}"
    empty = [name for name in PACKAGES if not list((tests / name).glob("test_*.py"))]
    assert not empty, f"tests/<package>/ without a test module: {empty}"


# Where a write's side effects are hooked onto every session: the one list in crud/common.py
# (revision marks, the write effects), and the watcher's wake-up after a commit.
SESSION_HOOKS = {APP / "crud" / "common.py", APP / "core" / "revision_watch.py"}


def _session_hooks(path: Path) -> bool:
    """Whether `path` hooks a function onto every Session (event.listen(s_for)(Session...))."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"listen", "listens_for"}
            and node.args
            and isinstance(node.args[0], ast.Name)
            and "Session" in node.args[0].id
        ):
            return True
    return False


def test_a_writes_side_effects_are_hooked_in_one_place() -> None:
    hooked = {path for path in ALL_MODULES if _session_hooks(path)}
    assert hooked <= SESSION_HOOKS, f"session hooks outside crud/common.py: {hooked}"
    from app.crud.common import WRITE_EFFECTS
    from app.delivery import notify

    assert [f.__module__ for f in WRITE_EFFECTS] == [notify.__name__]


def test_the_checks_catch_what_they_forbid(tmp_path: Path) -> None:
    # The checks must see both spellings of a private import, or they pass by seeing nothing.
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import fastapi\nfrom app.crud import _meeting_filter\nfrom app import crud\n"
        "crud._change_meeting\ngetattr(crud, '_feeds')\n",
        encoding="utf-8",
    )
    assert _private_uses(probe) == [
        "app.crud._meeting_filter",
        "crud._change_meeting",
        "getattr(..., '_feeds')",
    ]
    assert "fastapi" in [module for module, _ in _imports(probe)]
