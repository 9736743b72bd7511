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
 * The TLS 1.3 contexts of a transport (AMST-12): OpenSSL (netty-tcnative) when it loads, the JDK otherwise; the
 * node's certificate chain and key, and the CA file that peers must chain to. With {@code tls.mutual} the server
 * requires a client certificate, so an unknown client fails the handshake ({@code AUTH_FAILED}).
 *
 * <p>Certificates reload without restart: before a new connection, if any of the three files changed (modification
 * time or size, checked at most once a second) the contexts are rebuilt; connections already open keep theirs. A
 * reload that fails (a half-written file) keeps the previous contexts and logs a warning. Thread-safe.
 */
final class TlsContexts {
    private static final Logger LOG = LoggerFactory.getLogger(TlsContexts.class);
    private static final long CHECK_EVERY_NANOS = 1_000_000_000L;

    private final File cert;
    private final File key;
    private final File ca;
    private final boolean mutual;
    final SslProvider provider;
    private volatile Pair current;
    private volatile long lastCheckNanos;

    /** Both contexts and the file state they were built from. */
    private record Pair(SslContext server, SslContext client, String stamp) {
    }

    private TlsContexts(File cert, File key, File ca, boolean mutual) {
        this.cert = cert;
        this.key = key;
        this.ca = ca;
        this.mutual = mutual;
        this.provider = OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
        this.current = build(stamp());
        this.lastCheckNanos = System.nanoTime();
    }

    /** The contexts, or {@code null} when TLS is disabled. @throws DwcpException INVALID_CONFIG on missing files */
    static TlsContexts create(Settings s) {
        if (!s.tlsEnabled) {
            LOG.warn("AMST runs in PLAINTEXT: {} = false. Anyone on the path can read and alter transfers; set it to "
                    + "true and configure certificates for production.", TransportKeys.TLS_ENABLED.name());
            return null;
        }
        TlsContexts t = new TlsContexts(file(s.tlsCertificate, TransportKeys.TLS_CERTIFICATE.name()),
                file(s.tlsPrivateKey, TransportKeys.TLS_PRIVATE_KEY.name()),
                file(s.tlsTrustedCa, TransportKeys.TLS_TRUSTED_CA.name()), s.tlsMutual);
        LOG.info("AMST TLS 1.3 with the {} provider, mutual authentication {}", t.provider, s.tlsMutual ? "on" : "off");
        return t;
    }

    SslContext server() {
        return fresh().server;
    }

    SslContext client() {
        return fresh().client;
    }

    private Pair fresh() {
        long now = System.nanoTime();
        if (now - lastCheckNanos < CHECK_EVERY_NANOS) {
            return current;
        }
        synchronized (this) {
            lastCheckNanos = now;
            String stamp = stamp();
            Pair p = current;
            if (!stamp.equals(p.stamp)) {
                try {
                    current = build(stamp);
                    LOG.info("AMST TLS certificates reloaded from {}", cert);
                } catch (DwcpException e) {
                    LOG.warn("AMST TLS certificates changed but do not load; keeping the previous ones: {}", e.getMessage());
                    current = new Pair(p.server, p.client, stamp);
                }
            }
            return current;
        }
    }

    private String stamp() {
        return cert.lastModified() + "/" + cert.length() + "/" + key.lastModified() + "/" + key.length() + "/"
                + ca.lastModified() + "/" + ca.length();
    }

    private Pair build(String stamp) {
        try {
            SslContext server = SslContextBuilder.forServer(cert, key)
                    .sslProvider(provider)
                    .protocols("TLSv1.3")
                    .trustManager(ca)
                    .clientAuth(mutual ? ClientAuth.REQUIRE : ClientAuth.NONE)
                    .build();
            SslContext client = SslContextBuilder.forClient()
                    .sslProvider(provider)
                    .protocols("TLSv1.3")
                    .keyManager(cert, key)
                    .trustManager(ca)
                    .build();
            return new Pair(server, client, stamp);
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
