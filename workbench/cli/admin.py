"""Administration: the ``secrets``, ``users`` and ``notify`` groups, ``serve`` (the portal) and ``monitor``."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from workbench.cli.base import App, checked
from workbench.cli.context import CliContext
from workbench.cli.tables import frame_table
from workbench.core import checks
from workbench.errors import WorkbenchError

#: the commands, merged into the root: ``workbench serve``, ``workbench monitor``
app = App()
secrets_app = App(help="Bithumb API keys, encrypted at rest.")
users_app = App(help="Users: owners of runs, who log in to the portal.")
notify_app = App(help="Notifications (Telegram, email) of runs and alarms.")


# ---------------------------------------------------------------- secrets
@secrets_app.command("generate-key")
def secrets_generate_key(
    ctx: typer.Context,
    keyring: Annotated[bool, typer.Option("--keyring", help="store it in the OS keyring, don't print it")] = False,
) -> None:
    """Make a new encryption key (for WORKBENCH_SECRET_KEY, or the OS keyring)."""
    from workbench.store.secrets import ENV_VAR, generate_key, save_key_to_keyring

    cli = CliContext.of(ctx)
    key = generate_key()
    if keyring:
        save_key_to_keyring(key)
        cli.out.print("stored a new key in the OS keyring (service 'workbench')")
    else:
        cli.out.print(f"export {ENV_VAR}={key}")


@secrets_app.command("set-bithumb")
def secrets_set_bithumb(ctx: typer.Context) -> None:
    """Store your Bithumb API key and secret, encrypted (asked for without echo)."""
    from workbench.store.secrets import load_bithumb_keys, secret_key, store_bithumb_keys

    cli = CliContext.of(ctx)
    secret_key()   # fail before asking for anything when there is no encryption key
    api_key = typer.prompt("Bithumb API key", hide_input=True)
    secret = typer.prompt("Bithumb secret key", hide_input=True)
    wb = cli.connect()
    store_bithumb_keys(wb.db, wb.user_id, api_key, secret)
    cli.out.print(f"stored (encrypted) for user {wb.settings.username}: {load_bithumb_keys(wb.db, wb.user_id)}")


@secrets_app.command("status")
def secrets_status(ctx: typer.Context) -> None:
    """Whether Bithumb keys are stored for the user (masked)."""
    from workbench.store.secrets import load_bithumb_keys

    cli = CliContext.of(ctx)
    wb = cli.connect()
    keys = load_bithumb_keys(wb.db, wb.user_id)
    cli.out.print(f"user {wb.settings.username}: " + (str(keys) if keys else "no Bithumb keys stored"))


# ---------------------------------------------------------------- users and the portal
def _password(stdin: bool) -> str:
    """A new password: the first line of stdin, or asked twice without echo."""
    if stdin:
        return sys.stdin.readline().rstrip("\r\n")
    import getpass

    first = getpass.getpass("password: ")
    if getpass.getpass("password (again): ") != first:
        raise WorkbenchError("the two passwords differ; nothing was changed")
    return first


PasswordStdinOpt = Annotated[bool, typer.Option("--password-stdin", help="read the password from stdin")]


@users_app.command("add")
def users_add(ctx: typer.Context, name: str, email: Annotated[str, typer.Option(help="the user's email address")],
              password_stdin: PasswordStdinOpt = False) -> None:
    """Add a user who can log in to the portal (the password is asked for without echo)."""
    from workbench.app.accounts import add_user, check_new_user

    cli = CliContext.of(ctx)
    check_new_user(name, email)
    password = _password(password_stdin)
    uid = add_user(cli.connect(need_redis=False).db, name, email, password)
    cli.out.print(f"user {name} added (id {uid})")


@users_app.command("list")
def users_list(ctx: typer.Context) -> None:
    """Users, their state and last login (UTC)."""
    from workbench.app.accounts import list_users

    cli = CliContext.of(ctx)
    df = list_users(cli.connect(need_redis=False).db)
    frame = df[["username", "email", "is_active", "can_log_in", "last_login", "active_sessions"]]
    cli.show(frame_table(frame, "users", {"is_active": "active", "can_log_in": "password",
                                          "last_login": "last login", "active_sessions": "sessions"}))


@users_app.command("disable")
def users_disable(ctx: typer.Context, name: str) -> None:
    """Stop a user from logging in; their portal sessions end at once."""
    from workbench.app.accounts import disable_user

    cli = CliContext.of(ctx)
    wb = cli.connect()
    ended = disable_user(wb.db, wb.redis_client(), name)
    cli.out.print(f"user {name} disabled; {ended} session(s) ended")


@users_app.command("enable")
def users_enable(ctx: typer.Context, name: str) -> None:
    """Let a disabled user log in again."""
    from workbench.app.accounts import enable_user

    cli = CliContext.of(ctx)
    enable_user(cli.connect(need_redis=False).db, name)
    cli.out.print(f"user {name} enabled")


@users_app.command("set-password")
def users_set_password(ctx: typer.Context, name: str, password_stdin: PasswordStdinOpt = False) -> None:
    """Give a user a new password; their portal sessions end."""
    from workbench.app.accounts import set_password
    from workbench.errors import DataNotFoundError
    from workbench.store.users import get_user

    cli = CliContext.of(ctx)
    wb = cli.connect()
    if get_user(wb.db, name) is None:   # before asking for a password
        raise DataNotFoundError(f"no user named {name[:60]!r} (see `workbench users list`)")
    ended = set_password(wb.db, wb.redis_client(), name, _password(password_stdin))
    cli.out.print(f"password of {name} changed; {ended} session(s) ended")


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option(callback=checked(checks.PORT, "--port"))] = 8765,
    session_hours: Annotated[float, typer.Option(help="how long a login lasts",
                                                 callback=checked(checks.SESSION_HOURS, "--session-hours"))] = 12.0,
) -> None:
    """Serve reports/ (index and reports) behind a login, until Ctrl-C (users: `workbench users add`)."""
    from datetime import timedelta

    from workbench.portal import PortalConfig
    from workbench.portal.server import listen, serve

    cli = CliContext.of(ctx)
    sock = listen(host, port)
    try:
        wb = cli.connect()
        config = PortalConfig(reports_dir=wb.settings.reports_dir, session_lifetime=timedelta(hours=session_hours),
                              data_dir=wb.settings.data_dir, archive_location=wb.settings.archive_location)
        serve(wb.db, wb.redis_client(), config, sock, log=cli.out.print)
    finally:
        sock.close()


@app.command()
def monitor(
    ctx: typer.Context,
    check: Annotated[bool, typer.Option(help="judge the WORKBENCH_MONITOR_* thresholds, notify alarms and "
                                             "recoveries, print only those (for cron)")] = False,
    watch: Annotated[float | None, typer.Option(help="--check every SECONDS (1 to 86,400) until Ctrl-C",
                                               callback=checked(checks.WATCH_INTERVAL, "--watch"))] = None,
) -> None:
    """Database connections, slowest queries, table sizes, archive state, Redis and free disk, now."""
    from workbench.app.monitor import MonitorReport, snapshot

    cli = CliContext.of(ctx)
    wb = cli.connect()
    s = wb.settings

    def take() -> MonitorReport:
        return snapshot(wb.db, wb.redis_client(), data_dir=s.data_dir, archive_location=s.archive_location,
                        reports_dir=s.reports_dir)

    if check or watch is not None:
        from workbench.app.monitor_alarms import run_checks

        for change in run_checks(wb, wb.redis_client(), s, take, watch):
            cli.out.print(str(change))
        return
    for title, frame in take().sections():
        cli.show(frame_table(frame, title))


# ---------------------------------------------------------------- notify
UserOpt = Annotated[str | None, typer.Option(help="user name (default: WORKBENCH_USERNAME)")]


@notify_app.command("worker")
def notify_worker(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Option(help="worker name (default host-pid); a restart under the same "
                                                  "name re-queues at once what the killed one left")] = None,
    max_attempts: Annotated[int, typer.Option(min=1)] = 8,
    backoff: Annotated[float, typer.Option(help="seconds before the first retry (doubling)")] = 2.0,
    heartbeat: Annotated[float, typer.Option(help="seconds after which a silent worker counts as dead")] = 15.0,
    until_idle: Annotated[bool, typer.Option(help="stop when nothing is queued or waiting for a retry")] = False,
) -> None:
    """Deliver queued notifications by Telegram and email, with retries and back-off."""
    from workbench.app.notify.service import channels_from_settings, default_worker_name, redis_from_url
    from workbench.app.notify.worker import WorkerOptions, run_worker

    cli = CliContext.of(ctx)
    settings = cli.settings()
    url = settings.redis_url or cli.connect().urls.redis_url
    if url is None:
        raise WorkbenchError("notify worker: notifications live in Redis, and no Redis is configured or running")
    opts = WorkerOptions(name=name or default_worker_name(), max_attempts=max_attempts, backoff=backoff,
                         heartbeat=heartbeat)
    stats = run_worker(redis_from_url(url), channels_from_settings(settings), opts, until_idle=until_idle,
                       log=lambda line: print(line, flush=True))
    cli.out.print(f"delivered {stats.delivered}, retried {stats.retried}, failed {stats.dead}")


@notify_app.command("list")
def notify_list(ctx: typer.Context, user: UserOpt = None,
                limit: Annotated[int, typer.Option(min=1)] = 20) -> None:
    """A user's newest notifications."""
    import pandas as pd

    from workbench.app.notify import list_notifications, user_id_by_name
    from workbench.store.paper_keys import redis_client

    cli = CliContext.of(ctx)
    wb = cli.connect()
    client = redis_client(wb.cache)
    if client is None:
        raise WorkbenchError("notify list: notifications live in Redis, and the cache (Redis) is off")
    notes = list_notifications(client, wb.user_id if user is None else user_id_by_name(wb.db, user), limit)
    if not notes:
        cli.out.print("no notifications")
        return
    frame = pd.DataFrame([{"time (UTC)": n.created[:19].replace("T", " "), "kind": n.kind, "text": n.text}
                          for n in notes])
    cli.show(frame_table(frame, "notifications"))


@notify_app.command("test")
def notify_test(ctx: typer.Context, user: UserOpt = None) -> None:
    """Send a test notification to a user (their list, and Telegram/email as they chose)."""
    from workbench.app.notify import notify, user_id_by_name

    cli = CliContext.of(ctx)
    wb = cli.connect()
    uid = wb.user_id if user is None else user_id_by_name(wb.db, user)
    note = notify(wb, "test", "Test notification from the workbench.", user_id=uid)
    if note is None:
        raise WorkbenchError("notify test: the notification could not be stored (is Redis reachable?)")
    cli.out.print(f"test notification {note.id}: list" + "".join(f", {q}" for q in note.queued))
