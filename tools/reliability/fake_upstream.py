"""A sun service stand-in whose behaviour can be switched at run time, for upstream fault injection.

Modes: ok (a real sun answer, after `base_latency`), slow (3 × base latency), hang (accepts and reads
the request, never answers), garbage (200 with a body that is not JSON), truncated (200 whose JSON is
cut off mid-object), error500 (500 with a JSON error), down (listener closed: connection refused).
"""
import http.server
import socket
import socketserver
import threading
import time


class FakeUpstream:
    def __init__(self, ok_body, base_latency=0.05):
        self.ok_body = ok_body
        self.base_latency = base_latency
        self.mode = "ok"
        self.port = None
        self.server = None
        self.release = threading.Event()  # set to free every hung handler at shutdown
        self._listen()

    def _listen(self):
        upstream = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                upstream.handle(self)

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", self.port or 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def set_mode(self, mode):
        if mode == "down" and self.mode != "down":
            self.server.shutdown()
            self.server.server_close()
        elif mode != "down" and self.mode == "down":
            self._listen()
        self.mode = mode

    def handle(self, request):
        mode = self.mode
        if mode == "hang":
            self.release.wait(120)
            return
        if mode in ("ok", "slow"):
            time.sleep(self.base_latency * (3 if mode == "slow" else 1))
            self._send(request, 200, self.ok_body)
        elif mode == "garbage":
            self._send(request, 200, b"\x00<html>definitely not json\xff")
        elif mode == "truncated":
            self._send(request, 200, self.ok_body[: len(self.ok_body) // 2])
        elif mode == "error500":
            self._send(request, 500, b'{"error":{"code":"internal_error","message":"injected"}}')
        else:
            request.connection.shutdown(socket.SHUT_RDWR)

    @staticmethod
    def _send(request, status, body):
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    def close(self):
        self.release.set()
        if self.mode != "down":
            self.server.shutdown()
            self.server.server_close()
