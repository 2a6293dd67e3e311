"""Test fixture for inspect: a TCP server whose socket options are exactly known.

Sets SO_KEEPALIVE and TCP_KEEPIDLE/INTVL/CNT and TCP_USER_TIMEOUT on the listener or on each
accepted socket (keepalive on every second accepted socket only with --keepalive alternate),
optionally sends --send bytes to each client as fast as it takes them, never reads, never
closes: a client's FIN leaves the connection in CLOSE_WAIT. Prints "listening" when ready.

Usage: option_server.py --address A --port P [--keepalive on|off|alternate]
       [--where accepted|listener] [--idle S] [--intvl S] [--cnt N] [--user-timeout MS]
       [--send BYTES] [--lifetime S]
"""

import argparse
import select
import socket
import sys
import time


def set_options(sock, args, keepalive):
    """The options of the fixture, on a listener or an accepted socket."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1 if keepalive else 0)
    if args.idle:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, args.idle)
    if args.intvl:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, args.intvl)
    if args.cnt:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, args.cnt)
    if args.user_timeout:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, args.user_timeout)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--address", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--keepalive", choices=["on", "off", "alternate"], default="off")
    parser.add_argument("--where", choices=["accepted", "listener"], default="accepted")
    parser.add_argument("--idle", type=int, default=0)
    parser.add_argument("--intvl", type=int, default=0)
    parser.add_argument("--cnt", type=int, default=0)
    parser.add_argument("--user-timeout", type=int, default=0)
    parser.add_argument("--send", type=int, default=0)
    parser.add_argument("--lifetime", type=float, default=120)
    args = parser.parse_args()

    family = socket.AF_INET6 if ":" in args.address else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if args.where == "listener":
        set_options(listener, args, args.keepalive != "off")
    listener.bind((args.address, args.port))
    listener.listen(64)
    print("listening", flush=True)

    held = []
    pending = {}
    deadline = time.monotonic() + args.lifetime
    while time.monotonic() < deadline:
        writers = [s for s, left in pending.items() if left > 0]
        readable, writable, _ = select.select([listener], writers, [], 0.2)
        if readable and len(held) < 64:
            conn, _ = listener.accept()
            if args.where == "accepted":
                keepalive = args.keepalive == "on" or (
                    args.keepalive == "alternate" and len(held) % 2 == 1)
                set_options(conn, args, keepalive)
            conn.setblocking(False)
            held.append(conn)
            if args.send:
                pending[conn] = args.send
        for conn in writable:
            try:
                pending[conn] -= conn.send(b"x" * min(65536, pending[conn]))
            except BlockingIOError:
                pass
            except OSError:
                pending[conn] = 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
