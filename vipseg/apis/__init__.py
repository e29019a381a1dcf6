"""High-level APIs: build a model from a config and run inference."""

from .inference import inference_model, init_model

__all__ = ["inference_model", "init_model"]
