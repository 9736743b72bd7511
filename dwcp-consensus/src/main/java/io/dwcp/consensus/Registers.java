package io.dwcp.consensus;

import io.dwcp.core.spi.Consensus.Versioned;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/*
 * The replicated state: a map key -> (value, version) plus the client de-duplication table. Deterministic: every
 * replica applies the same commands in the same log order and reaches the same state, eviction of de-duplication
 * entries included (it depends only on the order of applied commands, never on time).
 *
 * De-duplication ("duplicate -> original result"): for each client the replies of its last `window` sequenced
 * commands are kept; a command whose (client, sequence) is remembered is answered with the stored reply and changes
 * nothing. A sequence at or below the client's floor (the highest one forgotten) fails with STALE instead of being
 * applied again: it may have been applied, and we no longer know its result. At most `maxClients` clients are kept;
 * the one whose last command is oldest in log order is forgotten first (its later retries are then applied as new).
 *
 * Threading: every method is synchronized. Ratis applies entries on one thread and takes snapshots on that thread or
 * another, so the lock is uncontended in practice.
 */
final class Registers {
    private static final int SNAPSHOT_MAGIC = 0x44414350; // "DACP"
    private static final int SNAPSHOT_VERSION = 2;
    private static final int SEED_MAGIC = 0x44414353; // "DACS"

    private final int window;
    private final int maxClients;
    private final Map<String, Versioned> values = new HashMap<>();
    /** In order of each client's last command: the eldest entry is the least recently active client. */
    private final LinkedHashMap<ClientId, ClientWindow> clients = new LinkedHashMap<>(16, 0.75f, false);
    private long duplicates;
    /** Where this group stands in its scope's chain of layouts (see LayoutState). */
    private LayoutState layout = new LayoutState();

    Registers(int window, int maxClients) {
        if (window < 1 || maxClients < 1) {
            throw new IllegalArgumentException("window and maxClients must be >= 1, got " + window + ", " + maxClients);
        }
        this.window = window;
        this.maxClients = maxClients;
    }

    /**
     * Applies one decoded command committed at log {@code index}.
     *
     * @return the encoded reply (stored for de-duplication when sequenced)
     */
    synchronized byte[] apply(Command c, long index) {
        if (c.type() == Command.Type.FENCE) {
            return fence(c).encode();
        }
        if (c.type() == Command.Type.SEED) {
            return seed(c).encode();
        }
        if (!LayoutState.reserved(c.key())) {
            Reply refused = layout.admit(c.guard());
            if (refused != null) {
                return refused.encode(); // before the de-duplication table: a fenced group changes nothing
            }
            if (c.guard() != null) {
                layout.served = true;
                if (c.type() != Command.Type.READ) {
                    layout.count(c.guard().origin());
                }
            }
        }
        if (c.sequence() == 0 || c.type() == Command.Type.READ) {
            return execute(c, index).encode();
        }
        ClientId id = new ClientId(c.clientHigh(), c.clientLow());
        ClientWindow w = clients.remove(id);
        if (w == null) {
            w = new ClientWindow();
        }
        clients.put(id, w); // re-insert: now the most recently active client
        byte[] reply;
        byte[] seen = w.replies.get(c.sequence());
        if (seen != null) {
            duplicates++;
            reply = seen;
        } else if (c.sequence() <= w.floor) {
            reply = Reply.error(Reply.Status.STALE, "sequence " + c.sequence() + " is older than the last " + window
                    + " commands remembered for this client (floor " + w.floor + ")").encode();
        } else {
            reply = execute(c, index).encode();
            w.replies.put(c.sequence(), reply);
            while (w.replies.size() > window) {
                w.floor = Math.max(w.floor, w.replies.pollFirstEntry().getKey());
            }
        }
        while (clients.size() > maxClients) {
            Iterator<ClientId> eldest = clients.keySet().iterator();
            eldest.next();
            eldest.remove();
        }
        return reply;
    }

    private Reply execute(Command c, long index) {
        Versioned current = values.getOrDefault(c.key(), Versioned.absent());
        switch (c.type()) {
            case READ:
                return c.key().equals(LayoutState.LAYOUT_KEY) ? Reply.ok(new Versioned(layout.describe(), layout.epoch + 1))
                        : Reply.ok(current);
            case WRITE: {
                Versioned v = new Versioned(c.value(), layout.version(index));
                values.put(c.key(), v);
                return Reply.ok(v);
            }
            case CAS: {
                if (!java.util.Objects.equals(current.value(), c.expected())) {
                    return new Reply(Reply.Status.NOT_APPLIED, current, null);
                }
                Versioned v = new Versioned(c.value(), layout.version(index));
                values.put(c.key(), v);
                return Reply.ok(v);
            }
            default:
                throw new AssertionError(c.type());
        }
    }

    /** The current value of a key: what a read-only request answers once Ratis confirmed it linearizable (else a local look). */
    synchronized Versioned get(String key) {
        return values.getOrDefault(key, Versioned.absent());
    }

    /**
     * Answers a read-only READ (never logged): as {@link #apply} would, fence included, without changing anything.
     */
    synchronized Reply query(Command c) {
        if (!LayoutState.reserved(c.key())) {
            Reply refused = layout.admit(c.guard());
            if (refused != null) {
                return refused;
            }
        }
        return c.key().equals(LayoutState.LAYOUT_KEY) ? Reply.ok(new Versioned(layout.describe(), layout.epoch + 1))
                : Reply.ok(get(c.key()));
    }

    /**
     * FENCE: the epoch fence of a layout switch, committed in the layout switched from. Key: the layout switched to;
     * expected: the epoch fenced; value: {@code proposerMillis/minIntervalMillis/maxStateBytes}. Answers OK with the
     * frozen state (Base64, version = the new epoch) — again for a repeated identical fence —, FENCED when this group does
     * not serve that epoch, REFUSED when the switch comes sooner than the minimum interval after the last one or the
     * state would not fit in a seed of {@code maxStateBytes}.
     */
    private Reply fence(Command c) {
        long epoch = Long.parseLong(c.expected());
        long[] args = switchArgs(c.value());
        if (args == null) {
            return Reply.error(Reply.Status.MALFORMED, "a FENCE's value must be proposerMillis/minIntervalMillis/maxStateBytes,"
                    + " got '" + c.value() + "'");
        }
        if (layout.fencedTo != null) {
            return layout.epoch == epoch && layout.fencedTo.equals(c.key())
                    ? Reply.ok(new Versioned(layout.state, layout.epoch + 1))
                    : Reply.error(Reply.Status.FENCED, layout.epoch + "|" + layout.fencedTo);
        }
        if (layout.epoch != epoch) {
            return Reply.error(Reply.Status.FENCED, layout.epoch + "|");
        }
        if (layout.lastSwitchMillis != 0 && args[0] - layout.lastSwitchMillis < args[1]) {
            return Reply.error(Reply.Status.REFUSED, "too soon: the last switch was at " + layout.lastSwitchMillis
                    + " ms, the minimum interval is " + args[1] + " ms");
        }
        String state;
        try {
            state = encodeSeedState(args[0]);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e); // in-memory streams do not fail
        }
        if (state.length() > args[2]) {
            return Reply.error(Reply.Status.REFUSED, "the state to hand over is " + state.length() + " bytes, above "
                    + args[2] + " (dwcp.consensus.max-command): not switched");
        }
        layout.fencedTo = c.key();
        layout.state = state;
        layout.lastSwitchMillis = args[0];
        return Reply.ok(new Versioned(state, epoch + 1));
    }

    private static long[] switchArgs(String value) {
        String[] parts = value.split("/", -1);
        if (parts.length != 3) {
            return null;
        }
        long[] a = new long[3];
        try {
            for (int i = 0; i < 3; i++) {
                a[i] = Long.parseLong(parts[i]);
                if (a[i] < 0) {
                    return null;
                }
            }
        } catch (NumberFormatException e) {
            return null;
        }
        return a;
    }

    /**
     * SEED: installs the state a fence handed over, at the new epoch. Key: the layout switched from; expected: the new
     * epoch; value: the fence's state. OK (nothing changed) when this group is already at that epoch or later;
     * REFUSED when it serves its own epoch unfenced; MALFORMED (nothing changed) when the state does not decode.
     */
    private Reply seed(Command c) {
        long epoch = Long.parseLong(c.expected());
        if (layout.epoch >= epoch) {
            return Reply.ok(Versioned.absent());
        }
        if (layout.fencedTo == null && layout.served) {
            return Reply.error(Reply.Status.REFUSED, "this group serves epoch " + layout.epoch + " of its scope unfenced;"
                    + " only a fenced or unused group can be seeded");
        }
        Map<String, Versioned> v = new HashMap<>();
        LinkedHashMap<ClientId, ClientWindow> cl = new LinkedHashMap<>();
        long lastSwitch;
        try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(
                java.util.Base64.getDecoder().decode(c.value())))) {
            if (in.readInt() != SEED_MAGIC) {
                throw new IOException("bad magic");
            }
            lastSwitch = in.readLong();
            readValues(in, v);
            readClients(in, cl);
            if (in.read() != -1) {
                throw new IOException("trailing bytes");
            }
        } catch (IOException | IllegalArgumentException e) {
            return Reply.error(Reply.Status.MALFORMED, "a SEED's state does not decode (" + e.getMessage() + "); nothing changed");
        }
        values.keySet().removeIf(k -> !LayoutState.reserved(k));
        values.putAll(v);
        clients.clear();
        clients.putAll(cl);
        LayoutState next = new LayoutState();
        next.epoch = epoch;
        next.lastSwitchMillis = lastSwitch;
        layout = next;
        return Reply.ok(Versioned.absent());
    }

    /** The state a fence hands over: the scope's values (not the reserved keys) and the de-duplication table. */
    private String encodeSeedState(long switchMillis) throws IOException {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(SEED_MAGIC);
            out.writeLong(switchMillis);
            Map<String, Versioned> scope = new HashMap<>();
            values.forEach((k, x) -> {
                if (!LayoutState.reserved(k)) {
                    scope.put(k, x);
                }
            });
            writeValues(out, scope);
            writeClients(out);
        }
        return java.util.Base64.getEncoder().encodeToString(bytes.toByteArray());
    }

    /** The layout epoch this group serves (tests). */
    synchronized long epoch() {
        return layout.epoch;
    }

    synchronized int size() {
        return values.size();
    }

    synchronized int clientCount() {
        return clients.size();
    }

    synchronized long duplicates() {
        return duplicates;
    }

    /**
     * Writes the whole state. Format: magic, version (2), value count, (key, value, version)*, client count,
     * (high, low, floor, reply count, (sequence, length, reply bytes)*)* in least-recently-active-first order, then
     * the layout state (epoch, fenced flag [target, handed-over state], served, last switch, origin counts).
     */
    synchronized void writeTo(DataOutputStream out) throws IOException {
        out.writeInt(SNAPSHOT_MAGIC);
        out.writeInt(SNAPSHOT_VERSION);
        writeValues(out, values);
        writeClients(out);
        layout.writeTo(out);
    }

    private static void writeValues(DataOutputStream out, Map<String, Versioned> values) throws IOException {
        out.writeInt(values.size());
        for (Map.Entry<String, Versioned> e : values.entrySet()) {
            out.writeUTF(e.getKey());
            writeString(out, e.getValue().value());
            out.writeLong(e.getValue().version());
        }
    }

    private void writeClients(DataOutputStream out) throws IOException {
        out.writeInt(clients.size());
        for (Map.Entry<ClientId, ClientWindow> e : clients.entrySet()) {
            out.writeLong(e.getKey().high());
            out.writeLong(e.getKey().low());
            out.writeLong(e.getValue().floor);
            out.writeInt(e.getValue().replies.size());
            for (Map.Entry<Long, byte[]> r : e.getValue().replies.entrySet()) {
                out.writeLong(r.getKey());
                out.writeInt(r.getValue().length);
                out.write(r.getValue());
            }
        }
    }

    /** Replaces the whole state with one written by {@link #writeTo}; on failure the state is left unchanged. */
    synchronized void readFrom(DataInputStream in) throws IOException {
        if (in.readInt() != SNAPSHOT_MAGIC) {
            throw new IOException("not a DWCP consensus snapshot (bad magic)");
        }
        int version = in.readInt();
        if (version != 1 && version != SNAPSHOT_VERSION) {
            throw new IOException("unsupported snapshot version " + version + " (this node reads 1 and " + SNAPSHOT_VERSION + ")");
        }
        Map<String, Versioned> v = new HashMap<>();
        readValues(in, v);
        LinkedHashMap<ClientId, ClientWindow> c = new LinkedHashMap<>();
        readClients(in, c);
        LayoutState l = version == 1 ? new LayoutState() : LayoutState.readFrom(in); // version 1: before layout switches
        values.clear();
        values.putAll(v);
        clients.clear();
        clients.putAll(c);
        layout = l;
    }

    private static void readValues(DataInputStream in, Map<String, Versioned> v) throws IOException {
        int n = count(in.readInt(), "value");
        for (int i = 0; i < n; i++) {
            String key = in.readUTF();
            v.put(key, new Versioned(readString(in), in.readLong()));
        }
    }

    private static void readClients(DataInputStream in, LinkedHashMap<ClientId, ClientWindow> c) throws IOException {
        int m = count(in.readInt(), "client");
        for (int i = 0; i < m; i++) {
            ClientId id = new ClientId(in.readLong(), in.readLong());
            ClientWindow w = new ClientWindow();
            w.floor = in.readLong();
            int r = count(in.readInt(), "reply");
            for (int j = 0; j < r; j++) {
                long seq = in.readLong();
                byte[] reply = new byte[count(in.readInt(), "reply byte")];
                in.readFully(reply);
                w.replies.put(seq, reply);
            }
            c.put(id, w);
        }
    }

    private static int count(int n, String what) throws IOException {
        if (n < 0 || n > 64 << 20) {
            throw new IOException("corrupt snapshot: " + what + " count " + n);
        }
        return n;
    }

    static void writeString(DataOutputStream out, String s) throws IOException {
        byte[] b = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        out.writeInt(b.length);
        out.write(b);
    }

    static String readString(DataInputStream in) throws IOException {
        byte[] b = new byte[count(in.readInt(), "string byte")];
        in.readFully(b);
        return new String(b, java.nio.charset.StandardCharsets.UTF_8);
    }

    private record ClientId(long high, long low) {
    }

    private static final class ClientWindow {
        final TreeMap<Long, byte[]> replies = new TreeMap<>();
        long floor;
    }
}
