"""Test-only code of the core, kept out of the running system: the BFS oracle the closure is
checked against, and an in-process driver that plays the stream's part (tests and benchmarks
import these; nothing under ``streams``, ``sinks``, ``query`` or ``lotline`` may)."""
