"""Write cupy_names.py, the names (and parameter lists) that CuPy really provides, read from
CuPy's own sources: the strict stand-in in this folder allows exactly these and nothing else.

To refresh it for another CuPy release, fetch that release's source archive (only fetch and
unpack it; building CuPy needs CUDA and is not wanted), then run this script on it:

    python tests/fakecupy/generate_names.py --download 14.2.0 --keep /tmp/cupy-src
    python tests/fakecupy/generate_names.py /path/to/cupy-14.2.0.tar.gz   # or an unpacked tree

`--download` asks PyPI's JSON API for the release's sdist and checks its SHA-256 (`pip download
--no-binary :all: cupy==X` fetches the same file but then builds CuPy's build dependencies to
read its metadata, so it is not used). The script reads the sources as text: `.py` files with
`ast`, Cython (`.pyx`, `.pxd`) with line patterns; nothing from CuPy is imported or run.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import re
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

OUTPUT = Path(__file__).with_name("cupy_names.py")

# The modules whose public names the stand-in offers (its label -> CuPy's module), and the
# classes whose members it offers (its label -> (CuPy's module, class)).
MODULES = {
    "cupy": "cupy",
    "cupy.random": "cupy.random",
    "cupy.linalg": "cupy.linalg",
    "cupy.fft": "cupy.fft",
    "cupy.lib": "cupy.lib",
    "cupy.lib.stride_tricks": "cupy.lib.stride_tricks",
    "cupy.cuda": "cupy.cuda",
    "cupy.cuda.runtime": "cupy_backends.cuda.api.runtime",
    "cupyx": "cupyx",
}
CLASSES = {
    "ndarray": ("cupy._core.core", "ndarray"),
    "ufunc": ("cupy._core._kernel", "ufunc"),
    "gufunc": ("cupy._core._gufuncs", "_GUFunc"),  # cupy.matmul
    "Flags": ("cupy._core.flags", "Flags"),
    "random.Generator": ("cupy.random._generator_api", "Generator"),
    "cuda.Device": ("cupy.cuda.device", "Device"),
    "cuda.Stream": ("cupy.cuda.stream", "Stream"),
    "cuda.MemoryPointer": ("cupy.cuda.memory", "MemoryPointer"),
    "cuda.MemoryPool": ("cupy.cuda.memory", "MemoryPool"),
    "cuda.PinnedMemoryPool": ("cupy.cuda.pinned_memory", "PinnedMemoryPool"),
}
# Calls whose result is a ufunc object (cupy.add = create_arithmetic('add', ...) and the like).
UFUNC_FACTORY = re.compile(r"(create_\w*ufunc|create_arithmetic|create_comparison)\s*\(")
GUFUNC_FACTORY = re.compile(r"_GUFunc\s*\(")  # cupy.matmul: a gufunc, no ufunc methods


# --- reading the source archive --------------------------------------------------------------


class Sources:
    """The text of CuPy's source files, by path inside the tree (cupy/_core/core.pyx)."""

    def __init__(self, location: Path):
        self.files: dict[str, str] = {}
        if location.is_dir():
            for path in location.rglob("*"):
                if path.suffix in (".py", ".pyx", ".pxd") and path.is_file():
                    self.files[path.relative_to(location).as_posix()] = path.read_text("utf-8")
        else:
            with tarfile.open(location) as archive:
                for member in archive.getmembers():
                    if member.isfile() and member.name.endswith((".py", ".pyx", ".pxd")):
                        inner = member.name.split("/", 1)[1]  # drop "cupy-14.2.0/"
                        self.files[inner] = archive.extractfile(member).read().decode("utf-8")
        if "cupy/_version.py" not in self.files:
            raise SystemExit(f"{location}: not a CuPy source tree or sdist (no cupy/_version.py)")

    def version(self) -> str:
        return re.search(r"__version__\s*=\s*'([^']+)'", self.files["cupy/_version.py"]).group(1)

    def module_file(self, module: str) -> str | None:
        """The file that defines a dotted module: .py, .pyx or a package's __init__.py."""
        base = module.replace(".", "/")
        for candidate in (f"{base}.py", f"{base}.pyx", f"{base}/__init__.py"):
            if candidate in self.files:
                return candidate
        return None

    def is_module(self, module: str) -> bool:
        return self.module_file(module) is not None


def download_sdist(version: str, keep: Path | None) -> Path:
    """Fetch cupy-VERSION.tar.gz from PyPI (its published SHA-256 checked); return its path."""
    with urllib.request.urlopen("https://pypi.org/pypi/cupy/json") as response:
        files = json.load(response)["releases"].get(version)
    if not files:
        raise SystemExit(f"PyPI has no CuPy release {version}")
    (sdist,) = [entry for entry in files if entry["packagetype"] == "sdist"]
    with urllib.request.urlopen(sdist["url"]) as response:
        data = response.read()
    if hashlib.sha256(data).hexdigest() != sdist["digests"]["sha256"]:
        raise SystemExit(f"{sdist['filename']}: SHA-256 differs from PyPI's")
    folder = keep or Path(tempfile.gettempdir())
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / sdist["filename"]
    path.write_bytes(data)
    return path


# --- what a module defines -------------------------------------------------------------------


@dataclass
class Symbol:
    """One top-level name of a module: what it is, or where to look next."""

    kind: str  # "def", "class", "ufunc", "gufunc", "lazy", "module", "numpy", "alias", "value"
    params: tuple | None = None  # "def": the parameter list, defaults left out ("axis=")
    target: tuple | None = None  # "alias": (module, name); "module"/"numpy": (dotted name,)


@dataclass
class ModuleTable:
    symbols: dict[str, Symbol] = field(default_factory=dict)
    lazy: set[str] = field(default_factory=set)  # names served by a module __getattr__


def params_from_ast(arguments: ast.arguments) -> tuple:
    """("a", "axis=", "*", "copy=", "**kwargs") from a Python signature."""
    out = []
    positional = arguments.posonlyargs + arguments.args
    first_default = len(positional) - len(arguments.defaults)
    for index, arg in enumerate(positional):
        out.append(arg.arg + ("=" if index >= first_default else ""))
        if arguments.posonlyargs and index == len(arguments.posonlyargs) - 1:
            out.append("/")
    if arguments.vararg:
        out.append("*" + arguments.vararg.arg)
    elif arguments.kwonlyargs:
        out.append("*")
    for arg, default in zip(arguments.kwonlyargs, arguments.kw_defaults):
        out.append(arg.arg + ("" if default is None else "="))
    if arguments.kwarg:
        out.append("**" + arguments.kwarg.arg)
    return tuple(out)


def split_top_level(text: str) -> list[str]:
    """Split at the commas that are not inside brackets or quotes."""
    parts, depth, quote, current = [], 0, None, ""
    for char in text:
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        current += char
    if current.strip():
        parts.append(current)
    return [part.strip() for part in parts]


def params_from_cython(text: str, drop_self: bool) -> tuple:
    """The parameter list of a Cython signature such as
    `self, _ndarray_base b, _ndarray_base out=None, *, bint copy=False`; a method's first
    parameter (self, or x of Cython's binary operators `__add__(x, y)`) left out."""
    out = []
    for part in split_top_level(re.sub(r"#[^\n]*", "", text)):
        declaration, has_default = (part.split("=", 1)[0], True) if "=" in part else (part, False)
        declaration = declaration.strip()
        if declaration in ("*", "/"):
            out.append(declaration)
            continue
        stars = re.match(r"\*{0,2}", declaration).group()
        name = re.findall(r"\w+", declaration)[-1]
        out.append(stars + name + ("=" if has_default else ""))
    if drop_self and out and out[0] in ("self", "cls", "x"):
        out = out[1:]
    return tuple(out)


def module_aliases_py(tree: ast.Module) -> dict[str, str]:
    """Local names bound to modules by `import a.b as c` (c -> a.b)."""
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                aliases[alias.asname or alias.name.split(".")[0]] = (
                    alias.name if alias.asname else alias.name.split(".")[0]
                )
    return aliases


def dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = dotted(node.value)
        return None if head is None else f"{head}.{node.attr}"
    return None


def table_from_python(source: str, module: str, sources: Sources) -> ModuleTable:
    tree = ast.parse(source)
    table = ModuleTable()
    imported_modules = module_aliases_py(tree)

    def bind_from(node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:  # relative: from the module's package, up level - 1 more
            is_package = sources.module_file(module).endswith("__init__.py")
            parts = module.split(".")[: len(module.split(".")) - node.level + is_package]
            base = ".".join(parts + ([base] if base else []))
        for alias in node.names:
            local = alias.asname or alias.name
            if base == "__future__":
                continue
            if base == "numpy" or base.startswith("numpy."):
                table.symbols[local] = Symbol("numpy", target=(f"{base}.{alias.name}",))
            elif sources.is_module(f"{base}.{alias.name}"):
                table.symbols[local] = Symbol("module", target=(f"{base}.{alias.name}",))
                imported_modules[local] = f"{base}.{alias.name}"
            else:
                table.symbols[local] = Symbol("alias", target=(base, alias.name))

    def visit(statements: list[ast.stmt]) -> None:
        for node in statements:  # later bindings win: the numpy >= 2 branches come last
            if isinstance(node, ast.ImportFrom):
                bind_from(node)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname and not alias.name.startswith("numpy"):
                        table.symbols[alias.asname] = Symbol("module", target=(alias.name,))
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if node.name == "__getattr__":
                    table.lazy |= set(re.findall(r"key == '(\w+)'", ast.unparse(node)))
                else:
                    table.symbols[node.name] = Symbol("def", params=params_from_ast(node.args))
            elif isinstance(node, ast.ClassDef):
                table.symbols[node.name] = Symbol("class")
            elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:  # sqrt = sqrt_fixed = _core.sqrt binds both
                    if isinstance(target, ast.Name):
                        table.symbols[target.id] = symbol_for_value(node.value, imported_modules)
            elif isinstance(node, ast.If):
                visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)

    visit(tree.body)
    return table


def symbol_for_value(value: ast.expr, imported_modules: dict[str, str]) -> Symbol:
    """What `name = value` binds: another name, a ufunc, or an opaque value."""
    if isinstance(value, ast.Call):
        called = ast.unparse(value.func) + "("
        if UFUNC_FACTORY.search(called):
            return Symbol("ufunc")
        if GUFUNC_FACTORY.search(called):
            return Symbol("gufunc")
    name = dotted(value)
    if name is None:
        return Symbol("value")
    if "." not in name:
        return Symbol("alias", target=("", name))  # a name of this same module
    head, attr = name.rsplit(".", 1)
    first = head.split(".")[0]
    if first in imported_modules:
        return Symbol("alias", target=(imported_modules[first] + head[len(first) :], attr))
    return Symbol("value")


CYTHON_DEF = re.compile(r"^(?:cpdef|def)\s+(?:[\w.\[\]&*]+\s+)*?(\w+)\s*\(", re.M)
CYTHON_CLASS = re.compile(r"^(?:cdef\s+)?class\s+(\w+)", re.M)
CYTHON_ASSIGN = re.compile(r"^(?:cdef\s+(?:[\w.]+\s+)?)?(\w+)\s*=\s*(.+)$", re.M)
CYTHON_FROM = re.compile(r"^from\s+([\w.]+)\s+import\s+(\([^)]*\)|[^\n]+)", re.M)
CYTHON_IMPORT_AS = re.compile(r"^import\s+([\w.]+)\s+as\s+(\w+)", re.M)


def signature_text(source: str, open_paren: int) -> str:
    """The text between a call's parentheses, starting after the opening one."""
    depth, index = 1, open_paren + 1
    while depth:
        depth += {"(": 1, ")": -1}.get(source[index], 0)
        index += 1
    return source[open_paren + 1 : index - 1]


def ufunc_factories(source: str) -> set[str]:
    """Top-level functions (def, cdef, cpdef) of a Cython module that return a new ufunc, such
    as _create_bit_op in _routines_binary.pyx."""
    factories = set()
    for match in re.finditer(r"^c?p?def\s+(?:[\w.]+\s+)*?(\w+)\s*\(", source, re.M):
        body_end = re.compile(r"^\S", re.M).search(source, match.end())
        body = source[match.end() : body_end.start() if body_end else len(source)]
        if re.search(r"return\s+[\w.]*" + UFUNC_FACTORY.pattern, body):
            factories.add(match.group(1))
    return factories


def table_from_cython(source: str, module: str, sources: Sources) -> ModuleTable:
    table = ModuleTable()
    factories = ufunc_factories(source)
    imported_modules = {}
    for match in CYTHON_IMPORT_AS.finditer(source):
        imported_modules[match.group(2)] = match.group(1)
    for match in CYTHON_FROM.finditer(source):
        base = match.group(1)
        for entry in split_top_level(match.group(2).strip("()").split("#")[0]):
            name, _, local = entry.partition(" as ")
            name, local = name.strip(), (local or name).strip()
            if not name:
                continue
            if base == "numpy":
                table.symbols[local] = Symbol("numpy", target=(f"numpy.{name}",))
            elif sources.is_module(f"{base}.{name}"):
                table.symbols[local] = Symbol("module", target=(f"{base}.{name}",))
                imported_modules[local] = f"{base}.{name}"
            else:
                table.symbols[local] = Symbol("alias", target=(base, name))
    for match in CYTHON_ASSIGN.finditer(source):
        name, value = match.group(1), match.group(2)
        if name in ("cdef", "cpdef", "ctypedef"):
            continue
        called = re.match(r"[\w.]+(?=\s*\()", value)
        if UFUNC_FACTORY.search(value.split("(")[0] + "(") or (
            called and called.group() in factories
        ):
            table.symbols[name] = Symbol("ufunc")
        elif GUFUNC_FACTORY.match(value):
            table.symbols[name] = Symbol("gufunc")
        elif re.fullmatch(r"[\w.]+", value.strip()):
            table.symbols[name] = symbol_for_value(
                ast.parse(value.strip()).body[0].value, imported_modules
            )
        else:
            table.symbols[name] = Symbol("value")
    for match in CYTHON_DEF.finditer(source):
        text = signature_text(source, match.end() - 1)
        params = params_from_cython(text, drop_self=False)
        table.symbols[match.group(1)] = Symbol("def", params=params)
    for match in CYTHON_CLASS.finditer(source):
        table.symbols[match.group(1)] = Symbol("class")
    return table


class Resolver:
    """Follows each public name of a module to its definition."""

    def __init__(self, sources: Sources):
        self.sources = sources
        self.tables: dict[str, ModuleTable] = {}

    def table(self, module: str) -> ModuleTable:
        if module not in self.tables:
            path = self.sources.module_file(module)
            text = self.sources.files[path] if path else ""
            parse = table_from_cython if path and path.endswith(".pyx") else table_from_python
            self.tables[module] = parse(text, module, self.sources) if path else ModuleTable()
        return self.tables[module]

    def resolve(self, module: str, name: str, depth: int = 0) -> Symbol:
        symbol = self.table(module).symbols.get(name)
        if symbol is None or depth > 20:
            return Symbol("value")
        if symbol.kind == "alias":
            target_module, target_name = symbol.target
            return self.resolve(target_module or module, target_name, depth + 1)
        return symbol

    def public_names(self, module: str) -> dict[str, Symbol]:
        table = self.table(module)
        names = {name: self.resolve(module, name) for name in table.symbols if public(name)}
        for submodule in self.imported_submodules(module):  # bound by importing them
            names.setdefault(submodule, Symbol("module", target=(f"{module}.{submodule}",)))
        names.update({name: Symbol("lazy") for name in table.lazy})
        if "__version__" in table.symbols:
            names["__version__"] = Symbol("value")
        return names

    def imported_submodules(self, module: str) -> set[str]:
        """Public subpackages that a package's __init__ imports from (`from cupy.lib._shape_base
        import ...` makes cupy.lib an attribute of cupy, as any import of a submodule does)."""
        path = self.sources.module_file(module)
        if path is None or not path.endswith("__init__.py"):
            return set()
        prefix = re.escape(module) + r"\.(\w+)"
        found = re.findall(rf"^\s*(?:from|import)\s+{prefix}", self.sources.files[path], re.M)
        return {
            name for name in found if public(name) and self.sources.is_module(f"{module}.{name}")
        }


def public(name: str) -> bool:
    return not name.startswith("_")


def public_member(name: str) -> bool:
    """Public names and the special methods (__add__, __array__...) of a class."""
    return public(name) or (name.startswith("__") and name.endswith("__"))


# --- what a class provides -------------------------------------------------------------------


CLASS_MEMBER = re.compile(
    r"^    (?:(?:cpdef|def)\s+(?:[\w.\[\]&*]+\s+)*?(?P<method>\w+)\s*\("
    r"|property\s+(?P<prop>\w+)\s*:"
    r"|(?P<attr>\w+)\s*=)",
    re.M,
)
READONLY = re.compile(r"^\s+(?:cdef\s+)?(?:readonly|public)\s+[\w.\[\]]+\s+(\w+)", re.M)


def class_body(source: str, name: str) -> tuple[str, list[str]] | None:
    """The indented body of `class name(...)` (or `cdef class`), and its base-class names."""
    header = re.search(rf"^(?:cdef\s+)?class\s+{name}\b(?:\(([^)]*)\))?\s*:", source, re.M)
    if header is None:
        return None
    body_end = re.compile(r"^\S", re.M).search(source, header.end())
    body = source[header.end() : body_end.start() if body_end else len(source)]
    bases = [base.strip().split(".")[-1] for base in (header.group(1) or "").split(",")]
    return body, [base for base in bases if base and base != "object"]


def class_members(sources: Sources, module: str, name: str) -> dict[str, tuple | None]:
    """Members of a class (its bases in the same module first): methods with their parameter
    lists, properties and attributes with None."""
    path = sources.module_file(module)
    source = sources.files[path]
    found = class_body(source, name)
    if found is None:
        raise SystemExit(f"class {name} not found in {path}")
    body, bases = found
    members: dict[str, tuple | None] = {}
    for base in bases:
        if class_body(source, base) is not None:
            members.update(class_members(sources, module, base))
    declarations = sources.files.get(path.rsplit(".", 1)[0] + ".pxd", "")
    declared = class_body(declarations, name) if declarations else None
    for text in (declared[0] if declared else "", body):
        members.update({attr: None for attr in READONLY.findall(text)})
    for match in CLASS_MEMBER.finditer(body):
        if match.group("method"):
            text = signature_text(body, match.end() - 1)
            members[match.group("method")] = params_from_cython(text, drop_self=True)
        else:
            members[match.group("prop") or match.group("attr")] = None
    members.update({attr: None for attr in re.findall(r"\bself\.(\w+)\s*=[^=]", body)})
    for decorated in re.finditer(r"^    @(property|\w+\.setter)\s*\n    def (\w+)", body, re.M):
        members[decorated.group(2)] = None
    return {member: value for member, value in members.items() if public_member(member)}


# --- the output ------------------------------------------------------------------------------


def collect(sources: Sources) -> dict:
    resolver = Resolver(sources)
    modules = {}
    for label, module in MODULES.items():
        entries = {}
        for name, symbol in sorted(resolver.public_names(module).items()):
            if symbol.kind == "def":
                entries[name] = ("function", symbol.params)
            elif symbol.kind == "numpy":
                entries[name] = ("numpy", symbol.target[0])
            elif symbol.kind == "module":
                entries[name] = ("module", symbol.target[0])
            else:
                entries[name] = (symbol.kind, None)
        modules[label] = entries
    classes = {
        label: dict(sorted(class_members(sources, module, name).items()))
        for label, (module, name) in CLASSES.items()
    }
    return {"version": sources.version(), "modules": modules, "classes": classes}


HEADER = '''"""CuPy {version}'s names, read from its sources by generate_names.py: do not edit.

MODULES[module][name] is (kind, detail): ("function", its parameters), ("ufunc", None),
("gufunc", None), ("class", None), ("lazy", None) for a name its module's __getattr__ makes,
("numpy", the NumPy object it re-exports), ("module", its dotted name) or ("value", None).
CLASSES[class][member] is a method's parameter list, None for a property or attribute.
Parameter lists leave the defaults out: ("a", "axis=", "*", "copy=").
"""

VERSION = "{version}"
'''


def literal(value) -> str:
    """Python source for a str, None or tuple of them, in double quotes as ruff formats it."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, tuple):
        items = ", ".join(map(literal, value))
        return f"({items},)" if len(value) == 1 else f"({items})"
    return repr(value)


def write(names: dict, output: Path) -> None:
    """The data module, one entry a line; ruff format (where installed) wraps the long ones."""
    lines = [HEADER.format(version=names["version"])]
    for label in ("modules", "classes"):
        lines.append(f"{label.upper()} = {{")
        for group, entries in names[label].items():
            lines.append(f"    {literal(group)}: {{")
            lines += [
                f"        {literal(name)}: {literal(value)}," for name, value in entries.items()
            ]
            lines.append("    },")
        lines.append("}\n")
    output.write_text("\n".join(lines))
    formatted = subprocess.run([sys.executable, "-m", "ruff", "format", str(output)], check=False)
    if formatted.returncode:
        print(f"ruff format failed or is missing: run it on {output} before committing")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", type=Path, help="CuPy sdist (.tar.gz) or tree")
    parser.add_argument("--download", metavar="VERSION", help="fetch this release's sdist")
    parser.add_argument("--keep", type=Path, help="folder to keep the downloaded sdist in")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    if (args.source is None) == (args.download is None):
        parser.error("give a source archive or tree, or --download VERSION")
    source = download_sdist(args.download, args.keep) if args.download else args.source
    names = collect(Sources(source))
    write(names, args.output)
    counts = {label: len(entries) for label, entries in names["modules"].items()}
    print(f"CuPy {names['version']}: {counts}; wrote {args.output}")


if __name__ == "__main__":
    main(sys.argv[1:])
