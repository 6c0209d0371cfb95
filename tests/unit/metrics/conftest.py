import sys
from pathlib import Path

# The fake NVML (tests/unit/doctor/doctor_fakes.py) and this folder's helpers.
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "doctor"))
