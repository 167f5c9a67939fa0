"""`python -m telnyx_sandbox [options]`: the sandbox without Django (same options)."""

from __future__ import annotations

import argparse
import sys

from .cli import add_arguments, run


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m telnyx_sandbox", description=__doc__)
    add_arguments(parser)
    run(vars(parser.parse_args()), sys.stdout)


if __name__ == "__main__":
    main()
