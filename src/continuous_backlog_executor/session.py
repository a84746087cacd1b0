"""An attempt's footing: the worktree, the state folder and the settings it works with, and how
it runs the agent for one phase, notices writes outside the worktree, runs the tests, records
each step in the evidence receipt, and gives up.

The phases themselves are in ``executor``; everything here is shared by all of them.
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from dataclasses import asdict
from pathlib import Path

from . import gates, secret_scan, worktree
from . import git as git_mod
from .agents.base import AgentRequest, AgentRun, Budget, Ending, Phase, Usage
from .evidence import Outcome, Receipt, Step, earlier_attempt, excerpt
from .execution import Progress, Stop, Tools
from .model import BacklogItem
from .prompts import PromptContext, render
from .sources.junit import Report
from .testrun import TestRunError, TestRunner
from .worktree import Worktree

log = logging.getLogger(__name__)


class Session:
    """The footing of one attempt at one item (see the module docstring)."""

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
        # The tests get the basics and what the user allows; the agent also what its backend
        # needs (a CLI's API key), which its own tool calls may then see too.
        self.env = secret_scan.safe_environment(os.environ, allow=self.s.env_allow)
        needs = tuple(getattr(tools.agent, "env_needs", ()))
        self.agent_env = secret_scan.safe_environment(
            os.environ, allow=self.s.env_allow, needs=needs
        )
        # Allowed variables reach the agent, but are still secrets that must not leak.
        names = secret_scan.secret_names(os.environ)
        self.secrets = {name: os.environ[name] for name in names}
        self.progress_path = tools.state.folder("progress") / f"{worktree.safe_id(item.id)}.json"
        self.progress = self._load_progress()
        self.base_report: Report | None = None
        self.runs: Counter[Phase] = Counter()  # agent runs per phase: unique file names
        receipts = tools.state.root / "receipts" / worktree.safe_id(item.id)
        self.earlier_attempt = earlier_attempt(receipts, attempt)
        self.usage = Usage()
        self._set_partial_aside()

    # -- pieces shared by the phases ------------------------------------------------------------

    def answer_file(self, phase: Phase) -> Path:
        """Where the agent's latest run of ``phase`` writes its answer."""
        return self.folder / f"{phase}-{self.runs[phase]}.answer.yml"

    def _agent(self, phase: Phase, number: int, evidence: str) -> AgentRun:
        self.t.observer(self.item.id, f"{phase} (try {number})")
        budget = self._budget_left()
        spent = budget.exceeded(Usage())
        if spent is not None:
            raise Stop(Outcome.OVER_BUDGET, f"budget exhausted: {spent}")
        self._expected_head = git_mod.head(self.wt.path)
        self._sentinel = self._outside_state()
        self.runs[phase] += 1
        name = f"{phase}-{self.runs[phase]}"
        answer = self.answer_file(phase)
        context = PromptContext(
            workdir=str(self.wt.path),
            answer_file=str(answer),
            test_patterns=self.s.test_patterns,
            docs_patterns=self.s.docs_patterns,
            earlier=evidence,
            earlier_attempt=self.earlier_attempt,
            feedback=(self.progress.feedback or "") if phase is Phase.GREEN else "",
            red_tests=self.progress.red_tests if phase is not Phase.RED else (),
        )
        prompt = render(self.item, phase, context)
        prompt_file = self.folder / f"{name}.prompt.md"
        prompt_file.write_text(prompt, encoding="utf-8")
        request = AgentRequest(
            item_id=self.item.id,
            phase=phase,
            workdir=self.wt.path,
            prompt=prompt,
            prompt_file=prompt_file,
            transcript=self.folder / f"{name}.transcript.txt",
            timeout=self._limit(self.s.agent_timeout),
            env=self.agent_env,
            try_number=number,
            answer_file=answer,
            budget=budget,
            test_command=self.s.test_command,
            test_timeout=self._limit(self.s.test_timeout),
        )
        ran = self.t.agent.run(request)
        self._cancelled()
        self._redact(request.transcript)
        self._fold_own_commits()
        self.usage += ran.usage
        self.t.spent.add(ran.usage)
        self.receipt.usage = asdict(self.usage)
        self._judge_ending(ran, budget)
        return ran

    def _budget_left(self) -> Budget:
        item = self.s.item_budget.less(self.usage)
        return item.tighter(self.s.run_budget.less(self.t.spent.usage))

    def _judge_ending(self, ran: AgentRun, budget: Budget) -> None:
        """Stop at once for endings no retry can mend: a refusing API, lasting rate limits, a
        question for a person, a spent budget (whose work so far is kept)."""
        if ran.ending is Ending.API_ERROR:
            raise Stop(Outcome.API_ERROR, f"the model API refused: {ran.reason}", fatal=True)
        if ran.ending is Ending.RATE_LIMITED:
            raise Stop(Outcome.RATE_LIMITED, f"rate limited: {ran.reason}", fatal=True)
        if ran.ending is Ending.ASKED_QUESTION:
            raise Stop(Outcome.ASKED_QUESTION, f"the agent asked a question: {ran.reason}")
        spent = budget.exceeded(ran.usage)
        if ran.ending is Ending.OVER_BUDGET or spent is not None:
            self._keep_partial()
            raise Stop(Outcome.OVER_BUDGET, f"budget exhausted: {spent or ran.reason}")

    def _keep_partial(self) -> None:
        """Commit what the agent did so far on the item's branch (a partial attempt), with a
        ref of its own, so nothing is lost; the next attempt starts from the last checked
        commit again (``_set_partial_aside``)."""
        if self._outside() is not None:
            return  # work that broke out of the worktree is not kept
        sha = worktree.commit_all(
            self.wt.path, f"wip: partial attempt {self.receipt.attempt} (budget exhausted)"
        )
        if sha is None:
            return
        ref = f"refs/backlog/partial/{worktree.safe_id(self.item.id)}/{self.receipt.attempt}"
        git_mod.git("update-ref", ref, sha, cwd=self.wt.path)
        self.progress.partial = sha
        self._save_progress()
        self.receipt.add(Step("partial work", 1, True, f"kept as {sha[:12]} ({ref})"))

    def _set_partial_aside(self) -> None:
        partial = self.progress.partial
        if partial is None:
            return
        if git_mod.head(self.wt.path) == partial:
            self._reset(f"{partial}^")
        self.progress.partial = None
        self._save_progress()

    def _fold_own_commits(self) -> None:
        """An agent that committed on its own: its commits become uncommitted changes again,
        so the gates judge them like any other change and the engine writes the history."""
        own = git_mod.commits_since(self.wt.path, self._expected_head)
        if own:
            git_mod.git("reset", "--soft", self._expected_head, cwd=self.wt.path)
            self.receipt.add(
                Step("agent commits", 1, True, f"folded {len(own)} commit(s) the agent made")
            )

    def _outside_state(self) -> dict[str, object]:
        """What an agent confined to its worktree cannot change: the user's HEAD and branch,
        the files of the user's checkout (what ``git status`` lists, with size and time of
        change; the engine's own folder of the backlog file aside) and the files beside the
        worktrees (other items' worktrees aside). One ``git status`` call tells all but the last.
        """
        repo = self.t.repo
        # No optional locks: looking must not rewrite the user's index (or wait for its lock).
        listed = git_mod.git(
            "--no-optional-locks", "status", "--porcelain=v2", "--branch", "-z",
            "--untracked-files=all", "--no-renames", cwd=repo,
        ).stdout  # fmt: skip
        own = self.t.store.path.parent.resolve()
        branch = {}
        checkout: dict[str, object] = {}
        for entry in filter(None, listed.split("\0")):
            if entry.startswith("# "):
                key, _, value = entry[2:].partition(" ")
                branch[key] = value
                continue
            # Ordinary, unmerged and untracked entries: the path follows a fixed number of fields.
            name = entry.split(" ", {"1": 8, "u": 10}.get(entry[0], 1))[-1]
            path = repo / name
            if own not in path.resolve().parents:
                stat = path.lstat() if path.exists() or path.is_symlink() else None
                state = (stat.st_size, stat.st_mtime_ns) if stat else None
                checkout[name] = (entry.split(" ", 2)[:2], state)
        return {
            "the user's branch": branch.get("branch.head", ""),
            "the user's HEAD": branch.get("branch.oid", ""),
            "the user's checkout": checkout,
            "files beside the worktree": sorted(
                p.name for p in self.wt.path.parent.iterdir() if not (p / ".git").exists()
            ),
        }

    def _outside(self) -> gates.GateResult | None:
        """A failed gate if the agent wrote outside its worktree, else ``None``."""
        escaped = worktree.escapes(self.wt.path, self.wt.base_sha)
        if escaped:
            return gates.GateResult(
                "isolation",
                False,
                f"wrote outside its worktree through symlinks: {', '.join(escaped)}",
                {"paths": escaped},
            )
        now = self._outside_state()
        changed = [what for what, value in now.items() if self._sentinel.get(what) != value]
        if changed:
            paths = _changed_keys(self._sentinel["the user's checkout"], now["the user's checkout"])
            return gates.GateResult(
                "isolation",
                False,
                f"wrote outside its worktree: changed {', '.join(changed)}"
                + (f" ({', '.join(paths[:10])})" if paths else ""),
                {"paths": paths},
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
        self._cancelled()
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
            ending=str(ran.ending) if ran else None,
            usage=asdict(ran.usage) if ran else {},
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
        if ran is not None and ran.ending is Ending.MAX_TURNS:
            raise Stop(Outcome.MAX_TURNS, f"the agent used all its turns in {result.gate}")
        if ran is not None and ran.ending is Ending.CRASHED:
            raise Stop(
                Outcome.AGENT_CRASHED,
                f"the agent crashed in {result.gate}: {ran.output_tail[-200:]}",
            )
        if result.reason.startswith("no change"):
            raise Stop(Outcome.NO_CHANGE, f"{result.gate}: {result.reason}")
        raise Stop(Outcome.GATE_FAILED, f"gate failed at {result.gate}: {result.reason}")

    def _cancelled(self) -> None:
        # Another thread took Ctrl-C and stopped every child: whatever this step saw is moot.
        if self.t.cancel.is_set():
            raise KeyboardInterrupt

    def _limit(self, seconds: float) -> float:
        self._cancelled()
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


def _changed_keys(before: object, after: object) -> list[str]:
    old = before if isinstance(before, dict) else {}
    new = after if isinstance(after, dict) else {}
    return sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))


def evidence_of(result: gates.GateResult) -> str:
    """What the agent is told about a failed gate on its next try."""
    text = f"gate {result.gate} failed: {result.reason}"
    return f"{text}\n{excerpt(result.log)}" if result.log else text


def _wsjf_inputs(item: BacklogItem) -> dict[str, object]:
    return {
        "impact": item.impact,
        "time_criticality": item.time_criticality,
        "risk_reduction": item.risk_reduction,
        "effort": item.effort,
        "wsjf": item.wsjf_score,
    }
