package io.dwcp.transport.netty;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.config.TransportKeys;
import io.dwcp.core.transport.PayloadSource;
import io.dwcp.core.transport.Session;
import io.dwcp.core.transport.TransferKind;
import io.dwcp.core.transport.TransferRequest;
import io.micrometer.core.instrument.Counter;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Tag("AMST-12")
class TlsTest {
    @TempDir
    static Path dir;
    static Certificates ca;
    static Certificates otherCa;
    static Path[] server;
    static Path[] client;
    static Path[] stranger;

    @BeforeAll
    static void pki() throws Exception {
        ca = new Certificates(dir, "dwcp-test");
        otherCa = new Certificates(dir, "someone-else");
        server = ca.node("server");
        client = ca.node("client");
        stranger = otherCa.node("stranger");
    }

    static UnaryOperator<DwcpConfig.Builder> tls(Path[] node, Path trusted, boolean mutual) {
        return b -> b.set(TransportKeys.TLS_ENABLED, true)
                .set(TransportKeys.TLS_MUTUAL, mutual)
                .set("dwcp.transport.tls.certificate", node[0].toString())
                .set("dwcp.transport.tls.private-key", node[1].toString())
                .set("dwcp.transport.tls.trusted-ca", trusted.toString())
                .set("dwcp.transport.connect-timeout", "5s");
    }

    @Test
    void mutualTlsCarriesTransfersBothWays() throws Exception {
        try (Peers p = new Peers(tls(server, ca.caPem, true), tls(client, ca.caPem, true))) {
            Session s = p.connect();
            byte[] data = LoopbackTransferTest.random(3_000_000, 21);
            s.send(TransferRequest.of(TransferKind.MEMORY, "tls", PayloadSource.of(ByteBuffer.wrap(data))))
                    .completion().get(30, TimeUnit.SECONDS);
            assertArrayEquals(data, p.serverRecorder.future("tls").get(10, TimeUnit.SECONDS));
            byte[] back = LoopbackTransferTest.random(1_000_000, 22);
            p.serverSession().send(TransferRequest.of(TransferKind.MEMORY, "back", PayloadSource.of(ByteBuffer.wrap(back))))
                    .completion().get(30, TimeUnit.SECONDS);
            assertArrayEquals(back, p.clientRecorder.future("back").get(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void clientCertificateFromAnUnknownCaIsRejected() throws Exception {
        try (Peers p = new Peers(tls(server, ca.caPem, true), tls(stranger, ca.caPem, true))) {
            ExecutionException e = assertThrows(ExecutionException.class, p::connect);
            DwcpException d = DwcpException.find(e);
            assertTrue(d != null && d.code() == ErrorCode.AUTH_FAILED, "AUTH_FAILED, got " + e);
            assertTrue(d.getMessage().contains("requires a client certificate signed by a CA it trusts"),
                    "the client is told its certificate was refused: " + d.getMessage());
            Counter rejects = p.serverContext.meterRegistry().find("dwcp.amst.handshake.rejects").tag("reason", "auth_failed").counter();
            assertTrue(rejects != null && rejects.count() >= 1, "server counted the rejection");
            assertEquals(0, p.server.sessions().size());
        }
    }

    @Test
    void serverThatTheClientDoesNotTrustIsRejected() throws Exception {
        try (Peers p = new Peers(tls(server, ca.caPem, true), tls(client, otherCa.caPem, true))) {
            ExecutionException e = assertThrows(ExecutionException.class, p::connect);
            assertEquals(ErrorCode.AUTH_FAILED, DwcpException.find(e).code());
            assertTrue(DwcpException.find(e).getMessage().contains("not signed by a CA in dwcp.transport.tls.trusted-ca"),
                    "the message names the certificate problem: " + DwcpException.find(e).getMessage());
        }
    }

    @Test
    void plaintextClientCannotTalkToATlsServer() throws Exception {
        try (Peers p = new Peers(tls(server, ca.caPem, true), b -> b.set("dwcp.transport.connect-timeout", "5s"))) {
            ExecutionException e = assertThrows(ExecutionException.class, p::connect);
            assertTrue(DwcpException.find(e) != null, "a coded failure: " + e);
        }
    }

    @Test
    void withoutMutualAuthenticationTheServerAcceptsAnyClient() throws Exception {
        try (Peers p = new Peers(tls(server, ca.caPem, false), tls(stranger, ca.caPem, false))) {
            Session s = p.connect();
            assertTrue(s.isOpen());
        }
    }

    @Test
    void certificatesReloadWithoutRestart(@TempDir Path own) throws Exception {
        Certificates first = new Certificates(own, "first");
        Path[] s1 = first.node("s1");
        Path[] c1 = first.node("c1");
        Path[] serverFiles = {own.resolve("server.pem"), own.resolve("server.key")};
        Path[] clientFiles = {own.resolve("client.pem"), own.resolve("client.key")};
        Path serverCa = own.resolve("server-ca.pem");
        Path clientCa = own.resolve("client-ca.pem");
        install(s1, serverFiles, first.caPem, serverCa, 0);
        install(c1, clientFiles, first.caPem, clientCa, 0);
        try (Peers p = new Peers(tls(serverFiles, serverCa, true), tls(clientFiles, clientCa, true))) {
            Session before = p.connect();
            // Rotate to a new CA on both sides; the old CA is no longer trusted anywhere.
            Certificates second = new Certificates(own, "second");
            install(second.node("s2"), serverFiles, second.caPem, serverCa, 10);
            install(second.node("c2"), clientFiles, second.caPem, clientCa, 10);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            Session after = null;
            while (after == null && System.nanoTime() < deadline) {
                try {
                    Session s = p.connect();
                    String id = s.id();
                    AmstSession server = p.server.sessions().stream().filter(x -> x.idHex.equals(id)).findFirst().orElseThrow();
                    if (server.peerIdentity.contains("CN=c2")) {
                        after = s;
                    } else {
                        s.close();
                    }
                } catch (ExecutionException e) {
                    // A failed handshake (one side rotated, the other not yet) is expected while the files are re-read:
                    // AUTH_FAILED when this side read the peer's alert, IO_ERROR when the peer closed the connection
                    // first, or when the control connection was set up before the rotation and a data stream after it
                    // ("no data stream could be opened"). Anything else is a bug.
                    ErrorCode code = DwcpException.find(e).code();
                    assertTrue(code == ErrorCode.AUTH_FAILED || code == ErrorCode.IO_ERROR, "a handshake during the"
                            + " rotation failed with " + code + ": " + e.getCause());
                }
                if (after == null) {
                    // Poll with a deadline: the transports re-check the files at most once a second.
                    java.util.concurrent.locks.LockSupport.parkNanos(100_000_000L);
                }
            }
            assertTrue(after != null && after.isOpen(), "a new connection presents the rotated client certificate");
            byte[] data = LoopbackTransferTest.random(100_000, 23);
            before.send(TransferRequest.of(TransferKind.OPAQUE, "old", PayloadSource.of(ByteBuffer.wrap(data))))
                    .completion().get(30, TimeUnit.SECONDS);
            assertArrayEquals(data, p.serverRecorder.future("old").get(10, TimeUnit.SECONDS));
        }
    }

    private static void install(Path[] node, Path[] to, Path caPem, Path caTo, int secondsAhead) throws Exception {
        java.nio.file.attribute.FileTime t = java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + secondsAhead * 1000L);
        java.nio.file.Files.copy(node[0], to[0], java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        java.nio.file.Files.copy(node[1], to[1], java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        java.nio.file.Files.copy(caPem, caTo, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        for (Path f : new Path[] {to[0], to[1], caTo}) {
            java.nio.file.Files.setLastModifiedTime(f, t);
        }
    }

    @Test
    void tlsWithoutCertificatesIsAConfigurationError() {
        DwcpException e = assertThrows(DwcpException.class, () -> new Peers(b -> b.set(TransportKeys.TLS_ENABLED, true)));
        assertEquals(ErrorCode.INVALID_CONFIG, e.code());
        assertTrue(e.getMessage().contains("dwcp.transport.tls.certificate"));
    }
}
