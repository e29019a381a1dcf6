"""Segment an image or a folder: python tools/infer.py CONFIG CHECKPOINT INPUT --out-dir DIR.

For each image writes, under ``DIR/<kind>/`` with the input folder's structure kept,
``color`` (the predicted classes in the dataset's palette), ``overlay`` (the colors blended
into the image) and, with ``--kinds label``, ``label`` (class indices as 8-bit PNG).
"""

import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import cv2  # noqa: E402

from vipseg.utils import (  # noqa: E402
    DictAction,
    MissingDataError,
    exit_on_input_error,
    make_out_dir,
    track,
)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
KINDS = ("color", "overlay", "label")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Segment images with a trained model")
    parser.add_argument("config")
    parser.add_argument("checkpoint")
    parser.add_argument("input", help="an image, or a folder searched recursively for images")
    parser.add_argument("--out-dir", required=True)
    parser.add_argument(
        "--kinds", nargs="+", choices=KINDS, default=["color", "overlay"], help="what to write"
    )
    parser.add_argument("--alpha", type=float, default=0.5, help="label opacity in overlays")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--batch-size", type=int, default=1, help="images per forward pass")
    parser.add_argument("--cfg-options", nargs="+", action=DictAction, default={})
    return parser.parse_args(argv)


def find_images(path: str) -> tuple[str, list[str]]:
    """``(root, relative paths)`` of the images at ``path`` (a file or a folder), sorted."""
    if osp.isfile(path):
        return osp.dirname(path), [osp.basename(path)]
    if not osp.isdir(path):
        raise MissingDataError(f"input {path} does not exist")
    found = [
        osp.relpath(osp.join(folder, name), path)
        for folder, _, names in os.walk(path)
        for name in names
        if name.lower().endswith(IMAGE_SUFFIXES)
    ]
    if not found:
        raise MissingDataError(f"input folder {path} holds no images ({', '.join(IMAGE_SUFFIXES)})")
    return path, sorted(found)


def write_outputs(sample, image_bgr, out_dir: str, relpath: str, kinds, palette, alpha) -> None:
    from vipseg.visualization import colorize, overlay

    pred = sample.pred_sem_seg.data.squeeze(0).cpu().numpy()
    color = colorize(pred, palette)[..., ::-1]  # BGR for cv2
    drawn = dict(color=color, label=pred.astype("uint8"))
    if "overlay" in kinds:
        drawn["overlay"] = overlay(image_bgr, color, alpha)
    stem = osp.splitext(relpath)[0] + ".png"
    for kind in kinds:
        target = osp.join(out_dir, kind, stem)
        os.makedirs(osp.dirname(target), exist_ok=True)
        cv2.imwrite(target, drawn[kind])


def run(args: argparse.Namespace) -> int:
    from vipseg.apis import inference_model, init_model
    from vipseg.datasets.transforms import LoadImageFromFile

    load = LoadImageFromFile()  # the datasets' decoding: gray, RGBA, 16-bit, truncation

    root, relpaths = find_images(args.input)
    make_out_dir(args.out_dir)
    model = init_model(args.config, args.checkpoint, args.device, args.cfg_options)
    palette = model.dataset_meta["palette"]
    batches = [relpaths[i : i + args.batch_size] for i in range(0, len(relpaths), args.batch_size)]
    for batch in track(batches, "infer", total=len(batches)):
        images = [load(dict(img_path=osp.join(root, rel)))["img"] for rel in batch]
        for rel, image, sample in zip(batch, images, inference_model(model, images)):
            write_outputs(sample, image, args.out_dir, rel, args.kinds, palette, args.alpha)
    return len(relpaths)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    with exit_on_input_error():
        count = run(args)
    print(f"segmented {count} images into {args.out_dir}")


if __name__ == "__main__":
    main()
