"""The command-line conventions every entry point shares (experiment scripts, maddpg.evaluate, the plain loop).

- `--help` prints the program's docstring and the flags its module defines (absl's own short help lists only
  flags defined in __main__, and the experiment scripts define theirs in reproduction/runner.py);
- a bad flag is one `error: ...` line on stderr and exit code 2, as every other bad input: a UsageError
  raised anywhere below an entry point (a bad value, a run folder of another config, a damaged or unwritable
  file of a run folder: results.RunFolderError, which names the file and what to do) becomes that line
  (`run_command`);
- TensorFlow's start-up logging is silenced (`quiet_tensorflow`, called first thing on every `__main__` path)
  unless `--verbose` is on the command line.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import os
import sys
from typing import Sequence

from absl import flags

from maddpg.results import UsageError

HELP_ARGUMENTS = ("--help", "-h", "-help", "--helpshort")


def parse_flags(argv: Sequence[str], doc: str | None, flags_module,
                flag_values: flags.FlagValues = flags.FLAGS) -> list[str]:
    """absl's parser with the conventions above.

    Args:
        argv: the command line, program name first.
        doc: what --help prints above the flags.
        flags_module: the module (or its name) whose flags --help lists.
        flag_values: where the flags are defined (absl's global FLAGS unless a caller keeps its own).

    Returns:
        The arguments left after the flags (program name first).
    """
    if any(arg in HELP_ARGUMENTS for arg in argv[1:]):
        print((doc or "").strip() + "\n")
        print(flag_values.module_help(flags_module))
        sys.exit(0)
    try:
        return flag_values(list(argv))
    except flags.Error as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)


def run_command(function, *args, **kwargs) -> int:
    """function(*args, **kwargs), an exit code; a UsageError it raises is printed as one `error: ...` line
    on stderr (a message of several lines is joined into one) and the exit code is 2."""
    try:
        return function(*args, **kwargs)
    except UsageError as error:
        return report_usage_error(error)


def report_usage_error(error: UsageError) -> int:
    """Prints the error as one `error: ...` line on stderr (a message of several lines joined); returns 2."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    print(f"error: {' '.join(lines)}", file=sys.stderr)
    return 2


VERBOSE_FLAG = "--verbose"


def quiet_tensorflow(argv: Sequence[str] | None = None) -> bool:
    """Silences TensorFlow's start-up logging unless --verbose is in argv (default sys.argv); returns verbose.

    Call it before TensorFlow is imported. It does not import TensorFlow itself (--help stays fast): it sets
    TF_CPP_MIN_LOG_LEVEL=3 (a value the user set is kept) and hooks the first `import tensorflow`, wherever
    it happens, to run with the process's C-level stderr sent to /dev/null, platform initialisation included.
    TF 2.21 logs its start-up lines (oneDNN, cudart_stub, cpu_feature_guard, cuInit) through absl before
    absl's log is initialised, which no environment variable filters, so only the file descriptor can.
    Python exceptions are raised after stderr is restored, so a failed import still shows its traceback.
    oneDNN itself stays on (TF_ENABLE_ONEDNN_OPTS is not touched): turning it off would change the numbers.
    """
    argv = sys.argv if argv is None else argv
    if VERBOSE_FLAG in argv[1:]:
        return True
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" not in sys.modules and not any(isinstance(f, _QuietTensorFlowFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorFlowFinder())
    return False


@contextlib.contextmanager
def silenced_stderr_fd():
    """Points file descriptor 2 at /dev/null inside the block (C and C++ writes included)."""
    sys.stderr.flush()
    saved = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


class _QuietTensorFlowFinder(importlib.abc.MetaPathFinder):
    """Finds the real `tensorflow` package once and wraps its loader in _QuietLoader; then steps aside."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


class _QuietLoader(importlib.abc.Loader):
    """Runs the wrapped loader's exec_module with stderr's descriptor silenced, then initialises the device
    platforms inside the same silence (their logs would otherwise come at the first op)."""

    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        with silenced_stderr_fd():
            self._loader.exec_module(module)
            module.config.list_physical_devices()

    def __getattr__(self, name):  # get_resource_reader, is_package, ...: the real loader's
        return getattr(self._loader, name)
