"""A deliberately naive oracle for lineage closure and batch status, for tests only.

It sees the whole graph and the final set of lab results at once and recomputes everything from
scratch with breadth-first search. It shares no code with `traceability.lineage`, and takes plain
tuples so that a bug in the lineage types cannot hide in both.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable
from datetime import datetime

EdgeTuple = tuple[str, str]  # (parent, child)
ResultTuple = tuple[str, str, int, str]  # (batch, report_id, version, verdict)
StatusTuple = tuple[str, tuple[str, ...]]  # (status, sorted risk sources)

# At equal versions the verdict with the higher rank wins: a fail beats a withdrawal beats a pass.
_RANK = {"pass": 0, "withdrawn": 1, "fail": 2}


def closure(batches: Iterable[str], edges: Iterable[EdgeTuple]) -> dict[str, dict[str, int]]:
    """Returns, per batch, every ancestor with its minimal depth (number of edges)."""
    parents: dict[str, set[str]] = defaultdict(set)
    for parent, child in edges:
        parents[child].add(parent)
    return {batch: _ancestors(batch, parents) for batch in batches}


def _ancestors(batch: str, parents: dict[str, set[str]]) -> dict[str, int]:
    depth: dict[str, int] = {}
    queue = deque([(batch, 0)])
    while queue:
        node, d = queue.popleft()
        for parent in parents[node]:
            if parent not in depth and parent != batch:
                depth[parent] = d + 1
                queue.append((parent, d + 1))
    return depth


def latest_verdicts(results: Iterable[ResultTuple]) -> dict[str, list[str]]:
    """Returns, per batch, the verdict at the latest version of each of its reports."""
    best: dict[tuple[str, str], tuple[int, int, str]] = {}
    for batch, report, version, verdict in results:
        candidate = (version, _RANK[verdict], verdict)
        if (batch, report) not in best or candidate > best[(batch, report)]:
            best[(batch, report)] = candidate
    verdicts: dict[str, list[str]] = defaultdict(list)
    for (batch, _report), (_version, _rank, verdict) in best.items():
        verdicts[batch].append(verdict)
    return verdicts


def statuses(
    batches: Iterable[str], edges: Iterable[EdgeTuple], results: Iterable[ResultTuple]
) -> dict[str, StatusTuple]:
    """Returns, per batch, its status and the sorted failing batches that cause it."""
    ancestry = closure(batches, edges)
    verdicts = latest_verdicts(results)
    failed = {batch for batch, latest in verdicts.items() if "fail" in latest}
    answer: dict[str, StatusTuple] = {}
    for batch, ancestors in ancestry.items():
        failing_ancestors = sorted(a for a in ancestors if a in failed)
        if batch in failed:
            answer[batch] = ("failed", tuple(sorted([batch, *failing_ancestors])))
        elif failing_ancestors:
            answer[batch] = ("at_risk", tuple(failing_ancestors))
        elif _all_tested_pass(verdicts.get(batch, [])):
            answer[batch] = ("clear", ())
        else:
            answer[batch] = ("untested", ())
    return answer


def _all_tested_pass(latest: list[str]) -> bool:
    tested = [verdict for verdict in latest if verdict != "withdrawn"]
    return bool(tested) and all(verdict == "pass" for verdict in tested)


#: (batch, lab, report id, version, verdict, method, issued at) of one lab result.
LabResultTuple = tuple[str, str, str, int, str, str, datetime]
#: A lab's accreditations as (methods, valid from, valid until, suspended or withdrawn periods).
AccreditationTuple = tuple[frozenset[str], datetime, datetime, tuple[tuple[datetime, datetime | None], ...]]


def counting_results(results: Iterable[LabResultTuple],
                     labs: dict[str, list[AccreditationTuple]]) -> list[ResultTuple]:
    """The results that count towards statuses, keyed by lab and report id (unsigned reports only).

    A result counts as it is when its lab is known and one of its accreditations was valid, not
    suspended or withdrawn, at the issue time and names the method; otherwise only a fail counts.
    """
    counted = []
    for batch, lab, report, version, verdict, method, issued in results:
        accredited = any(
            method in methods and start <= issued < end and not any(s <= issued and (e is None or issued < e)
                                                                    for s, e in paused)
            for methods, start, end, paused in labs.get(lab, [])
        )
        if accredited or verdict == "fail":
            counted.append((batch, f"{lab} {report}", version, verdict))
    return counted
