"""YAML files validated into msgspec structs, with errors that name file, line and field.

The document is composed into yaml nodes first so every key and list item keeps its
line; msgspec then validates the plain data, and its error path (``$.a.b[0].c``) is
translated back to the line of the deepest part of that path that exists in the file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, TypeVar

import msgspec
import yaml

T = TypeVar("T")
PathKey = tuple[str | int, ...]

_TOKEN = re.compile(r"\.([A-Za-z_][\w-]*)|\[(\d+)\]|\[\.\.\.\]")
_PATH_IN_MESSAGE = re.compile(r" - at `(\$[^`]*)`")
_UNKNOWN_FIELD = re.compile(r"unknown field `([^`]+)`")


class ConfigError(ValueError):
    """A configuration or profile file that is not valid; says where."""

    def __init__(self, file: Path | str, line: int | None, field: str, message: str) -> None:
        self.file = str(file)
        self.line = line
        self.field = field
        self.message = message
        where = f"{self.file}:{line}" if line else self.file
        super().__init__(f"{where}: {field or '(document)'}: {message}")


class Document:
    """Plain data of one YAML file plus the line of every key and list item."""

    def __init__(self, file: Path, data: Any, lines: dict[PathKey, int]) -> None:
        self.file = file
        self.data = data
        self.lines = lines

    def line_of(self, path: PathKey) -> int | None:
        """The line of ``path`` or of its deepest ancestor present in the file."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return None

    def error(self, path: PathKey, message: str) -> ConfigError:
        return ConfigError(self.file, self.line_of(path), dotted(path), message)

    def convert(self, type_: type[T]) -> T:
        try:
            return msgspec.convert(self.data, type_, strict=True)
        except msgspec.ValidationError as exc:
            raise self._translate(str(exc)) from None

    def _translate(self, text: str) -> ConfigError:
        found = _PATH_IN_MESSAGE.search(text)
        message = _PATH_IN_MESSAGE.sub("", text)
        path: PathKey = parse_path(found.group(1)) if found else ()
        unknown = _UNKNOWN_FIELD.search(message)
        if unknown:
            path = (*path, unknown.group(1))
        return self.error(path, message)


def parse_path(text: str) -> PathKey:
    """``$.endpoints[0].url`` -> ("endpoints", 0, "url"); dict keys msgspec hides stop the path."""
    parts: list[str | int] = []
    for match in _TOKEN.finditer(text):
        if match.group(1) is not None:
            parts.append(match.group(1))
        elif match.group(2) is not None:
            parts.append(int(match.group(2)))
        else:
            break
    return tuple(parts)


def dotted(path: PathKey) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def load(file: Path) -> Document:
    """Read and compose ``file``; YAML syntax errors become ConfigError with the line."""
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(file, None, "", f"cannot read: {exc.strerror or exc}") from None
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise ConfigError(file, 1, "", "the file is empty")
        lines: dict[PathKey, int] = {}
        data = _build(loader, node, (), lines, file)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise ConfigError(file, mark.line + 1 if mark else None, "", str(exc.problem or exc)) from None
    finally:
        loader.dispose()
    return Document(file, data, lines)


def _build(loader: yaml.SafeLoader, node: yaml.Node, path: PathKey, lines: dict[PathKey, int], file: Path) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if key in out:
                raise ConfigError(file, key_node.start_mark.line + 1, dotted((*path, str(key))),
                                  "duplicate key")
            out[key] = _build(loader, value_node, (*path, str(key)), lines, file)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(loader, item, (*path, i), lines, file) for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)
