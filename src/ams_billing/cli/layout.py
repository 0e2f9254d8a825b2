"""Tables that never cut a value: a table when every value fits whole, else one block per row.

Rich fits a table to the console's width (the terminal's, else ``COLUMNS``, else 80) by
cutting what does not fit: a word longer than its column is folded across lines, or ends in
"…" in a column that does not wrap. The word cut is usually the one a user came to copy (a
database URL, a class path, an invoice number). So a table is shown only when it keeps every
word of every cell whole; otherwise each row becomes a :class:`Block` of plain lines, wrapped
between words at the same width, where a word longer than a line gets a line of its own,
whole, however long. Cells are :class:`~rich.text.Text` built by :meth:`Output.text`, so
they are already redacted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import attrs
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from ams_billing.cli.output import Output

__all__ = ["Block", "show_rows", "table_fits", "wrap_words"]

_WORD = re.compile(r"\S+")


@attrs.frozen
class Block:
    """One row as lines: ``first`` and then each of ``more``, wrapped and indented.

    Lines after the first (its continuations, and ``more``) are indented by ``indent``
    spaces, so each row reads as one block.
    """

    first: Text
    more: tuple[Text, ...] = ()
    indent: int = 2


def wrap_words(text: Text, width: int, *, first: int = 0, rest: int = 0) -> list[Text]:
    """``text`` wrapped between words to ``width`` columns; a word is never split.

    The first line is indented by ``first`` spaces and the others by ``rest``. A word longer
    than the room left gets a line of its own, and that line is longer than ``width``. Styles
    are kept; newlines in ``text`` start new lines.
    """
    lines: list[Text] = []
    for paragraph in text.split("\n", allow_blank=True):
        plain = paragraph.plain
        offsets: list[int] = []
        start, room = 0, max(1, width - (rest if lines else first))
        for word in _WORD.finditer(plain):
            if word.end() - start > room and plain[start : word.start()].strip():
                offsets.append(word.start())
                start, room = word.start(), max(1, width - rest)
        for piece in paragraph.divide(offsets):
            piece.rstrip()
            indent = first if not lines else rest
            lines.append(Text(" " * indent) + piece if indent else piece)
    return lines


def table_fits(console: Console, table: Table, *, wrapping: bool = True) -> bool:
    """Whether ``table`` renders at ``console``'s width with every cell's words whole.

    With ``wrapping=False`` it must also need no wrapping at all (every row on one line).
    """
    if not wrapping:
        natural = Measurement.get(console, console.options.update_width(10_000), table).maximum
        return natural <= console.width
    rendered = "\n".join(
        "".join(segment.text for segment in line)
        for line in console.render_lines(table, console.options, pad=False)
    )
    words = (
        word
        for column in table.columns
        for cell in column.cells
        if isinstance(cell, Text)
        for word in cell.plain.split()
    )
    return all(word in rendered for word in words)


def show_rows(
    output: Output, table: Table, blocks: Sequence[Block], *, wrapping: bool = True
) -> None:
    """Print ``table`` if :func:`table_fits`, else ``blocks`` (text mode only)."""
    if output.json_mode:
        return
    console = output.console
    if table_fits(console, table, wrapping=wrapping):
        output.show(table)
        return
    for block in blocks:
        lines = wrap_words(block.first, console.width, rest=block.indent)
        for more in block.more:
            lines += wrap_words(more, console.width, first=block.indent, rest=block.indent)
        for line in lines:
            output.show(line, soft_wrap=True)
