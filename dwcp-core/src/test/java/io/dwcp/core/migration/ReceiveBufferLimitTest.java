package io.dwcp.core.migration;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.transport.InboundTransfer;
import io.dwcp.core.spi.StateCodec;
import io.dwcp.core.spi.StateDecoder;
import io.dwcp.core.transport.TransferKind;
import io.dwcp.core.transport.TransferSink;
import io.dwcp.core.state.StateRegions;
import io.dwcp.core.state.VmState;
import io.dwcp.core.state.WritableRegion;
import org.junit.jupiter.api.Test;

import io.dwcp.core.transport.Session;

import java.lang.reflect.Proxy;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A sender that announces large frames and trickles their bytes holds receiver memory only up to the node's
 * {@code dwcp.migration.receive-buffer}; past it the round fails with {@code LIMIT_EXCEEDED}, and the memory comes
 * back when rounds end.
 */
class ReceiveBufferLimitTest {
    private static final int MIB = 1 << 20;

    /** A codec whose decoders take any frame (the test is about the framing layer in front of it). */
    private static StateCodec acceptingCodec() {
        StateDecoder decoder = (StateDecoder) Proxy.newProxyInstance(StateDecoder.class.getClassLoader(),
                new Class<?>[]{StateDecoder.class}, (p, m, a) -> null);
        return (StateCodec) Proxy.newProxyInstance(StateCodec.class.getClassLoader(), new Class<?>[]{StateCodec.class},
                (p, m, a) -> m.getName().equals("newDecoder") ? decoder : null);
    }

    private static ReplicaFactory memory() {
        return (key, pageSize, regions) -> VmState.<WritableRegion>builder(key).pageSizeBytes(pageSize)
                .region(StateRegions.allocateDirect("ram", (int) regions.get(0).sizeBytes())).build();
    }

    /** Round header (a delta, so the replica is opened plainly), then one frame's length prefix and {@code partial} bytes of it. */
    private static ByteBuffer startOfRound(int frameLength, int partial) {
        ByteBuffer header = MigrationWire.roundHeader(1, 4096, List.of(new ReplicaFactory.RegionLayout("ram", 8192)), false);
        ByteBuffer b = ByteBuffer.allocate(header.remaining() + 4 + partial);
        b.put(header).putInt(frameLength).position(b.position() + partial);
        return b.flip();
    }

    @Test
    void partialFramesAreBoundedByTheNodeBudgetAndReturnedWhenRoundsEnd() throws Exception {
        ReceiveBuffers budget = ReceiveBuffers.of(4 * MIB);
        List<MigrationReceiver.FailedRound> failed = new ArrayList<>();
        MigrationReceiver receiver = new MigrationReceiver(acceptingCodec(), memory(), r -> { }, failed::add, budget);

        // A frame larger than the whole budget is refused as soon as its length is read.
        TransferSink huge = receiver.onTransfer(null, new InboundTransfer(1, TransferKind.MEMORY, "vm", -1));
        DwcpException tooLarge = assertThrows(DwcpException.class, () -> huge.write(startOfRound(256 * MIB, 0)));
        assertEquals(ErrorCode.LIMIT_EXCEEDED, tooLarge.code());
        huge.fail(tooLarge);

        // Frames of 1.5 MiB trickled: each round holds a growing buffer until the budget is spent.
        List<TransferSink> held = new ArrayList<>();
        DwcpException full = null;
        for (int i = 0; i < 8 && full == null; i++) {
            TransferSink s = receiver.onTransfer(null, new InboundTransfer(10 + i, TransferKind.MEMORY, "vm" + i, -1));
            held.add(s);
            try {
                s.write(startOfRound(3 * MIB / 2, 3 * MIB / 2 - 1));
            } catch (DwcpException e) {
                full = e;
                s.fail(e);
            }
        }
        assertEquals(ErrorCode.LIMIT_EXCEEDED, full == null ? null : full.code(), "the budget must run out");
        assertEquals(true, budget.usedBytes() <= 4 * MIB, "never more than the budget: " + budget.usedBytes());
        assertEquals(2, failed.size(), "the application heard of both refused rounds");

        for (TransferSink s : held) {
            s.fail(new DwcpException(ErrorCode.CANCELLED, "sender went away"));
        }
        assertEquals(0, budget.usedBytes(), "every round gave its buffer back");
        // And a new round can start again.
        TransferSink again = receiver.onTransfer(null, new InboundTransfer(99, TransferKind.MEMORY, "vm", -1));
        again.write(startOfRound(MIB, MIB - 1));
        again.fail(new DwcpException(ErrorCode.CANCELLED, "done"));
        assertEquals(0, budget.usedBytes());
    }

    /** A session whose only property the receiver reads is the peer's address. */
    private static Session from(String host) {
        InetSocketAddress address = new InetSocketAddress(host, 40000);
        return (Session) Proxy.newProxyInstance(Session.class.getClassLoader(), new Class<?>[]{Session.class},
                (p, m, a) -> m.getName().equals("remoteAddress") ? address : null);
    }

    @Test
    void onePeerTricklingFramesIsStoppedAtItsShareWhileAnotherPeerStillGetsBuffer() throws Exception {
        ReceiveBuffers budget = ReceiveBuffers.of(8 * MIB, 4 * MIB);
        List<MigrationReceiver.FailedRound> failed = new ArrayList<>();
        MigrationReceiver receiver = new MigrationReceiver(acceptingCodec(), memory(), r -> { }, failed::add, budget);

        // A frame larger than a peer's share is refused when its length is read, though the node has room for it.
        TransferSink huge = receiver.onTransfer(from("10.0.0.1"), new InboundTransfer(1, TransferKind.MEMORY, "vm", -1));
        DwcpException tooLarge = assertThrows(DwcpException.class, () -> huge.write(startOfRound(6 * MIB, 0)));
        assertEquals(ErrorCode.LIMIT_EXCEEDED, tooLarge.code());
        huge.fail(tooLarge);

        // The hostile peer trickles 1.5 MiB frames over several rounds until its share runs out.
        List<TransferSink> hostile = new ArrayList<>();
        DwcpException full = null;
        for (int i = 0; i < 8 && full == null; i++) {
            TransferSink s = receiver.onTransfer(from("10.0.0.1"), new InboundTransfer(10 + i, TransferKind.MEMORY, "h" + i, -1));
            hostile.add(s);
            try {
                s.write(startOfRound(3 * MIB / 2, 3 * MIB / 2 - 1));
            } catch (DwcpException e) {
                full = e;
                s.fail(e);
            }
        }
        assertEquals(ErrorCode.LIMIT_EXCEEDED, full == null ? null : full.code(), "the peer's share must run out");
        assertTrue(full.getMessage().contains("dwcp.migration.receive-buffer-per-peer"), full.getMessage());
        assertTrue(budget.usedBytes("10.0.0.1") <= 4 * MIB, "never more than the share: " + budget.usedBytes("10.0.0.1"));

        // Another peer still gets frame buffer for its round.
        TransferSink legit = receiver.onTransfer(from("10.0.0.2"), new InboundTransfer(50, TransferKind.MEMORY, "vm", -1));
        legit.write(startOfRound(3 * MIB, 3 * MIB - 1));
        assertTrue(budget.usedBytes("10.0.0.2") >= 3 * MIB, "the other peer holds its frame: " + budget.usedBytes("10.0.0.2"));
        assertTrue(budget.usedBytes() <= 8 * MIB);

        for (TransferSink s : hostile) {
            s.fail(new DwcpException(ErrorCode.CANCELLED, "sender went away"));
        }
        legit.fail(new DwcpException(ErrorCode.CANCELLED, "done"));
        assertEquals(0, budget.usedBytes(), "every round gave its buffer back");
        assertEquals(0, budget.usedBytes("10.0.0.1"));
        assertEquals(0, budget.usedBytes("10.0.0.2"));
    }
}
