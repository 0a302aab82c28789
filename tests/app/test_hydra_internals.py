"""The upstream behaviour imc_moo.app.hydra_internals relies on: Hydra's private ``Hydra.get_mode(config_name,
overrides)`` exists and answers the ``hydra.mode`` of the config the CLI's pre-check composes, so answering it from
that config changes nothing but the time."""

import pytest
from hydra import initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.types import RunMode

from imc_moo.app import hydra_internals
from imc_moo.app.config import compose_config
from imc_moo.paths import CONF_DIR


def test_hydra_still_has_the_private_method_this_patches():
    assert hydra_internals._hydra_class() is not None, (
        "Hydra's get_mode changed: mode_known no longer saves the second composition (imc-moo still runs)")


@pytest.mark.parametrize("overrides", [[], ["algorithm=nsga2", "seed=3"], ["hydra.mode=MULTIRUN"]])
def test_the_patched_answer_is_hydras_own(overrides):
    from hydra._internal.hydra import Hydra
    from hydra._internal.utils import create_config_search_path

    with initialize_config_dir(version_base="1.3", config_dir=CONF_DIR, job_name="imc_moo"):
        ours = compose_config(overrides, return_hydra_config=True)
    hydra = Hydra.create_main_hydra2(task_name="imc_moo", config_search_path=create_config_search_path(CONF_DIR))
    try:
        theirs = hydra.get_mode(config_name="config", overrides=overrides)
        with hydra_internals.mode_known(ours):
            patched = hydra.get_mode(config_name="config", overrides=overrides)
        again = hydra.get_mode(config_name="config", overrides=overrides)
    finally:
        GlobalHydra.instance().clear()
    assert patched == theirs and again == theirs  # the same answer, and Hydra's own method back afterwards
    # unset unless the config sets it (the -m flag decides then)
    assert theirs == (RunMode.MULTIRUN if "hydra.mode=MULTIRUN" in overrides else None)
