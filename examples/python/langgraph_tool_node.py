"""A LangGraph-style tool node whose tools run in a sandbox, without LangGraph itself.

A LangGraph ToolNode takes the graph state (``{"messages": [...]}``), runs the tool calls of the last AI
message and returns ToolMessages. ``sandbox_tool_node`` is that function, shaped alike with plain dicts:
put it in a graph with ``graph.add_node("tools", sandbox_tool_node(sbx))``, or call it yourself as below.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from paddock import CommandExitError, CommandTimeoutError, PaddockError, Sandbox

Message = dict[str, Any]
State = dict[str, list[Message]]


def make_tools(sbx: Sandbox) -> dict[str, Callable[..., str]]:
    """The tools the model may call, each a plain function of its arguments that returns text."""

    def run_python(code: str) -> str:
        r = sbx.commands.run(["python3", "-c", code], timeout=30)
        return r["stdout"] + r["stderr"]

    def run_shell(command: str) -> str:
        r = sbx.commands.run(command, shell=True, timeout=30)
        return r["stdout"] + r["stderr"]

    def write_file(path: str, content: str) -> str:
        entry = sbx.files.write(path, content)
        return f"wrote {entry['size']} bytes to {path}"

    def read_file(path: str) -> str:
        content, truncated = sbx.files.read_head(path, 64 * 1024)
        return content.decode("utf-8", "replace") + ("\n[truncated]" if truncated else "")

    return {"run_python": run_python, "run_shell": run_shell, "write_file": write_file, "read_file": read_file}


def sandbox_tool_node(sbx: Sandbox) -> Callable[[State], State]:
    tools = make_tools(sbx)

    def node(state: State) -> State:
        calls = state["messages"][-1].get("tool_calls", [])
        out: list[Message] = []
        for tool_call in calls:
            tool = tools.get(tool_call["name"])
            try:
                content = tool(**tool_call["args"]) if tool else f"no tool named {tool_call['name']}"
            except (CommandExitError, CommandTimeoutError) as err:
                # The model sees what the command said, as a person at a terminal would.
                content = f"{err}\n{err.stdout}{err.stderr}"
            except PaddockError as err:
                content = f"error ({err.code}): {err}"
            out.append({"role": "tool", "tool_call_id": tool_call["id"], "name": tool_call["name"], "content": content})
        return {"messages": out}

    return node


def main() -> None:
    with Sandbox.create(template="base", timeout=600) as sbx:
        node = sandbox_tool_node(sbx)
        ai_message: Message = {
            "role": "assistant",
            "tool_calls": [
                {"id": "1", "name": "write_file", "args": {"path": "/work/fib.py", "content": "a, b = 0, 1\nfor _ in range(10): a, b = b, a + b\nprint(a)\n"}},
                {"id": "2", "name": "run_shell", "args": {"command": "python3 /work/fib.py"}},
                {"id": "3", "name": "run_shell", "args": {"command": "exit 2"}},
            ],
        }
        for message in node({"messages": [ai_message]})["messages"]:
            print(f"[{message['name']}] {message['content'].strip()}")


if __name__ == "__main__":
    main()
