"""`dlcheck draw` and `dlcheck predict`: recognise handwritten digits with a saved model.

Submodules import numpy, Pillow, Keras and tkinter lazily; importing this package is cheap.
"""
