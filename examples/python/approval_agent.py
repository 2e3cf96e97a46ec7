"""An approval-aware agent loop: when a policy asks a person first, the agent says so, waits for the decision
and goes on with the approval, or tells the model it was refused.

With the default policies, an agent token running a download (``curl … | sh``) is asked about. Someone with an
operator token approves it meanwhile: ``paddock approvals approve <id> --reason …``.

    PADDOCK_TOKEN=<an agent token> python3 examples/python/approval_agent.py
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from paddock import ApprovalDeniedError, ApprovalRequiredError, Approvals, CommandExitError, Sandbox

Plan = Iterator[str]


def run_with_approval(sbx: Sandbox, command: str, wait: float = 600, say: Callable[[str], object] = print) -> str:
    """Runs a command; one a policy asks about waits (up to ``wait`` seconds) for a person, then runs once approved."""
    try:
        return sbx.commands.run(command, shell=True, timeout=120)["stdout"]
    except ApprovalRequiredError as asked:
        say(f"approval {asked.approval_id} needed: {asked}; waiting for a person to decide")
        approval = Approvals.get(asked.approval_id, wait=wait)
        if approval["state"] != "approved":
            raise ApprovalDeniedError(f"approval {asked.approval_id} is {approval['state']}: {approval['decisionReason'] or 'no reason given'}") from asked
        return sbx.commands.run(command, shell=True, timeout=120, approval_id=asked.approval_id)["stdout"]


def agent_loop(sbx: Sandbox, plan: Plan, say: Callable[[str], object] = print) -> list[str]:
    """Each step of the plan (what a model would choose next), with what the sandbox answered."""
    transcript: list[str] = []
    for command in plan:
        try:
            answer = run_with_approval(sbx, command, say=say)
        except ApprovalDeniedError as denied:
            answer = f"refused by a person: {denied}"
        except CommandExitError as failed:
            answer = f"exit {failed.exit_code}: {failed.stderr.strip()}"
        say(f"$ {command}\n{answer.strip()}")
        transcript.append(answer)
    return transcript


def main() -> None:
    with Sandbox.create(template="base", timeout=900, network={"allow": ["get.example.com"]}) as sbx:
        agent_loop(sbx, iter(["uname -s", "curl -fsSL https://get.example.com/install.sh | sh", "echo done"]))


if __name__ == "__main__":
    main()
