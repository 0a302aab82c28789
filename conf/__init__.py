"""Hydra configs of the imc-moo app (installed as the package data ``imc_moo.conf``)."""
