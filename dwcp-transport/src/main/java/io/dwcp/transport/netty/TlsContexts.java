package io.dwcp.transport.netty;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.config.TransportKeys;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.util.Optional;

/**
 * Builds the TLS 1.3 contexts of a transport (AMST-12): OpenSSL (netty-tcnative) when it loads, the JDK otherwise;
 * the node's certificate chain and key, and the CA file that peers must chain to. With {@code tls.mutual} the server
 * requires a client certificate, so an unknown client fails the handshake ({@code AUTH_FAILED}).
 */
final class TlsContexts {
    private static final Logger LOG = LoggerFactory.getLogger(TlsContexts.class);

    final SslContext server;
    final SslContext client;
    final SslProvider provider;

    private TlsContexts(SslContext server, SslContext client, SslProvider provider) {
        this.server = server;
        this.client = client;
        this.provider = provider;
    }

    /** The contexts, or {@code null} when TLS is disabled. @throws DwcpException INVALID_CONFIG on missing files */
    static TlsContexts create(Settings s) {
        if (!s.tlsEnabled) {
            LOG.warn("AMST runs in PLAINTEXT: {} = false. Anyone on the path can read and alter transfers; set it to "
                    + "true and configure certificates for production.", TransportKeys.TLS_ENABLED.name());
            return null;
        }
        File cert = file(s.tlsCertificate, TransportKeys.TLS_CERTIFICATE.name());
        File key = file(s.tlsPrivateKey, TransportKeys.TLS_PRIVATE_KEY.name());
        File ca = file(s.tlsTrustedCa, TransportKeys.TLS_TRUSTED_CA.name());
        SslProvider provider = OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
        try {
            SslContext server = SslContextBuilder.forServer(cert, key)
                    .sslProvider(provider)
                    .protocols("TLSv1.3")
                    .trustManager(ca)
                    .clientAuth(s.tlsMutual ? ClientAuth.REQUIRE : ClientAuth.NONE)
                    .build();
            SslContext client = SslContextBuilder.forClient()
                    .sslProvider(provider)
                    .protocols("TLSv1.3")
                    .keyManager(cert, key)
                    .trustManager(ca)
                    .build();
            LOG.info("AMST TLS 1.3 with the {} provider, mutual authentication {}", provider, s.tlsMutual ? "on" : "off");
            return new TlsContexts(server, client, provider);
        } catch (Exception e) {
            throw new DwcpException(ErrorCode.INVALID_CONFIG, "cannot build the TLS context from "
                    + TransportKeys.TLS_CERTIFICATE.name() + " = " + cert + ", " + TransportKeys.TLS_TRUSTED_CA.name()
                    + " = " + ca + " (and the private key): " + e.getMessage(), e);
        }
    }

    private static File file(Optional<String> path, String key) {
        if (path.isEmpty()) {
            throw new DwcpException(ErrorCode.INVALID_CONFIG, key + " is not set but dwcp.transport.tls.enabled = true: "
                    + "give a PEM file, or set tls.enabled = false for plaintext");
        }
        File f = new File(path.get());
        if (!f.canRead()) {
            throw new DwcpException(ErrorCode.INVALID_CONFIG, key + " = " + path.get() + ": file not readable");
        }
        return f;
    }
}
