"""How every Kafka client of a deployment authenticates and encrypts: one frozen, validated value.

The workers talk to the broker through Faust (aiokafka); the publisher, the API, ``lotline sync``
and the topic set-up through kafka-python. Both read the same ``KafkaSecurity``, built once from
the ``LOTLINE_KAFKA_*`` settings, so a deployment cannot run half its clients without TLS.

Both sides build the same TLS context: the CA file given, or the system's CAs without one; a
client certificate only for mutual TLS (``SSL`` with a certificate: the broker's principal is then
the certificate's subject); the host name checked unless told otherwise.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

from traceability.errors import SetupError

if TYPE_CHECKING:
    from faust.types.auth import CredentialsT

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]

#: The setting each field comes from, named in every refusal.
SETTING = {
    "protocol": "LOTLINE_KAFKA_SECURITY_PROTOCOL",
    "sasl_mechanism": "LOTLINE_KAFKA_SASL_MECHANISM",
    "username": "LOTLINE_KAFKA_SASL_USERNAME",
    "password": "LOTLINE_KAFKA_SASL_PASSWORD",
    "ca_file": "LOTLINE_KAFKA_SSL_CAFILE",
    "cert_file": "LOTLINE_KAFKA_SSL_CERTFILE",
    "key_file": "LOTLINE_KAFKA_SSL_KEYFILE",
}


@dataclass(frozen=True)
class KafkaSecurity:
    """The broker's security protocol and this client's credentials (default: none, ``PLAINTEXT``).

    Attributes:
        protocol: Kafka's ``security.protocol``.
        sasl_mechanism: Required with ``SASL_*``.
        username: The SASL user, which is the Kafka principal the ACLs name (``User:<username>``).
        password: The SASL password (left out of ``repr``).
        ca_file: PEM of the CA that signed the broker's certificate; ``None`` trusts the system's CAs.
        cert_file: PEM of this client's certificate for mutual TLS (it may hold the key too).
        key_file: PEM of the key of ``cert_file``.
        check_hostname: Refuse a broker whose certificate does not name the host connected to.

    Raises:
        SetupError: a combination that cannot work, or a file that does not exist (the setting named).
    """

    protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    check_hostname: bool = True

    def __post_init__(self) -> None:
        if self.protocol not in get_args(SecurityProtocol):
            raise SetupError(f"{SETTING['protocol']}: {self.protocol!r} is not one of "
                             f"{', '.join(get_args(SecurityProtocol))}")
        if self.sasl_mechanism is not None and self.sasl_mechanism not in get_args(SaslMechanism):
            raise SetupError(f"{SETTING['sasl_mechanism']}: {self.sasl_mechanism!r} is not one of "
                             f"{', '.join(get_args(SaslMechanism))}")
        self._check_sasl()
        self._check_tls()

    @property
    def sasl(self) -> bool:
        return self.protocol.startswith("SASL_")

    @property
    def tls(self) -> bool:
        return self.protocol.endswith("SSL")

    def kafka_python(self) -> dict[str, Any]:
        """Keyword arguments for a kafka-python client (``KafkaProducer``, ``KafkaConsumer``,
        ``KafkaAdminClient``); none for ``PLAINTEXT``, so those clients are built as they always were."""
        if self.protocol == "PLAINTEXT":
            return {}
        kwargs: dict[str, Any] = {"security_protocol": self.protocol}
        if self.sasl:
            kwargs |= {"sasl_mechanism": self.sasl_mechanism, "sasl_plain_username": self.username,
                       "sasl_plain_password": self.password}
        if self.tls:
            kwargs |= {"ssl_cafile": _str(self.ca_file), "ssl_certfile": _str(self.cert_file),
                       "ssl_keyfile": _str(self.key_file), "ssl_check_hostname": self.check_hostname}
        return kwargs

    def faust_credentials(self) -> CredentialsT | None:
        """Faust's ``broker_credentials`` (faust-streaming 0.15.3): ``None`` for ``PLAINTEXT``,
        ``SSLCredentials`` for ``SSL``, ``SASLCredentials`` for ``SASL_*``, which Faust makes
        ``SASL_SSL`` when it carries an SSL context and ``SASL_PLAINTEXT`` when not."""
        import faust  # lazy: the settings import this module, and most commands never load Faust

        if self.protocol == "PLAINTEXT":
            return None
        context = self.ssl_context() if self.tls else None
        if not self.sasl:
            return faust.SSLCredentials(context)
        return faust.SASLCredentials(username=self.username, password=self.password,
                                     mechanism=self.sasl_mechanism, ssl_context=context)

    def ssl_context(self) -> ssl.SSLContext:
        """The TLS context Faust's clients use, the same kafka-python builds from ``kafka_python()``."""
        context = ssl.create_default_context(cafile=_str(self.ca_file))
        context.check_hostname = self.check_hostname
        if self.cert_file is not None:
            context.load_cert_chain(self.cert_file, keyfile=self.key_file)
        return context

    def _check_sasl(self) -> None:
        given = [name for name in ("sasl_mechanism", "username", "password") if getattr(self, name)]
        if not self.sasl:
            if given:
                raise SetupError(f"{SETTING[given[0]]} is set but {SETTING['protocol']} is {self.protocol}: "
                                 "use SASL_SSL (or SASL_PLAINTEXT), or unset it")
            return
        for name in ("sasl_mechanism", "username", "password"):
            if name not in given:
                raise SetupError(f"{SETTING['protocol']}={self.protocol} needs {SETTING[name]}")

    def _check_tls(self) -> None:
        given = [name for name in ("ca_file", "cert_file", "key_file") if getattr(self, name) is not None]
        if given and not self.tls:
            raise SetupError(f"{SETTING[given[0]]} is set but {SETTING['protocol']} is {self.protocol}: "
                             "use SSL or SASL_SSL, or unset it")
        if self.key_file is not None and self.cert_file is None:
            raise SetupError(f"{SETTING['key_file']} is set without {SETTING['cert_file']}")
        for name in given:
            path = Path(getattr(self, name))
            if not path.is_file():
                raise SetupError(f"{SETTING[name]}: no such file: {path}")


#: No security: what every client uses unless told otherwise (Tansu, the local broker, has no other).
PLAINTEXT = KafkaSecurity()


def _str(path: Path | None) -> str | None:
    return None if path is None else str(path)
