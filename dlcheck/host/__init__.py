"""The ground layer: what this machine is and how to run things on it. Imports no feature of dlcheck."""
