"""Pure rules of the scheduler: no I/O, no clock of its own; time is always passed in."""
