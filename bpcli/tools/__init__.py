"""Tools built on the core: check, gradcheck, explain, descend, fit."""
