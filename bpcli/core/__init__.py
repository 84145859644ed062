"""The core: the gate table, the gate graph, the parser, the engine (forward and backward) and
the batch engine. Nothing here formats output or knows about the command line."""
