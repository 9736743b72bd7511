package io.dwcp.transport.netty;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.transport.PayloadSource;
import io.dwcp.core.transport.Session;
import io.dwcp.core.transport.Transfer;
import io.dwcp.core.transport.TransferKind;
import io.dwcp.core.transport.TransferRequest;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A receiving application whose sink fails a write and then throws from {@code fail()} as well: the failure reported
 * (to the sink, and as the ABORT the sender gets) is the write's, with the code the receiver gave it, and the broken
 * sink's own exception stays attached to it as suppressed, not the other way round (where it was dropped).
 */
class ReassemblyFailureTest {

    @Test
    void aSinkThatThrowsFromFailKeepsItsExceptionSuppressedOnTheReportedFailure() throws Exception {
        try (Peers p = new Peers(b -> b.set("dwcp.tier.pin", "local"))) {
            p.serverRecorder.gate = total -> {
                throw new IOException("the disk went away");
            };
            IllegalStateException broken = new IllegalStateException("the sink is broken too");
            p.serverRecorder.failThrows = broken;
            Session s = p.connect();
            Transfer t = s.send(TransferRequest.of(TransferKind.MEMORY, "k", PayloadSource.of(ByteBuffer.wrap(new byte[200_000]))));

            // The sender hears the receiver's cause with its code (sent after the suppressed exception was attached).
            ExecutionException atSender = assertThrows(ExecutionException.class, () -> t.completion().get(10, TimeUnit.SECONDS));
            DwcpException abort = DwcpException.find(atSender);
            assertEquals(ErrorCode.IO_ERROR, abort.code(), abort.getMessage());
            assertTrue(abort.getMessage().contains("the disk went away"), abort.getMessage());

            ExecutionException atReceiver = assertThrows(ExecutionException.class,
                    () -> p.serverRecorder.future("k").get(10, TimeUnit.SECONDS));
            Throwable reported = atReceiver.getCause();
            assertTrue(reported instanceof DwcpException, String.valueOf(reported));
            assertTrue(Arrays.asList(reported.getSuppressed()).contains(broken),
                    "the broken sink's exception is suppressed on the reported failure: " + Arrays.toString(reported.getSuppressed()));
        }
    }
}
