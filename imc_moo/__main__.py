"""``python -m imc_moo [overrides]``: the Hydra experiment app (``imc-moo``)."""

from imc_moo.entry import imc_moo

imc_moo()
