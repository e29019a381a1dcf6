import numpy as np
import pytest
import torch

from vipseg.evaluation import IoUMetric, confusion_matrix, metrics_from_confusion


def _sample(pred, label):
    return dict(
        pred_sem_seg=dict(data=torch.tensor(pred)[None]),
        gt_sem_seg=dict(data=torch.tensor(label)[None]),
    )


def test_confusion_matrix_counts_gt_rows_pred_columns_and_skips_ignore():
    label = torch.tensor([[0, 0, 1], [2, 255, 1]])
    pred = torch.tensor([[0, 1, 1], [1, 2, 0]])
    expected = torch.tensor([[1, 1, 0], [1, 1, 0], [0, 1, 0]])
    assert torch.equal(confusion_matrix(pred, label, 3), expected)


def test_metrics_match_hand_computation():
    # Class 0: TP 1, FN 1, FP 1 -> IoU 1/3; class 1: TP 1, FN 1, FP 2 -> 1/4; class 2: 0/2.
    matrix = np.array([[1, 1, 0], [1, 1, 0], [0, 1, 0]])
    stats = metrics_from_confusion(matrix)
    np.testing.assert_allclose(stats["IoU"], [1 / 3, 1 / 4, 0])
    np.testing.assert_allclose(stats["Acc"], [1 / 2, 1 / 2, 0])
    assert stats["aAcc"] == pytest.approx(2 / 5)


def test_metric_accumulates_one_matrix_over_images_not_a_mean():
    metric = IoUMetric(class_names=("a", "b", "c"))
    # Image 1: class a perfect (4 px). Image 2: 1 px of b predicted as a, class c absent.
    metric.process({}, [_sample([[0, 0], [0, 0]], [[0, 0], [0, 0]])])
    metric.process({}, [_sample([[0, 1]], [[1, 1]])])
    out = metric.evaluate(size=2)
    assert out["IoU.a"] == pytest.approx(4 / 5)  # TP 4, FP 1
    assert out["IoU.b"] == pytest.approx(1 / 2)  # TP 1, FN 1
    assert np.isnan(out["IoU.c"])
    assert out["mIoU"] == pytest.approx((4 / 5 + 1 / 2) / 2)  # NaN class left out
    assert out["aAcc"] == pytest.approx(5 / 6)


def test_metric_drops_the_distributed_sampler_padding(monkeypatch):
    # Rank 1 of 2 on a 3-image split sees global positions 1 and 3; position 3 is padding.
    import vipseg.evaluation.metrics.split_sum as split_sum

    monkeypatch.setattr(split_sum, "get_dist_info", lambda: (1, 2))
    monkeypatch.setattr(split_sum, "all_reduce", lambda t, op: None)  # in place, like mmengine
    metric = IoUMetric(class_names=("a", "b"))
    metric.process({}, [_sample([[1]], [[1]])])
    metric.process({}, [_sample([[0]], [[0]])])  # the padding copy
    out = metric.evaluate(size=3)
    assert out["IoU.b"] == 1 and np.isnan(out["IoU.a"])


def test_metric_resets_between_evaluations_and_errors_when_empty():
    metric = IoUMetric(class_names=("a", "b"))
    metric.process({}, [_sample([[0]], [[0]])])
    metric.evaluate(size=1)
    with pytest.raises(RuntimeError, match="got no predictions"):
        metric.evaluate(size=1)


def test_metric_prints_a_per_class_table(capsys):
    from mmengine.logging import MMLogger

    MMLogger.get_instance("iou_test", log_level="INFO")
    metric = IoUMetric(class_names=("road", "sky"))
    metric.process({}, [_sample([[0, 1]], [[0, 1]])])
    metric.evaluate(size=1)
    out = capsys.readouterr().out
    assert "road" in out and "sky" in out and "1.0000" in out and "mean" in out


def test_confusion_file_holds_the_split_matrix_with_class_names(tmp_path):
    path = tmp_path / "new" / "folder" / "cm.npz"  # parent folders do not exist yet
    metric = IoUMetric(class_names=("a", "b", "c"), confusion_file=str(path))
    metric.process({}, [_sample([[0, 1, 1], [1, 2, 0]], [[0, 0, 1], [2, 255, 1]])])
    metric.process({}, [_sample([[2, 2]], [[2, 1]])])
    metric.evaluate(size=2)
    with np.load(path) as data:
        confusion, classes = data["confusion"], data["classes"]
    # rows = ground truth, columns = prediction, the 255 pixel left out, both images summed
    expected = np.array([[1, 1, 0], [1, 1, 1], [0, 1, 1]])
    np.testing.assert_array_equal(confusion, expected)
    assert confusion.dtype == np.int64
    assert classes.tolist() == ["a", "b", "c"]


def test_confusion_file_is_written_by_the_main_process_only(tmp_path, monkeypatch):
    import vipseg.evaluation.metrics.iou_metric as iou_metric

    monkeypatch.setattr(iou_metric, "is_main_process", lambda: False)
    metric = IoUMetric(class_names=("a", "b"), confusion_file=str(tmp_path / "cm.npz"))
    metric.process({}, [_sample([[0]], [[0]])])
    metric.evaluate(size=1)
    assert not (tmp_path / "cm.npz").exists()
