"""The replay debugger: breaking at a step, forking a run live, what-if overrides,
and running scripts and entrypoints under record or replay."""
