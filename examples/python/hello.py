"""A plain script: make a sandbox, run code in it, move files, undo with a checkpoint.

    PADDOCK_URL=http://127.0.0.1:7423 PADDOCK_TOKEN=... python3 examples/python/hello.py

(On the machine the daemon runs on, as root, neither is needed: the SDK reads the daemon's files, as the CLI does.)
"""

from __future__ import annotations

from paddock import CommandExitError, Sandbox


def main() -> None:
    with Sandbox.create(template="base", timeout=300, limits={"memory_mib": 512}, network={"allow": ["pypi.org"]}) as sbx:
        r = sbx.commands.run(["python3", "-c", "print(2 + 2)"], on_stdout=lambda text: print("stdout:", text, end=""), timeout=10)
        print("exit code", r["exitCode"])

        sbx.files.write("/work/a.txt", "hi")
        print(sbx.files.read("/work/a.txt"))

        cp = sbx.checkpoint()
        sbx.commands.run("rm -rf /work/*", shell=True)
        sbx.rollback(cp)
        print("after rollback:", sbx.files.list("/work")[0]["name"])

        try:
            sbx.commands.run("echo failing >&2; exit 3", shell=True)
        except CommandExitError as err:
            print(f"exit {err.exit_code}: {err.stderr.strip()}")


if __name__ == "__main__":
    main()
