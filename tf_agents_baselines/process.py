"""The legacy-Keras subprocess: how it is started and the check that guards every TensorFlow import here.

tf-agents 0.19 builds its networks with Keras 2. TensorFlow picks its Keras implementation once, at import:
with TF_USE_LEGACY_KERAS=1 `tf.keras` is the `tf_keras` package (Keras 2.21), otherwise Keras 3. Setting the
variable in a process that also runs this repository's Keras 3 code would switch that code to Keras 2, so it
is only ever set in the environment of a child process (`legacy_keras_environment`), never in os.environ of
the parent.
"""

from __future__ import annotations

import os
import sys
from typing import Mapping

LEGACY_KERAS_VARIABLE = "TF_USE_LEGACY_KERAS"


def legacy_keras_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """A copy of `base` (default: os.environ) for a baseline subprocess: TF_USE_LEGACY_KERAS=1, quiet TF logs.

    The parent's os.environ is not modified.
    """
    environment = dict(os.environ if base is None else base)
    environment[LEGACY_KERAS_VARIABLE] = "1"
    environment.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    environment.setdefault("PYTHONUNBUFFERED", "1")
    return environment


def require_legacy_keras() -> None:
    """Called by every module of this package that imports TensorFlow, before it does.

    Raises:
        RuntimeError: TF_USE_LEGACY_KERAS is not "1" in this process, or TensorFlow was imported before it
            was set (then tf.keras is already Keras 3 and tf-agents would fail in obscure ways).
    """
    if os.environ.get(LEGACY_KERAS_VARIABLE) != "1":
        raise RuntimeError(
            "the tf-agents baselines run only in a subprocess with TF_USE_LEGACY_KERAS=1 set before TensorFlow "
            "is imported; start them with `python -m reproduction.independent_baselines`")
    if "keras" in sys.modules and not sys.modules["keras"].__version__.startswith("2."):
        raise RuntimeError("Keras 3 was imported in this process before the tf-agents baselines; "
                           "run them in their own process (`python -m reproduction.independent_baselines`)")
