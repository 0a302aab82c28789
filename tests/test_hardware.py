"""The hardware template as data (imc_moo.hardware): each memory's rules are fields, read the same everywhere."""

import pytest

from imc_moo.hardware import MEMORIES, HardwareError, memory_technology
from imc_moo.problem.space import space_lists


def test_memories_differ_only_by_their_declared_rules():
    rram, sram = memory_technology("rram"), memory_technology("sram")
    assert rram.weights_resident and not rram.streams_weights and rram.bits_per_cell == tuple(range(1, 9))
    assert sram.streams_weights and sram.bits_per_cell == (1,)


@pytest.mark.parametrize("memory", MEMORIES)
def test_the_default_space_of_a_memory_exists_and_holds_its_bits_per_cell(memory):
    tech = memory_technology(memory)
    for n_workloads in (4, 9):
        lists = space_lists(tech.default_space(n_workloads))
        assert lists["memory"] == memory and set(lists["bits_per_cell"]) <= set(tech.bits_per_cell)


def test_the_many_workload_lists_are_used_above_four_networks():
    assert memory_technology("sram").default_space(4) == "sram"
    assert memory_technology("sram").default_space(9) == "sram_large"
    assert memory_technology("rram").default_space(9) == "rram"


def test_an_unknown_memory_is_one_line_listing_the_known_ones():
    with pytest.raises(HardwareError, match="unknown memory 'pcm': use one of rram, sram"):
        memory_technology("pcm")
    assert memory_technology("SRAM").name == "sram"
