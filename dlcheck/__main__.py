"""`python -m dlcheck` runs the same CLI as the `dlcheck` console script."""

from dlcheck.cli import main

if __name__ == "__main__":
    main()
