"""HTML building blocks for report sections: escaped tables, images embedded as base64 PNG, galleries, notes."""

from __future__ import annotations

import base64
import html
from pathlib import Path

import cv2
import numpy as np


def table(headers: list[str], rows: list[list], highlight: str | None = None) -> str:
    """A table of escaped cells; the row whose first cell equals ``highlight`` is marked as the chosen one."""
    head = "".join(f"<th>{html.escape(str(header))}</th>" for header in headers)
    body = []
    for row in rows:
        css = ' class="final"' if highlight is not None and row[0] == highlight else ""
        body.append(f"<tr{css}>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def note(text: str) -> str:
    """A paragraph of escaped text."""
    return f"<p>{html.escape(text)}</p>"


def image(png: bytes, alt: str) -> str:
    """An ``<img>`` holding the PNG itself (base64), so the page opens offline and alone."""
    return f'<img src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}" alt="{html.escape(alt)}">'


def picture(rgb: np.ndarray, alt: str) -> str:
    """An ``<img>`` of an RGB uint8 array."""
    encoded, png = cv2.imencode(".png", np.ascontiguousarray(rgb[..., ::-1]))
    if not encoded:
        raise ValueError(f"cannot encode the {rgb.shape} picture {alt!r} as PNG")
    return image(png.tobytes(), alt)


def read_rgb(path: str | Path, longest_side: int | None = None) -> np.ndarray | None:
    """The image file as RGB uint8 (shrunk so its longest side is at most ``longest_side``); None if unreadable."""
    pixels = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if pixels is None:
        return None
    pixels = pixels[..., ::-1]
    if longest_side and max(pixels.shape[:2]) > longest_side:
        scale = longest_side / max(pixels.shape[:2])
        size = (max(1, round(pixels.shape[1] * scale)), max(1, round(pixels.shape[0] * scale)))
        pixels = cv2.resize(np.ascontiguousarray(pixels), size, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(pixels)


def gallery(cards: list[tuple[str, str]]) -> str:
    """Pictures in a wrapping grid, each ``(img HTML, caption text)`` with its caption underneath."""
    figures = "".join(f"<figure>{picture_html}<figcaption>{html.escape(caption)}</figcaption></figure>"
                      for picture_html, caption in cards)
    return f'<div class="gallery">{figures}</div>'
