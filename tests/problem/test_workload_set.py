"""The workload-set problem as pymoo sees it (imc_moo.problem.workload_set): what ``print`` and ``repr`` say."""

from imc_moo.problem import WorkloadSetProblem


def test_print_and_repr_say_what_the_problem_is(rram):
    """pymoo's own ``__str__`` calls ``self.name()``, a string here: printing the problem used to raise."""
    text = str(rram)
    assert text == repr(rram)
    for part in ("RRAM", "resnet18+vgg16+alexnet+mobilenet_v3", "objectives edap (max)", "12,096,000 designs"):
        assert part in text, text
    named = WorkloadSetProblem(["resnet18"], "sram", "eda", name="my_problem")
    assert repr(named).startswith("WorkloadSetProblem(my_problem: SRAM resnet18 | objectives eda")
