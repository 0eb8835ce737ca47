"""Loaded (via PYTHONPATH) only by the service that `.ci/fuzz.py` starts: name resolution answers
loopback addresses only, so no request the fuzzer provokes (a webhook URL it registered, a bot
API, a provider) can leave the machine, even where the run is not in a network namespace of its
own. Every outbound library resolves names through `socket.getaddrinfo`."""

import ipaddress
import socket

_getaddrinfo = socket.getaddrinfo


def _loopback_only(host, *args, **kwargs):
    answers = _getaddrinfo(host, *args, **kwargs)
    for answer in answers:
        address = answer[4][0]
        if (
            answer[0] in (socket.AF_INET, socket.AF_INET6)
            and not ipaddress.ip_address(address.split("%", 1)[0]).is_loopback
        ):
            raise socket.gaierror(socket.EAI_NONAME, f"fuzz run: {host} is not a loopback address")
    return answers


socket.getaddrinfo = _loopback_only
