"""Deferred imports of heavy modules (TensorFlow, Keras: 2-3 s), so ``comp list`` and scikit-learn-only runs start fast.

``keras = lazy_import("keras")`` at the top of a module reads like an import; the module is imported on the first
attribute access (``keras.layers``), and not before.
"""

from __future__ import annotations

import importlib
from types import ModuleType


class _DeferredModule:
    """Stands in for a module until its first attribute is read."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attribute: str):
        return getattr(importlib.import_module(self._name), attribute)

    def __repr__(self) -> str:
        return f"<deferred module {self._name!r}>"


def lazy_import(name: str) -> ModuleType:
    """The module ``name``, imported when first used."""
    return _DeferredModule(name)  # type: ignore[return-value]
