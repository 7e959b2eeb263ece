"""Reading YAML so that every error can say the file, the field and the line, and so that a
hostile document (an alias bomb, a huge file, duplicate keys, bytes that are not UTF-8) fails
fast with a short message instead of hanging or silently keeping one of two values.

Experiments and hardware profiles are both read through ``read_yaml``.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

_COMPOSER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: ~10x faster, same tree

#: Largest document read, in bytes: shipped profiles and experiments are ~10 kB.
MAX_DOCUMENT_BYTES = 4 * 1024 * 1024
#: Largest number of nodes once every alias is expanded: a few hundred bytes of nested aliases
#: (a "billion laughs" document) expand to 10^9 nodes; shipped files hold a few thousand.
MAX_EXPANDED_NODES = 1_000_000
#: Validation problems listed in one error; the rest are counted (a 10^5-element bad list stays short).
MAX_ERROR_LINES = 20


class _Constructor(yaml.constructor.SafeConstructor):
    """PyYAML's safe constructor, fed an already checked node tree."""


def read_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    """The parsed document and its node tree (for line numbers)."""
    path = Path(path)
    text = _read_text(path)
    try:
        node = yaml.compose(text, Loader=_COMPOSER)
    except RecursionError:
        raise ValueError(f"{path}: nested too deeply to read") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        raise ValueError(f"{path}: not valid YAML{where}: {problem}") from None
    if node is None:
        return None, None
    try:
        _check_tree(path, node)
        data = _Constructor().construct_document(node)
    except RecursionError:
        raise ValueError(f"{path}: nested too deeply to read") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise ValueError(f"{path}: not valid YAML{where}: {getattr(e, 'problem', None) or e}") from None
    return data, node


def _read_text(path: Path) -> str:
    """The file's text, refused before reading when too large and named when not UTF-8."""
    try:
        size = path.stat().st_size
        if size > MAX_DOCUMENT_BYTES:
            raise ValueError(f"{path}: {size:,} bytes, above the {MAX_DOCUMENT_BYTES:,}-byte limit of a YAML document")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ValueError(f"{path}: is a directory, expected a YAML file") from None
    except OSError as e:
        raise ValueError(f"{path}: cannot read: {e.strerror or e}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ValueError(f"{path}: not UTF-8 text (byte 0x{raw[e.start]:02x} at offset {e.start}); "
                         "save the file as UTF-8") from None


def _check_tree(path: Path, root: yaml.Node) -> None:
    """Refuse alias bombs, recursive aliases, duplicate keys and infinite or NaN numbers,
    walking each node once."""
    expanded: dict[int, int] = {}  # node id -> its size once aliases are expanded
    open_nodes: set[int] = set()

    def size(node: yaml.Node, loc: tuple) -> int:
        known = expanded.get(id(node))
        if known is not None:
            return known
        if id(node) in open_nodes:
            raise ValueError(field_error(path, root, loc, "recursive alias (a node that contains itself)"))
        open_nodes.add(id(node))
        total = 1
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for key, value in node.value:
                k = str(key.value)
                if isinstance(key, yaml.ScalarNode) and k in seen and k != "<<":
                    raise ValueError(field_error(path, root, (*loc, k), f"key {k!r} given twice "
                                                 f"(lines {seen[k]} and {key.start_mark.line + 1}); keep one"))
                seen[k] = key.start_mark.line + 1
                total += size(key, loc) + size(value, (*loc, k))
        elif isinstance(node, yaml.SequenceNode):
            total += sum(size(item, (*loc, i)) for i, item in enumerate(node.value))
        elif node.tag == _FLOAT_TAG and not _finite(node):
            raise ValueError(field_error(path, root, loc, f"{node.value} is not a finite number; "
                                         "every number must be finite"))
        if total > MAX_EXPANDED_NODES:
            raise ValueError(f"{path}: aliases expand to more than {MAX_EXPANDED_NODES:,} nodes "
                             f"(line {node.start_mark.line + 1}); a document this large is refused")
        open_nodes.discard(id(node))
        expanded[id(node)] = total
        return total

    size(root, ())


_FLOAT_TAG = "tag:yaml.org,2002:float"


def _finite(node: yaml.ScalarNode) -> bool:
    return math.isfinite(_Constructor().construct_yaml_float(node))


def line_of(node: yaml.Node | None, loc: tuple) -> int | None:
    """1-based line of the deepest node along ``loc`` (mapping keys and list indices)."""
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == str(part):
                    line = key.start_mark.line + 1
                    node = value
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line if line is not None else (node.start_mark.line + 1 if node is not None else None)


def field_error(path: Path, node: yaml.Node | None, loc: tuple, message: str) -> str:
    field = ".".join(str(p) for p in loc) or "(top level)"
    line = line_of(node, loc)
    at = f" (line {line})" if line else ""
    return f"{path}: field {field}{at}: {message}"


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def validate(model: type[BaseModel], path: Path, data: Any, node: yaml.Node | None, context: dict | None = None):
    """Validate ``data`` against ``model``; one line per problem, each naming file, field and line."""
    try:
        return model.model_validate(data, context=context)
    except ValidationError as err:
        lines = []
        for e in err.errors():
            loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and p.startswith(("function-", "axis-"))))
            msg = e["msg"].removeprefix("Value error, ")
            if e["type"] == "extra_forbidden":
                msg = f"unknown key; expected one of {_allowed_keys(model, loc)}"
            elif e["type"] == "missing":
                msg = "missing; this field is required"
            elif "input" in e and e["type"] not in ("value_error",):
                msg += f" (got {_short(e['input'])})"
            lines.append(field_error(path, node, loc, msg))
        lines = list(dict.fromkeys(lines))
        if len(lines) > MAX_ERROR_LINES:
            lines = [*lines[:MAX_ERROR_LINES], f"{path}: ... and {len(lines) - MAX_ERROR_LINES:,} more problems"]
        raise ValueError("\n".join(lines)) from None


def _allowed_keys(model: type[BaseModel], loc: tuple) -> list[str]:
    """Field names of the model that owns the unknown key, for the error message."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int) or current is None:
            continue
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            return []
        current = _model_in(field.annotation)
    return sorted(getattr(current, "model_fields", {})) if current is not None else []


def _model_in(annotation: Any) -> Any:
    import typing

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None
