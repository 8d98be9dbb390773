"""A partner module outside the bundled set: it adds pricing rule kinds, nothing else."""
