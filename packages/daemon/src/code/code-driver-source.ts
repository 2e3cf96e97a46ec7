// The driver a code context runs inside its sandbox (one python3 per context).
// Kept as text: the daemon sends it to the sandbox on the driver's stdin, so no
// file of the sandbox (which its code could change beforehand) is trusted to hold it.
export const codeDriverSource = String.raw`
# Paddock's code-context driver: runs inside the sandbox, one per context.
# It starts a Jupyter kernel (jupyter_client) and speaks line-delimited JSON
# with the daemon over a private copy of its stdout; the kernel's own output
# never reaches that pipe (its fds go to /dev/null, its output comes over
# ZMQ as messages).
import json, os, queue, sys, threading, time

proto = os.fdopen(os.dup(1), "w", buffering=1)
devnull = os.open(os.devnull, os.O_RDWR)
os.dup2(devnull, 1)
lock = threading.Lock()
CAP = int(os.environ.get("PADDOCK_CODE_CAP", "4194304"))


def send(msg):
    line = json.dumps(msg, separators=(",", ":"))
    with lock:
        proto.write(line + "\n")


def clip(text):
    if len(text) > CAP:
        return text[:CAP], True
    return text, False


import jupyter_client.session  # noqa: E402
from jupyter_client.manager import KernelManager  # noqa: E402

# Session.deserialize turns every timestamp of a message's headers into a datetime with
# dateutil, some 0.1 ms a header and two headers a message; the driver reads no timestamp.
jupyter_client.session.extract_dates = lambda obj: obj

SETUP = r"""
def __paddock_setup():
    import json as _json
    from IPython import get_ipython
    from IPython.core.formatters import BaseFormatter
    from traitlets import ObjectName, Unicode

    class TableFormatter(BaseFormatter):
        format_type = Unicode("application/vnd.dataresource+json")
        print_method = ObjectName("_repr_data_resource_")
        _return_type = (dict,)

    ip = get_ipython()
    f = TableFormatter(parent=ip.display_formatter)
    f.for_type_by_name("pandas.core.frame", "DataFrame", lambda df: _json.loads(df.to_json(orient="table", default_handler=str)))
    ip.display_formatter.formatters[f.format_type] = f
    # The formatters load what they need on first use, tens of ms: here, not in the first cell
    # (a pooled sandbox's kernel is started ahead, its first cell is the claimer's).
    ip.display_formatter.format(0)
    # ipykernel sleeps this long after a cell, before its reply, for clients that end a cell at
    # the reply; the driver ends it at the idle status, which comes after all of the cell's output.
    ip.kernel._execute_sleep = 0
try:
    __paddock_setup()
finally:
    del __paddock_setup
"""

kernel_name = sys.argv[1] if len(sys.argv) > 1 else "python3"
# What "python3 -m ipykernel_launcher" does (the kernel's folder first in sys.path), without
# debugpy: Paddock offers no debugger, and its imports are ~0.2 s of CPU of every kernel's start
# (taken out of sys.modules after, for code that imports it itself).
LAUNCH = """import os, sys
if sys.path[0] == "":
    sys.path[0] = os.getcwd()
sys.modules["debugpy"] = None
from ipykernel import kernelapp
del sys.modules["debugpy"]
kernelapp.launch_new_instance()
"""

if kernel_name == "python3":
    km = KernelManager(kernel_name=kernel_name)
    if km.kernel_spec.argv[1:3] == ["-m", "ipykernel_launcher"]:
        km.kernel_spec.argv[1:3] = ["-c", LAUNCH]
else:
    # A kernel of ours (Bash, JavaScript): its spec is the next line, kept in a private folder.
    import tempfile
    from jupyter_client.kernelspec import KernelSpecManager
    specs = tempfile.mkdtemp(prefix="paddock-kernels-")
    os.mkdir(os.path.join(specs, kernel_name))
    with open(os.path.join(specs, kernel_name, "kernel.json"), "w") as f:
        f.write(sys.stdin.readline())
    km = KernelManager(kernel_name=kernel_name, kernel_spec_manager=KernelSpecManager(kernel_dirs=[specs]))
session = km.session
shell = None
iopub = None
requests = queue.Queue()

# The kernel's shell and iopub channels as plain (blocking) ZMQ sockets from the KernelManager,
# with jupyter_client's Session to sign, send and read messages: its blocking client runs an
# asyncio loop for every message it reads, a fraction of a millisecond each, several per cell.


def connect():
    global shell, iopub
    for sock in (shell, iopub):
        if sock is not None:
            sock.close(linger=0)
    # A random ZMQ identity: the kernel drops a second connection that claims one it already has.
    shell = km.connect_shell()
    iopub = km.connect_iopub()


def request(kind, content):
    msg = session.msg(kind, content)
    session.send(shell, msg)
    return msg["header"]["msg_id"]


def receive(sock, timeout_ms):
    if not sock.poll(timeout_ms):
        return None
    _, parts = session.feed_identities(sock.recv_multipart())
    return session.deserialize(parts)


def drain(sock):
    while sock.poll(0):
        sock.recv_multipart()


def wait_ready(timeout):
    # Asks until the kernel's answer shows on iopub too: a subscriber misses what is published
    # before its subscription reaches the kernel, and a cell's messages must not be missed.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not km.is_alive():
            raise RuntimeError("the kernel exited while starting")
        asked = request("kernel_info_request", {})
        until = time.monotonic() + 0.5
        while time.monotonic() < until:
            msg = receive(iopub, 100)
            if msg is not None and msg["parent_header"].get("msg_id") == asked:
                drain(iopub)
                return
    raise RuntimeError("the kernel did not answer within %d s" % timeout)


def setup(timeout):
    drain(shell)
    asked = request("execute_request", {"code": SETUP, "silent": True, "store_history": False, "user_expressions": {}, "allow_stdin": False, "stop_on_error": False})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg = receive(shell, 100)
        if msg is not None and msg["parent_header"].get("msg_id") == asked:
            return
    raise RuntimeError("the kernel did not run its setup within %d s" % timeout)


def start():
    km.start_kernel(stdout=devnull, stderr=devnull, stdin=devnull)
    ready()


def ready():
    connect()
    wait_ready(60)
    if kernel_name == "python3":
        setup(30)
    drain(shell)
    drain(iopub)


def execute(rid, code):
    # Messages of earlier cells left on the sockets belong to no one now (shell replies are not read:
    # the cell ends at its idle status on iopub). No stop_on_error: cells come one at a time, so
    # there is never a queue to abort, and the kernel's abort after an error outlives the idle
    # status by a turn of its loop: a cell sent in that window was cancelled without output.
    drain(shell)
    drain(iopub)
    msg_id = request("execute_request", {"code": code, "silent": False, "store_history": True, "user_expressions": {}, "allow_stdin": False, "stop_on_error": False})
    count = None
    status = "ok"
    while True:
        msg = receive(iopub, 500)
        if msg is None:
            if not km.is_alive():
                send({"t": "dead", "id": rid})
                return
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind = msg["msg_type"]
        c = msg["content"]
        if kind == "stream":
            text, cut = clip(c.get("text", ""))
            send({"t": "stream", "id": rid, "name": "stderr" if c.get("name") == "stderr" else "stdout", "text": text, "cut": cut})
        elif kind in ("execute_result", "display_data"):
            data = {}
            cut = False
            for mime, value in c.get("data", {}).items():
                if not isinstance(value, str):
                    value = json.dumps(value)
                    mime = "json:" + mime
                value, c2 = clip(value)
                cut = cut or c2
                data[mime] = value
            send({"t": "result", "id": rid, "main": kind == "execute_result", "data": data, "cut": cut})
        elif kind == "error":
            status = "error"
            tb = [clip(line)[0] for line in c.get("traceback", [])[:200]]
            send({"t": "error", "id": rid, "name": clip(c.get("ename", ""))[0], "value": clip(c.get("evalue", ""))[0], "traceback": tb})
        elif kind == "execute_input":
            count = c.get("execution_count")
        elif kind == "status" and c.get("execution_state") == "idle":
            break
    send({"t": "end", "id": rid, "count": count, "status": status})


def reader():
    for line in sys.stdin:
        try:
            req = json.loads(line)
        except ValueError:
            continue
        op = req.get("op")
        if op == "interrupt":
            km.interrupt_kernel()
        else:
            requests.put(req)
    requests.put({"op": "shutdown"})


try:
    start()
except Exception as e:  # the daemon reports it as a context that could not start
    send({"t": "failed", "message": clip(str(e))[0][:1000]})
    sys.exit(3)
send({"t": "ready", "pid": os.getpid()})
threading.Thread(target=reader, daemon=True).start()
while True:
    req = requests.get()
    op = req.get("op")
    rid = req.get("id")
    if op == "execute":
        try:
            execute(rid, req.get("code", ""))
        except Exception as e:
            send({"t": "dead", "id": rid, "message": str(e)[:1000]})
    elif op == "restart":
        try:
            if km.is_alive():
                km.restart_kernel(now=True)
                ready()
            else:
                start()
            send({"t": "restarted", "id": rid})
        except Exception as e:
            send({"t": "failed", "id": rid, "message": str(e)[:1000]})
    elif op == "shutdown":
        km.shutdown_kernel(now=True)
        break
# Past this, interpreter teardown would only print noise about closed sockets.
os._exit(0)
`;
