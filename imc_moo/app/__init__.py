"""The ``imc-moo`` application: typed configs (:mod:`.schemas`, :mod:`.config`), the Hydra entry point and sweeps
(:mod:`.experiment`), resuming (:mod:`.resume`), the directory lock (:mod:`.lock`), progress lines
(:mod:`.progress`), a run's files (:mod:`.export`) and figures (:mod:`.plots`). It wires configs to the
constructors of the layers below and writes the run directory; it holds no model or search logic."""
