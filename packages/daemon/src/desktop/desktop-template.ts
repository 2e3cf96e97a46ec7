/** The template desktop sandboxes are made from; built on first use when a sandbox asks for it. */
export const desktopTemplate = 'desktop';

/** The screen a desktop has unless the sandbox's env sets PADDOCK_SCREEN=WIDTHxHEIGHT. */
export const defaultScreen = { width: 1280, height: 800 } as const;

/**
 * Ports the start command's servers listen on, on the sandbox's loopback
 * only (nothing binds another address): the VNC servers for the live view
 * (one that takes no input, one that does) and the noVNC bridges in front
 * of them.
 */
export const desktopPorts = { vncView: 5900, vncControl: 5901, novncView: 6080, novncControl: 6081 } as const;

/**
 * The start command: an X display on :0 (Xvfb, no TCP listener), openbox,
 * and the live view's servers, all bound to 127.0.0.1. The screen size is
 * checked here too (the daemon reads the real size from the X server).
 */
const startScript = `#!/bin/sh
set -u
size="\${PADDOCK_SCREEN:-${defaultScreen.width}x${defaultScreen.height}}"
if ! echo "$size" | grep -Eqx '[0-9]{3,4}x[0-9]{3,4}'; then
  echo "PADDOCK_SCREEN must be WIDTHxHEIGHT (3 or 4 digits each), not $size: using ${defaultScreen.width}x${defaultScreen.height}" >&2
  size=${defaultScreen.width}x${defaultScreen.height}
fi
export DISPLAY=:0
Xvfb :0 -screen 0 "\${size}x24" -nolisten tcp -dpi 96 -nocursor &
i=0
while [ ! -e /tmp/.X11-unix/X0 ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
openbox &
x11vnc -display :0 -localhost -rfbport ${desktopPorts.vncView} -viewonly -shared -forever -nopw -quiet -noxdamage &
x11vnc -display :0 -localhost -rfbport ${desktopPorts.vncControl} -shared -forever -nopw -quiet -noxdamage &
websockify --web /usr/share/novnc 127.0.0.1:${desktopPorts.novncView} 127.0.0.1:${desktopPorts.vncView} &
websockify --web /usr/share/novnc 127.0.0.1:${desktopPorts.novncControl} 127.0.0.1:${desktopPorts.vncControl} &
wait
`;

/**
 * Debian's own packages: the X server, a window manager, Chromium, the
 * tools the desktop API drives (xdotool, xclip, Pillow's screen grab) and
 * the live view's VNC server and noVNC. The start script is carried in base64
 * so that no quoting of the Dockerfile touches it.
 */
export const desktopDockerfile = `FROM base
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update -q \\
 && apt-get install -y -q --no-install-recommends \\
      xvfb openbox chromium xdotool x11-utils x11-xserver-utils xclip x11vnc novnc python3-websockify \\
      python3-pil python3-xlib python3-tk xterm fonts-dejavu-core fonts-liberation ca-certificates \\
 && apt-get clean && rm -rf /var/lib/apt/lists/*
RUN echo ${Buffer.from(startScript).toString('base64')} | base64 -d > /usr/local/bin/paddock-desktop && chmod 755 /usr/local/bin/paddock-desktop
ENV DISPLAY=:0
ENTRYPOINT ["/usr/local/bin/paddock-desktop"]
`;
