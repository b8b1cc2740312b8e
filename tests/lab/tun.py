"""Open a layer-3 TUN device in the current network namespace."""

import fcntl
import os
import struct

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000


def open_tun(ifname):
    """Create TUN device `ifname` and return its non-blocking fd.

    The device is not persistent: the kernel deletes it when the fd closes,
    so a crashed daemon cannot leave interfaces behind. IFF_NO_PI gives raw
    IPv4/IPv6 packets without the 4-byte packet-info prefix.
    """
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", ifname.encode(), IFF_TUN | IFF_NO_PI))
    except OSError:
        os.close(fd)
        raise
    return fd
