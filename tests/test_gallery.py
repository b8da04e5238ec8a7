"""The gallery writes one real picture per two-hand family."""

import imageio.v3 as iio
import numpy as np

from dexterous.gallery import GALLERY, render_gallery


def test_gallery_writes_one_png_per_family(tmp_path):
    paths = render_gallery(tmp_path / "gallery", width=96, height=72)
    assert [p.name for p in paths] == ["BlockHandOver.png", "EggCatchUnderarm.png", "PenCatchUnderarmHard.png",
                                       "BlockCatchOverarm.png", "TwoEggCatchUnderArm.png"]
    assert len({family for family, _ in GALLERY}) == 5
    for path in paths:
        image = iio.imread(path)
        assert image.shape == (72, 96, 3)
        assert len(np.unique(image.reshape(-1, 3), axis=0)) > 50
