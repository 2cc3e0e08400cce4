"""Colours of the code shown: Pygments styles with every token colour raised to a WCAG contrast of at least 4.5:1.

Pygments' "friendly" (light) and "github-dark" (dark) styles have a few token colours (comments, operators) below
4.5:1 on their own background. Each such colour is mixed towards black (light) or white (dark) in small steps until
it passes, so the palette keeps its hues and only the weak colours move.
"""

from __future__ import annotations

import re

from pygments.formatters import HtmlFormatter

TARGET = 4.6  # a little above the 4.5:1 of WCAG AA, so rounding in a browser cannot tip it under
COLOUR = re.compile(r"(?<![-\w])color: (#[0-9a-fA-F]{6}\b|#[0-9a-fA-F]{3}\b)")
BACKGROUND = re.compile(r"background(?:-color)?: (#[0-9a-fA-F]{6}\b|#[0-9a-fA-F]{3}\b)")


def rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def luminance(colour: tuple[int, int, int]) -> float:
    """WCAG 2 relative luminance of an sRGB colour (0–255 channels)."""
    def lin(c):
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (lin(c) for c in colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def readable(colour: str, background: str, target: float = TARGET) -> str:
    """`colour` itself when it reaches `target` on `background`, else the least mix towards black or white that does."""
    c, bg = rgb(colour), rgb(background)
    if contrast(c, bg) >= target:
        return colour
    toward = (0, 0, 0) if luminance(bg) > 0.18 else (255, 255, 255)
    for step in range(1, 21):
        t = step / 20
        mixed = tuple(round(x + t * (y - x)) for x, y in zip(c, toward))
        if contrast(mixed, bg) >= target:
            return "#%02x%02x%02x" % mixed
    return "#%02x%02x%02x" % toward


def style_css(style: str, selector: str = ".codehilite") -> str:
    """Pygments' CSS for `style`, every token colour readable on its background (its own, else the style's)."""
    formatter = HtmlFormatter(style=style)
    page_bg = formatter.style.background_color
    out = []
    for line in formatter.get_style_defs(selector).splitlines():
        if line.startswith(selector + " ."):
            own = BACKGROUND.search(line)
            bg = own.group(1) if own else page_bg
            line = COLOUR.sub(lambda m: "color: " + readable(m.group(1), bg), line)
        out.append(line)
    return "\n".join(out)


def pygments_css() -> str:
    """The site's assets/css/pygments.css: light, and dark under prefers-color-scheme."""
    return (style_css("friendly") + "\n@media (prefers-color-scheme: dark) {\n" + style_css("github-dark") + "\n}\n")
