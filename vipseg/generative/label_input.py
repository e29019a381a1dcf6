"""What the generator and the discriminator read: one-hot label maps with a void channel and,
optionally, instance boundaries (pix2pixHD's edge map, which separates touching cars)."""

import torch
import torch.nn.functional as F


def label_channels(num_classes: int, instance_edges: bool) -> int:
    """Channels of :func:`encode_labels`' output: the classes, void, and the edge map."""
    return num_classes + 1 + int(instance_edges)


def instance_boundaries(instances: torch.Tensor) -> torch.Tensor:
    """``(N, H, W)`` ids -> ``(N, 1, H, W)`` float, 1 where a 4-neighbour has another id."""
    edge = torch.zeros(instances.shape, dtype=torch.bool, device=instances.device)
    dx = instances[:, :, 1:] != instances[:, :, :-1]
    dy = instances[:, 1:, :] != instances[:, :-1, :]
    edge[:, :, 1:] |= dx
    edge[:, :, :-1] |= dx
    edge[:, 1:, :] |= dy
    edge[:, :-1, :] |= dy
    return edge[:, None].float()


def encode_labels(
    labels: torch.Tensor,
    num_classes: int,
    ignore_index: int = 255,
    instances: torch.Tensor | None = None,
    check: bool = True,
) -> torch.Tensor:
    """One-hot encode class maps; ``ignore_index`` goes to channel ``num_classes`` (void).

    Shape:
        labels: ``(N, H, W)`` integer class indices or ``ignore_index``;
        instances: ``(N, H, W)`` instance ids or None;
        output: ``(N, label_channels(num_classes, instances is not None), H, W)`` float32.

    ``check=False`` skips the value check, which reads back from the device: the training
    loop's labels were checked by ``LoadAnnotations`` already.
    """
    if labels.dim() != 3:
        raise ValueError(f"encode_labels: labels must be (N, H, W), got {tuple(labels.shape)}")
    labels = labels.long()
    void = labels == ignore_index
    if check:
        bad = ~void & ((labels < 0) | (labels >= num_classes))
        if bool(bad.any()):
            values = torch.unique(labels[bad]).tolist()
            raise ValueError(
                f"encode_labels: values {values[:8]} are neither classes 0..{num_classes - 1} "
                f"nor ignore_index {ignore_index}"
            )
    index = torch.where(void, torch.full_like(labels, num_classes), labels)
    onehot = F.one_hot(index, num_classes + 1).permute(0, 3, 1, 2).float()
    if instances is None:
        return onehot
    if instances.shape != labels.shape:
        raise ValueError(
            f"encode_labels: instances {tuple(instances.shape)} and labels "
            f"{tuple(labels.shape)} differ in shape"
        )
    return torch.cat([onehot, instance_boundaries(instances)], dim=1)
