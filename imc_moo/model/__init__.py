"""The vectorized IMC cost model: greedy mapping, per-action tables, energy/latency/area kernels."""

from imc_moo.model.api import EDAP_SCALE, area_components_mm2, evaluate, evaluate_layers, evaluate_network

__all__ = ["EDAP_SCALE", "area_components_mm2", "evaluate", "evaluate_layers", "evaluate_network"]
