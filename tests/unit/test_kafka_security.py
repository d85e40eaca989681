"""Production Kafka: one security value gives kafka-python and Faust the same SASL and TLS setup.

TLS is checked by real handshakes in memory (``ssl.MemoryBIO``) against a throwaway CA, with the
contexts each client library would use; no broker is needed.
"""

from __future__ import annotations

import os
import ssl
from pathlib import Path

import faust
import pytest
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth
from faust.types.auth import AuthProtocol, SASLMechanism
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.net.transport import KafkaSSLTransport

from lotline.settings import Settings
from sinks.port import InMemorySink
from streams.app import create_app
from streams.security import PLAINTEXT, KafkaSecurity
from tests.tls_certs import Pki, make_pki
from traceability.errors import SetupError

pytestmark = pytest.mark.unit


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return make_pki(tmp_path)


@pytest.fixture
def no_kafka_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in os.environ:
        if name.startswith("LOTLINE_"):
            monkeypatch.delenv(name)
    return monkeypatch


def sasl(protocol: str = "SASL_SSL", **extra: object) -> KafkaSecurity:
    return KafkaSecurity(protocol=protocol, sasl_mechanism="SCRAM-SHA-512", username="lab-LAB-CTI-YW",  # type: ignore[arg-type]
                         password="s3cret", **extra)  # type: ignore[arg-type]


def broker_context(pki: Pki, *, require_client_cert: bool = False) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki.server_cert, pki.server_key)
    if require_client_cert:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(pki.ca)
    return context


def handshake(client: ssl.SSLContext, server: ssl.SSLContext, host: str = "127.0.0.1") -> dict:
    """Run a TLS handshake in memory; return the certificate the broker saw (empty without one)."""
    to_server, to_client = ssl.MemoryBIO(), ssl.MemoryBIO()
    client_side = client.wrap_bio(to_client, to_server, server_hostname=host)
    server_side = server.wrap_bio(to_server, to_client, server_side=True)
    pending = {client_side, server_side}
    for _ in range(20):
        for side in list(pending):
            try:
                side.do_handshake()
                pending.discard(side)
            except ssl.SSLWantReadError:
                pass
        if not pending:
            return server_side.getpeercert() or {}
    raise AssertionError("the handshake did not finish")


def kafka_python_context(security: KafkaSecurity) -> ssl.SSLContext:
    # kafka-python 3.0.12 builds its TLS context from the ssl_* arguments here (kafka/net/transport.py).
    config = {**KafkaSSLTransport.DEFAULT_CONFIG, **security.kafka_python()}
    return KafkaSSLTransport._build_ssl_context(config)


def faust_context(security: KafkaSecurity) -> ssl.SSLContext:
    return credentials_to_aiokafka_auth(security.faust_credentials())["ssl_context"]


CONTEXTS = [pytest.param(kafka_python_context, id="kafka-python"), pytest.param(faust_context, id="faust")]


def test_plaintext_is_the_default_and_changes_no_client():
    assert KafkaSecurity() == PLAINTEXT
    assert PLAINTEXT.kafka_python() == {}
    assert PLAINTEXT.faust_credentials() is None
    assert credentials_to_aiokafka_auth(PLAINTEXT.faust_credentials()) == {"security_protocol": "PLAINTEXT"}


def test_default_settings_give_every_client_plaintext(tmp_path: Path, no_kafka_env: pytest.MonkeyPatch):
    settings = Settings.load(state_dir=tmp_path)
    assert settings.kafka_security() == PLAINTEXT
    assert settings.worker().security == PLAINTEXT
    assert settings.stack().kafka_security == PLAINTEXT
    app = create_app(settings.worker(), bootstrap="127.0.0.1:9", sink=InMemorySink())
    assert app.conf.broker_credentials is None


def test_ssl_gives_kafka_python_the_files_and_the_host_name_check(pki: Pki):
    security = KafkaSecurity(protocol="SSL", ca_file=pki.ca, cert_file=pki.client_cert, key_file=pki.client_key)
    assert security.kafka_python() == {
        "security_protocol": "SSL", "ssl_cafile": str(pki.ca), "ssl_certfile": str(pki.client_cert),
        "ssl_keyfile": str(pki.client_key), "ssl_check_hostname": True,
    }


def test_sasl_plaintext_gives_kafka_python_the_user_and_no_tls():
    assert sasl("SASL_PLAINTEXT").kafka_python() == {
        "security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "lab-LAB-CTI-YW", "sasl_plain_password": "s3cret",
    }


def test_sasl_ssl_gives_kafka_python_the_user_and_tls(pki: Pki):
    assert sasl(ca_file=pki.ca, check_hostname=False).kafka_python() == {
        "security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "lab-LAB-CTI-YW", "sasl_plain_password": "s3cret",
        "ssl_cafile": str(pki.ca), "ssl_certfile": None, "ssl_keyfile": None, "ssl_check_hostname": False,
    }


@pytest.mark.parametrize("client", [KafkaProducer, KafkaConsumer, KafkaAdminClient])
def test_every_kafka_python_argument_is_a_setting_of_each_client(client: type, pki: Pki):
    security = sasl(ca_file=pki.ca, cert_file=pki.client_cert, key_file=pki.client_key)
    assert set(security.kafka_python()) <= set(client.DEFAULT_CONFIG)


def test_ssl_gives_faust_ssl_credentials():
    credentials = KafkaSecurity(protocol="SSL").faust_credentials()
    assert isinstance(credentials, faust.SSLCredentials)
    assert credentials.protocol is AuthProtocol.SSL
    assert isinstance(credentials.context, ssl.SSLContext)


def test_sasl_ssl_gives_faust_sasl_credentials_carrying_the_tls_context(pki: Pki):
    credentials = sasl(ca_file=pki.ca).faust_credentials()
    assert isinstance(credentials, faust.SASLCredentials)
    assert credentials.protocol is AuthProtocol.SASL_SSL
    assert credentials.mechanism is SASLMechanism.SCRAM_SHA_512
    assert (credentials.username, credentials.password) == ("lab-LAB-CTI-YW", "s3cret")
    auth = credentials_to_aiokafka_auth(credentials)  # what Faust hands aiokafka
    assert auth["security_protocol"] == "SASL_SSL"
    assert auth["sasl_mechanism"] == "SCRAM-SHA-512"
    assert isinstance(auth["ssl_context"], ssl.SSLContext)


def test_sasl_plaintext_gives_faust_sasl_credentials_without_tls():
    credentials = sasl("SASL_PLAINTEXT").faust_credentials()
    assert isinstance(credentials, faust.SASLCredentials)
    assert credentials.protocol is AuthProtocol.SASL_PLAINTEXT
    assert credentials.ssl_context is None


def test_the_worker_app_gets_the_credentials(tmp_path: Path, pki: Pki, no_kafka_env: pytest.MonkeyPatch):
    for name, value in {"SECURITY_PROTOCOL": "SASL_SSL", "SASL_MECHANISM": "SCRAM-SHA-256",
                        "SASL_USERNAME": "lotline-worker", "SASL_PASSWORD": "pw", "SSL_CAFILE": str(pki.ca)}.items():
        no_kafka_env.setenv(f"LOTLINE_KAFKA_{name}", value)
    app = create_app(Settings.load(state_dir=tmp_path).worker(), bootstrap="127.0.0.1:9", sink=InMemorySink())
    credentials = app.conf.broker_credentials
    assert isinstance(credentials, faust.SASLCredentials)
    assert (credentials.protocol, credentials.mechanism) == (AuthProtocol.SASL_SSL, SASLMechanism.SCRAM_SHA_256)
    assert credentials.username == "lotline-worker"


@pytest.mark.parametrize("context_of", CONTEXTS)
def test_both_clients_trust_a_broker_certified_by_the_ca(context_of, pki: Pki):
    handshake(context_of(KafkaSecurity(protocol="SSL", ca_file=pki.ca)), broker_context(pki))


@pytest.mark.parametrize("context_of", CONTEXTS)
def test_both_clients_present_the_client_certificate_for_mutual_tls(context_of, pki: Pki):
    security = KafkaSecurity(protocol="SSL", ca_file=pki.ca, cert_file=pki.client_cert, key_file=pki.client_key)
    seen = handshake(context_of(security), broker_context(pki, require_client_cert=True))
    assert dict(pair[0] for pair in seen["subject"])["commonName"] == pki.client_name


@pytest.mark.parametrize("context_of", CONTEXTS)
def test_both_clients_refuse_a_broker_whose_certificate_names_another_host(context_of, pki: Pki):
    checked = KafkaSecurity(protocol="SSL", ca_file=pki.ca)
    with pytest.raises(ssl.SSLCertVerificationError, match="match"):
        handshake(context_of(checked), broker_context(pki), host="kafka.example.org")
    unchecked = KafkaSecurity(protocol="SSL", ca_file=pki.ca, check_hostname=False)
    handshake(context_of(unchecked), broker_context(pki), host="kafka.example.org")


@pytest.mark.parametrize("context_of", CONTEXTS)
def test_both_clients_refuse_a_broker_certified_by_another_ca(context_of, pki: Pki, tmp_path: Path):
    security = KafkaSecurity(protocol="SSL", ca_file=make_pki(tmp_path / "other").ca)
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(context_of(security), broker_context(pki))


def test_the_password_is_in_no_repr(tmp_path: Path, no_kafka_env: pytest.MonkeyPatch):
    assert "s3cret" not in repr(sasl("SASL_PLAINTEXT"))
    settings = Settings.load(state_dir=tmp_path, kafka_security_protocol="SASL_PLAINTEXT",
                             kafka_sasl_mechanism="PLAIN", kafka_sasl_username="u", kafka_sasl_password="s3cret")
    assert "s3cret" not in repr(settings)
    assert settings.kafka_security().password == "s3cret"


@pytest.mark.parametrize(("given", "named"), [
    ({"protocol": "SASL_SSL", "username": "u", "password": "p"}, "LOTLINE_KAFKA_SASL_MECHANISM"),
    ({"protocol": "SASL_SSL", "sasl_mechanism": "PLAIN", "password": "p"}, "LOTLINE_KAFKA_SASL_USERNAME"),
    ({"protocol": "SASL_PLAINTEXT", "sasl_mechanism": "PLAIN", "username": "u"}, "LOTLINE_KAFKA_SASL_PASSWORD"),
    ({"protocol": "SASL_PLAINTEXT", "sasl_mechanism": "GSSAPI", "username": "u", "password": "p"},
     "LOTLINE_KAFKA_SASL_MECHANISM"),
    ({"protocol": "TLS"}, "LOTLINE_KAFKA_SECURITY_PROTOCOL"),
    ({"username": "u"}, "LOTLINE_KAFKA_SASL_USERNAME is set but LOTLINE_KAFKA_SECURITY_PROTOCOL is PLAINTEXT"),
    ({"protocol": "SSL", "password": "p"}, "LOTLINE_KAFKA_SASL_PASSWORD is set but LOTLINE_KAFKA_SECURITY_PROTOCOL"),
    ({"protocol": "SASL_PLAINTEXT", "sasl_mechanism": "PLAIN", "username": "u", "password": "p",
      "ca_file": "ca.pem"}, "LOTLINE_KAFKA_SSL_CAFILE is set but LOTLINE_KAFKA_SECURITY_PROTOCOL is SASL_PLAINTEXT"),
    ({"protocol": "SSL", "key_file": "client.key"},
     "LOTLINE_KAFKA_SSL_KEYFILE is set without LOTLINE_KAFKA_SSL_CERTFILE"),
    ({"protocol": "SSL", "ca_file": "nowhere/ca.pem"}, "LOTLINE_KAFKA_SSL_CAFILE: no such file"),
    ({"protocol": "SSL", "cert_file": "nowhere/client.pem"}, "LOTLINE_KAFKA_SSL_CERTFILE: no such file"),
])
def test_a_combination_that_cannot_work_is_refused_naming_the_setting(given: dict, named: str, tmp_path: Path):
    given = {k: tmp_path / v if k.endswith("_file") else v for k, v in given.items()}
    with pytest.raises(SetupError, match=named):
        KafkaSecurity(**given)


def test_a_missing_password_in_the_environment_stops_the_worker_naming_it(tmp_path: Path,
                                                                          no_kafka_env: pytest.MonkeyPatch):
    no_kafka_env.setenv("LOTLINE_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    no_kafka_env.setenv("LOTLINE_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    no_kafka_env.setenv("LOTLINE_KAFKA_SASL_USERNAME", "lotline-worker")
    settings = Settings.load(state_dir=tmp_path)
    with pytest.raises(SetupError, match="LOTLINE_KAFKA_SASL_PASSWORD"):
        settings.worker()


def test_an_unknown_protocol_in_the_environment_is_refused_at_start(tmp_path: Path, no_kafka_env: pytest.MonkeyPatch):
    no_kafka_env.setenv("LOTLINE_KAFKA_SECURITY_PROTOCOL", "TLS")
    with pytest.raises(SetupError, match="LOTLINE_KAFKA_SECURITY_PROTOCOL"):
        Settings.load(state_dir=tmp_path)
