"""dlstation.workstation.redact_url: a URL, or a list of them, with every credential removed.

The one function every dlstation task uses before it prints a pip index, a proxy or a
repository URL. It errs towards removing too much: a secret printed once is leaked for good,
a message that shows less of a URL is only less helpful.

- Everything from the scheme's "://" (or from the start, for a proxy written without a
  scheme, "user:pass@proxy:3128") up to the LAST "@" of the string goes. Not the first "@":
  a password such as "p@ss" (unencoded, which pip accepts) would leave "ss" behind, and one
  holding an unencoded "/", "?", "#", a blank or even "://" would end a parser's host early.
  A path with an "@" in it therefore loses its start in the message; the URL itself is kept.
- Query values ("?token=...") become "***": some mirrors take a token there.
- A list is redacted item by item; anything else is redacted as its string form (a dict given
  for a URL variable must not leak either).
"""

import re

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_QUERY_VALUE = re.compile(r"=[^&#\s]*")
REDACTED = "***"


def redact_url(value):
    """`value` (one URL, a proxy, or a list of them) without any credentials."""
    if isinstance(value, (list, tuple)):
        return [redact_url(item) for item in value]
    text = "" if value is None else str(value)
    scheme = _SCHEME.match(text)
    head, rest = (text[: scheme.end()], text[scheme.end() :]) if scheme else ("", text)
    if "@" in rest:
        rest = rest.rsplit("@", 1)[1]
    if "?" in rest:
        path, query = rest.split("?", 1)
        rest = path + "?" + _QUERY_VALUE.sub("=" + REDACTED, query)
    return head + rest


class FilterModule:
    def filters(self):
        return {"redact_url": redact_url}
