"""`dlcheck bench`: train a tiny MNIST model and measure device, speed and accuracy.

Submodules import numpy and the frameworks lazily; importing this package is cheap.
"""
