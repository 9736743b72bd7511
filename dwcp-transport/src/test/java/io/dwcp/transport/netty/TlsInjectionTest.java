package io.dwcp.transport.netty;

import io.dwcp.core.DwcpException;
import io.dwcp.core.DwcpManager;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.TlsCredentials;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.transport.PayloadSource;
import io.dwcp.core.transport.Session;
import io.dwcp.core.transport.TransferKind;
import io.dwcp.core.transport.TransferRequest;
import io.dwcp.core.transport.TransportListener;
import io.dwcp.transport.AmstTransportProvider;
import org.bouncycastle.asn1.x509.GeneralName;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TLS from key stores and from the caller's {@link SSLContext}, given to {@link DwcpManager.Builder#tls}: transfers
 * with mutual authentication, the SAN rule for injected contexts, and errors that say what to fix.
 */
@Timeout(60)
class TlsInjectionTest {
    private static final char[] PASSWORD = "changeit".toCharArray();
    private static final GeneralName LOOPBACK_IP = new GeneralName(GeneralName.iPAddress, "127.0.0.1");

    @TempDir
    static Path dir;
    static Certificates ca;
    static KeyStore trust;

    @BeforeAll
    static void pki() throws Exception {
        ca = new Certificates(dir, "injected-ca");
        trust = ca.trustStore();
    }

    private static DwcpManager manager(String id, TlsCredentials tls, boolean tlsEnabled) {
        DwcpConfig config = DwcpConfig.builder().set("dwcp.node-id", id)
                .set("dwcp.transport.tls.enabled", String.valueOf(tlsEnabled))
                .set("dwcp.transport.tls.mutual", "true")
                .set("dwcp.transport.connect-timeout", "5s").build();
        return DwcpManager.builder().config(config).transportProvider(new AmstTransportProvider()).tls(tls).build();
    }

    /** A JDK context from key stores, as a control plane that manages its own key and trust managers would build. */
    private static SSLContext sslContext(KeyStore identity) throws Exception {
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(identity, PASSWORD);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext c = SSLContext.getInstance("TLSv1.3");
        c.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return c;
    }

    @Test
    void keyStoreServerAndSslContextClientCarryATransferWithMutualTls() throws Exception {
        TlsCredentials server = TlsCredentials.of(ca.nodeKeyStore("server", PASSWORD, LOOPBACK_IP), PASSWORD, trust);
        TlsCredentials client = TlsCredentials.of(sslContext(ca.nodeKeyStore("client", PASSWORD, LOOPBACK_IP)));
        Peers.Recorder received = new Peers.Recorder();
        try (DwcpManager s = manager("s", server, true); DwcpManager c = manager("c", client, true)) {
            s.start();
            c.start();
            try (TransportListener l = s.transport().listen(new InetSocketAddress("127.0.0.1", 0), received).get(10, TimeUnit.SECONDS)) {
                Session session = c.transport().connect(l.localAddress(), new Peers.Recorder()).get(10, TimeUnit.SECONDS);
                byte[] data = LoopbackTransferTest.random(200_000, 7);
                session.send(TransferRequest.of(TransferKind.MEMORY, "k", PayloadSource.of(ByteBuffer.wrap(data))))
                        .completion().get(30, TimeUnit.SECONDS);
                assertArrayEquals(data, received.future("k").get(10, TimeUnit.SECONDS));
            }
        }
    }

    @Test
    void anInjectedContextStillChecksTheServersSubjectAltName() throws Exception {
        TlsCredentials server = TlsCredentials.of(ca.nodeKeyStore("server", PASSWORD,
                new GeneralName(GeneralName.dNSName, "elsewhere.example")), PASSWORD, trust);
        TlsCredentials client = TlsCredentials.of(sslContext(ca.nodeKeyStore("client", PASSWORD, LOOPBACK_IP)));
        try (DwcpManager s = manager("s", server, true); DwcpManager c = manager("c", client, true)) {
            s.start();
            c.start();
            try (TransportListener l = s.transport().listen(new InetSocketAddress("127.0.0.1", 0), new Peers.Recorder())
                    .get(10, TimeUnit.SECONDS)) {
                ExecutionException e = assertThrows(ExecutionException.class,
                        () -> c.transport().connect(l.localAddress(), new Peers.Recorder()).get(10, TimeUnit.SECONDS));
                DwcpException d = DwcpException.find(e);
                assertTrue(d != null && d.code() == ErrorCode.AUTH_FAILED, "AUTH_FAILED, got " + e);
                assertTrue(d.getMessage().contains("does not name the address it was reached at"), d.getMessage());
            }
        }
    }

    @Test
    void credentialsWithTlsDisabledOrBesidePemFilesAreConfigurationErrors() throws Exception {
        TlsCredentials creds = TlsCredentials.of(ca.nodeKeyStore("n", PASSWORD, LOOPBACK_IP), PASSWORD, trust);
        try (DwcpManager m = manager("n", creds, false)) {
            DwcpException e = assertThrows(DwcpException.class, m::start);
            assertEquals(ErrorCode.INVALID_CONFIG, DwcpException.find(e).code());
            assertTrue(e.getMessage().contains("set it to true, or give no credentials"), e.getMessage());
        }
        DwcpConfig both = DwcpConfig.builder().set("dwcp.transport.tls.certificate", dir.resolve("x.pem").toString()).build();
        try (DwcpManager m = DwcpManager.builder().config(both).transportProvider(new AmstTransportProvider()).tls(creds).build()) {
            DwcpException e = assertThrows(DwcpException.class, m::start);
            assertTrue(e.getMessage().contains("use one of the two"), e.getMessage());
        }
    }

    @Test
    void unusableMaterialIsRefusedWithWhatToFix() throws Exception {
        KeyStore identity = ca.nodeKeyStore("n", PASSWORD, LOOPBACK_IP);
        IllegalArgumentException noKey = assertThrows(IllegalArgumentException.class,
                () -> TlsCredentials.of(trust, PASSWORD, trust));
        assertTrue(noKey.getMessage().contains("holds no private-key entry"), noKey.getMessage());
        IllegalArgumentException wrongPassword = assertThrows(IllegalArgumentException.class,
                () -> TlsCredentials.of(identity, "wrong".toCharArray(), trust));
        assertTrue(wrongPassword.getMessage().contains("pass the key's password"), wrongPassword.getMessage());
        KeyStore empty = KeyStore.getInstance("PKCS12");
        empty.load(null, null);
        IllegalArgumentException noCa = assertThrows(IllegalArgumentException.class,
                () -> TlsCredentials.of(identity, PASSWORD, empty));
        assertTrue(noCa.getMessage().contains("add the CA certificate"), noCa.getMessage());
        IllegalArgumentException notLoaded = assertThrows(IllegalArgumentException.class,
                () -> TlsCredentials.of(identity, PASSWORD, KeyStore.getInstance("PKCS12")));
        assertTrue(notLoaded.getMessage().contains("KeyStore.load"), notLoaded.getMessage());
        IllegalArgumentException notInitialised = assertThrows(IllegalArgumentException.class,
                () -> TlsCredentials.of(SSLContext.getInstance("TLSv1.3")));
        assertTrue(notInitialised.getMessage().contains("call init"), notInitialised.getMessage());
    }
}
