package io.dwcp.core;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Local failures are named by their real cause, never blamed on the peer's data. */
class DwcpExceptionTest {
    private static DwcpException local(Throwable t) {
        return DwcpException.local("decoding round 3 of vm", t);
    }

    @Test
    void outOfMemoryIsAResourceNotCorruptData() {
        DwcpException d = local(new ExecutionException(new OutOfMemoryError("Cannot reserve 4194304 bytes of direct buffer memory")));
        assertEquals(ErrorCode.RESOURCE_EXHAUSTED, d.code());
        assertTrue(d.getMessage().contains("MaxDirectMemorySize"), d.getMessage());
        assertEquals(ErrorCode.RESOURCE_EXHAUSTED, local(new OutOfMemoryError("Java heap space")).code());
    }

    @Test
    void aFullDiskIsAResourceAndOtherIoIsIo() {
        assertEquals(ErrorCode.RESOURCE_EXHAUSTED, local(new UncheckedIOException(new IOException("No space left on device"))).code());
        assertEquals(ErrorCode.IO_ERROR, local(new IOException("Input/output error")).code());
        assertEquals(ErrorCode.IO_ERROR, local(new InternalError("a fault occurred in a recent unsafe memory access operation")).code());
    }

    @Test
    void interruptIsCancellationAndAnythingElseIsOurDefect() {
        assertEquals(ErrorCode.CANCELLED, local(new InterruptedException()).code());
        DwcpException bug = local(new CompletionException(new ArrayIndexOutOfBoundsException(7)));
        assertEquals(ErrorCode.INTERNAL_ERROR, bug.code());
        assertTrue(bug.getMessage().contains("not of the peer's data"), bug.getMessage());
    }

    @Test
    void aDwcpExceptionInTheChainIsKept() {
        DwcpException peer = new DwcpException(ErrorCode.CORRUPT_FRAME, "bad frame");
        assertSame(peer, local(new CompletionException(peer)));
    }

    @Test
    void everyCodeHasAUniqueNumberAndUnknownNumbersMapToUnknown() {
        assertEquals(ErrorCode.KEY_BUSY, ErrorCode.ofNumber(21));
        assertEquals(ErrorCode.RESOURCE_EXHAUSTED, ErrorCode.ofNumber(22));
        assertEquals(ErrorCode.INTERNAL_ERROR, ErrorCode.ofNumber(23));
        assertEquals(ErrorCode.UNKNOWN, ErrorCode.ofNumber(999));
    }
}
