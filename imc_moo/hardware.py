"""The hardware template as data: one declared description per memory technology.

Every rule that differs between RRAM and SRAM chips is a field here, read by the cost model, the design space and
the problem; a new memory technology is a new entry (plus its NeuroSim rows in ``model/data/neurosim.csv``), not
a new branch in several modules.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path

import yaml

from imc_moo.paths import CONF_DIR


class HardwareError(ValueError):
    """An unknown memory technology; the message lists the known ones."""


class DesignError(ValueError):
    """A design or genome that is not in the design space; the message names the column, value and fix."""


#: The template's design parameters, in the order every design table uses: ``voltage`` [V], ``bits_per_cell``,
#: ``base_latency_s`` [s], ``xbar_rows``, ``xbar_cols``, ``router_group``, ``tiles_per_chip``,
#: ``macros_per_tile``, ``glb_depth`` [2048-bit words], ``glb_mib`` [MiB] and ``technology_nm`` [nm].
DESIGN_COLUMNS = (
    "voltage",
    "bits_per_cell",
    "base_latency_s",
    "xbar_rows",
    "xbar_cols",
    "router_group",
    "tiles_per_chip",
    "macros_per_tile",
    "glb_depth",
    "glb_mib",
    "technology_nm",
)

#: GLB words are 2048 bits, so 1 MiB = 2**23 bits = 4096 words.
GLB_WORDS_PER_MIB = 4096
#: Technology nodes the packaged tables cover [nm], and the method's node.
TECHNOLOGIES_NM = (7, 10, 14, 22, 32, 45)
DEFAULT_TECHNOLOGY_NM = 32


@dataclass(frozen=True)
class MemoryTechnology:
    """What a crossbar memory technology implies for the chip and its cost model.

    Attributes:
        name: key of the technology (``rram``, ``sram``), also its rows in the NeuroSim table.
        weights_resident: True: every weight stays in the crossbars (non-volatile RRAM): a layer whose weights do
            not all fit in space cannot be mapped, and a chip must hold each network's weights (the capacity
            constraint). False: weights are streamed from DRAM (LPDDR4) every inference and written into the
            crossbars (volatile SRAM): DRAM fetch and cell-write energies are paid, leftover weight tiles are
            time-multiplexed (never unmappable), and the output column dimension Q is iterated at the GLB, as the
            reference's SRAM spec pins it temporal there.
        bits_per_cell: the bits one cell may store (RRAM multi-level 1..8, SRAM 1).
        space: default design-space value lists (``conf/space/<space>.yaml``).
        space_many_workloads: value lists for sets of more than four networks (the method's 9-workload SRAM
            lists), or None to use ``space`` for every set.
        description: one line for messages and the README.
    """

    name: str
    weights_resident: bool
    bits_per_cell: tuple[int, ...]
    space: str
    space_many_workloads: str | None = None
    description: str = ""

    @property
    def streams_weights(self) -> bool:
        """Weights are fetched from DRAM and written into the crossbars every inference."""
        return not self.weights_resident

    def default_space(self, n_workloads: int) -> str:
        """The value lists the method used for a set of ``n_workloads`` networks."""
        return self.space_many_workloads if self.space_many_workloads and n_workloads > 4 else self.space


#: The memory technologies the packaged tables cover.
TECHNOLOGIES: dict[str, MemoryTechnology] = {
    "rram": MemoryTechnology("rram", weights_resident=True, bits_per_cell=tuple(range(1, 9)), space="rram",
                             description="RRAM: weights resident on chip, 1-8 bits per cell"),
    "sram": MemoryTechnology("sram", weights_resident=False, bits_per_cell=(1,), space="sram",
                             space_many_workloads="sram_large",
                             description="SRAM: weights streamed from LPDDR4 every inference, 1 bit per cell"),
}
MEMORIES = tuple(TECHNOLOGIES)


def memory_technology(name: str) -> MemoryTechnology:
    """The description of memory ``name`` (case-insensitive)."""
    key = str(name).lower()
    if key not in TECHNOLOGIES:
        raise HardwareError(f"unknown memory {name!r}: use one of {', '.join(TECHNOLOGIES)}")
    return TECHNOLOGIES[key]


# -- the chip's physical limits (the bounded performance model) -----------------------------------------------------
#: The packaged limits with their sources, one value per line (also the Hydra group ``bounds``).
BOUNDS_FILE = Path(CONF_DIR) / "bounds" / "default.yaml"


class BoundsError(ValueError):
    """A physical limit that is not a positive number; the message names the key and the fix."""


@dataclass(frozen=True)
class ChipBounds:
    """Bandwidths, timings and power limits of the template's chip: what the bounded performance model
    (:mod:`imc_moo.model.performance`) bounds each layer's time with. The values and their sources are data
    (``conf/bounds/default.yaml``, :data:`BOUNDS_FILE`); :meth:`of` overrides any of them.

    Attributes:
        pulse_width_s: one read pulse of the temporal DAC [s].
        input_pulses: pulses of one full-scale input (a crossbar read lasts ``input_pulses x pulse_width_s``).
        adc_conversion_s: one ADC conversion [s].
        columns_per_adc: crossbar columns that share one ADC (converted one after another).
        glb_bits_per_cycle: bits the global buffer moves per clock cycle (``base_latency_s``), all ports.
        router_bits_per_cycle: bits one router group's router passes per clock cycle.
        dram_bytes_per_s: off-chip DRAM bandwidth [B/s].
        power_density_w_per_mm2: the average power density the chip can dissipate [W/mm2].
        power_w: a limit on the chip's average power [W] (``math.inf``: none).
    """

    pulse_width_s: float
    input_pulses: float
    adc_conversion_s: float
    columns_per_adc: float
    glb_bits_per_cycle: float
    router_bits_per_cycle: float
    dram_bytes_per_s: float
    power_density_w_per_mm2: float
    power_w: float = math.inf

    @classmethod
    def packaged(cls) -> ChipBounds:
        """The limits of :data:`BOUNDS_FILE`."""
        return _packaged_bounds()

    @classmethod
    def of(cls, values: ChipBounds | Mapping | None = None) -> ChipBounds:
        """The packaged limits with ``values`` (a mapping of field -> number, e.g. a Hydra node) replacing some;
        ``power_w`` may be None (no limit). Raises :class:`BoundsError` naming an unknown key or a value that is
        not a positive number."""
        if isinstance(values, ChipBounds):
            return values
        base = _packaged_bounds()
        if not values:
            return base
        return replace(base, **_checked(dict(values), where="problem.bounds"))

    @property
    def input_pulse_train_s(self) -> float:
        """Duration of one crossbar read: a full-scale input's pulse train [s]."""
        return self.input_pulses * self.pulse_width_s

    @property
    def dram_bits_per_s(self) -> float:
        return 8.0 * self.dram_bytes_per_s

    def as_dict(self) -> dict[str, float | None]:
        """Field -> value (``power_w`` None when unlimited), e.g. for a run's record."""
        out: dict[str, float | None] = {f.name: getattr(self, f.name) for f in fields(self)}
        if not math.isfinite(self.power_w):
            out["power_w"] = None
        return out


def _checked(values: dict, where: str) -> dict[str, float]:
    names = [f.name for f in fields(ChipBounds)]
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise BoundsError(f"unknown key(s) {', '.join(f'{where}.{k}' for k in unknown)}: use {', '.join(names)}")
    out = {}
    for key, value in values.items():
        if key == "power_w" and value is None:
            out[key] = math.inf
            continue
        ok = not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value) and value > 0
        if not ok:
            raise BoundsError(f"{where}.{key}={value!r} is not a positive number: give one in the unit its name "
                              f"says (see {BOUNDS_FILE.name} of the package for each value's source)")
        out[key] = float(value)
    return out


@functools.cache
def _packaged_bounds() -> ChipBounds:
    return ChipBounds(**_checked(yaml.safe_load(BOUNDS_FILE.read_text()), where=BOUNDS_FILE.name))
