#!/usr/bin/env bash
# BenchMARL's own venv at .benchmarl-venv/ (gitignored), for benchmarks/benchmarl_comparison.py only: BenchMARL
# and PyTorch never enter our package's dependencies (setup.cfg) or our .venv.
#
#   bash benchmarks/benchmarl_venv.sh            # from the repository root; PYTHON=python3.11 to pick another
#
# The pins are a set that installs together and runs the comparison's task:
# - torch 2.13.0, installed first and pinned again beside benchmarl: torchvision (a BenchMARL dependency) in its
#   newest release wants torch 2.14 and would replace the CPU build with a multi-GB CUDA one; torchvision 0.28
#   is the release for torch 2.13. pip takes a CPU wheel of torch 2.13.0 where one lies in its find-links (as
#   on the project's machines); elsewhere it installs PyPI's build, which on Linux carries CUDA libraries.
# - benchmarl 1.5.2 with torchrl 0.11.1 and tensordict 0.11.0 (benchmarl 1.5.2 asks torchrl >=0.10,<0.12).
# - pettingzoo 1.27.0 and mpe2 1.1.1, the versions our side runs (setup.cfg), so both sides step the same env
#   code; benchmarks/benchmarl_runner.py points TorchRL's PettingZoo lookup at mpe2 (it looks in pettingzoo.mpe,
#   which PettingZoo 1.25 moved out into mpe2).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.benchmarl-venv
PYTHON=${PYTHON:-python3}
TORCH=torch==2.13.0

if [ -e "$VENV" ]; then
    echo "$VENV exists; remove it first to make it anew (rm -r $VENV)" >&2
    exit 2
fi
"$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install --quiet "$TORCH"
"$VENV/bin/pip" install --quiet "$TORCH" torchvision==0.28.0 benchmarl==1.5.2 torchrl==0.11.1 tensordict==0.11.0 \
    pettingzoo==1.27.0 mpe2==1.1.1
"$VENV/bin/python" -c "import benchmarl, torch, torchrl, mpe2; print('BenchMARL', benchmarl.__version__, \
'torch', torch.__version__, 'torchrl', torchrl.__version__, 'in $VENV')"
