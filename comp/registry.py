"""Name -> class registries, timm style: competitions here, backbones in ``comp.vision.backbones``.

Built-in and third-party competitions are found the same way: through the ``comp.competitions`` entry-point
group, so a plugin installed with pip appears in ``comp list`` without editing ``comp/``.
"""

from __future__ import annotations

import fnmatch
import logging
from importlib import metadata
from typing import Callable, TypeVar

from comp.errors import CompError

ENTRY_POINT_GROUP = "comp.competitions"
logger = logging.getLogger("comp.registry")

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


def register_competition(cls: type[T]) -> type[T]:
    """Class decorator: register a competition plugin under its ``name`` attribute."""
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name:
        raise TypeError(f"{cls.__qualname__} needs a non-empty string class attribute `name` to be registered")
    return COMPETITIONS.register(name)(cls)


def _load_entry_points(only: str | None = None) -> None:
    """Import the plugins advertised in the entry-point group that are not registered yet: the one named ``only``,
    or all of them. The named plugin failing to import is a one-line error; while listing, a broken plugin is
    skipped with a warning, so a broken third-party package never stops ``comp train dogs``."""
    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if entry_point.name in COMPETITIONS.entries or only not in (None, entry_point.name):
            continue
        try:
            plugin = entry_point.load()
        except Exception as error:  # any import failure of a third-party plugin: report it by name
            message = (f"competition plugin {entry_point.name!r} ({entry_point.value}) failed to import: "
                       f"{type(error).__name__}: {error}")
            if only is not None:
                raise CompError(f"{message} (reinstall the package that provides it)") from error
            logger.warning("%s; skipped", message)
            continue
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
    _load_entry_points(only=name)
    if name not in COMPETITIONS.entries:
        _load_entry_points()  # for the list of known names in the error
    return COMPETITIONS.get(name)


def create_competition(name: str):
    """An instance of the competition plugin registered as ``name``."""
    return get_competition_class(name)()
