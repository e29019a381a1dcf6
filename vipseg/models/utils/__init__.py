from .wrappers import resize, stack_gt

__all__ = ["resize", "stack_gt"]
