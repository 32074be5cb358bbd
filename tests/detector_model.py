"""A detector as teams ship one: one image in, boxes, scores and labels out, as many as the data decides.

torchvision's fasterrcnn_mobilenet_v3_large_320_fpn with seeded random weights (no download), wrapped so one
[3, H, W] image goes in and a tuple comes out. Random weights make no detector: the backbone's activations vanish
(std ~1e-8 at its output) and every proposal scores alike, so its batch norms are calibrated on seeded noise first;
box_score_thresh then keeps some detections and not others (4 and 12 of the 20 box_detections_per_img allows on
the golden images), which the manifest declares as a dim the data decides.
"""

from __future__ import annotations

import torch
from torch import nn

from exporters import Dim, ModelSpec

DETECTIONS = 20  # box_detections_per_img: the most rows any output has
HEIGHT, WIDTH = 128, 160


class Detector(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        from torchvision.models.detection import fasterrcnn_mobilenet_v3_large_320_fpn

        torch.manual_seed(0)
        self.model = fasterrcnn_mobilenet_v3_large_320_fpn(
            weights=None, weights_backbone=None, num_classes=5, box_score_thresh=0.8,
            box_detections_per_img=DETECTIONS, min_size=HEIGHT, max_size=WIDTH)
        self._calibrate_batch_norms()
        self.eval()

    def _calibrate_batch_norms(self) -> None:
        norms = [m for m in self.model.modules() if isinstance(m, nn.BatchNorm2d)]
        for norm in norms:
            norm.reset_running_stats()
            norm.momentum = None  # a cumulative average over the calibration batches
        noise = torch.Generator().manual_seed(7)
        self.model.backbone.train()
        with torch.no_grad():
            for _ in range(4):
                self.model.backbone(torch.randn(2, 3, HEIGHT, WIDTH, generator=noise))

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        found = self.model([image])[0]
        return found["boxes"], found["scores"], found["labels"]


def _image(seed: int) -> torch.Tensor:
    return torch.rand(3, HEIGHT, WIDTH, generator=torch.Generator().manual_seed(seed))


def build() -> ModelSpec:
    detections = Dim("detections", 0, DETECTIONS)
    return ModelSpec(
        name="detector",
        module=Detector(),
        inputs={"image": _image(1)},
        outputs=["boxes", "scores", "labels"],
        data_dims={"boxes": {0: detections}, "scores": {0: detections}, "labels": {0: detections}},
        golden=[{"image": _image(1)}, {"image": _image(2)}],
    )
