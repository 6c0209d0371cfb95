"""`dlcheck doctor`: probes gather facts, checks judge them, renderers show them."""
