"""The one YAML reader of the project: strict, bounded, and with messages that name the line.

Every YAML file a user hands us (``study.yaml``, the codebook, the goals file, the distribution
lists of ``csm send``) is read by :func:`load_yaml`. PyYAML's ``safe_load`` alone is not enough
for untrusted, hand-edited files:

- **Aliases are refused.** ``*name`` references let a 4 KB file expand to billions of nodes
  (the "billion laughs" bomb) and keep the reader busy for minutes. A study configuration has
  no use for them: the message asks to write the value out.
- **Nesting is bounded** (:data:`MAX_DEPTH` levels), so a value nested 1,000 lists deep gets a
  message, not a ``RecursionError`` from inside the parser.
- **A key given twice in one mapping is an error** that names both lines. ``safe_load`` keeps
  the last one silently, so ``overall:`` repeated far below the first would quietly win.
- **A date that does not exist** (``2026-02-30``) names its line, where ``safe_load`` raises a
  bare ``ValueError``.

Errors are :class:`csm_helpers.core.errors.ConfigError` with the file, the line and column, and
the fix, in one line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from csm_helpers.core.errors import ConfigError

__all__ = ["MAX_DEPTH", "load_yaml"]

#: Deepest nesting of lists and mappings a configuration file may use (a study.yaml needs 4).
MAX_DEPTH = 50


class _Refused(yaml.YAMLError):
    """A construct the strict loader does not accept, with the mark of where it is."""

    def __init__(self, mark: yaml.Mark | None, problem: str) -> None:
        super().__init__(problem)
        self.problem_mark = mark
        self.problem = problem


class _StrictLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` without aliases, with bounded depth, unique keys and checked dates."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise _Refused(event.start_mark, f"the alias *{event.anchor} refers to another part of the file, and "
                                             "aliases are not allowed (they can expand without limit) — write the "
                                             "value out in full")
        self._depth += 1
        if self._depth > MAX_DEPTH:
            event = self.peek_event()
            raise _Refused(event.start_mark, f"values are nested more than {MAX_DEPTH} levels deep — a "
                                             "configuration needs a few levels; check the brackets and indentation")
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _value in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.setdefault(key, key_node.start_mark.line + 1)
            except TypeError:  # an unhashable key: SafeLoader's own message says so
                continue
            if first != key_node.start_mark.line + 1:
                raise _Refused(key_node.start_mark, f"the key {key!r} is given twice in the same mapping, on line "
                                                    f"{first} and on line {key_node.start_mark.line + 1} (the second "
                                                    "would silently win) — keep one of them")
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:
            raise _Refused(node.start_mark, f"{node.value!r} is not a date that exists ({exc}) — write a real "
                                            "date as YYYY-MM-DD") from None


_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _StrictLoader.construct_yaml_timestamp)


def load_yaml(text: str, *, source: Path | str) -> Any:
    """Parse YAML ``text`` read from ``source`` strictly (see the module notes).

    Parameters
    ----------
    text : str
        The file's text.
    source : path or str
        The file, for the message.

    Returns
    -------
    object
        What ``yaml.safe_load`` would return for an accepted file.

    Raises
    ------
    ConfigError
        ``<source>, line L, column C: invalid YAML (<what>) — <fix>``.

    Examples
    --------
    >>> load_yaml("name: Pulse\\nscales: {default: [1, 5]}\\n", source="study.yaml")
    {'name': 'Pulse', 'scales': {'default': [1, 5]}}
    >>> load_yaml("overall: q1\\nname: x\\noverall: q2\\n", source="study.yaml")
    Traceback (most recent call last):
    ...
    csm_helpers.core.errors.ConfigError: study.yaml, line 3, column 1: invalid YAML (the key 'overall' is given twice in the same mapping, on line 1 and on line 3 (the second would silently win) — keep one of them)
    """
    try:
        loader = _StrictLoader(text)
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except _Refused as exc:
        raise ConfigError(f"{source}{_where(exc.problem_mark)}: invalid YAML ({exc.problem})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{source}{_where(mark)}: invalid YAML ({problem}) — fix the syntax there") from None
    except RecursionError:  # a deeply nested flow the scanner gives up on before the composer sees it
        raise ConfigError(f"{source}: invalid YAML (values are nested too deeply) — a configuration needs a few "
                          "levels; check the brackets and indentation") from None


def _where(mark: yaml.Mark | None) -> str:
    return f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
