"""Name -> class registries for competitions and backbones, timm style.

Built-in and third-party competitions are found the same way: through the ``comp.competitions`` entry-point
group, so a plugin installed with pip appears in ``comp list`` without editing ``comp/``.
"""

from __future__ import annotations

import fnmatch
from importlib import metadata
from typing import Callable, TypeVar

from comp.errors import CompError

ENTRY_POINT_GROUP = "comp.competitions"

_competitions: dict[str, type] = {}
_backbones: dict[str, object] = {}
_entry_points_loaded = False

T = TypeVar("T")


def register_competition(cls: type[T]) -> type[T]:
    """Class decorator: register a competition plugin under its ``name`` attribute."""
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name:
        raise TypeError(f"{cls.__qualname__} needs a non-empty string class attribute `name` to be registered")
    existing = _competitions.get(name)
    if existing is not None and existing.__qualname__ != cls.__qualname__:
        raise TypeError(f"competition {name!r} is already registered by {existing.__module__}.{existing.__qualname__}")
    _competitions[name] = cls
    return cls


def _load_entry_points() -> None:
    """Import every plugin advertised in the entry-point group (once per process)."""
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        plugin = entry_point.load()
        if isinstance(plugin, type) and entry_point.name not in _competitions:
            if getattr(plugin, "name", None) != entry_point.name:
                raise TypeError(
                    f"entry point {entry_point.name!r} loads {plugin.__qualname__} whose name is {plugin.name!r}"
                )
            register_competition(plugin)


def list_competitions(pattern: str = "*") -> list[str]:
    """Sorted names of the registered competitions matching a shell-style pattern."""
    _load_entry_points()
    return sorted(name for name in _competitions if fnmatch.fnmatch(name, pattern))


def get_competition_class(name: str) -> type:
    """The plugin class registered as ``name``; a one-line error lists the known names otherwise."""
    _load_entry_points()
    if name not in _competitions:
        raise CompError(f"unknown competition {name!r}; known: {', '.join(list_competitions()) or '(none)'}")
    return _competitions[name]


def create_competition(name: str):
    """An instance of the competition plugin registered as ``name``."""
    return get_competition_class(name)()


def register_backbone(name: str) -> Callable[[T], T]:
    """Decorator: register a backbone spec factory (a function returning a ``BackboneSpec``) as ``name``."""

    def decorate(factory: T) -> T:
        if name in _backbones:
            raise TypeError(f"backbone {name!r} is already registered")
        _backbones[name] = factory
        return factory

    return decorate


def list_backbones(pattern: str = "*") -> list[str]:
    """Sorted names of the registered backbones matching a shell-style pattern, e.g. ``"eff*"``."""
    import comp.backbones  # noqa: F401  (registers the built-in backbones)

    return sorted(name for name in _backbones if fnmatch.fnmatch(name, pattern))


def get_backbone(name: str):
    """The ``BackboneSpec`` registered as ``name``; a one-line error lists the known names otherwise."""
    known = list_backbones()
    if name not in _backbones:
        raise CompError(f"unknown backbone {name!r}; known: {', '.join(known)}")
    return _backbones[name]()
