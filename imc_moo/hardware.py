"""The hardware template as data: one declared description per memory technology.

Every rule that differs between RRAM and SRAM chips is a field here, read by the cost model, the design space and
the problem; a new memory technology is a new entry (plus its NeuroSim rows in ``model/data/neurosim.csv``), not
a new branch in several modules.
"""

from __future__ import annotations

from dataclasses import dataclass


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
