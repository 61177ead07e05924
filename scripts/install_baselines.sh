#!/usr/bin/env bash
# Installs the optional tf-agents baselines (reproduction/independent_baselines.py) into the active Python
# environment, on top of the project's own install:
#
#     . .venv/bin/activate && bash scripts/install_baselines.sh        # extra pip flags may follow, e.g. --quiet
#
# Two steps, because tf-agents 0.19 (its last release) declares a 2023 stack in its metadata
# (typing-extensions==4.5.0, tensorflow-probability~=0.23, pygame==2.1.3, gym<=0.23.0) that pip cannot
# reconcile with TensorFlow 2.21 / Keras 3 / mpe2:
#   1. the `baselines` extra of setup.cfg: what tf-agents needs at run time, at versions that work with
#      TensorFlow 2.21 (tf-keras, tensorflow-probability, gym, dm-tree, gin-config);
#   2. tf-agents itself with --no-deps, so none of its stale pins is applied.
# Then it checks that tf-agents imports in a legacy-Keras process (TF_USE_LEGACY_KERAS=1, as the baselines
# run) and that this environment's own Keras is still Keras 3.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install "$@" -e ".[baselines]"
python -m pip install "$@" --no-deps "tf-agents==0.19.0"
TF_USE_LEGACY_KERAS=1 TF_CPP_MIN_LOG_LEVEL=3 python -c "
import tf_agents, tf_keras
from tf_agents.agents.dqn import dqn_agent
from tf_agents.agents.ppo import ppo_clip_agent
from tf_agents.agents.reinforce import reinforce_agent
print('tf-agents', tf_agents.__version__, 'imports with tf_keras', tf_keras.__version__)
" 2>&1 | grep -v -i -e "gym has been unmaintained" -e "upgrade to gymnasium" -e "migration guide" -e "^WARNING: All log" -e "^I0000"
TF_CPP_MIN_LOG_LEVEL=3 python -c "
import keras
assert keras.__version__.startswith('3.'), keras.__version__
print('keras', keras.__version__, 'outside the baselines')
"
