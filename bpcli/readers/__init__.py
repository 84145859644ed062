"""Input readers: variable bindings (command line, --vars files)."""
