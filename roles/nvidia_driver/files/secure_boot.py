"""Print the Secure Boot state from EFI variables as JSON (read-only probe, stdlib only)."""

import glob
import json
import os

state = {"efi": os.path.isdir("/sys/firmware/efi"), "secure_boot": None}
for path in glob.glob("/sys/firmware/efi/efivars/SecureBoot-*"):
    try:
        with open(path, "rb") as handle:
            data = handle.read()
        # 4 bytes of attributes, then one byte: 1 = enabled.
        state["secure_boot"] = len(data) >= 5 and data[4] == 1
    except OSError:
        pass
print(json.dumps(state))
