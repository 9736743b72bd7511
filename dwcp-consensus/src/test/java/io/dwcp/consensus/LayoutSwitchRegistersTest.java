package io.dwcp.consensus;

import io.dwcp.core.spi.Consensus.Versioned;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The epoch fence and the seed of a layout switch, on the replicated state alone. */
@Tag("ACP-5")
class LayoutSwitchRegistersTest {
    private static Reply apply(Registers r, Command c, long index) {
        return Reply.decode(ByteBuffer.wrap(r.apply(c, index)));
    }

    private static Command guarded(Command.Type type, long client, long seq, String key, String expected, String value, long epoch) {
        return new Command(type, client, 0, seq, key, expected, value, new Command.Guard(epoch, "a"));
    }

    private static Command write(long client, long seq, String key, String value, long epoch) {
        return guarded(Command.Type.WRITE, client, seq, key, null, value, epoch);
    }

    private static Command fence(String to, long epoch, long millis, long minInterval, long maxBytes) {
        return new Command(Command.Type.FENCE, 9, 9, 0, to, Long.toString(epoch), millis + "/" + minInterval + "/" + maxBytes);
    }

    private static Command seed(long epoch, String state) {
        return new Command(Command.Type.SEED, 9, 9, 0, "a", Long.toString(epoch), state);
    }

    @Test
    void aFenceFreezesTheGroupAndItsStateSeedsTheNextWithTheDeduplicationTable() {
        Registers a = new Registers(16, 16);
        Reply first = apply(a, guarded(Command.Type.CAS, 1, 1, "k", null, "x", 0), 5);
        assertEquals(Reply.Status.OK, first.status());
        apply(a, write(2, 1, "k", "y", 0), 6);
        assertEquals(Reply.Status.OK, apply(a, new Command(Command.Type.WRITE, 3, 0, 1, "acp/election.min", null, "1"), 7).status());

        Reply fenced = apply(a, fence("b", 0, 1000, 0, 1 << 20), 8);
        assertEquals(Reply.Status.OK, fenced.status());
        String state = fenced.current().value();
        // After the fence nothing on the scope's keys changes here, guarded or not; the group's own keys still do.
        Reply refused = apply(a, write(2, 2, "k", "z", 0), 9);
        assertEquals(Reply.Status.FENCED, refused.status());
        assertEquals("0|b", refused.error());
        assertEquals(Reply.Status.FENCED, apply(a, new Command(Command.Type.WRITE, 4, 0, 1, "k", null, "q"), 10).status());
        assertEquals(Reply.Status.FENCED, a.query(guarded(Command.Type.READ, 1, 0, "k", null, null, 0)).status());
        assertEquals(Reply.Status.OK, apply(a, new Command(Command.Type.WRITE, 3, 0, 2, "acp/election.min", null, "2"), 11).status());
        assertEquals(new Versioned("y", 6), a.get("k"));
        // The same fence again answers the same state (a client completing the switch); another target is refused.
        assertEquals(state, apply(a, fence("b", 0, 5000, 0, 1 << 20), 12).current().value());
        assertEquals("0|b", apply(a, fence("c", 0, 5000, 0, 1 << 20), 13).error());

        Registers b = new Registers(16, 16);
        apply(b, new Command(Command.Type.WRITE, 3, 0, 1, "acp/election.min", null, "b-own"), 3);
        assertEquals(Reply.Status.OK, apply(b, seed(1, state), 4).status());
        assertEquals(1, b.epoch());
        assertEquals(new Versioned("y", 6), b.get("k"));
        assertEquals("b-own", b.get("acp/election.min").value(), "a group's own keys are neither carried nor replaced");
        // The retry of client 1's CAS (committed before the fence, reply lost) gets its original result, not re-applied.
        Reply retried = apply(b, guarded(Command.Type.CAS, 1, 1, "k", null, "x", 1), 5);
        assertEquals(first, retried);
        assertEquals(new Versioned("y", 6), b.get("k"));
        // Client 2's write refused by the fence is applied once here, with a version above every earlier one.
        Reply applied = apply(b, write(2, 2, "k", "z", 1), 6);
        assertEquals(Reply.Status.OK, applied.status());
        assertEquals((1L << 40) | 6, applied.current().version());
        assertEquals(applied, apply(b, write(2, 2, "k", "z", 1), 7), "and answered from the table when retried again");
        // A command for the old epoch is told the epoch this group serves.
        assertEquals("1|", apply(b, write(2, 3, "k", "w", 0), 8).error());
        // A second seed of the same epoch changes nothing.
        assertEquals(Reply.Status.OK, apply(b, seed(1, state), 9).status());
        assertEquals("z", b.get("k").value());
    }

    @Test
    void aServingGroupIsNeverSeededAndABadStateChangesNothing() {
        Registers a = new Registers(16, 16);
        apply(a, write(1, 1, "k", "x", 0), 3);
        String state = apply(a, fence("b", 0, 1000, 0, 1 << 20), 4).current().value();
        Registers serving = new Registers(16, 16);
        apply(serving, write(1, 1, "k", "mine", 0), 3);
        assertEquals(Reply.Status.REFUSED, apply(serving, seed(1, state), 4).status());
        assertEquals("mine", serving.get("k").value());
        Registers fresh = new Registers(16, 16);
        assertEquals(Reply.Status.MALFORMED, apply(fresh, seed(1, "bm90IGEgc3RhdGU="), 4).status());
        assertEquals(Reply.Status.MALFORMED, apply(fresh, seed(1, "%%%"), 5).status());
        assertEquals(0, fresh.epoch());
    }

    @Test
    void aFenceTooSoonAfterTheLastSwitchOrTooLargeIsRefused() {
        Registers a = new Registers(16, 16);
        apply(a, write(1, 1, "k", "x".repeat(500), 0), 3);
        assertEquals(Reply.Status.REFUSED, apply(a, fence("b", 0, 1000, 0, 100), 4).status(), "state above the limit");
        String state = apply(a, fence("b", 0, 1000, 0, 1 << 20), 5).current().value();
        Registers b = new Registers(16, 16);
        apply(b, seed(1, state), 3);
        Reply soon = apply(b, fence("a", 1, 1000 + 59_000, 60_000, 1 << 20), 4);
        assertEquals(Reply.Status.REFUSED, soon.status());
        assertTrue(soon.error().startsWith("too soon"), soon.error());
        assertEquals(Reply.Status.OK, apply(b, fence("a", 1, 1000 + 60_000, 60_000, 1 << 20), 5).status());
    }

    @Test
    void theLayoutStateSurvivesASnapshotAndTheWritesPerOriginAreCounted() throws IOException {
        Registers a = new Registers(16, 16);
        apply(a, write(1, 1, "k", "x", 0), 3);
        apply(a, new Command(Command.Type.WRITE, 1, 0, 2, "k", null, "y", new Command.Guard(0, "b")), 4);
        apply(a, write(1, 3, "k", "z", 0), 5);
        assertEquals("0||0|a=2,b=1", apply(a, new Command(Command.Type.READ, 1, 0, 0, LayoutState.LAYOUT_KEY, null, null), 6)
                .current().value());
        String state = apply(a, fence("b", 0, 1000, 0, 1 << 20), 7).current().value();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        a.writeTo(new DataOutputStream(bytes));
        Registers restored = new Registers(16, 16);
        restored.readFrom(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));
        assertEquals(Reply.Status.FENCED, apply(restored, write(1, 4, "k", "w", 0), 8).status());
        assertEquals(state, apply(restored, fence("b", 0, 2000, 0, 1 << 20), 9).current().value());
        ByteArrayOutputStream again = new ByteArrayOutputStream();
        restored.writeTo(new DataOutputStream(again));
        assertArrayEquals(bytes.toByteArray(), again.toByteArray());
        assertNotEquals(0, bytes.size());
    }
}
