// The driver a code context runs inside its sandbox (one python3 per context).
// Kept as text: the daemon sends it to the sandbox on the driver's stdin, so no
// file of the sandbox (which its code could change beforehand) is trusted to hold it.
export const codeDriverSource = String.raw`
# Paddock's code-context driver: runs inside the sandbox, one per context.
# It starts a Jupyter kernel (jupyter_client) and speaks line-delimited JSON
# with the daemon over a private copy of its stdout; the kernel's own output
# never reaches that pipe (its fds go to /dev/null, its output comes over
# ZMQ as messages).
import json, os, queue, sys, threading

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


from jupyter_client.manager import KernelManager  # noqa: E402

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
try:
    __paddock_setup()
finally:
    del __paddock_setup
"""

kernel_name = sys.argv[1] if len(sys.argv) > 1 else "python3"
if kernel_name == "python3":
    km = KernelManager(kernel_name=kernel_name)
else:
    # A kernel of ours (Bash, JavaScript): its spec is the next line, kept in a private folder.
    import tempfile
    from jupyter_client.kernelspec import KernelSpecManager
    specs = tempfile.mkdtemp(prefix="paddock-kernels-")
    os.mkdir(os.path.join(specs, kernel_name))
    with open(os.path.join(specs, kernel_name, "kernel.json"), "w") as f:
        f.write(sys.stdin.readline())
    km = KernelManager(kernel_name=kernel_name, kernel_spec_manager=KernelSpecManager(kernel_dirs=[specs]))
kc = None
requests = queue.Queue()


def start():
    global kc
    km.start_kernel(stdout=devnull, stderr=devnull, stdin=devnull)
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    if kernel_name == "python3":
        kc.execute(SETUP, silent=True, store_history=False)
        kc.get_shell_msg(timeout=30)


def execute(rid, code):
    if not km.is_alive():
        send({"t": "dead", "id": rid})
        return
    # Messages of earlier cells left on iopub belong to no one now.
    while True:
        try:
            kc.get_iopub_msg(timeout=0)
        except queue.Empty:
            break
    msg_id = kc.execute(code, store_history=True, allow_stdin=False)
    count = None
    status = "ok"
    while True:
        try:
            msg = kc.get_iopub_msg(timeout=0.5)
        except queue.Empty:
            if not km.is_alive():
                send({"t": "dead", "id": rid})
                return
            continue
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
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
            else:
                kc.stop_channels()
                start()
            kc.wait_for_ready(timeout=60)
            if kernel_name == "python3":
                kc.execute(SETUP, silent=True, store_history=False)
                kc.get_shell_msg(timeout=30)
            send({"t": "restarted", "id": rid})
        except Exception as e:
            send({"t": "failed", "id": rid, "message": str(e)[:1000]})
    elif op == "shutdown":
        kc.stop_channels()
        km.shutdown_kernel(now=True)
        break
# Past this, interpreter teardown would only print noise about closed sockets.
os._exit(0)
`;
