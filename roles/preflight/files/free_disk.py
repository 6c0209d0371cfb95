"""Print free bytes on the filesystem that will hold a path (read-only probe, stdlib only)."""

import json
import os
import shutil
import sys

path = os.path.abspath(sys.argv[1])
# The path may not exist yet: measure its nearest existing parent.
while not os.path.exists(path):
    path = os.path.dirname(path)
print(json.dumps({"path": path, "free": shutil.disk_usage(path).free}))
