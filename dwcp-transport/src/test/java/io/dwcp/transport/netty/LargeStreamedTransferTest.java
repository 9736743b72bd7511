package io.dwcp.transport.netty;

import io.dwcp.core.transport.InboundTransfer;
import io.dwcp.core.transport.PayloadSource;
import io.dwcp.core.transport.Session;
import io.dwcp.core.transport.TransferKind;
import io.dwcp.core.transport.TransferRequest;
import io.dwcp.core.transport.TransferResult;
import io.dwcp.core.transport.TransferSink;
import io.dwcp.core.transport.TransportListener;
import io.dwcp.core.testing.TestContext;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * More than 4 GiB streamed over loopback (64-bit offsets and lengths end to end), never held in memory: the source
 * generates bytes from a seed, the sink only checksums them. Slow: runs with {@code -Pslow}.
 */
@Tag("slow")
@Tag("AMST-2")
class LargeStreamedTransferTest {
    static final long BYTES = (4L << 30) + 123_457;

    /** Deterministic bytes from a seed, streamed (length -1) so the receiver learns the end from END. */
    static final class Generated implements PayloadSource {
        private final SplittableRandom random = new SplittableRandom(77);
        private long left = BYTES;
        final CRC32C crc = new CRC32C();

        @Override
        public long lengthBytes() {
            return -1;
        }

        @Override
        public int read(ByteBuffer dst) {
            if (left == 0) {
                return -1;
            }
            int n = (int) Math.min(dst.remaining(), left);
            for (int i = 0; i < n; i++) {
                dst.put((byte) random.nextInt(256));
            }
            ByteBuffer done = dst.duplicate();
            done.flip();
            done.position(done.limit() - n);
            crc.update(done);
            left -= n;
            return n;
        }
    }

    @Test
    void moreThanFourGibibytesArriveIntact() throws Exception {
        AmstTransport server = AmstTransport.create(TestContext.of(Peers.base().build()));
        AmstTransport client = AmstTransport.create(TestContext.of(Peers.base().set("dwcp.transport.chunk-size", "1MiB").build()));
        server.start();
        client.start();
        try {
            CompletableFuture<long[]> received = new CompletableFuture<>();
            TransportListener l = server.listen(new InetSocketAddress("127.0.0.1", 0), (Session s, InboundTransfer t) -> new TransferSink() {
                final CRC32C crc = new CRC32C();
                long bytes;

                @Override
                public void write(ByteBuffer data) {
                    bytes += data.remaining();
                    crc.update(data);
                }

                @Override
                public void complete() {
                    received.complete(new long[] {bytes, crc.getValue()});
                }

                @Override
                public void fail(Throwable cause) {
                    received.completeExceptionally(cause);
                }
            }).get(10, TimeUnit.SECONDS);
            Session s = client.connect(l.localAddress(), (x, y) -> null).get(10, TimeUnit.SECONDS);
            Generated src = new Generated();
            TransferResult r = s.send(TransferRequest.of(TransferKind.DISK, "big", src)).completion().get(20, TimeUnit.MINUTES);
            long[] got = received.get(1, TimeUnit.MINUTES);
            assertEquals(BYTES, r.payloadBytes());
            assertEquals(BYTES, got[0]);
            assertEquals(src.crc.getValue(), got[1]);
        } finally {
            client.stop();
            server.stop();
        }
    }
}
