"""Random DAGs of batches with lab results, shared by the lineage property tests."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from traceability.lineage import Edge, Message, ResultSeen, Verdict
from traceability.testing import oracle

VERDICTS: tuple[Verdict, ...] = ("pass", "fail", "withdrawn")


@dataclass(frozen=True)
class Scenario:
    """A DAG over named batches and the lab results seen on them."""

    batches: tuple[str, ...]
    edges: frozenset[tuple[str, str]]
    results: tuple[tuple[str, str, int, Verdict], ...]

    def events(self) -> list[Message]:
        """What ingest puts on the closure topic: edges carrying their event's bytes, and results."""
        edges: list[Message] = [Edge(p, c, f"{p}->{c}", f"bytes of {p}->{c}".encode()) for p, c in sorted(self.edges)]
        return edges + [ResultSeen(*result) for result in self.results]

    def expected_closure(self) -> dict[tuple[str, str], int]:
        """(descendant, ancestor) -> minimal depth."""
        closure = oracle.closure(self.batches, self.edges)
        return {(d, a): depth for d, ancestors in closure.items() for a, depth in ancestors.items()}

    def expected_statuses(self) -> dict[str, oracle.StatusTuple]:
        return oracle.statuses(self.batches, self.edges, self.results)


def scenarios(max_batches: int, longest_chain: int, hub_degree: int, corrections: int) -> st.SearchStrategy[Scenario]:
    """DAGs of up to ``max_batches``: a chain up to ``longest_chain`` deep, a merge and a split of
    up to ``hub_degree`` at a hub, random edges; results with up to ``corrections`` corrected
    reports (a failing version 4, then a passing version 5).

    Edges only go from a lower to a higher rank, so the graph is acyclic; names are shuffled so
    that the sort order of names says nothing about the topological order.
    """

    @st.composite
    def draw_scenario(draw: st.DrawFn) -> Scenario:
        n = draw(st.integers(1, max_batches))
        names = draw(st.permutations([f"lot-{i:02d}" for i in range(n)]))
        rank = st.integers(0, n - 1)
        longest = min(longest_chain, n - 1)
        edges = {(i, i + 1) for i in range(draw(st.integers(0, longest) | st.just(longest)))}
        edges |= {(min(a, b), max(a, b)) for a, b in draw(st.lists(st.tuples(rank, rank), max_size=2 * n))}
        hub = draw(rank)
        edges |= {(i, hub) for i in draw(st.sets(st.integers(0, max(hub - 1, 0)), max_size=hub_degree))}
        edges |= {(hub, j) for j in draw(st.sets(st.integers(min(hub + 1, n - 1), n - 1), max_size=hub_degree))}
        result = st.tuples(rank, st.sampled_from(["r1", "r2"]), st.integers(0, 3), st.sampled_from(VERDICTS))
        results = draw(st.lists(result, max_size=n))
        corrected = draw(st.sets(rank, max_size=corrections))
        results += [(b, "r1", 4, "fail") for b in corrected] + [(b, "r1", 5, "pass") for b in corrected]
        return Scenario(
            batches=tuple(names),
            edges=frozenset((names[p], names[c]) for p, c in edges if p != c),
            results=tuple((names[b], r, v, d) for b, r, v, d in results),
        )

    return draw_scenario()
