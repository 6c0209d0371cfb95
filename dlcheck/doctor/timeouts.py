"""How long each of the doctor's child processes may run unless --timeout says otherwise.

Defined here once: the probes, the train check and `dlcheck doctor --help` read them.
"""

#: one child importing a framework (TensorFlow and Keras share one)
FRAMEWORK_IMPORT_S = 120.0
#: the one child importing numpy, scipy, OpenCV and the other libraries
LIBRARIES_IMPORT_S = 60.0
#: `dlcheck bench --quick --json`, run by --train
TRAIN_S = 900.0
