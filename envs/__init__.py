"""Reference mpe2 environments and their batched TensorFlow ports."""
