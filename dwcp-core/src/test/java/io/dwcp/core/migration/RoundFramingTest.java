package io.dwcp.core.migration;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.transport.InboundTransfer;
import io.dwcp.core.spi.StateCodec;
import io.dwcp.core.transport.TransferKind;
import io.dwcp.core.transport.TransferSink;
import io.dwcp.core.state.VmState;
import io.dwcp.core.state.WritableRegion;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The receiver's round framing refuses bytes after the end marker however the bytes are split into reads. */
class RoundFramingTest {
    private static StateCodec ignoringCodec() {
        Object decoder = Proxy.newProxyInstance(RoundFramingTest.class.getClassLoader(),
                new Class<?>[]{io.dwcp.core.spi.StateDecoder.class}, (p, m, a) -> null);
        return (StateCodec) Proxy.newProxyInstance(StateCodec.class.getClassLoader(), new Class<?>[]{StateCodec.class},
                (p, m, a) -> m.getName().equals("newDecoder") ? decoder : null);
    }

    @Test
    void bytesAfterTheEndMarkerInTheHeadersReadAreRefused() {
        // Found by MigrationWireFuzzTest: when the header, the end marker and more bytes came in one read, the extra
        // bytes were dropped and the round completed.
        List<MigrationReceiver.FailedRound> failed = new ArrayList<>();
        MigrationReceiver receiver = new MigrationReceiver(ignoringCodec(),
                (key, pageSize, regions) -> VmState.<WritableRegion>builder(key).pageSizeBytes(pageSize).build(),
                r -> { }, failed::add, ReceiveBuffers.of(1 << 20));
        ByteBuffer header = MigrationWire.roundHeader(2, 4096, List.of(), false);
        ByteBuffer round = ByteBuffer.allocate(header.remaining() + 4 + 3).put(header).putInt(0).put(new byte[3]).flip();
        TransferSink sink = receiver.onTransfer(null, new InboundTransfer(1, TransferKind.MEMORY, "vm", -1));
        DwcpException e = assertThrows(DwcpException.class, () -> sink.write(round));
        assertEquals(ErrorCode.PROTOCOL_ERROR, e.code());
        sink.fail(e);
        assertEquals(1, failed.size());
    }
}
