"""MADDPG (Lowe et al., NIPS 2017) in TensorFlow 2 / Keras 3, with a population axis for stacked seeds.

Kept import-light on purpose: `import maddpg` must not pull in TensorFlow, so `--help` stays fast.
"""
