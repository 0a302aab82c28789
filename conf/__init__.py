"""Hydra configs of the imc-moo app (installed as the package data ``imc_moo.conf``).

Hydra imports this package when it composes from it (``initialize_config_module("imc_moo.conf")``, the
``pkg://imc_moo.conf`` search path): the typed schemas the YAML files extend (``- imc_moo_schema``,
``- /schema/algorithm@_here_: nsga2``) and the resolvers they use (``${imc_moo_problem:}``, ...) are registered
here (:func:`imc_moo.app.config.register`, idempotent), so the Compose API works on the installed package without
importing anything first. The app registers them when it starts too: it composes from this directory by its path,
which does not import the package, and :mod:`imc_moo.paths` locates the package without importing it (the cost
model has no use for Hydra). Nothing imported here imports this package back.
"""

from imc_moo.app.config import register

register()
