// The Jupyter kernel of the Bash and JavaScript contexts: Debian packages no
// kernel for either, so this small one (on ipykernel's Kernel base class)
// keeps one child process alive (bash, or node running the JavaScript
// driver) and hands it one cell after another. The child's stdout and stderr
// come back as the cell's output, streamed; it tells the end of a cell, its
// value and its error as JSON lines on a pipe of their own (the fd in
// PADDOCK_CONTROL_FD), so nothing a cell prints is read as one of them.
// The child shares the kernel's process group: an interrupt (SIGINT to the
// group) reaches it and the command it runs, and it ends the cell itself.
// Kept as text like the driver: the kernel spec carries it in its argv.
export const pipeKernelSource = String.raw`
import codecs, json, os, select, signal, subprocess, sys

# These kernels offer no debugger: without debugpy (and the pydevd it loads),
# ipykernel's imports take a third less time, and every context start waits on them.
sys.modules["debugpy"] = None
from ipykernel.kernelapp import IPKernelApp  # noqa: E402
from ipykernel.kernelbase import Kernel  # noqa: E402

LANGUAGE = os.environ.pop("PADDOCK_KERNEL_LANGUAGE", "bash")
CHILD = os.environ.pop("PADDOCK_KERNEL_CHILD", "")
INFO = {
    "bash": {"name": "bash", "mimetype": "text/x-sh", "file_extension": ".sh"},
    "javascript": {"name": "javascript", "mimetype": "application/javascript", "file_extension": ".js"},
}[LANGUAGE]


def spawn():
    r, w = os.pipe()
    env = dict(os.environ, PADDOCK_CONTROL_FD=str(w))
    argv = ["bash", "--noprofile", "--norc", "-c", CHILD] if LANGUAGE == "bash" else ["node", "-e", CHILD]
    # ipykernel ignores SIGINT, and an ignored signal stays ignored across exec (bash could not even trap it):
    # with a handler of ours instead, the child starts with SIGINT at its default.
    saved = signal.signal(signal.SIGINT, lambda signum, frame: None)
    try:
        p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, pass_fds=(w,), env=env)
    finally:
        signal.signal(signal.SIGINT, saved)
    os.close(w)
    return p, r


class PipeKernel(Kernel):
    implementation = "paddock-" + LANGUAGE
    implementation_version = "1"
    language = LANGUAGE
    language_version = ""
    language_info = INFO
    banner = "Paddock " + LANGUAGE + " kernel"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # No sleep after a cell before its reply: the driver ends a cell at the idle status, after its output.
        self._execute_sleep = 0
        self.child, self.control = spawn()
        self.interrupted = False

    def pre_handler_hook(self):
        # The child gets the group's SIGINT and ends the cell; here it only marks it.
        self.saved_sigint_handler = signal.signal(signal.SIGINT, self.on_interrupt)

    def on_interrupt(self, signum, frame):
        self.interrupted = True

    def stream(self, name, text):
        if text:
            self.send_response(self.iopub_socket, "stream", {"name": name, "text": text})

    def do_execute(self, code, silent, store_history=True, user_expressions=None, allow_stdin=False, **kwargs):
        self.interrupted = False
        if LANGUAGE == "bash":
            # NUL ends a cell: bash reads it with read -d ''.
            self.child.stdin.write(code.replace("\0", "").encode("utf-8") + b"\0")
        else:
            self.child.stdin.write(json.dumps(code).encode("utf-8") + b"\n")
        self.child.stdin.flush()
        out = {self.child.stdout.fileno(): ("stdout", codecs.getincrementaldecoder("utf-8")("replace")),
               self.child.stderr.fileno(): ("stderr", codecs.getincrementaldecoder("utf-8")("replace"))}
        pending = b""
        error = None
        done = None
        while done is None:
            ready, _, _ = select.select(list(out) + [self.control], [], [])
            for fd in ready:
                chunk = os.read(fd, 65536)
                if fd == self.control:
                    if not chunk:
                        # The child ended (exit in a cell, a crash): so does the kernel, which the driver reports as dead.
                        os._exit(1)
                    pending += chunk
                    while b"\n" in pending and done is None:
                        line, pending = pending.split(b"\n", 1)
                        try:
                            m = json.loads(line)
                        except ValueError:
                            continue
                        if m.get("t") == "result":
                            self.send_response(self.iopub_socket, "execute_result", {"execution_count": self.execution_count, "data": m.get("data", {}), "metadata": {}})
                        elif m.get("t") == "error":
                            error = m
                        elif m.get("t") == "done":
                            done = m
                elif chunk:
                    name, decoder = out[fd]
                    self.stream(name, decoder.decode(chunk))
        # The child wrote its output before it said done: take what is left in the pipes.
        while True:
            ready, _, _ = select.select(list(out), [], [], 0)
            chunks = [(fd, os.read(fd, 65536)) for fd in ready]
            chunks = [(fd, c) for fd, c in chunks if c]
            if not chunks:
                break
            for fd, chunk in chunks:
                name, decoder = out[fd]
                self.stream(name, decoder.decode(chunk))
        if self.interrupted:
            error = {"name": "KeyboardInterrupt", "value": "interrupted", "traceback": ""}
        elif error is None and LANGUAGE == "bash" and done.get("status", 0) != 0:
            error = {"name": "ExitStatus", "value": str(done.get("status")), "traceback": "exit status " + str(done.get("status"))}
        if error is not None:
            content = {"ename": str(error.get("name", "Error")), "evalue": str(error.get("value", "")), "traceback": str(error.get("traceback", "")).split("\n")}
            self.send_response(self.iopub_socket, "error", content)
            return dict(content, status="error", execution_count=self.execution_count)
        return {"status": "ok", "execution_count": self.execution_count, "payload": [], "user_expressions": {}}


IPKernelApp.launch_instance(kernel_class=PipeKernel)
`;

/**
 * The bash a Bash context keeps: one shell for all its cells, so variables,
 * functions and the working directory stay. A cell runs in a function so
 * that an interrupt ends the whole cell (the trap returns from it), not just
 * the command it was in; it reads no stdin and cannot reach the control fd.
 */
export const bashChildSource = String.raw`
if [ "$PADDOCK_CONTROL_FD" != 3 ]; then
  exec 3>&"$PADDOCK_CONTROL_FD"
  eval "exec $PADDOCK_CONTROL_FD>&-"
fi
unset PADDOCK_CONTROL_FD
__paddock_cell() { eval "$__paddock_code" </dev/null 3>&-; }
trap 'return 130 2>/dev/null' INT
while IFS= read -r -d '' __paddock_code; do
  __paddock_cell
  printf '{"t":"done","status":%d}\n' "$?" >&3
done
`;

/**
 * The node a JavaScript context keeps: each cell is a script in the one
 * global context (top-level let, const, functions and globals stay, as
 * between <script> tags), and its completion value is the cell's value. A
 * value that is a promise is awaited; a cell with a top-level await runs as
 * an async function (its declarations stay local, return gives its value).
 */
export const javascriptChildSource = String.raw`
const fs = require('node:fs');
const util = require('node:util');
const vm = require('node:vm');
const readline = require('node:readline');
const control = Number(process.env.PADDOCK_CONTROL_FD);
delete process.env.PADDOCK_CONTROL_FD;
const send = (m) => fs.writeSync(control, JSON.stringify(m) + '\n');
let stopWaiting = null;
process.on('SIGINT', () => stopWaiting?.());
// A callback that throws after its cell ended must not take the context's state with it.
process.on('uncaughtException', (e) => console.error(e));
process.on('unhandledRejection', (e) => console.error(e));

class Interrupted extends Error {}

function compile(code) {
  try {
    return new vm.Script(code, { filename: 'cell.js' });
  } catch (e) {
    if (!(e instanceof SyntaxError) || !/await is only valid/.test(e.message)) throw e;
    return new vm.Script('(async () => {\n' + code + '\n})()', { filename: 'cell.js', lineOffset: -1 });
  }
}

function waitFor(promise) {
  return new Promise((resolve, reject) => {
    stopWaiting = () => reject(new Interrupted());
    promise.then(resolve, reject);
  }).finally(() => {
    stopWaiting = null;
  });
}

function bundle(value) {
  const data = { 'text/plain': util.inspect(value, { depth: 4, colors: false }) };
  const proto = value !== null && typeof value === 'object' ? Object.getPrototypeOf(value) : undefined;
  if (Array.isArray(value) || proto === Object.prototype || proto === null) {
    try {
      const json = JSON.parse(JSON.stringify(value));
      if (json !== undefined) data['application/json'] = json;
    } catch {}
  }
  return data;
}

function describe(e) {
  if (e instanceof Interrupted || e?.code === 'ERR_SCRIPT_EXECUTION_INTERRUPTED') return { name: 'KeyboardInterrupt', value: 'interrupted', traceback: '' };
  if (e instanceof Error) return { name: String(e.name), value: String(e.message), traceback: String(e.stack ?? '') };
  return { name: 'Error', value: util.inspect(e), traceback: '' };
}

async function run(code) {
  try {
    let value = compile(code).runInThisContext({ breakOnSigint: true });
    if (value !== null && typeof value === 'object' && typeof value.then === 'function') value = await waitFor(value);
    if (value !== undefined) send({ t: 'result', data: bundle(value) });
  } catch (e) {
    send({ t: 'error', ...describe(e) });
  }
  send({ t: 'done' });
}

let queue = Promise.resolve();
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const code = JSON.parse(line);
  queue = queue.then(() => run(code));
});
`;
