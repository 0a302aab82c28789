"""imc-moo: multi-workload design-space exploration of in-memory-computing accelerators."""

from .model import evaluate, evaluate_layers

__version__ = "0.1.0"
__all__ = ["evaluate", "evaluate_layers", "__version__"]
