package io.dwcp.core;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.KeyStoreException;
import java.security.UnrecoverableKeyException;
import java.util.Arrays;
import java.util.Collections;
import java.util.Objects;
import java.util.Optional;

/**
 * TLS material given to a {@code DwcpManager} in code ({@code DwcpManager.Builder.tls}) instead of the PEM files of
 * {@code dwcp.transport.tls.certificate}, {@code private-key} and {@code trusted-ca}: for a control plane that keeps
 * keys in a {@link KeyStore} (PKCS#12, a vault, an HSM) or builds its own {@link SSLContext}.
 *
 * <p>Two forms:
 * <ul>
 *   <li>{@link #of(KeyStore, char[], KeyStore)}: the node's private key and certificate chain in one key store, the
 *   CA certificates that peers' certificates must chain to in another (a trust store). The transport builds TLS 1.3
 *   contexts from them with its usual provider (OpenSSL when it loads, else the JDK).</li>
 *   <li>{@link #of(SSLContext)}: a JDK context the caller initialised with its own key and trust managers. The
 *   transport uses it as it is (JDK provider), restricted to TLS 1.3; the caller's managers decide what is trusted
 *   and may rotate keys on their own.</li>
 * </ul>
 *
 * <p>Either way the rules of the PEM form apply: {@code dwcp.transport.tls.enabled} must stay true, the
 * {@code tls.mutual} key decides whether a server requires client certificates, and a client checks that the
 * server's certificate names the address it connected to in its subjectAltName (an IP address entry for an IP
 * literal, a DNS entry for a host name). Unlike the PEM files, injected material is not reloaded: build a new
 * manager, or let the {@code SSLContext}'s key manager rotate.
 *
 * <p>Immutable and thread-safe. The key stores are used, not copied: do not change them after building the manager.
 */
public final class TlsCredentials {
    private final KeyStore identity;
    private final char[] password;
    private final KeyStore trusted;
    private final SSLContext context;

    private TlsCredentials(KeyStore identity, char[] password, KeyStore trusted, SSLContext context) {
        this.identity = identity;
        this.password = password;
        this.trusted = trusted;
        this.context = context;
    }

    /**
     * Credentials from key stores.
     *
     * @param identity the node's key store: at least one private-key entry with its certificate chain (the first one
     *     is used when there are several)
     * @param password the password of that private key (copied)
     * @param trusted the CA certificates peers must chain to: at least one trusted-certificate entry
     * @return the credentials
     * @throws IllegalArgumentException naming what to fix: no private key, a wrong password, no CA certificate, a key
     *     store that was not loaded
     */
    public static TlsCredentials of(KeyStore identity, char[] password, KeyStore trusted) {
        Objects.requireNonNull(identity, "identity");
        Objects.requireNonNull(password, "password");
        Objects.requireNonNull(trusted, "trusted");
        try {
            if (!hasEntry(identity, KeyStore.PrivateKeyEntry.class)) {
                throw new IllegalArgumentException("the identity key store holds no private-key entry: import the node's"
                        + " private key with its certificate chain (e.g. openssl pkcs12 -export -inkey node.key -in"
                        + " node.pem), not only certificates");
            }
            if (!hasCertificate(trusted)) {
                throw new IllegalArgumentException("the trusted key store holds no certificate: add the CA certificate(s)"
                        + " that peers' certificates chain to");
            }
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(identity, password);
        } catch (UnrecoverableKeyException e) {
            throw new IllegalArgumentException("the private key of the identity key store cannot be read with the given"
                    + " password (" + e.getMessage() + "): pass the key's password", e);
        } catch (KeyStoreException e) {
            throw new IllegalArgumentException("a key store was not loaded: call KeyStore.load before passing it ("
                    + e.getMessage() + ")", e);
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("the identity key store is unusable: " + e.getMessage(), e);
        }
        return new TlsCredentials(identity, password.clone(), trusted, null);
    }

    /**
     * Credentials from a JDK context, initialised by the caller ({@code SSLContext.init(keyManagers, trustManagers,
     * random)}) with the node's key and the CAs it trusts.
     *
     * @param context the context; its protocol must allow TLS 1.3 (e.g. {@code SSLContext.getInstance("TLSv1.3")})
     * @return the credentials
     * @throws IllegalArgumentException when the context is not initialised or does not support TLS 1.3
     */
    public static TlsCredentials of(SSLContext context) {
        Objects.requireNonNull(context, "context");
        String[] protocols;
        try {
            protocols = context.getSupportedSSLParameters().getProtocols();
        } catch (IllegalStateException e) {
            throw new IllegalArgumentException("the SSLContext is not initialised: call init(keyManagers, trustManagers,"
                    + " random) first", e);
        }
        if (!Arrays.asList(protocols).contains("TLSv1.3")) {
            throw new IllegalArgumentException("the SSLContext (protocol " + context.getProtocol() + ") does not support"
                    + " TLSv1.3, which DWCP requires: use SSLContext.getInstance(\"TLSv1.3\")");
        }
        return new TlsCredentials(null, null, null, context);
    }

    /** {@return the caller's context, for credentials made by {@link #of(SSLContext)}} */
    public Optional<SSLContext> sslContext() {
        return Optional.ofNullable(context);
    }

    /** {@return the node's key store, for credentials made from key stores} */
    public Optional<KeyStore> identity() {
        return Optional.ofNullable(identity);
    }

    /** {@return a copy of the private key's password, for credentials made from key stores (else empty)} */
    public char[] password() {
        return password == null ? new char[0] : password.clone();
    }

    /** {@return the trust store, for credentials made from key stores} */
    public Optional<KeyStore> trusted() {
        return Optional.ofNullable(trusted);
    }

    @Override
    public String toString() {
        return context != null ? "TlsCredentials[SSLContext " + context.getProtocol() + "]"
                : "TlsCredentials[key store " + identity.getType() + ", trust store " + trusted.getType() + "]";
    }

    private static boolean hasEntry(KeyStore ks, Class<? extends KeyStore.Entry> type) throws KeyStoreException {
        for (String alias : Collections.list(ks.aliases())) {
            if (ks.entryInstanceOf(alias, type)) {
                return true;
            }
        }
        return false;
    }

    private static boolean hasCertificate(KeyStore ks) throws KeyStoreException {
        for (String alias : Collections.list(ks.aliases())) {
            if (ks.isCertificateEntry(alias) || ks.isKeyEntry(alias) && ks.getCertificate(alias) != null) {
                return true;
            }
        }
        return false;
    }
}
