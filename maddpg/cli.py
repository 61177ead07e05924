"""The command-line conventions every entry point shares (experiment scripts, maddpg.evaluate, the plain loop).

- `--help` prints the program's docstring and the flags its module defines (absl's own short help lists only
  flags defined in __main__, and the experiment scripts define theirs in reproduction/runner.py);
- a bad flag is one `error: ...` line on stderr and exit code 2, as every other bad input.
"""

from __future__ import annotations

import sys
from typing import Sequence

from absl import flags

HELP_ARGUMENTS = ("--help", "-h", "-help", "--helpshort")


def parse_flags(argv: Sequence[str], doc: str | None, flags_module) -> list[str]:
    """absl's parser with the conventions above.

    Args:
        argv: the command line, program name first.
        doc: what --help prints above the flags.
        flags_module: the module (or its name) whose flags --help lists.

    Returns:
        The arguments left after the flags (program name first).
    """
    if any(arg in HELP_ARGUMENTS for arg in argv[1:]):
        print((doc or "").strip() + "\n")
        print(flags.FLAGS.module_help(flags_module))
        sys.exit(0)
    try:
        return flags.FLAGS(list(argv))
    except flags.Error as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
