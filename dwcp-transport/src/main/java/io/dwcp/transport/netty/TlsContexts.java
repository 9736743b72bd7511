package io.dwcp.transport.netty;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.TlsCredentials;
import io.dwcp.core.config.TransportKeys;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.IdentityCipherSuiteFilter;
import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManagerFactory;
import java.io.File;
import java.util.Optional;

/**
 * The TLS 1.3 contexts of a transport: OpenSSL (netty-tcnative) when it loads, the JDK otherwise; the
 * node's certificate chain and key, and the CA file that peers must chain to. With {@code tls.mutual} the server
 * requires a client certificate, so an unknown client fails the handshake ({@code AUTH_FAILED}).
 *
 * <p>The material comes from PEM files ({@code dwcp.transport.tls.certificate}, {@code private-key},
 * {@code trusted-ca}) or from {@link TlsCredentials} given in code (key stores, or the caller's {@code SSLContext},
 * used with the JDK provider); not both.
 *
 * <p>The SAN rule: a client checks that the server's certificate names, in its subjectAltName, the host it connected
 * to: an IP address entry when it connected to an IP literal, a DNS entry when it connected to a host name (endpoint
 * identification {@code HTTPS}, for every provider and for injected contexts too). A server checks only that a
 * client certificate chains to a trusted CA.
 *
 * <p>PEM certificates reload without restart: before a new connection, if any of the three files changed
 * (modification time or size, checked at most once a second) the contexts are rebuilt; connections already open
 * keep theirs. A reload that fails (a half-written file) keeps the previous contexts and logs a warning. Injected
 * credentials are not reloaded. Thread-safe.
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

    private TlsContexts(TlsCredentials injected, boolean mutual) {
        this.cert = null;
        this.key = null;
        this.ca = null;
        this.mutual = mutual;
        this.provider = injected.sslContext().isPresent() || !OpenSsl.isAvailable() ? SslProvider.JDK : SslProvider.OPENSSL;
        this.current = build(injected);
    }

    /**
     * The contexts, or {@code null} when TLS is disabled.
     *
     * @param s the settings
     * @param injected credentials given in code, or empty for the PEM files of the configuration
     * @throws DwcpException INVALID_CONFIG on missing files, on both PEM files and injected credentials, on injected
     *     credentials with TLS disabled, or on material that does not build a context
     */
    static TlsContexts create(Settings s, Optional<TlsCredentials> injected) {
        if (!s.tlsEnabled) {
            if (injected.isPresent()) {
                throw new DwcpException(ErrorCode.INVALID_CONFIG, "TLS credentials were given (DwcpManager.Builder.tls)"
                        + " but " + TransportKeys.TLS_ENABLED.name() + " = false: set it to true, or give no credentials"
                        + " for plaintext");
            }
            LOG.warn("AMST runs in PLAINTEXT: {} = false. Anyone on the path can read and alter transfers; set it to "
                    + "true and configure certificates for production.", TransportKeys.TLS_ENABLED.name());
            return null;
        }
        TlsContexts t;
        if (injected.isPresent()) {
            for (Optional<String> pem : java.util.List.of(s.tlsCertificate, s.tlsPrivateKey, s.tlsTrustedCa)) {
                if (pem.isPresent()) {
                    throw new DwcpException(ErrorCode.INVALID_CONFIG, "TLS credentials were given in code"
                            + " (DwcpManager.Builder.tls) and as PEM files (" + TransportKeys.TLS_CERTIFICATE.name() + ", "
                            + TransportKeys.TLS_PRIVATE_KEY.name() + ", " + TransportKeys.TLS_TRUSTED_CA.name()
                            + "): use one of the two; unset the PEM keys or give no credentials");
                }
            }
            t = new TlsContexts(injected.get(), s.tlsMutual);
        } else {
            t = new TlsContexts(file(s.tlsCertificate, TransportKeys.TLS_CERTIFICATE.name()),
                    file(s.tlsPrivateKey, TransportKeys.TLS_PRIVATE_KEY.name()),
                    file(s.tlsTrustedCa, TransportKeys.TLS_TRUSTED_CA.name()), s.tlsMutual);
        }
        LOG.info("AMST TLS 1.3 with the {} provider ({}), mutual authentication {}", t.provider,
                injected.map(Object::toString).orElse("PEM files"), s.tlsMutual ? "on" : "off");
        return t;
    }

    SslContext server() {
        return fresh().server;
    }

    SslContext client() {
        return fresh().client;
    }

    /** A server-side handler for an accepted connection. */
    SslHandler serverHandler(ByteBufAllocator alloc) {
        return server().newHandler(alloc);
    }

    /**
     * A client-side handler for a connection to {@code host}: the server's certificate must name {@code host} in its
     * subjectAltName (endpoint identification, whatever the provider or the context's origin).
     */
    SslHandler clientHandler(ByteBufAllocator alloc, String host, int port) {
        SslHandler h = client().newHandler(alloc, host, port);
        SSLEngine engine = h.engine();
        SSLParameters p = engine.getSSLParameters();
        p.setEndpointIdentificationAlgorithm("HTTPS");
        engine.setSSLParameters(p);
        return h;
    }

    private Pair fresh() {
        if (cert == null) {
            return current;
        }
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

    private Pair build(TlsCredentials c) {
        try {
            if (c.sslContext().isPresent()) {
                String[] tls13 = {"TLSv1.3"};
                SslContext server = new JdkSslContext(c.sslContext().get(), false, null, IdentityCipherSuiteFilter.INSTANCE,
                        ApplicationProtocolConfig.DISABLED, mutual ? ClientAuth.REQUIRE : ClientAuth.NONE, tls13, false);
                SslContext client = new JdkSslContext(c.sslContext().get(), true, null, IdentityCipherSuiteFilter.INSTANCE,
                        ApplicationProtocolConfig.DISABLED, ClientAuth.NONE, tls13, false);
                return new Pair(server, client, "injected");
            }
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            char[] password = c.password();
            try {
                kmf.init(c.identity().orElseThrow(), password);
            } finally {
                java.util.Arrays.fill(password, '\0');
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(c.trusted().orElseThrow());
            SslContext server = SslContextBuilder.forServer(kmf)
                    .sslProvider(provider)
                    .protocols("TLSv1.3")
                    .trustManager(tmf)
                    .clientAuth(mutual ? ClientAuth.REQUIRE : ClientAuth.NONE)
                    .build();
            SslContext client = SslContextBuilder.forClient()
                    .sslProvider(provider)
                    .protocols("TLSv1.3")
                    .keyManager(kmf)
                    .trustManager(tmf)
                    .build();
            return new Pair(server, client, "injected");
        } catch (Exception e) {
            throw new DwcpException(ErrorCode.INVALID_CONFIG, "cannot build the TLS context from " + c + ": "
                    + e.getMessage(), e);
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
