"""The imc-moo workload library: network and set YAML files (installed as the package data ``imc_moo.problems``)."""
