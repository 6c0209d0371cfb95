"""List NVIDIA display/3D controllers from sysfs as JSON (read-only probe, stdlib only)."""

import glob
import json
import os

NVIDIA = "0x10de"
# PCI base class 0x03: display controllers (VGA 0x0300, 3D 0x0302 for datacenter GPUs).
DISPLAY_CLASS = "0x03"


def read(path):
    try:
        with open(path) as handle:
            return handle.read().strip().lower()
    except OSError:
        return ""


devices = []
for dev in sorted(glob.glob("/sys/bus/pci/devices/*")):
    if read(os.path.join(dev, "vendor")) != NVIDIA:
        continue
    pci_class = read(os.path.join(dev, "class"))
    if not pci_class.startswith(DISPLAY_CLASS):
        continue
    devices.append(
        {
            "slot": os.path.basename(dev),
            "device": read(os.path.join(dev, "device")),
            "class": pci_class,
            "driver": os.path.basename(os.path.realpath(os.path.join(dev, "driver")))
            if os.path.exists(os.path.join(dev, "driver"))
            else None,
        }
    )
print(json.dumps({"sysfs": os.path.isdir("/sys/bus/pci/devices"), "devices": devices}))
