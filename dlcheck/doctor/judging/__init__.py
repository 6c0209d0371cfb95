"""Judgements several checks share (driver and module verdicts, import-failure causes).

Pure functions of facts a probe collected: no I/O, and no check imports another check,
so what two checks both need lives here.
"""
