"""Backbones by name, timm style: ``@register_backbone("name")`` on a factory returning a ``BackboneSpec``."""

from __future__ import annotations

from typing import Callable, TypeVar

from comp.registry import Registry

T = TypeVar("T")
BACKBONES = Registry("backbone", hint="see `comp list --backbones`")


def register_backbone(name: str) -> Callable[[T], T]:
    """Decorator: register a backbone spec factory (a function returning a ``BackboneSpec``) as ``name``."""
    return BACKBONES.register(name)


def list_backbones(pattern: str = "*") -> list[str]:
    """Sorted names of the registered backbones matching a shell-style pattern, e.g. ``"eff*"``."""
    return BACKBONES.names(pattern)


def get_backbone(name: str):
    """The ``BackboneSpec`` registered as ``name``; a one-line error lists the known names otherwise."""
    return BACKBONES.get(name)()
