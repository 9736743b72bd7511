package io.dwcp.transport.netty;

import io.dwcp.core.config.DwcpConfig;
import io.dwcp.transport.wire.Frame;
import io.dwcp.transport.wire.FrameHeader;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The RTT probes of a session's start: sent together, each answered on its own. */
class RttProbeTest {
    @Test
    void probesGoOutTogetherAndCompleteOnlyWhenEveryOneIsAnswered() {
        ControlFrames control = new ControlFrames(null, null, new Settings(DwcpConfig.defaults()));
        EmbeddedChannel ch = new EmbeddedChannel();
        try {
            control.attach(ch);
            CompletableFuture<Void> probed = control.probeRtt(3);

            // All three PINGs are on the wire before any PONG came back.
            List<Long> stamps = new ArrayList<>();
            for (ByteBuf b; (b = ch.readOutbound()) != null; ) {
                try {
                    assertEquals(FrameHeader.TYPE_PING, b.getUnsignedByte(b.readerIndex() + FrameHeader.TYPE_OFFSET));
                    stamps.add(b.getLong(b.readerIndex() + FrameHeader.HEADER_LENGTH));
                } finally {
                    b.release();
                }
            }
            assertEquals(3, stamps.size());
            Set<Long> distinct = new HashSet<>(stamps);
            assertEquals(3, distinct.size(), "each probe needs a stamp of its own: " + stamps);
            assertFalse(probed.isDone());
            assertEquals(Long.MAX_VALUE, control.minRttNanos());

            // Answered one by one: done only after the last, and the RTT comes from the answers.
            for (int i = 0; i < stamps.size(); i++) {
                assertFalse(probed.isDone(), "done after " + i + " of 3 answers");
                Frame pong = new Frame(FrameHeader.TYPE_PONG, 0, 0, 0, 0, Unpooled.buffer(8).writeLong(stamps.get(i)));
                try {
                    control.onFrame(pong);
                } finally {
                    pong.release();
                }
            }
            assertTrue(probed.isDone());
            assertFalse(probed.isCompletedExceptionally());
            assertTrue(control.minRttNanos() > 0 && control.minRttNanos() < Long.MAX_VALUE);
        } finally {
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void aLostConnectionFailsTheProbes() {
        ControlFrames control = new ControlFrames(null, null, new Settings(DwcpConfig.defaults()));
        EmbeddedChannel ch = new EmbeddedChannel();
        try {
            control.attach(ch);
            CompletableFuture<Void> probed = control.probeRtt(3);
            control.failPings(new java.io.IOException("connection lost"));
            assertTrue(probed.isCompletedExceptionally());
        } finally {
            ch.finishAndReleaseAll();
        }
    }
}
