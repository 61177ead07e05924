"""Writes rendered mpe2 frames as an animated GIF (Pillow; no display needed: mpe2 draws offscreen)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

GIF_SIZE = 350  # pixels per side: half of mpe2's 700 x 700 frames keeps a 3-episode GIF near 1 MB


def write_gif(frames: Sequence[np.ndarray], path: Path, size: int = GIF_SIZE, fps: float = 10.0) -> int:
    """Writes frames ([H, W, 3] uint8 each) to path as a looping GIF of size x size pixels.

    Returns:
        The number of frames written.
    """
    from PIL import Image

    if not frames:
        raise ValueError("no frames to write")
    images = [Image.fromarray(np.asarray(frame, dtype=np.uint8)).resize((size, size), Image.Resampling.LANCZOS)
              for frame in frames]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".partial")
    images[0].save(temporary, format="GIF", save_all=True, append_images=images[1:],
                   duration=int(round(1000 / fps)), loop=0)
    temporary.replace(path)
    return len(images)
