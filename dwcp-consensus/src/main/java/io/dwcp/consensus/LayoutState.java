package io.dwcp.consensus;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.StringJoiner;

/*
 * Where a group stands in its scope's chain of layouts (see SwitchingConsensus): part of the replicated state, changed
 * only by applied commands, so every replica holds the same.
 *
 *   epoch     the scope's epoch this group serves (0: the initial layout's group, or a group never seeded)
 *   fencedTo  null while the group serves its epoch; after a FENCE, the layout the scope moved to at epoch + 1: from
 *             that commit on the group refuses every command on a scope key (reply FENCED), so nothing changes it
 *   state     the frozen state handed over at the fence (Base64: values and de-duplication table), kept until the group
 *             is seeded again, so a client that finds the next layout not yet seeded can complete the switch
 *   served    a guarded command was applied at this epoch: the group is (or was) the scope's layout and may not be
 *             seeded over while unfenced
 *   lastSwitchMillis  the proposer's clock at the last fence in this scope's chain (carried by seeds), for
 *             switch.min-interval: a FENCE proposed sooner after it is refused
 *   origins   committed guarded writes and compare-and-sets per origin region in this epoch (at most MAX_ORIGINS
 *             names, further ones counted under "?"): the locality the layout choice reads
 *
 * Keys under RESERVED_PREFIX ("acp/") belong to the group itself (e.g. its agreed election timeout): never fenced,
 * never carried by a seed.
 *
 * Not thread-safe: used under the Registers lock.
 */
final class LayoutState {
    static final String RESERVED_PREFIX = "acp/";
    /** Reading this reserved key answers {@link #describe()}. */
    static final String LAYOUT_KEY = "acp/layout";
    static final int MAX_ORIGINS = 64;

    long epoch;
    String fencedTo;
    String state;
    boolean served;
    long lastSwitchMillis;
    final Map<String, Long> origins = new LinkedHashMap<>();

    static boolean reserved(String key) {
        return key.startsWith(RESERVED_PREFIX);
    }

    /** The version of a value written at log {@code index} in this epoch: grows across switches. */
    long version(long index) {
        return epoch == 0 ? index : (epoch << 40) | index;
    }

    /**
     * Whether a command on a scope key may run here: null if so, else the FENCED reply.
     *
     * @param guard the command's guard, or null (an unguarded command is refused only by a fenced group)
     */
    Reply admit(Command.Guard guard) {
        if (fencedTo != null || (guard != null && guard.epoch() != epoch)) {
            return Reply.error(Reply.Status.FENCED, epoch + "|" + (fencedTo == null ? "" : fencedTo));
        }
        return null;
    }

    void count(String origin) {
        String o = origins.containsKey(origin) || origins.size() < MAX_ORIGINS ? origin : "?";
        origins.merge(o, 1L, Long::sum);
    }

    /** {@code <epoch>|<fencedTo or empty>|<lastSwitchMillis>|<origin>=<count>,...}: what reading {@link #LAYOUT_KEY} answers. */
    String describe() {
        StringJoiner j = new StringJoiner(",");
        origins.forEach((k, v) -> j.add(k + "=" + v));
        return epoch + "|" + (fencedTo == null ? "" : fencedTo) + "|" + lastSwitchMillis + "|" + j;
    }

    void writeTo(DataOutputStream out) throws IOException {
        out.writeLong(epoch);
        out.writeBoolean(fencedTo != null);
        if (fencedTo != null) {
            out.writeUTF(fencedTo);
            Registers.writeString(out, state);
        }
        out.writeBoolean(served);
        out.writeLong(lastSwitchMillis);
        out.writeInt(origins.size());
        for (Map.Entry<String, Long> e : origins.entrySet()) {
            out.writeUTF(e.getKey());
            out.writeLong(e.getValue());
        }
    }

    static LayoutState readFrom(DataInputStream in) throws IOException {
        LayoutState s = new LayoutState();
        s.epoch = in.readLong();
        if (in.readBoolean()) {
            s.fencedTo = in.readUTF();
            s.state = Registers.readString(in);
        }
        s.served = in.readBoolean();
        s.lastSwitchMillis = in.readLong();
        int n = in.readInt();
        if (n < 0 || n > MAX_ORIGINS + 1) {
            throw new IOException("corrupt snapshot: origin count " + n);
        }
        for (int i = 0; i < n; i++) {
            s.origins.put(in.readUTF(), in.readLong());
        }
        if (s.epoch < 0 || s.lastSwitchMillis < 0) {
            throw new IOException("corrupt snapshot: layout epoch " + s.epoch + ", last switch " + s.lastSwitchMillis);
        }
        return s;
    }
}
