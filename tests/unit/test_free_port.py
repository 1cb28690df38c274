"""The ports `moderation run` and the tests give their servers: free, and out of outgoing connections' way."""

import socket

from moderation import runner


def bind(port):
    sock = socket.socket()
    sock.bind(("127.0.0.1", port))
    return sock


def test_a_port_below_the_kernels_ephemeral_range_that_can_be_bound(tmp_path, monkeypatch):
    ranges = tmp_path / "ip_local_port_range"
    ranges.write_text("30000\t60999\n")
    monkeypatch.setattr(runner, "EPHEMERAL_RANGE", ranges)
    for _ in range(20):
        port = runner.free_port()
        assert runner.PRIVATE_PORTS.start <= port < 30000
        bind(port).close()


def test_a_taken_port_is_never_given(tmp_path, monkeypatch):
    """A port something is bound to is skipped: with it as the only private candidate, the kernel chooses."""
    taken = bind(0)
    port = taken.getsockname()[1]
    ranges = tmp_path / "ip_local_port_range"
    ranges.write_text("65535 65535\n")  # every port below counts as private, the taken one too
    monkeypatch.setattr(runner, "EPHEMERAL_RANGE", ranges)
    monkeypatch.setattr(runner, "PRIVATE_PORTS", [port] * 50)  # the only candidate is in use
    try:
        assert runner.free_port() != port
    finally:
        taken.close()


def test_without_private_ports_the_kernel_chooses(tmp_path, monkeypatch):
    """A system whose ephemeral range starts at 1024 leaves no private port: any free one will do."""
    ranges = tmp_path / "ip_local_port_range"
    ranges.write_text("1024 65535\n")
    monkeypatch.setattr(runner, "EPHEMERAL_RANGE", ranges)
    bind(runner.free_port()).close()
