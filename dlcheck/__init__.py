"""dlcheck: verify that a deep-learning workstation really works.

Importing this package must stay cheap: no framework, no numpy, no NVML.
Heavy modules are imported lazily inside the probe or command that needs them.
"""

__version__ = "0.1.0"
