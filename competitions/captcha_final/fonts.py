"""The typefaces the renderer draws with, all installed by ``pip install -e .`` (no system font is needed).

Chinese variables need a CJK face: Noto Sans SC and Noto Serif SC (PyPI ``pylopdf-fonts-zh-cn``) and WenQuanYi
Micro Hei and its Mono cut (PyPI ``paperang-p2-fonts-cjk``). Digits and operators may also come from the DejaVu and
STIX faces that matplotlib ships, so one captcha can mix a Latin face with a CJK one.
"""

from __future__ import annotations

import functools
import importlib.resources
from dataclasses import dataclass
from pathlib import Path

from PIL import ImageFont

CJK_FONTS = (  # (PyPI package, module, file inside it, face index in the file)
    ("pylopdf-fonts-zh-cn", "pylopdf_fonts_zh_cn", "NotoSansSC-Regular.otf", 0),
    ("pylopdf-fonts-zh-cn", "pylopdf_fonts_zh_cn", "NotoSerifSC-Regular.otf", 0),
    ("paperang-p2-fonts-cjk", "paperang_p2_fonts_cjk", "fonts/wqy-microhei.ttc", 0),
    ("paperang-p2-fonts-cjk", "paperang_p2_fonts_cjk", "fonts/wqy-microhei.ttc", 1),
)
LATIN_FONTS = (  # files in matplotlib's mpl-data/fonts/ttf: digits, operators, parentheses, '=' and ';'
    "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSerif.ttf", "DejaVuSerif-Italic.ttf", "DejaVuSansMono.ttf",
    "STIXGeneral.ttf", "STIXGeneralItalic.ttf",
)


class MissingFontError(RuntimeError):
    """A font package the renderer needs is not installed."""


@dataclass(frozen=True)
class Face:
    """One typeface: a font file and the face's index in it (a .ttc collection holds several)."""

    path: Path
    index: int = 0

    @property
    def name(self) -> str:
        return f"{self.path.name}#{self.index}"


def package_file(package: str, module: str, relative: str) -> Path:
    """The path of ``relative`` inside the installed ``module``; MissingFontError naming the package otherwise."""
    try:
        path = Path(str(importlib.resources.files(module).joinpath(relative)))
    except ModuleNotFoundError:
        path = None
    if path is None or not path.is_file():
        raise MissingFontError(f"the CJK font package {package} is not installed (it is a dependency of comp: "
                               f"run `make test` or `pip install -e .`, or `pip install {package}`)")
    return path


@functools.cache
def cjk_faces() -> tuple[Face, ...]:
    """The four CJK faces; each draws every character of the alphabet."""
    return tuple(Face(package_file(package, module, relative), index)
                 for package, module, relative, index in CJK_FONTS)


@functools.cache
def latin_faces() -> tuple[Face, ...]:
    """The seven Latin faces matplotlib ships; they draw digits and operators but no Chinese."""
    folder = package_file("matplotlib", "matplotlib", "mpl-data/fonts/ttf/DejaVuSans.ttf").parent
    return tuple(Face(folder / name) for name in LATIN_FONTS)


@functools.lru_cache(maxsize=256)
def load_font(face: Face, size: int) -> ImageFont.FreeTypeFont:
    """The PIL font of ``face`` at ``size`` pixels, cached (a Noto file takes a while to open)."""
    return ImageFont.truetype(str(face.path), size=size, index=face.index)
