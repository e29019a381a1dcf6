"""The Runner's log processor: validation timings kept apart from training timings."""

from mmengine.runner import LogProcessor

from vipseg.registry import LOG_PROCESSORS


@LOG_PROCESSORS.register_module()
class SegLogProcessor(LogProcessor):
    """mmengine's ``LogProcessor``, with the val/test loop's timings renamed.

    mmengine logs the validation loop's ``time`` and ``data_time`` under the same names as the
    training iteration's, so every backend (JSON, TensorBoard, W&B) draws validation speed
    into the training-speed curve at each validation step. Here they become ``val_time`` and
    ``val_data_time`` (``test_...`` in testing). Arguments as ``LogProcessor``'s.
    """

    def get_log_after_epoch(self, runner, batch_idx: int, mode: str, with_non_scalar=False):
        tag, log_str = super().get_log_after_epoch(runner, batch_idx, mode, with_non_scalar)
        if mode != "train":
            for key in ("time", "data_time"):
                if key in tag:
                    tag[f"{mode}_{key}"] = tag.pop(key)
        return tag, log_str
