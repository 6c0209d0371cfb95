"""Fleet verification: read many hosts' doctor/bench reports, compare them, render them.

Layers: `schema` validates one document, `load` builds a `model.Fleet` (newest
report per host, bench merged in, differences computed by `facts`), and the
`render_*` modules show it as text, JSON or one self-contained HTML page.
"""
