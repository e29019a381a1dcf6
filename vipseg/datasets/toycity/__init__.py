"""Toy city: a procedural street-scene dataset in the Cityscapes file layout.

``make_toycity`` writes ``leftImg8bit/{split}/{city}/*_leftImg8bit.png`` and
``gtFine/{split}/{city}/*_gtFine_{labelIds,instanceIds,color}.png``, so the Cityscapes
dataset, configs and tools run on a laptop CPU without downloading anything.

Scenes follow a pinhole camera ``cam_h`` metres above flat ground: a point ``z`` metres
ahead lies ``f * cam_h / z`` rows below the horizon and one metre there spans ``f / z``
pixels, so objects shrink towards the horizon. Everything is drawn far to near (painter's
algorithm) into the image, label-ID map and instance map at once. Each class has its own
colour range, shape and texture; colour jitter and pixel noise sit on top, so a network has
to learn appearance rather than look colours up, yet every class stays learnable.
"""

from .generate import MIN_SIZE, SPLIT_CITIES, make_toycity, render_scene

# Classes every split of a dozen images or more contains (wall, fence, truck and bus are
# drawn in most, not all, images; the 'ego vehicle' hood, label id 1, in about 40%).
PRESENT_CLASSES = (
    "road", "sidewalk", "building", "wall", "fence", "pole", "traffic light", "traffic sign",
    "vegetation", "terrain", "sky", "person", "rider", "car", "truck", "bus", "bicycle",
)  # fmt: skip

__all__ = ["MIN_SIZE", "PRESENT_CLASSES", "SPLIT_CITIES", "make_toycity", "render_scene"]
