package io.dwcp.consensus;

import io.dwcp.core.spi.Consensus.Versioned;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The replicated register state: CAS semantics, fencing versions, de-duplication, snapshots. */
class RegistersTest {
    private static Reply apply(Registers r, Command c, long index) {
        return Reply.decode(ByteBuffer.wrap(r.apply(c, index)));
    }

    private static Command cas(long client, long seq, String key, String expected, String value) {
        return new Command(Command.Type.CAS, client, 0, seq, key, expected, value);
    }

    @Test
    void handOverIsFencedByTheLogIndex() {
        Registers r = new Registers(16, 16);
        assertEquals(Reply.ok(new Versioned("site-a", 3)), apply(r, cas(1, 1, "vm/x/owner", null, "site-a"), 3));
        // A stale source trying to take the VM back with an old view loses, and learns the real owner and epoch.
        assertEquals(Reply.ok(new Versioned("site-b", 8)), apply(r, cas(1, 2, "vm/x/owner", "site-a", "site-b"), 8));
        Reply lost = apply(r, cas(2, 1, "vm/x/owner", "site-a", "site-c"), 9);
        assertEquals(Reply.Status.NOT_APPLIED, lost.status());
        assertEquals(new Versioned("site-b", 8), lost.current());
        assertEquals(new Versioned("site-b", 8), r.get("vm/x/owner"));
    }

    @Test
    void aDuplicateGetsTheOriginalResultAndChangesNothing() {
        Registers r = new Registers(16, 16);
        byte[] first = r.apply(cas(1, 1, "k", null, "a"), 5);
        apply(r, new Command(Command.Type.WRITE, 2, 0, 1, "k", null, "b"), 6);
        byte[] again = r.apply(cas(1, 1, "k", null, "a"), 7); // retried after it already committed
        assertArrayEquals(first, again);
        assertEquals(new Versioned("b", 6), r.get("k"));
        assertEquals(1, r.duplicates());
    }

    @Test
    void aRetryOlderThanTheWindowIsStaleAndNotApplied() {
        Registers r = new Registers(2, 16);
        for (int seq = 1; seq <= 3; seq++) {
            apply(r, new Command(Command.Type.WRITE, 1, 0, seq, "k", null, "v" + seq), 10 + seq);
        }
        Reply stale = apply(r, new Command(Command.Type.WRITE, 1, 0, 1, "k", null, "v1"), 20);
        assertEquals(Reply.Status.STALE, stale.status());
        assertEquals(new Versioned("v3", 13), r.get("k"));
    }

    @Test
    void theLeastRecentlyActiveClientIsForgottenFirst() {
        Registers r = new Registers(4, 2);
        apply(r, cas(1, 1, "a", null, "1"), 1);
        apply(r, cas(2, 1, "b", null, "1"), 2);
        apply(r, cas(1, 2, "a", "1", "2"), 3); // client 1 active again: client 2 is now the eldest
        apply(r, cas(3, 1, "c", null, "1"), 4);
        assertEquals(2, r.clientCount());
        // client 1 is still remembered: its retry is answered from the table
        assertEquals(Reply.Status.OK, apply(r, cas(1, 2, "a", "1", "2"), 5).status());
        assertEquals(new Versioned("2", 3), r.get("a"));
    }

    @Test
    void snapshotRestoresValuesAndTheDeduplicationTable() throws IOException {
        Registers r = new Registers(8, 8);
        byte[] original = r.apply(cas(1, 1, "vm/x/owner", null, "site-a"), 4);
        apply(r, new Command(Command.Type.WRITE, 2, 0, 1, "plan", null, "p7"), 5);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        r.writeTo(new DataOutputStream(bytes));

        Registers restored = new Registers(8, 8);
        restored.readFrom(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));
        assertEquals(new Versioned("site-a", 4), restored.get("vm/x/owner"));
        assertEquals(new Versioned("p7", 5), restored.get("plan"));
        assertArrayEquals(original, restored.apply(cas(1, 1, "vm/x/owner", null, "site-a"), 9), "duplicate after restore");
        assertEquals(new Versioned("site-a", 4), restored.get("vm/x/owner"));
    }

    @Test
    void aCorruptSnapshotIsRefusedAndLeavesTheStateUnchanged() throws IOException {
        Registers r = new Registers(8, 8);
        apply(r, new Command(Command.Type.WRITE, 2, 0, 1, "plan", null, "p7"), 5);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        r.writeTo(new DataOutputStream(bytes));
        byte[] truncated = Arrays.copyOf(bytes.toByteArray(), bytes.size() - 3);
        Registers target = new Registers(8, 8);
        apply(target, new Command(Command.Type.WRITE, 3, 0, 1, "mine", null, "keep"), 1);
        assertThrows(IOException.class, () -> target.readFrom(new DataInputStream(new ByteArrayInputStream(truncated))));
        assertEquals(new Versioned("keep", 1), target.get("mine"));
        byte[] badMagic = bytes.toByteArray().clone();
        badMagic[0] ^= 1;
        assertThrows(IOException.class, () -> target.readFrom(new DataInputStream(new ByteArrayInputStream(badMagic))));
    }
}
