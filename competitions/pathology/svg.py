"""Read pathologists' SVG outlines into polygons: every <polygon>, and every <polyline>/<path> of straight segments.

Only the standard library's XML parser is used; ``fill`` and ``stroke`` are ignored (an outline marks its inside).
A file that cannot be parsed, or a shape with an odd number of coordinates, is a one-line CompError naming the file.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import numpy as np

from comp.errors import CompError

NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
PATH_TOKEN = re.compile(r"[A-Za-z]|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
STRAIGHT_COMMANDS = set("MmLlHhVvZz")


def local_name(tag: str) -> str:
    """An element's tag without its XML namespace (``{http://www.w3.org/2000/svg}polygon`` -> ``polygon``)."""
    return tag.rsplit("}", 1)[-1]


def parse_points(text: str, where: str) -> np.ndarray:
    """The ``points`` attribute ("x,y x,y ..." with any commas/spaces, decimals allowed) as an (N, 2) float array."""
    tokens = text.replace(",", " ").split()
    values = []
    for token in tokens:
        if not NUMBER.fullmatch(token):
            raise CompError(f"{where}: {token!r} in points is not a number")
        values.append(float(token))
    if len(values) % 2:
        raise CompError(f"{where}: points has an odd number of coordinates ({len(values)})")
    return np.asarray(values, dtype=np.float64).reshape(-1, 2)


def parse_path(text: str, where: str) -> list[np.ndarray]:
    """The subpaths of a path ``d`` made only of straight segments (M, L, H, V, Z, absolute or relative)."""
    tokens = PATH_TOKEN.findall(text)
    leftover = PATH_TOKEN.sub("", text).replace(",", "").strip()
    if leftover:
        raise CompError(f"{where}: path data has unreadable text {leftover[:20]!r}")
    subpaths: list[list[tuple[float, float]]] = []
    x = y = 0.0
    command = None
    position = 0

    def number() -> float:
        nonlocal position
        if position >= len(tokens) or tokens[position].isalpha():
            raise CompError(f"{where}: path command {command!r} is missing a coordinate")
        position += 1
        return float(tokens[position - 1])

    while position < len(tokens):
        token = tokens[position]
        if token.isalpha():
            if token not in STRAIGHT_COMMANDS:
                raise CompError(f"{where}: path command {token!r} draws a curve; only straight segments "
                                f"(M, L, H, V, Z) can be read")
            command = token
            position += 1
            if command in "Zz":
                if subpaths and subpaths[-1]:
                    x, y = subpaths[-1][0]
                continue
        elif command is None:
            raise CompError(f"{where}: path data starts with a number, not a command")
        relative = command.islower()
        kind = command.upper()
        if kind == "M":
            dx, dy = number(), number()
            x, y = (x + dx, y + dy) if relative else (dx, dy)
            subpaths.append([(x, y)])
            command = "l" if relative else "L"  # further pairs after a moveto are linetos
            continue
        if not subpaths:
            raise CompError(f"{where}: path draws a line before any M command")
        if kind == "L":
            dx, dy = number(), number()
            x, y = (x + dx, y + dy) if relative else (dx, dy)
        elif kind == "H":
            value = number()
            x = x + value if relative else value
        elif kind == "V":
            value = number()
            y = y + value if relative else value
        subpaths[-1].append((x, y))
    return [np.asarray(points, dtype=np.float64) for points in subpaths if points]


def read_polygons(path: str | Path) -> list[np.ndarray]:
    """Every region outlined in the SVG file at ``path`` as an (N, 2) array of (x, y); [] when the file is absent."""
    path = Path(path)
    if not path.is_file():
        return []
    try:
        root = ElementTree.parse(path).getroot()
    except ElementTree.ParseError as error:
        raise CompError(f"{path} is not a readable SVG: {error}") from None
    except OSError as error:
        raise CompError(f"cannot read {path}: {error.strerror or error}") from None
    if local_name(root.tag) != "svg":
        raise CompError(f"{path} is not an SVG file: its root element is <{local_name(root.tag)}>")
    polygons = []
    for number, element in enumerate(root.iter()):
        kind = local_name(element.tag)
        where = f"{path} <{kind}> #{number}"
        if kind in ("polygon", "polyline"):
            if element.get("points") is None:
                raise CompError(f"{where} has no points attribute")
            polygons.append(parse_points(element.get("points"), where))
        elif kind == "path":
            polygons.extend(parse_path(element.get("d") or "", where))
    return [polygon for polygon in polygons if len(polygon)]


def polygons_svg(polygons: list[np.ndarray], width: int, height: int) -> str:
    """An SVG document outlining ``polygons`` the way the real set ships them (unfilled, one <polygon> each)."""
    shapes = "".join(
        '  <polygon fill="none" stroke="#00ff00" points="'
        + " ".join(f"{x:g},{y:g}" for x, y in np.asarray(polygon)) + '" />\n'
        for polygon in polygons)
    return ('<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}">\n{shapes}</svg>\n')
