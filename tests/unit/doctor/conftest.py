import sys
from pathlib import Path

# The doctor's test helpers (doctor_fakes.py) live next to the tests.
sys.path.insert(0, str(Path(__file__).parent))
