"""One item through the micro-cycle, in its own worktree: red, green, refactor, security, docs,
CI, the pre-PR escalation checks, then a pull request.

The agent does the work of each phase; the engine decides, from the worktree, the test reports
and the scanners, whether the phase happened. A failed gate hands the agent the evidence and
tries the phase again, up to ``max_tries``; then the item is BLOCKED with the gate's reason.
A security or CI failure after green is a failed try of the green phase: the branch goes back
to the red commit and the agent does green again, told what failed, so a rejected change (a
leaked secret, say) never stays in the branch's history. Every attempt leaves an evidence
receipt in the state store.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from . import answers, gates, security, worktree
from . import git as git_mod
from .agents.base import Phase
from .evidence import Outcome, Step
from .execution import Stop, Tools
from .forges.base import PullRequest
from .model import BacklogItem, TaskType
from .review import diff_escalations
from .session import Session, evidence_of

__all__ = ["Attempt", "Stop", "Tools"]

_T = TypeVar("_T")


class Attempt(Session):
    """One attempt at one item (see the module docstring)."""

    green_tries = 0
    triggers: tuple[str, ...] = ()  # what the pre-PR escalation checks found in the diff

    @property
    def low_risk(self) -> bool:
        """No escalation trigger, before work or in the diff: the item never needed approval."""
        return self.item.approval is None and not self.triggers

    # -- the cycle --------------------------------------------------------------------------

    def run(self) -> PullRequest:
        """Drive the item to a pull request; raises ``Stop`` to end otherwise."""
        if self.progress.green_commit is None:
            self.base_report = self._base_tests()
            if self.progress.red_commit is None:
                self._red()
        elif self.progress.feedback:
            self._address_feedback()
        evidence = ""
        while True:
            if self.progress.green_commit is None:
                self._green(evidence)
            failed = self._after_green()
            if failed is None:
                break
            # The failure counts as a failed try of green: back to the red commit, and again.
            self._give_up_if_last(self.green_tries, failed, None)
            evidence = evidence_of(failed)
            self._back_to_red()
        self._escalate_before_pr()
        return self._pull_request()

    def _red(self) -> None:
        start = git_mod.head(self.wt.path)
        evidence = ""
        for number in range(1, self.s.max_tries + 1):
            self._reset(start)
            ran = self._agent(Phase.RED, number, evidence)
            changes = worktree.changed_files(self.wt.path, start)
            result = self._outside() or gates.red(changes, self._runner(), self.s.test_patterns)
            self._record(result, number, ran)
            if result.passed:
                self.progress.red_tests = list(result.details["red_tests"])
                self.receipt.red_tests = self.progress.red_tests
                self.progress.red_commit = self._commit(f"test: {self.item.title}")
                self._save_progress()
                return
            evidence = evidence_of(result)
            self._give_up_if_last(number, result, ran)

    def _green(self, evidence: str) -> None:
        red_commit = self.progress.red_commit or git_mod.head(self.wt.path)
        while True:
            self.green_tries += 1
            number = self.green_tries
            ran = self._agent(Phase.GREEN, number, evidence)
            result = self._green_checks(red_commit)
            self._record(result, number, ran)
            if result.passed:
                self.receipt.green_tests = list(self.progress.red_tests)
                self.progress.green_commit = self._commit(f"{_verb(self.item)}: {self.item.title}")
                self._save_progress()
                return
            evidence = evidence_of(result)
            self._give_up_if_last(number, result, ran)
            self._reset(red_commit)

    def _address_feedback(self) -> None:
        """A review round: the agent changes the code on top of the branch as the pull
        request's feedback asks; the green checks hold as before (tests unchanged since red,
        the red tests pass, nothing that passed on the base fails), and it must change
        something."""
        self.base_report = self._base_tests()
        red_commit = self.progress.red_commit or self.wt.base_sha
        start = git_mod.head(self.wt.path)
        evidence = ""
        for number in range(1, self.s.max_tries + 1):
            ran = self._agent(Phase.GREEN, number, evidence)
            if not worktree.changed_files(self.wt.path, start) and self._outside() is None:
                result = gates.GateResult("review", False, "no change: the agent changed no file")
            else:
                result = self._green_checks(red_commit, "review")
            self._record(result, number, ran)
            if result.passed:
                self._commit(f"{_verb(self.item)}: address review of {self.item.title}")
                self.progress.feedback = None
                self.progress.verified = self.progress.checked = False
                self._save_progress()
                return
            evidence = evidence_of(result)
            self._give_up_if_last(number, result, ran)
            self._reset(start)

    def _back_to_red(self) -> None:
        self._reset(self.progress.red_commit or self.wt.base_sha)
        self.progress.green_commit = None
        self._save_progress()

    def _green_checks(self, since: str, gate: str = "green") -> gates.GateResult:
        outside = self._outside()
        if outside is not None:
            return outside
        changes = worktree.changed_files(self.wt.path, since)
        if not changes and gate == "green":
            return gates.GateResult(gate, False, "no change: the agent changed no file")
        untouched = gates.tests_untouched(changes, self.s.test_patterns, gate)
        if not untouched.passed:
            return untouched
        return gates.green(self._runner(), self.progress.red_tests, self.base_report, gate)

    def _after_green(self) -> gates.GateResult | None:
        """Refactor, security, docs and CI on the green commit: the failed security or CI
        check, or ``None`` when all passed (a docs failure ends the attempt itself)."""
        if self.progress.verified:
            return None
        if self.s.refactor:
            self._refactor()
        failed = self._security()
        if failed is not None:
            return failed
        if self._needs_docs():
            self._docs()
        failed = self._ci()
        if failed is None:
            self.progress.verified = True
            self._save_progress()
        return failed

    def _refactor(self) -> None:
        green = git_mod.head(self.wt.path)
        ran = self._agent(Phase.REFACTOR, 1, "")
        if not worktree.changed_files(self.wt.path, green) and self._outside() is None:
            self._record(gates.GateResult("refactor", True, "nothing to refactor"), 1, ran)
            return
        result = self._green_checks(green, "refactor")
        if result.passed:
            self._commit(f"refactor: {self.item.title}")
        else:
            self._reset(green)  # the refactor is dropped; the green commit stands
            result = gates.GateResult(
                "refactor", True, f"refactor dropped ({result.reason}); the green commit stands"
            )
        self._record(result, 1, ran)

    def _security(self) -> gates.GateResult | None:
        base, head = self.wt.base_sha, git_mod.head(self.wt.path)
        changes = worktree.changed_files(self.wt.path, base)
        python = [c.path for c in changes if c.path.endswith(".py") and c.status != "D"]
        deltas = {
            "bandit": security.bandit_delta(self.t.repo, base, head, python),
            "secrets": security.secrets_delta(worktree.diff_text(self.wt.path, base), self.secrets),
            "dependencies": security.dependency_delta(self.t.repo, base, head),
        }
        self.receipt.security = {
            name: {"passed": d.passed, "reason": d.reason, "skipped": d.skipped}
            for name, d in deltas.items()
        }
        failed = [f"{name}: {d.reason}" for name, d in deltas.items() if not d.passed]
        reason = "; ".join(failed) or "; ".join(f"{n}: {d.reason}" for n, d in deltas.items())
        details = {name: d.details for name, d in deltas.items() if d.details}
        result = gates.GateResult("security", not failed, reason, details)
        self._record(result, max(self.green_tries, 1), None)
        return None if result.passed else result

    def _needs_docs(self) -> bool:
        if self.s.docs == "never":
            return False
        return self.s.docs == "always" or self.item.task_type is TaskType.FEATURE

    def _docs(self) -> None:
        evidence = ""
        for number in range(1, self.s.max_tries + 1):
            start = git_mod.head(self.wt.path)
            ran = self._agent(Phase.DOCS, number, evidence)
            changes = worktree.changed_files(self.wt.path, start)
            result = self._outside() or gates.docs(changes, self.s.docs_patterns)
            self._record(result, number, ran)
            if result.passed:
                self._commit(f"docs: {self.item.title}")
                return
            evidence = evidence_of(result)
            self._give_up_if_last(number, result, ran)
            self._reset(start)

    def _ci(self) -> gates.GateResult | None:
        result = gates.ci(
            self.s.check_command, self.wt.path, self.env, self._limit(self.s.check_timeout)
        )
        self._record(result, max(self.green_tries, 1), None)
        return None if result.passed else result

    def _escalate_before_pr(self) -> None:
        if self.progress.checked:
            return
        found = diff_escalations(self.t.repo, self.wt, self.s)
        self.triggers = tuple(found)
        self.receipt.add(
            Step(
                "escalation", 1, not found, "; ".join(found) or "no escalation trigger in the diff"
            )
        )
        if found and self.item.approval is None:
            self._save_progress()
            raise Stop(Outcome.NEEDS_HUMAN, "needs approval: " + "; ".join(found))
        self.progress.checked = True
        self._save_progress()

    def _pull_request(self) -> PullRequest:
        head = git_mod.head(self.wt.path)
        self.receipt.head_sha = head
        self.receipt.diffstat = worktree.diffstat(self.wt.path, self.wt.base_sha)
        self.receipt.end(Outcome.SUCCESS, "", self.t.clock())
        pull = self.t.forge.open(
            item_id=self.item.id,
            branch=self.wt.branch,
            base=self.wt.base,
            title=f"{self.item.id}: {self.item.title}",
            body=self.receipt.markdown() + closes(self.item),
        )
        self.receipt.add(Step("pull request", 1, True, f"opened {pull.url}"))
        return pull

    # -- refinement -------------------------------------------------------------------------

    def criteria(self) -> list[str]:
        """Acceptance criteria from the agent's ``criteria`` phase; ``Stop`` if none came."""
        return [str(c) for c in self._answer(Phase.CRITERIA, answers.criteria)]

    def slices(self) -> list[answers.Slice]:
        """Child items from the agent's ``slice`` phase; ``Stop`` if none came."""
        return list(self._answer(Phase.SLICE, answers.slices))

    def _answer(self, phase: Phase, parse: Callable[[Path], list[_T]]) -> list[_T]:
        start = git_mod.head(self.wt.path)
        evidence = ""
        for number in range(1, self.s.max_tries + 1):
            ran = self._agent(phase, number, evidence)
            self._reset(start)  # these phases answer in a file; changes to the tree are dropped
            try:
                found = parse(self.answer_file(phase))
                result = gates.GateResult(str(phase), True, f"{len(found)} answered")
            except answers.AnswerError as error:
                found, result = [], gates.GateResult(str(phase), False, str(error))
            self._record(result, number, ran)
            if found:
                return found
            evidence = evidence_of(result)
            self._give_up_if_last(number, result, ran)
        raise AssertionError("unreachable: the last try raises Stop")


def _verb(item: BacklogItem) -> str:
    return {TaskType.BUG: "fix", TaskType.DOC: "docs", TaskType.REFACTOR: "refactor"}.get(
        item.task_type, "feat"
    )


_ISSUE_URL = re.compile(r"^https?://[^/]+/(?P<repo>[^/]+/[^/]+)/issues/(?P<number>\d+)$")


def closes(item: BacklogItem) -> str:
    """``Fixes owner/name#N`` for the GitHub issue the item came from, so merging its pull
    request closes the issue; ``""`` for any other item."""
    url = item.source.url if item.source and item.source.kind == "github_issues" else None
    match = _ISSUE_URL.match(url or "")
    return f"\nFixes {match['repo']}#{match['number']}\n" if match else ""
