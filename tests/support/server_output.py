"""Reading what a server under test prints, with a deadline."""
import os
import selectors
import time


def read_first_line(proc, timeout, stderr_text):
    """The first line `proc` prints on stdout (a test server's "PORT <n> ..."), within `timeout`
    seconds. RuntimeError, with the server's stderr (`stderr_text()`), if none comes or it exits."""
    deadline = time.monotonic() + timeout
    data = b""
    fd = proc.stdout.fileno()
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        while b"\n" not in data:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError("no PORT line within %.0f s; stderr:\n%s" % (timeout, stderr_text()))
            if sel.select(left):
                chunk = os.read(fd, 4096)
                if not chunk:
                    raise RuntimeError("the server exited before listening (status %s); stderr:\n%s"
                                       % (proc.poll(), stderr_text()))
                data += chunk
    return data.split(b"\n", 1)[0].decode()
