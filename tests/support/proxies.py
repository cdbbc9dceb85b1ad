"""The real server and the proxies the deployment guide puts in front of it, for the Python
tests: the server on a loopback port, nginx configured by docs/nginx.conf.example itself and
Caddy by docs/Caddyfile.example's first site (both moved to loopback ports, without TLS)."""
import contextlib
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from socket import create_server

DOCS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs")


def free_port():
    """A loopback port nobody listens on (bound, then released for a proxy to take)."""
    with create_server(("127.0.0.1", 0)) as listener:
        return listener.getsockname()[1]


def start_server(binary, *extra):
    """The server on 127.0.0.1 and a free port; (process, port). Its log is read as it comes
    (a full pipe would stall the server) into `process.log`, a list of lines."""
    process = subprocess.Popen([binary, "-addr", "127.0.0.1:0", *extra],
                               stderr=subprocess.PIPE, text=True)
    process.log = []
    for line in process.stderr:
        process.log.append(line)
        match = re.search(r"listening on http://[^\s:]+:(\d+)", line)
        if match:
            process.log_reader = threading.Thread(
                target=lambda: process.log.extend(process.stderr), daemon=True)
            process.log_reader.start()
            return process, int(match.group(1))
    raise SystemExit("the server did not start")


def stop(process):
    """Ends `process` (SIGTERM, then SIGKILL after 5 s); a server's log is complete after."""
    process.terminate()
    try:
        process.wait(5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)
    if hasattr(process, "log_reader"):
        process.log_reader.join(5)


@contextlib.contextmanager
def nginx_from_example(upstream_port):
    """nginx running docs/nginx.conf.example (its upstream, headers and locations), moved to a
    loopback port without TLS; yields its port, or None when nginx is missing."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.path.exists(nginx):
        yield None
        return
    with tempfile.TemporaryDirectory() as prefix:
        proxy_port, redirect_port = free_port(), free_port()
        config = []
        for line in open(os.path.join(DOCS, "nginx.conf.example"), encoding="utf-8"):
            stripped = line.strip()
            if stripped.startswith(("ssl_certificate", "listen [::]")):
                continue
            line = line.replace("server 127.0.0.1:8787 ", f"server 127.0.0.1:{upstream_port} ")
            line = line.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{proxy_port};")
            line = line.replace("listen 80;", f"listen 127.0.0.1:{redirect_port};")
            config.append(line)
        conf = os.path.join(prefix, "nginx.conf")
        with open(conf, "w") as out:
            out.write(f"daemon off;\nmaster_process off;\npid {prefix}/nginx.pid;\n"
                      f"error_log {prefix}/error.log;\nevents {{}}\nhttp {{\n"
                      f"access_log off;\nclient_body_temp_path {prefix};\n"
                      f"proxy_temp_path {prefix};\n" + "".join(config) + "}\n")
        proxy = subprocess.Popen([nginx, "-p", prefix, "-c", conf], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        try:
            yield proxy_port
        finally:
            stop(proxy)


@contextlib.contextmanager
def caddy_from_example(upstream_port):
    """Caddy running the first site of docs/Caddyfile.example (its reverse_proxy block as it
    stands), as plain HTTP on a loopback port; yields its port, or None when Caddy is
    missing."""
    caddy = shutil.which("caddy")
    if not caddy:
        yield None
        return
    example = open(os.path.join(DOCS, "Caddyfile.example"), encoding="utf-8").read()
    site = re.search(r"^rendezvous\.example\.org \{\n.*?^\}\n", example, re.M | re.S).group(0)
    with tempfile.TemporaryDirectory() as home:
        port = free_port()
        site = site.replace("rendezvous.example.org", f"http://127.0.0.1:{port}")
        site = site.replace("127.0.0.1:8787", f"127.0.0.1:{upstream_port}")
        caddyfile = os.path.join(home, "Caddyfile")
        with open(caddyfile, "w") as out:
            out.write("{\n\tadmin off\n\tauto_https off\n}\n" + site)
        environment = dict(os.environ, XDG_DATA_HOME=home, XDG_CONFIG_HOME=home, HOME=home)
        proxy = subprocess.Popen([caddy, "run", "--config", caddyfile, "--adapter", "caddyfile"],
                                 env=environment, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        try:
            yield port
        finally:
            stop(proxy)


def wait_healthy(connect, seconds=30):
    """True once GET /healthz answers 200 on the connection `connect()` opens (None: not yet),
    as a proxy in front comes up; False if it did not in time."""
    for _ in range(seconds * 10):
        try:
            connection = connect()
            if connection:
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.1)
    return False
