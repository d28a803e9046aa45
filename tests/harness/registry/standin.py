#!/usr/bin/env python3
# standin.py: the one program inside every stand-in image the harness registry serves (our own
# test double of the images CARTO publishes; none of CARTO's code). The image's command names
# the role. Everything binds inside the container (the compose file publishes the ports).
#
#   router-http           HTTPS on 8443 (a self-signed certificate for SELFHOSTED_DOMAIN made at
#                         start, or with ROUTER_SSL_AUTOGENERATE=0 the files ROUTER_SSL_CERTIFICATE_PATH
#                         and ROUTER_SSL_CERTIFICATE_KEY_PATH name), HTTP on 8080 redirecting to
#                         https://SELFHOSTED_DOMAIN/. "/" and "/acc/config.yaml" answer 200;
#                         "/workspace-api/health" is passed to workspace-api:8081/health (502 when
#                         it does not answer, as a reverse proxy in front of a dead upstream).
#   router-metrics        plain HTTP on 5447 (metrics; the port must stay firewalled).
#   workspace-api         GET /health on 8081; the deep check (header Carto-Monitoring: True) also
#                         needs the Postgres (WORKSPACE_POSTGRES_HOST, default workspace-postgres)
#                         and Redis (REDIS_HOST, default redis) it is configured with: 503 without.
#   workspace-migrations  prints a line and exits 0.
#   postgres, redis       accept TCP on 5432 / 6379 (enough for the deep check).
#   anything else         stays up until SIGTERM (cdn-invalidator-sub too: the stand-in
#                         repository's 2025.11.11 breaks it the way CARTO's did, with a
#                         command naming a program path that does not exist).
#
# Fault knobs (customer.env keys): STANDIN_API_CRASH=1 (workspace-api prints
# POSTGRES_ADMIN_PASSWORD, to test log masking, and exits 1 a second after each start),
# STANDIN_API_HANG=1 (workspace-api up but never serving), STANDIN_MIGRATIONS_FAIL=1
# (workspace-migrations exits 1).
import http.client
import json
import os
import signal
import socket
import socketserver
import ssl
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

API_PORT = 8081


def env(key, default=""):
    return os.environ.get(key, default).strip()


def say(role, text):
    print(f"{role}: {text}", flush=True)


def reachable(host, port):
    try:
        with socket.create_connection((host, int(port)), timeout=2):
            return True
    except (OSError, ValueError):
        return False


class Reply(BaseHTTPRequestHandler):
    def reply(self, status, body, ctype="text/plain"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        sys.stdout.write("%s %s\n" % (self.address_string(), fmt % args))
        sys.stdout.flush()


class Api(Reply):
    def do_GET(self):
        if self.path.split("?", 1)[0] != "/health":
            self.reply(404, "not found\n")
            return
        deep = self.headers.get("Carto-Monitoring", "") == "True"
        status = {"status": "ok", "deep": deep}
        if deep:
            backends = {
                "postgres": (env("WORKSPACE_POSTGRES_HOST", "workspace-postgres"),
                             env("WORKSPACE_POSTGRES_PORT", "5432")),
                "redis": (env("REDIS_HOST", "redis"), env("REDIS_PORT", "6379")),
            }
            down = [name for name, (host, port) in backends.items() if not reachable(host, port)]
            if down:
                self.reply(503, json.dumps({"status": "down", "unreachable": down}), "application/json")
                return
        self.reply(200, json.dumps(status), "application/json")


def api_health(monitoring):
    """workspace-api's (status, body) for /health, or None when it does not answer."""
    headers = {"Carto-Monitoring": monitoring} if monitoring else {}
    try:
        conn = http.client.HTTPConnection("workspace-api", API_PORT, timeout=5)
        conn.request("GET", "/health", headers=headers)
        rsp = conn.getresponse()
        return rsp.status, rsp.read().decode(errors="replace")
    except OSError:
        return None


class Router(Reply):
    def do_GET(self):
        path = self.path.split("?", 1)[0]
        version, domain = env("CARTO_SELFHOSTED_VERSION", "unknown"), env("SELFHOSTED_DOMAIN", "localhost")
        if path == "/":
            self.reply(200, f"<html><body>CARTO Self-Hosted {version} (stand-in)</body></html>\n", "text/html")
        elif path == "/acc/config.yaml":
            self.reply(200, f"domain: {domain}\nversion: {version}\nstandin: true\n", "application/yaml")
        elif path == "/workspace-api/health":
            answer = api_health(self.headers.get("Carto-Monitoring", ""))
            if answer is None:
                self.reply(502, "502 Bad Gateway: workspace-api does not answer\n")
            else:
                self.reply(answer[0], answer[1], "application/json")
        else:
            self.reply(404, "not found\n")


class Redirect(Reply):
    def do_GET(self):
        self.send_response(301)
        self.send_header("Location", f"https://{env('SELFHOSTED_DOMAIN', 'localhost')}{self.path}")
        self.send_header("Content-Length", "0")
        self.end_headers()


class Metrics(Reply):
    def do_GET(self):
        self.reply(200, "# stand-in router metrics\nstandin_up 1\n")


class TlsServer(ThreadingHTTPServer):
    """Does the TLS handshake in the connection's own thread, so a silent client (a bare TCP
    port probe) never blocks the accept loop."""

    def __init__(self, address, handler, context):
        super().__init__(address, handler)
        self.context = context

    def finish_request(self, request, client_address):
        request.settimeout(30)
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except OSError:
            return
        self.RequestHandlerClass(tls, client_address, self)


class Accept(socketserver.BaseRequestHandler):
    """A database stand-in: accepts, answers one line, closes."""

    def handle(self):
        try:
            self.request.sendall(b"+PONG\r\n")
        except OSError:
            pass


def certificate():
    if env("ROUTER_SSL_AUTOGENERATE", "1") == "0":
        cert, key = env("ROUTER_SSL_CERTIFICATE_PATH"), env("ROUTER_SSL_CERTIFICATE_KEY_PATH")
        if not cert or not key:
            sys.exit("router-http: ROUTER_SSL_AUTOGENERATE=0 needs ROUTER_SSL_CERTIFICATE_PATH and ROUTER_SSL_CERTIFICATE_KEY_PATH")
        return cert, key
    domain = env("SELFHOSTED_DOMAIN", "localhost")
    cert, key = "/tmp/router.crt", "/tmp/router.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
         "-subj", f"/CN={domain}", "-addext", f"subjectAltName=DNS:{domain}",
         "-keyout", key, "-out", cert],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


def serve(server):
    threading.Thread(target=server.serve_forever, daemon=True).start()


def router_http():
    cert, key = certificate()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    serve(ThreadingHTTPServer(("0.0.0.0", 8080), Redirect))
    say("router-http", "serving https on 8443 and http on 8080")
    TlsServer(("0.0.0.0", 8443), Router, context).serve_forever()


def workspace_api():
    if env("STANDIN_API_CRASH") == "1":
        # Like a careless service dumping its config as it dies: the secret must be masked in
        # every log the CLI shows or saves.
        say("workspace-api", f"STANDIN_API_CRASH=1, crashing (db password {env('POSTGRES_ADMIN_PASSWORD')})")
        time.sleep(1)
        sys.exit(1)
    if env("STANDIN_API_HANG") == "1":
        say("workspace-api", "STANDIN_API_HANG=1, up but never serving")
        idle()
    say("workspace-api", f"listening on {API_PORT}")
    ThreadingHTTPServer(("0.0.0.0", API_PORT), Api).serve_forever()


def migrations():
    if env("STANDIN_MIGRATIONS_FAIL") == "1":
        say("workspace-migrations", "STANDIN_MIGRATIONS_FAIL=1, failing")
        sys.exit(1)
    say("workspace-migrations", f"schema at {env('CARTO_SELFHOSTED_VERSION', 'unknown')}, nothing left to apply")
    sys.exit(0)


def listener(port):
    def run():
        socketserver.ThreadingTCPServer.allow_reuse_address = True
        socketserver.ThreadingTCPServer(("0.0.0.0", port), Accept).serve_forever()
    return run


def idle():
    while True:
        time.sleep(3600)


ROLES = {
    "router-http": router_http,
    "router-metrics": lambda: ThreadingHTTPServer(("0.0.0.0", 5447), Metrics).serve_forever(),
    "workspace-api": workspace_api,
    "workspace-migrations": migrations,
    "postgres": listener(5432),
    "redis": listener(6379),
}


def stop(_signum, _frame):
    # PID 1 in a container gets no default SIGTERM action: without this, `docker stop` (and so
    # the VM's shutdown) waits 10 s and kills.
    sys.exit(0)


def main():
    signal.signal(signal.SIGTERM, stop)
    role = sys.argv[1] if len(sys.argv) > 1 else "idle"
    say(role, f"started (stand-in {env('CARTO_SELFHOSTED_VERSION', 'unknown')}, uid {os.getuid()})")
    ROLES.get(role, idle)()


if __name__ == "__main__":
    main()
