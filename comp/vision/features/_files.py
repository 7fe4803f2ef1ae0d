"""Image files of a folder by id (the file stem), the way Kaggle ships them."""

from __future__ import annotations

from pathlib import Path

from comp.errors import CompError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff")


def image_files(directory: Path) -> dict[str, Path]:
    """Image file stem -> path in ``directory`` (any case of the usual suffixes); dangling links are left out."""
    if not directory.is_dir():
        return {}
    images = {}
    for path in sorted(directory.iterdir()):
        if path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".") and path.is_file():
            if path.stem in images:
                raise CompError(f"two images share the id {path.stem!r}: {images[path.stem].name} and {path.name} "
                                f"in {directory}; ids must be unique")
            images[path.stem] = path
    return images
