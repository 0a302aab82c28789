"""``python -m imc_moo [overrides]``: the Hydra experiment app."""

from .experiment import cli

cli()
