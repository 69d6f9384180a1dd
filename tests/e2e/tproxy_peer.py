#!/usr/bin/env python3
"""Both ends of the TPROXY datapath test. Every mode is bounded in time and exits by itself.

  listen-tcp PORT SECONDS   transparent TCP listener (IP_TRANSPARENT) on 0.0.0.0:PORT; prints
                            "tcp accepted original=IP:PORT" for the first connection
  listen-udp PORT SECONDS   transparent UDP listener; prints "udp received original=IP:PORT
                            payload=..." using IP_RECVORIGDSTADDR
  connect-tcp IP PORT       connects once (2 s timeout); prints "connected" or "failed: ..."
  send-udp IP PORT          sends one datagram "ping"
"""

import socket
import struct
import sys

IP_TRANSPARENT = getattr(socket, "IP_TRANSPARENT", 19)
IP_RECVORIGDSTADDR = getattr(socket, "IP_RECVORIGDSTADDR", 20)


def listen_tcp(port, seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_IP, IP_TRANSPARENT, 1)
    s.bind(("0.0.0.0", port))
    s.listen(8)
    s.settimeout(seconds)
    print("listening", flush=True)
    try:
        conn, _ = s.accept()
    except socket.timeout:
        print("tcp nothing", flush=True)
        return
    # For a TPROXY'd connection the local address is the original destination.
    ip, p = conn.getsockname()
    print(f"tcp accepted original={ip}:{p}", flush=True)
    conn.close()


def listen_udp(port, seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_IP, IP_TRANSPARENT, 1)
    s.setsockopt(socket.SOL_IP, IP_RECVORIGDSTADDR, 1)
    s.bind(("0.0.0.0", port))
    s.settimeout(seconds)
    print("listening", flush=True)
    try:
        data, ancillary, _, _ = s.recvmsg(512, 512)
    except socket.timeout:
        print("udp nothing", flush=True)
        return
    original = "?"
    for level, kind, raw in ancillary:
        if level == socket.SOL_IP and kind == IP_RECVORIGDSTADDR:
            # struct sockaddr_in: family, port (network order), address
            _, p = struct.unpack_from("!HH", raw)
            original = f"{socket.inet_ntoa(raw[4:8])}:{p}"
    print(f"udp received original={original} payload={data.decode()}", flush=True)


def connect_tcp(ip, port):
    try:
        socket.create_connection((ip, port), timeout=2).close()
        print("connected", flush=True)
    except OSError as e:
        print(f"failed: {e}", flush=True)


def send_udp(ip, port):
    socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"ping", (ip, port))
    print("sent", flush=True)


if __name__ == "__main__":
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "listen-tcp":
        listen_tcp(int(args[0]), float(args[1]))
    elif mode == "listen-udp":
        listen_udp(int(args[0]), float(args[1]))
    elif mode == "connect-tcp":
        connect_tcp(args[0], int(args[1]))
    elif mode == "send-udp":
        send_udp(args[0], int(args[1]))
    else:
        sys.exit(f"unknown mode {mode}")
