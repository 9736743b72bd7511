package io.dwcp.sync;

import io.dwcp.core.transport.PayloadSource;
import io.dwcp.core.transport.Session;
import io.dwcp.core.transport.TransferKind;
import io.dwcp.core.transport.TransferRequest;
import io.micrometer.core.instrument.FunctionCounter;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Malformed, oversized and foreign transfers sent over a real AMST session are dropped and counted; sync keeps working. */
class HostileInputTest {
    private static double metersOf(Nodes.Node n, String reason) {
        FunctionCounter c = n.meters().find("dwcp.ass.rejected").tag("reason", reason).functionCounter();
        return c == null ? -1 : c.count();
    }

    @Test
    void malformedOversizedAndForeignTransfersAreDroppedAndCounted() throws Exception {
        try (Nodes.Node target = Nodes.start(Nodes.config("t").toBuilder().set("dwcp.sync.max-message", "4KiB").build());
             Nodes.Node attacker = Nodes.start(Nodes.config("x"))) {
            InetSocketAddress addr = target.sync().listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).get(5, TimeUnit.SECONDS);
            Session s = attacker.transport().connect(addr, (session, t) -> {
                throw new IllegalStateException("no replies expected");
            }).get(5, TimeUnit.SECONDS);

            byte[] garbage = new byte[300];
            new Random(1).nextBytes(garbage);
            s.send(TransferRequest.of(TransferKind.METADATA, Messenger.TRANSFER_KEY, PayloadSource.of(ByteBuffer.wrap(garbage))))
                    .completion().get(5, TimeUnit.SECONDS);
            byte[] badType = SyncWire.encode(new SyncMessage.PushAck(new SyncMessage.Header(0, 1, "x"), 0));
            badType[SyncWire.TYPE_OFFSET] = 99;
            s.send(TransferRequest.of(TransferKind.METADATA, Messenger.TRANSFER_KEY, PayloadSource.of(ByteBuffer.wrap(badType))))
                    .completion().get(5, TimeUnit.SECONDS);
            ExecutionException big = assertThrows(ExecutionException.class, () -> s.send(TransferRequest.of(TransferKind.METADATA,
                    Messenger.TRANSFER_KEY, PayloadSource.of(ByteBuffer.wrap(new byte[8192])))).completion().get(5, TimeUnit.SECONDS));
            assertTrue(String.valueOf(big.getCause()).contains("LIMIT_EXCEEDED"), String.valueOf(big.getCause()));
            assertThrows(ExecutionException.class, () -> s.send(TransferRequest.of(TransferKind.MEMORY, "vm-1",
                    PayloadSource.of(ByteBuffer.wrap(new byte[10])))).completion().get(5, TimeUnit.SECONDS));

            assertEquals(1.0, metersOf(target, "malformed"));
            assertEquals(1.0, metersOf(target, "unknown-type"));
            assertEquals(1.0, metersOf(target, "oversized"));
            assertEquals(1.0, metersOf(target, "not-sync"));
            assertEquals(4, target.sync().stats().rejected());
            assertTrue(target.sync().store().keys().isEmpty());
            assertEquals(0.0, metersOf(attacker, "malformed"));
            s.close();
        }
    }
}
