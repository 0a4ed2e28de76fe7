#!/usr/bin/python3
"""A misbehaving upstream for mp-exchange tests: badserver.py MODE; prints its port.
MODE: redirect (302 to another host), huge (10 MiB body), slow (trickles one byte a second),
reset (closes without answering), html (200 text/html page), truncated (half a JSON body)."""
import socket, sys, threading, time

mode = sys.argv[1]
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(16)
print(srv.getsockname()[1], flush=True)

def serve(c):
    try:
        c.recv(65536)
        if mode == "reset":
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        elif mode == "redirect":
            c.sendall(b"HTTP/1.1 302 Found\r\nLocation: http://203.0.113.9/token\r\nContent-Length: 0\r\n\r\n")
        elif mode == "huge":
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (10 << 20))
            chunk = b"x" * 65536
            for _ in range(160):
                c.sendall(chunk)
        elif mode == "slow":
            for b in b"HTTP/1.1 200 OK\r\n":
                c.sendall(bytes([b]))
                time.sleep(1)
        elif mode == "html":
            body = b"<html><body>Service Unavailable</body></html>"
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        elif mode == "truncated":
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"access_token\":\"eyJ")
    except OSError:
        pass
    finally:
        c.close()

while True:
    conn, _ = srv.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
