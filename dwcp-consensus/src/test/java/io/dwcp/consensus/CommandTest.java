package io.dwcp.consensus;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Combinators;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CommandTest {
    @Provide
    Arbitrary<Command> commands() {
        Arbitrary<String> keys = Arbitraries.strings().ofMinLength(1).ofMaxLength(40);
        Arbitrary<String> values = Arbitraries.strings().ofMaxLength(100);
        return Combinators.combine(Arbitraries.of(Command.Type.values()), Arbitraries.longs(), Arbitraries.longs().greaterOrEqual(0),
                keys, values.injectNull(0.3), values).as((type, client, seq, key, expected, value) -> switch (type) {
                    case READ -> new Command(type, client, ~client, seq, key, null, null, guard(client, seq));
                    case WRITE -> new Command(type, client, ~client, seq, key, null, value, guard(client, seq));
                    case CAS -> new Command(type, client, ~client, seq, key, expected, value, guard(client, seq));
                    case FENCE, SEED -> new Command(type, client, ~client, 0, key, Long.toString(seq), value);
                });
    }

    /** Half of the commands carry a layout guard. */
    private static Command.Guard guard(long client, long seq) {
        return (client & 1) == 0 ? null : new Command.Guard(seq, client % 3 == 0 ? "" : "region-" + (client & 0xff));
    }

    @Property(tries = 300)
    void decodeOfEncodeIsIdentity(@ForAll("commands") Command c) {
        assertEquals(c, Command.decode(ByteBuffer.wrap(c.encode())));
    }

    /** Truncations and byte flips raise only MalformedCommandException (or decode to some valid command). */
    @Property(tries = 300)
    void damagedCommandsFailOnlyWithMalformedCommand(@ForAll("commands") Command c, @ForAll int position, @ForAll byte flip) {
        byte[] b = c.encode();
        byte[] cut = Arrays.copyOf(b, Math.floorMod(position, b.length));
        assertThrows(Command.MalformedCommandException.class, () -> Command.decode(ByteBuffer.wrap(cut)));
        byte[] flipped = b.clone();
        flipped[Math.floorMod(position, b.length)] ^= (byte) (flip == 0 ? 1 : flip);
        try {
            Command.decode(ByteBuffer.wrap(flipped));
        } catch (Command.MalformedCommandException expected) {
            // the only failure allowed
        }
    }

    @Test
    void rejectsReservedFlagsTrailingBytesAndUnknownVersion() {
        byte[] b = new Command(Command.Type.READ, 1, 2, 0, "k", null, null).encode();
        byte[] flags = b.clone();
        flags[Command.KEY_OFFSET + 1] = (byte) 0x80;
        assertTrue(assertThrows(Command.MalformedCommandException.class, () -> Command.decode(ByteBuffer.wrap(flags)))
                .getMessage().contains("reserved flag bits"));
        byte[] trailing = Arrays.copyOf(b, b.length + 1);
        assertTrue(assertThrows(Command.MalformedCommandException.class, () -> Command.decode(ByteBuffer.wrap(trailing)))
                .getMessage().contains("trailing"));
        byte[] version = b.clone();
        version[Command.VERSION_OFFSET] = 9;
        assertTrue(assertThrows(Command.MalformedCommandException.class, () -> Command.decode(ByteBuffer.wrap(version)))
                .getMessage().contains("version 9"));
    }

    @Test
    void aWriteWithoutValueOrAReadWithOneIsMalformed() {
        byte[] read = new Command(Command.Type.WRITE, 1, 2, 1, "k", null, "v").encode();
        read[Command.TYPE_OFFSET] = 1; // now a READ carrying a value
        assertThrows(Command.MalformedCommandException.class, () -> Command.decode(ByteBuffer.wrap(read)));
        assertThrows(IllegalArgumentException.class, () -> new Command(Command.Type.WRITE, 1, 2, 1, "k", null, null));
        assertThrows(IllegalArgumentException.class, () -> new Command(Command.Type.READ, 1, 2, 0, "", null, null));
        assertThrows(IllegalArgumentException.class, () -> new Command(Command.Type.READ, 1, 2, 0, "x".repeat(257), null, null));
    }

    @Test
    void switchCommandsCarryAnEpochAndAValueAndNoGuard() {
        assertThrows(IllegalArgumentException.class, () -> new Command(Command.Type.FENCE, 1, 2, 0, "b", null, "1/0/9"));
        assertThrows(IllegalArgumentException.class, () -> new Command(Command.Type.FENCE, 1, 2, 0, "b", "x", "1/0/9"));
        assertThrows(IllegalArgumentException.class, () -> new Command(Command.Type.SEED, 1, 2, 0, "a", "-1", "s"));
        assertThrows(IllegalArgumentException.class, () -> new Command(Command.Type.SEED, 1, 2, 5, "a", "1", "s"));
        assertThrows(IllegalArgumentException.class, () -> new Command(Command.Type.SEED, 1, 2, 0, "a", "1", "s",
                new Command.Guard(1, "")));
        assertThrows(IllegalArgumentException.class, () -> new Command.Guard(-1, ""));
        assertThrows(IllegalArgumentException.class, () -> new Command.Guard(0, "x".repeat(65)));
        byte[] b = new Command(Command.Type.WRITE, 1, 2, 1, "k", null, "v", new Command.Guard(4, "eu")).encode();
        b[Command.KEY_OFFSET + 2 + 8] = 65; // origin length beyond the limit
        assertTrue(assertThrows(Command.MalformedCommandException.class, () -> Command.decode(ByteBuffer.wrap(b)))
                .getMessage().contains("origin length"));
    }

    @Test
    void repliesRoundTrip() {
        for (Reply r : new Reply[]{Reply.ok(io.dwcp.core.spi.Consensus.Versioned.absent()),
                Reply.ok(new io.dwcp.core.spi.Consensus.Versioned("site-b", 42)),
                new Reply(Reply.Status.NOT_APPLIED, new io.dwcp.core.spi.Consensus.Versioned("site-a", 7), null),
                Reply.error(Reply.Status.STALE, "too old"), Reply.error(Reply.Status.FENCED, "3|us"),
                Reply.error(Reply.Status.REFUSED, "too soon")}) {
            assertEquals(r, Reply.decode(ByteBuffer.wrap(r.encode())));
        }
    }
}
