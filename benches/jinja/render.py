#!/usr/bin/env python3
"""The Jinja2 peer: renders the reference node from a template, the way a config-management
user would without cilium-ipt (no validation, no canonical spelling, no escaping)."""
import os
import sys

import jinja2

here = os.path.dirname(os.path.abspath(__file__))
env = jinja2.Environment(loader=jinja2.FileSystemLoader(here), trim_blocks=True, lstrip_blocks=True,
                         keep_trailing_newline=True)
proxies = [{"name": "cilium-dns-egress", "port": 39799}, {"name": "cilium-http-ingress", "port": 15503}]
for p in proxies:
    p["mark"] = (((p["port"] & 0xFF) << 8 | p["port"] >> 8) << 16) | 0x200
sys.stdout.write(env.get_template("node.v4.j2").render(
    nrc="10.197.64.0/18", alloc="10.197.65.0/24", host_ip="10.197.65.1", proxies=proxies))
