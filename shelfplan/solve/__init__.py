"""Solvers: starts, continuous optimisation, repair, the discrete search core, baselines."""
