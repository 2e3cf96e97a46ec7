/**
 * The program the daemon keeps running inside a desktop sandbox to see and
 * drive its screen: python3 reads it as the first line of its stdin (so no
 * file of the sandbox holds it), then one JSON request a line. It drives the
 * X display with xdotool and xclip, always by argument lists and stdin, never
 * a shell; it grabs the screen with Pillow (XCB) and writes PNG. Each answer
 * is a JSON header line, {"len": N} or {"error": code, "message": …, "len": 0},
 * then N bytes: a JSON document, or a screenshot's PNG. Its children never
 * share its stdin or stdout. It ends when its stdin does, or after a minute
 * without a request (the daemon starts another when it needs one).
 */
export const desktopHelperSource = String.raw`
import io, json, os, signal, subprocess, sys, time

display = os.environ.get('DISPLAY') or ':0'
os.environ['DISPLAY'] = display
req = {}

class Fail(Exception):
    def __init__(self, code, message, details):
        self.code, self.message, self.details = code, message, details

def fail(code, message, **details):
    raise Fail(code, message, details)

def run(argv, data=None, timeout=30):
    try:
        r = subprocess.run(argv, input=data, stdin=None if data is not None else subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    except FileNotFoundError:
        fail('desktop_unavailable', argv[0] + ' is not installed in this sandbox (use the desktop template)')
    except subprocess.TimeoutExpired:
        fail('failed', argv[0] + ' did not finish in %d s' % timeout)
    return r

def xdo(*args, data=None, check=True):
    r = run(['xdotool', *[str(a) for a in args]], data)
    if check and r.returncode != 0:
        fail('failed', 'xdotool %s: %s' % (args[0], r.stderr.decode('utf-8', 'replace').strip()[-300:]))
    return r.stdout.decode('utf-8', 'replace') if r.returncode == 0 else None

def screen():
    # The start command may still be bringing the display up: wait for it a little.
    deadline = time.time() + req.get('waitMs', 10000) / 1000
    while True:
        r = run(['xdotool', 'getdisplaygeometry'])
        if r.returncode == 0:
            w, h = r.stdout.split()[:2]
            return {'width': int(w), 'height': int(h)}
        if time.time() > deadline:
            fail('desktop_unavailable', 'no X display at %s: %s' % (display, r.stderr.decode('utf-8', 'replace').strip()[-300:]))
        time.sleep(0.05)

def shell_vars(text):
    out = {}
    for line in (text or '').splitlines():
        k, _, v = line.partition('=')
        out[k] = v
    return out

def focused():
    wid = xdo('getactivewindow', check=False)
    if not wid:
        return None
    name = xdo('getwindowname', wid.strip(), check=False)
    return {'id': wid.strip(), 'title': (name or '').rstrip('\n')}

def cursor():
    v = shell_vars(xdo('getmouselocation', '--shell'))
    return {'x': int(v.get('X', 0)), 'y': int(v.get('Y', 0))}

def as_json(obj):
    return json.dumps(obj).encode()

def handle(req):
    op = req['op']
    if op == 'state':
        return as_json({'screen': screen(), 'focused': focused()})
    elif op == 'screenshot':
        try:
            from PIL import Image, ImageGrab
        except ImportError:
            fail('desktop_unavailable', 'Pillow is not installed in this sandbox (use the desktop template)')
        # One grab of the whole screen tells its size too (no second round trip to the X server).
        deadline = time.time() + req.get('waitMs', 10000) / 1000
        while True:
            try:
                img = ImageGrab.grab(xdisplay=display)
                break
            except OSError as err:
                if time.time() > deadline:
                    fail('desktop_unavailable', 'no X display at %s: %s' % (display, err))
                time.sleep(0.05)
        size = {'width': img.size[0], 'height': img.size[1]}
        x, y = req.get('x', 0), req.get('y', 0)
        w, h = req.get('width', size['width'] - x), req.get('height', size['height'] - y)
        if x + w > size['width'] or y + h > size['height'] or w < 1 or h < 1:
            fail('invalid_coordinates', 'the region %dx%d+%d+%d is not within the %dx%d screen' % (w, h, x, y, size['width'], size['height']), screen=size)
        if (x, y, w, h) != (0, 0, size['width'], size['height']):
            img = img.crop((x, y, x + w, y + h))
        scale = min(req.get('scale', 1), req['maxWidth'] / w, req['maxHeight'] / h)
        out = (max(1, int(w * scale)), max(1, int(h * scale)))
        if img.size != out:
            img = img.resize(out, Image.BILINEAR)
        return screenshot_bytes(img)
    elif op == 'cursor':
        screen()
        return as_json(cursor())
    elif op == 'windows':
        size = screen()
        active = focused()
        ids = (xdo('search', '--onlyvisible', '--name', '', check=False) or '').split()[:200]
        windows = []
        for wid in ids:
            g = shell_vars(xdo('getwindowgeometry', '--shell', wid, check=False))
            name = (xdo('getwindowname', wid, check=False) or '').rstrip('\n')
            # The window manager's own (unnamed frames, its 1x1 helper off screen) are not windows a user sees.
            if int(g.get('WIDTH', 0)) <= 1 or int(g.get('HEIGHT', 0)) <= 1 or not name:
                continue
            windows.append({'id': wid, 'title': name, 'x': int(g.get('X', 0)), 'y': int(g.get('Y', 0)),
                            'width': int(g['WIDTH']), 'height': int(g.get('HEIGHT', 0)), 'focused': bool(active and active['id'] == wid)})
        return as_json({'screen': size, 'windows': windows})
    elif op == 'act':
        buttons = {'left': 1, 'middle': 2, 'right': 3}
        done = 0
        for a in req['actions']:
            t = a['type']
            if t == 'click':
                xdo('mousemove', a['x'], a['y'], 'click', '--repeat', a['count'], '--delay', 80, buttons[a['button']])
            elif t == 'double_click':
                xdo('mousemove', a['x'], a['y'], 'click', '--repeat', 2, '--delay', 80, 1)
            elif t == 'right_click':
                xdo('mousemove', a['x'], a['y'], 'click', 3)
            elif t == 'move':
                xdo('mousemove', a['x'], a['y'])
            elif t == 'mouse_down':
                xdo('mousemove', a['x'], a['y'], 'mousedown', buttons[a['button']])
            elif t == 'mouse_up':
                xdo('mousemove', a['x'], a['y'], 'mouseup', buttons[a['button']])
            elif t == 'type':
                # From stdin: the text is never an argument (nothing in it can read as an option) nor a shell's.
                xdo('type', '--delay', 6, '--file', '-', data=a['text'].encode('utf-8'))
            elif t == 'key':
                xdo('key', '--clearmodifiers', '+'.join(a['keysyms']))
            elif t == 'scroll':
                if 'x' in a and 'y' in a:
                    xdo('mousemove', a['x'], a['y'])
                for amount, neg, pos in ((a['dy'], 4, 5), (a['dx'], 6, 7)):
                    notches = min(100, max(1, round(abs(amount) / 100))) if amount else 0
                    if notches:
                        xdo('click', '--repeat', notches, '--delay', 20, neg if amount < 0 else pos)
            elif t == 'drag':
                b = buttons[a['button']]
                fx, fy, tx, ty = a['from']['x'], a['from']['y'], a['to']['x'], a['to']['y']
                xdo('mousemove', fx, fy, 'mousedown', b, 'sleep', 0.05, 'mousemove', (fx + tx) // 2, (fy + ty) // 2,
                    'sleep', 0.05, 'mousemove', tx, ty, 'sleep', 0.05, 'mouseup', b)
            done += 1
        return as_json({'done': done, 'screen': screen(), 'cursor': cursor()})
    elif op == 'clipboard_get':
        screen()
        r = run(['xclip', '-selection', 'clipboard', '-o'], timeout=5)
        return as_json({'text': r.stdout.decode('utf-8', 'replace') if r.returncode == 0 else ''})
    elif op == 'clipboard_set':
        screen()
        # xclip stays behind to serve the selection: it must not hold this command's pipes open.
        try:
            p = subprocess.Popen(['xclip', '-selection', 'clipboard', '-i'], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, start_new_session=True)
        except FileNotFoundError:
            fail('desktop_unavailable', 'xclip is not installed in this sandbox (use the desktop template)')
        p.communicate(req['text'].encode('utf-8'), timeout=5)
        return as_json({'text': req['text']})
    else:
        fail('failed', 'unknown op ' + op)

def screenshot_bytes(img):
    buf = io.BytesIO()
    img.save(buf, 'PNG', compress_level=1)
    return buf.getvalue()

out = sys.stdout.buffer
while True:
    # A minute without a request ends it (SIGALRM's default); not while it works on one.
    signal.alarm(60)
    line = sys.stdin.readline()
    signal.alarm(0)
    if not line:
        break
    req = None
    try:
        req = json.loads(line)
        payload = handle(req)
        header = {'len': len(payload)}
    except Fail as f:
        payload, header = b'', {'error': f.code, 'message': f.message, 'details': f.details, 'len': 0}
    except Exception as err:
        payload, header = b'', {'error': 'failed', 'message': '%s: %s' % (type(err).__name__, err), 'len': 0}
    header['id'] = req.get('id') if isinstance(req, dict) else None
    out.write(json.dumps(header).encode() + b'\n' + payload)
    out.flush()
`;
