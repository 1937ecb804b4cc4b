"""Debian's nginx running the repo's proxy config (deploy/nginx/nginx.conf), for the tests.

The repo's file is a `conf.d` server block whose upstreams are the compose services `web` and
`ws`. `render` wraps it in a minimal main config under a temp prefix, with the upstreams pointed
at the test's own servers and the listen port moved to a free one; the rest is the file as it
ships, so `nginx -t` and the proxy test check what production runs.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

from config.tests import servers

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
CONF = servers.ROOT / "deploy" / "nginx" / "nginx.conf"

MAIN = """\
{user}daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {prefix}/site.conf;
}}
"""


def render(prefix: Path, *, web: str, ws: str, listen: int) -> Path:
    """Writes prefix/nginx.conf; `web` and `ws` are host:port of the servers to proxy to."""
    site = CONF.read_text()
    site, web_hits = re.subn(r"server web:8000;", f"server {web};", site)
    site, ws_hits = re.subn(r"server ws:8001;", f"server {ws};", site)
    site, listen_hits = re.subn(r"listen 80;", f"listen 127.0.0.1:{listen};", site)
    assert (web_hits, ws_hits, listen_hits) == (1, 1, 1), "deploy/nginx/nginx.conf changed shape"
    (prefix / "site.conf").write_text(site)
    main = prefix / "nginx.conf"
    # As root, workers would run as `nobody`, who cannot enter the private temp prefix.
    user = "user root;\n" if os.geteuid() == 0 else ""
    main.write_text(MAIN.format(prefix=prefix, user=user))
    return main


def check(main: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [NGINX, "-t", "-p", str(main.parent), "-c", str(main)], capture_output=True, text=True
    )


@contextlib.contextmanager
def running(*, web: str, ws: str) -> Iterator[int]:
    """nginx in the foreground on a free port; yields the port."""
    with servers.temp_dir("nginx") as prefix, servers.app_processes() as make:
        port = servers.free_port()
        main = render(prefix, web=web, ws=ws, listen=port)
        cmd = [NGINX, "-p", str(prefix), "-c", str(main)]
        make("nginx", cmd, env=servers.app_env()).start(port=port)
        yield port
