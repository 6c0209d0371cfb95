"""Text from outside (report files, hostnames, probe output, file names) made safe to print.

A terminal obeys control characters wherever they come from: an escape sequence in a
hostname can set the window title, clear the screen or forge a line of output. Every
human view passes such text through `printable` first, which shows each control
character escaped (ESC as ``\\x1b``) instead of sending it. HTML has its own escaping;
JSON output keeps the text as it is (its encoder escapes control characters itself).
"""

from __future__ import annotations

#: characters that move the cursor or change how the rest of a line is shown, besides
#: the C0/C1 controls: line and paragraph separators, and the bidirectional overrides
#: and isolates that can make text read differently from what it is.
_INVISIBLE_LAYOUT = "\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


#: the C0 controls, DEL and the C1 controls: Unicode's whole "Cc" category
_CONTROLS = [*range(0x20), *range(0x7F, 0xA0)]
_TABLE = {code: _escape(chr(code)) for code in [*_CONTROLS, *map(ord, _INVISIBLE_LAYOUT)]}


def printable(value: object) -> str:
    """`str(value)` with every control character shown escaped (ESC -> ``\\x1b``)."""
    return str(value).translate(_TABLE)


def printable_lines(text: str) -> str:
    """`printable` for each line of text that dlcheck itself broke into lines."""
    return "\n".join(printable(line) for line in text.split("\n"))
