"""bp's commands beyond `eval`, one module each; each registers itself on `bpcli.cli.app`."""
