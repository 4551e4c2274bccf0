"""Keeps the README's configuration table in step with the settings (`python -m tipline.readme`)."""

from __future__ import annotations

import re
from pathlib import Path

from tipline.cli import settings_table

_BLOCK = re.compile(r"(<!-- settings-table:start -->\n).*?(<!-- settings-table:end -->)", re.DOTALL)


def render(readme: str) -> str:
    return _BLOCK.sub(lambda m: f"{m.group(1)}{settings_table()}\n{m.group(2)}", readme)


if __name__ == "__main__":
    path = Path("README.md")
    path.write_text(render(path.read_text()))
