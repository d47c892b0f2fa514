"""Mail with STARTTLS and a login (AUTH PLAIN), against a local SMTP server with a self-signed
certificate (tests/support/fake_notify.py)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fake_notify import FakeSMTP, serving_smtp

from workbench.app.notify.channels import EmailChannel, PermanentFailure
from workbench.app.notify.queue import EMAIL_QUEUE
from workbench.app.notify.service import channels_from_settings
from workbench.app.notify.worker import WorkerOptions, run_worker
from workbench.errors import ConfigError
from workbench.services.config import Settings


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key (PEM files)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake-smtp")])
    now = dt.datetime.now(dt.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
                   .not_valid_after(now + dt.timedelta(days=1))
                   .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                  critical=False)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                       serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    return folder / "cert.pem", folder / "key.pem"


def _server_tls(cert: tuple[Path, Path]) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*cert)
    return ctx


def _trusting(cert: tuple[Path, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cert[0]))


def _channel(port: int, cert: tuple[Path, Path], **kw: object) -> EmailChannel:
    fields = {"user": "ann", "password": "s3cret", "starttls": True, "ssl_context": _trusting(cert), **kw}
    return EmailChannel("127.0.0.1", port, "wb@example.com", timeout=5, **fields)  # type: ignore[arg-type]


def test_starttls_then_login_then_mail(cert: tuple[Path, Path]) -> None:
    with serving_smtp(FakeSMTP(tls=_server_tls(cert), users={"ann": "s3cret"})) as smtp:
        _channel(smtp.port, cert).send("bob@example.com", "Sweep finished", "sweep 1 done")
    assert smtp.logins == [("ann", True, True)]
    assert smtp.received == [("wb@example.com", ["bob@example.com"], "Sweep finished", "sweep 1 done")]


def test_failures_of_login_and_tls_are_permanent(cert: tuple[Path, Path]) -> None:
    with serving_smtp(FakeSMTP(tls=_server_tls(cert), users={"ann": "s3cret"})) as smtp:
        with pytest.raises(PermanentFailure, match=r"^SMTP answered 535$"):
            _channel(smtp.port, cert, password="wrong").send("bob@example.com", "s", "t")
        # a certificate the client does not trust (the system's CAs)
        with pytest.raises(PermanentFailure, match=r"^SMTP server 127\.0\.0\.1:\d+: certificate not trusted "
                                                   r"\(self.signed certificate\)$"):
            _channel(smtp.port, cert, ssl_context=None).send("bob@example.com", "s", "t")
        # without STARTTLS the server offers no AUTH, and refuses mail without a login
        with pytest.raises(PermanentFailure, match=r"^SMTP server 127\.0\.0\.1:\d+: SMTP AUTH extension not "
                                                   r"supported by server\.$"):
            _channel(smtp.port, cert, starttls=False).send("bob@example.com", "s", "t")
        with pytest.raises(PermanentFailure, match=r"^SMTP answered 530$"):
            _channel(smtp.port, cert, starttls=False, user=None).send("bob@example.com", "s", "t")
    assert smtp.logins == [("ann", False, True)] and smtp.received == []
    with serving_smtp(FakeSMTP()) as plain:   # a server without STARTTLS
        with pytest.raises(PermanentFailure, match=r"^SMTP server 127\.0\.0\.1:\d+: STARTTLS extension not "
                                                   r"supported by server\.$"):
            _channel(plain.port, cert).send("bob@example.com", "s", "t")


def test_the_worker_logs_in_as_configured(cert: tuple[Path, Path], redis_cache: object) -> None:
    client = redis_cache.client  # type: ignore[attr-defined]
    with serving_smtp(FakeSMTP(tls=_server_tls(cert), users={"ann": "s3cret"})) as smtp:
        settings = Settings(smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_user="ann", smtp_password="s3cret",
                            smtp_starttls=True, smtp_ca_file=cert[0], smtp_from="wb@example.com", _env_file=None)
        assert "s3cret" not in repr(settings) and "s3cret" not in repr(channels_from_settings(settings))
        client.lpush(EMAIL_QUEUE, json.dumps({"id": "m1", "user_id": 1, "kind": "monitor_alarm", "text": "disk low",
                                              "created": "2026-12-03T00:00:00+00:00", "to": "bob@example.com",
                                              "attempts": 0}))
        stats = run_worker(client, channels_from_settings(settings), WorkerOptions(name="tls"), until_idle=True,
                           log=lambda _: None)
    assert stats.delivered == 1 and smtp.logins == [("ann", True, True)]
    assert smtp.received == [("wb@example.com", ["bob@example.com"], "Monitoring alarm", "disk low")]


def test_an_unreadable_ca_file_is_a_config_error(tmp_path: Path) -> None:
    settings = Settings(smtp_host="127.0.0.1", smtp_ca_file=tmp_path / "none.pem", _env_file=None)
    with pytest.raises(ConfigError) as err:
        channels_from_settings(settings)
    assert str(err.value) == (f"WORKBENCH_SMTP_CA_FILE '{tmp_path / 'none.pem'}': not a readable PEM file of CA "
                              "certificates (FileNotFoundError)")
