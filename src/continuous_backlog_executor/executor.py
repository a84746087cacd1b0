"""One item through the micro-cycle, in its own worktree: red, green, refactor, security, docs,
CI, the pre-PR escalation checks, then a pull request.

The agent does the work of each phase; the engine decides, from the worktree, the test reports
and the scanners, whether the phase happened. A failed gate hands the agent the evidence and
tries the phase again, up to ``max_tries``; then the item is BLOCKED with the gate's reason.
Every attempt leaves an evidence receipt in the state store.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from . import answers, gates, secret_scan, security, worktree
from . import git as git_mod
from .agents.base import Agent, AgentRequest, AgentRun, Ending, Phase
from .backlog import BacklogStore
from .evidence import Outcome, Receipt, Step, excerpt
from .execution import ExecutionSettings, Progress
from .forges.base import Forge, PullRequest
from .model import BacklogItem, TaskType
from .prompts import PromptContext, render
from .review import diff_escalations
from .sources.junit import Report
from .store import StateStore
from .testrun import TestRunError, TestRunner
from .worktree import Worktree

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
_T = TypeVar("_T")


class Stop(Exception):  # noqa: N818 -- a control-flow signal inside this module, not an error
    """Ends the attempt with one outcome."""

    def __init__(self, outcome: Outcome, reason: str, *, block: bool = True) -> None:
        super().__init__(reason)
        self.outcome = outcome
        self.reason = reason
        self.block = block


@dataclass
class Tools:
    """The collaborators of an attempt."""

    repo: Path
    state: StateStore
    store: BacklogStore
    agent: Agent
    forge: Forge
    settings: ExecutionSettings
    actor: str
    clock: Clock
    observer: Callable[[str, str], None] = lambda item, phase: None


class Attempt:
    """One attempt at one item (see the module docstring)."""

    def __init__(self, tools: Tools, item: BacklogItem, worktree_: Worktree, attempt: int) -> None:
        self.t = tools
        self.item = item
        self.wt = worktree_
        self.s = tools.settings
        self.deadline = time.monotonic() + self.s.max_cycle_time
        self.receipt = Receipt(
            item_id=item.id,
            attempt=attempt,
            agent=tools.agent.name,
            branch=worktree_.branch,
            base_sha=worktree_.base_sha,
            started=tools.clock(),
            wsjf=_wsjf_inputs(item),
        )
        self.folder = tools.state.folder("attempts", worktree.safe_id(item.id), str(attempt))
        self.env = secret_scan.safe_environment(os.environ, allow=self.s.env_allow)
        # Allowed variables reach the agent, but are still secrets that must not leak.
        names = secret_scan.secret_names(os.environ)
        self.secrets = {name: os.environ[name] for name in names}
        self.progress_path = tools.state.folder("progress") / f"{worktree.safe_id(item.id)}.json"
        self.progress = self._load_progress()
        self.base_report: Report | None = None

    # -- the cycle --------------------------------------------------------------------------

    def run(self) -> PullRequest:
        """Drive the item to a pull request; raises ``Stop`` to end otherwise."""
        if self.progress.green_commit is None:
            self.base_report = self._base_tests()
            if self.progress.red_commit is None:
                self._red()
            self._green()
        self._after_green()
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
            evidence = _evidence(result)
            self._give_up_if_last(number, result, ran)

    def _green(self) -> None:
        red_commit = self.progress.red_commit or git_mod.head(self.wt.path)
        evidence = ""
        for number in range(1, self.s.max_tries + 1):
            ran = self._agent(Phase.GREEN, number, evidence)
            result = self._green_checks(red_commit)
            self._record(result, number, ran)
            if result.passed:
                self.receipt.green_tests = list(self.progress.red_tests)
                self.progress.green_commit = self._commit(f"{_verb(self.item)}: {self.item.title}")
                self._save_progress()
                return
            evidence = _evidence(result)
            self._give_up_if_last(number, result, ran)
            self._reset(red_commit)

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

    def _after_green(self) -> None:
        if not self.progress.checked:
            if self.s.refactor:
                self._refactor()
            self._security()
            if self._needs_docs():
                self._docs()
            self._ci()
            self._escalate_before_pr()

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

    def _security(self) -> None:
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
        self._record(result, 1, None)
        if failed:
            raise Stop(Outcome.GATE_FAILED, f"gate failed at security: {reason}")

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
            evidence = _evidence(result)
            self._give_up_if_last(number, result, ran)
            self._reset(start)

    def _ci(self) -> None:
        result = gates.ci(
            self.s.check_command, self.wt.path, self.env, self._limit(self.s.check_timeout)
        )
        self._record(result, 1, None)
        if not result.passed:
            raise Stop(Outcome.GATE_FAILED, f"gate failed at ci: {result.reason}")

    def _escalate_before_pr(self) -> None:
        found = diff_escalations(self.t.repo, self.wt, self.s)
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
            body=self.receipt.markdown(),
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
            answer = self.folder / f"{phase}-{number}.answer.yml"
            try:
                found = parse(answer)
                result = gates.GateResult(str(phase), True, f"{len(found)} answered")
            except answers.AnswerError as error:
                found, result = [], gates.GateResult(str(phase), False, str(error))
            self._record(result, number, ran)
            if found:
                return found
            evidence = _evidence(result)
            self._give_up_if_last(number, result, ran)
        raise AssertionError("unreachable: the last try raises Stop")

    # -- pieces -----------------------------------------------------------------------------

    def _agent(self, phase: Phase, number: int, evidence: str) -> AgentRun:
        self.t.observer(self.item.id, f"{phase} (try {number})")
        self._expected_head = git_mod.head(self.wt.path)
        self._sentinel = self._outside_state()
        answer = self.folder / f"{phase}-{number}.answer.yml"
        context = PromptContext(
            workdir=str(self.wt.path),
            answer_file=str(answer),
            test_patterns=self.s.test_patterns,
            docs_patterns=self.s.docs_patterns,
            earlier=evidence,
            red_tests=self.progress.red_tests if phase is not Phase.RED else (),
        )
        prompt = render(self.item, phase, context)
        prompt_file = self.folder / f"{phase}-{number}.prompt.md"
        prompt_file.write_text(prompt, encoding="utf-8")
        request = AgentRequest(
            item_id=self.item.id,
            phase=phase,
            workdir=self.wt.path,
            prompt=prompt,
            prompt_file=prompt_file,
            transcript=self.folder / f"{phase}-{number}.transcript.txt",
            timeout=self._limit(self.s.agent_timeout),
            env=self.env,
            try_number=number,
            answer_file=answer,
        )
        ran = self.t.agent.run(request)
        self._redact(request.transcript)
        self._fold_own_commits()
        return ran

    def _fold_own_commits(self) -> None:
        """An agent that committed on its own: its commits become uncommitted changes again,
        so the gates judge them like any other change and the engine writes the history."""
        own = git_mod.commits_since(self.wt.path, self._expected_head)
        if own:
            git_mod.git("reset", "--soft", self._expected_head, cwd=self.wt.path)
            self.receipt.add(
                Step("agent commits", 1, True, f"folded {len(own)} commit(s) the agent made")
            )

    def _outside_state(self) -> tuple[str, ...]:
        """What an agent confined to its worktree cannot change: the user's HEAD and branch,
        and the files beside the worktrees (other items' worktrees aside)."""
        branch = git_mod.git("symbolic-ref", "-q", "HEAD", cwd=self.t.repo, check=False).stdout
        head = git_mod.resolve_commit(self.t.repo, "HEAD") or ""
        beside = sorted(p.name for p in self.wt.path.parent.iterdir() if not (p / ".git").exists())
        return (branch.strip(), head, *beside)

    def _outside(self) -> gates.GateResult | None:
        """A failed gate if the agent wrote outside its worktree, else ``None``."""
        escaped = worktree.escapes(self.wt.path)
        if escaped:
            return gates.GateResult(
                "isolation",
                False,
                f"wrote outside its worktree through symlinks: {', '.join(escaped)}",
                {"paths": escaped},
            )
        if self._outside_state() != self._sentinel:
            return gates.GateResult(
                "isolation",
                False,
                "wrote outside its worktree (moved the user's HEAD or wrote beside the worktree)",
            )
        return None

    def _runner(self) -> TestRunner:
        if not self.s.test_command:
            raise Stop(
                Outcome.NEEDS_HUMAN,
                "no test command: set execution.test_command (the gates need to run the tests)",
            )
        return TestRunner(
            self.s.test_command,
            self.wt.path,
            self.t.state.folder("runs", worktree.safe_id(self.item.id)),
            self._limit(self.s.test_timeout),
            env=self.env,
            timeout_key="execution.test_timeout",
        )

    def _base_tests(self) -> Report | None:
        """The suite's results on the base commit: what the green gate must not break."""
        self.t.observer(self.item.id, "tests on the base")
        try:
            report = self._runner().report("base", lenient=True)
        except TestRunError as error:
            self.receipt.add(Step("base tests", 1, False, str(error).splitlines()[0]))
            return None
        passed = sum(1 for case in report.cases if case.outcome == "passed")
        self.receipt.add(
            Step("base tests", 1, True, f"{passed} of {len(report.cases)} tests pass on the base")
        )
        return report

    def _record(self, result: gates.GateResult, number: int, ran: AgentRun | None) -> None:
        step = Step(
            name=result.gate,
            try_number=number,
            passed=result.passed,
            reason=result.reason,
            duration=ran.duration if ran else 0.0,
            command=" ".join(ran.command) if ran else None,
            exit_code=ran.exit_code if ran else None,
            log_excerpt=secret_scan.redact(
                excerpt(result.log or (ran.output_tail if ran else "")), self.secrets
            ),
            details=result.details,
        )
        self.receipt.add(step)
        log.info(
            "%s: %s %s: %s",
            self.item.id,
            result.gate,
            "passed" if result.passed else "failed",
            result.reason,
        )

    def _give_up_if_last(self, number: int, result: gates.GateResult, ran: AgentRun | None) -> None:
        if time.monotonic() >= self.deadline:
            raise Stop(Outcome.TIMED_OUT, f"max_cycle_time of {self.s.max_cycle_time:g}s used up")
        if number < self.s.max_tries:
            return
        if ran is not None and ran.ending is Ending.TIMED_OUT:
            raise Stop(Outcome.TIMED_OUT, f"the agent timed out in {result.gate}")
        if ran is not None and ran.ending is Ending.CRASHED:
            raise Stop(
                Outcome.AGENT_CRASHED,
                f"the agent crashed in {result.gate}: {ran.output_tail[-200:]}",
            )
        if result.reason.startswith("no change"):
            raise Stop(Outcome.NO_CHANGE, f"{result.gate}: {result.reason}")
        raise Stop(Outcome.GATE_FAILED, f"gate failed at {result.gate}: {result.reason}")

    def _limit(self, seconds: float) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise Stop(Outcome.TIMED_OUT, f"max_cycle_time of {self.s.max_cycle_time:g}s used up")
        return max(1.0, min(seconds, left))

    def _reset(self, sha: str) -> None:
        worktree.reset_hard(self.wt.path, sha)
        worktree.clean(self.wt.path)

    def _commit(self, message: str) -> str:
        return worktree.commit_all(self.wt.path, message) or git_mod.head(self.wt.path)

    def _redact(self, path: Path) -> None:
        if not self.secrets or not path.exists():
            return
        text = path.read_text(encoding="utf-8", errors="replace")
        cleaned = secret_scan.redact(text, self.secrets)
        if cleaned != text:
            path.write_text(cleaned, encoding="utf-8")

    def _load_progress(self) -> Progress:
        saved = Progress.read(self.progress_path)
        if saved and saved.branch == self.wt.branch and saved.base_sha == self.wt.base_sha:
            return saved
        return Progress(self.wt.branch, self.wt.base_sha)

    def _save_progress(self) -> None:
        self.progress.write(self.progress_path)


def _evidence(result: gates.GateResult) -> str:
    text = f"gate {result.gate} failed: {result.reason}"
    return f"{text}\n{excerpt(result.log)}" if result.log else text


def _verb(item: BacklogItem) -> str:
    return {TaskType.BUG: "fix", TaskType.DOC: "docs", TaskType.REFACTOR: "refactor"}.get(
        item.task_type, "feat"
    )


def _wsjf_inputs(item: BacklogItem) -> dict[str, object]:
    return {
        "impact": item.impact,
        "time_criticality": item.time_criticality,
        "risk_reduction": item.risk_reduction,
        "effort": item.effort,
        "wsjf": item.wsjf_score,
    }
