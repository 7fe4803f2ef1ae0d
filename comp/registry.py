"""Name -> class registries, timm style: competitions here, backbones in ``comp.vision.backbones``.

Built-in and third-party competitions are found the same way: through the ``comp.competitions`` entry-point
group, so a plugin installed with pip appears in ``comp list`` without editing ``comp/``.
"""

from __future__ import annotations

import fnmatch
from importlib import metadata
from typing import Callable, TypeVar

from comp.errors import CompError

ENTRY_POINT_GROUP = "comp.competitions"

T = TypeVar("T")


class Registry:
    """Names -> registered objects of one kind, listed by shell-style pattern; unknown names are one-line errors."""

    def __init__(self, kind: str, *, hint: str = ""):
        self.kind = kind
        self.hint = hint
        self.entries: dict[str, object] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator registering its argument as ``name``; a second object under one name is a TypeError."""

        def decorate(entry: T) -> T:
            existing = self.entries.get(name)
            if existing is not None and getattr(existing, "__qualname__", None) != getattr(entry, "__qualname__", ""):
                raise TypeError(f"{self.kind} {name!r} is already registered by "
                                f"{existing.__module__}.{existing.__qualname__}")
            self.entries[name] = entry
            return entry

        return decorate

    def names(self, pattern: str = "*") -> list[str]:
        """Sorted registered names matching ``pattern`` (e.g. ``"eff*"``)."""
        return sorted(name for name in self.entries if fnmatch.fnmatch(name, pattern))

    def get(self, name: str):
        """The object registered as ``name``."""
        if name not in self.entries:
            hint = f" ({self.hint})" if self.hint else ""
            raise CompError(f"unknown {self.kind} {name!r}; known: {', '.join(self.names()) or '(none)'}{hint}")
        return self.entries[name]


COMPETITIONS = Registry("competition", hint="see `comp list`")
_entry_points_loaded = False


def register_competition(cls: type[T]) -> type[T]:
    """Class decorator: register a competition plugin under its ``name`` attribute."""
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name:
        raise TypeError(f"{cls.__qualname__} needs a non-empty string class attribute `name` to be registered")
    return COMPETITIONS.register(name)(cls)


def _load_entry_points() -> None:
    """Import every plugin advertised in the entry-point group (once per process)."""
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        plugin = entry_point.load()
        if isinstance(plugin, type) and entry_point.name not in COMPETITIONS.entries:
            if getattr(plugin, "name", None) != entry_point.name:
                raise TypeError(
                    f"entry point {entry_point.name!r} loads {plugin.__qualname__} whose name is {plugin.name!r}"
                )
            register_competition(plugin)


def list_competitions(pattern: str = "*") -> list[str]:
    """Sorted names of the registered competitions matching a shell-style pattern."""
    _load_entry_points()
    return COMPETITIONS.names(pattern)


def get_competition_class(name: str) -> type:
    """The plugin class registered as ``name``; a one-line error lists the known names otherwise."""
    _load_entry_points()
    return COMPETITIONS.get(name)


def create_competition(name: str):
    """An instance of the competition plugin registered as ``name``."""
    return get_competition_class(name)()
