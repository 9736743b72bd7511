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
    private static final int SNAPSHOT_VERSION = 1;

    private final int window;
    private final int maxClients;
    private final Map<String, Versioned> values = new HashMap<>();
    /** In order of each client's last command: the eldest entry is the least recently active client. */
    private final LinkedHashMap<ClientId, ClientWindow> clients = new LinkedHashMap<>(16, 0.75f, false);
    private long duplicates;

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
                return Reply.ok(current);
            case WRITE: {
                Versioned v = new Versioned(c.value(), index);
                values.put(c.key(), v);
                return Reply.ok(v);
            }
            case CAS: {
                if (!java.util.Objects.equals(current.value(), c.expected())) {
                    return new Reply(Reply.Status.NOT_APPLIED, current, null);
                }
                Versioned v = new Versioned(c.value(), index);
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
     * Writes the whole state. Format: magic, version, value count, (key, value, version)*, client count,
     * (high, low, floor, reply count, (sequence, length, reply bytes)*)* in least-recently-active-first order.
     */
    synchronized void writeTo(DataOutputStream out) throws IOException {
        out.writeInt(SNAPSHOT_MAGIC);
        out.writeInt(SNAPSHOT_VERSION);
        out.writeInt(values.size());
        for (Map.Entry<String, Versioned> e : values.entrySet()) {
            out.writeUTF(e.getKey());
            writeString(out, e.getValue().value());
            out.writeLong(e.getValue().version());
        }
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
        if (version != SNAPSHOT_VERSION) {
            throw new IOException("unsupported snapshot version " + version + " (this node reads " + SNAPSHOT_VERSION + ")");
        }
        Map<String, Versioned> v = new HashMap<>();
        int n = count(in.readInt(), "value");
        for (int i = 0; i < n; i++) {
            String key = in.readUTF();
            v.put(key, new Versioned(readString(in), in.readLong()));
        }
        LinkedHashMap<ClientId, ClientWindow> c = new LinkedHashMap<>();
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
        values.clear();
        values.putAll(v);
        clients.clear();
        clients.putAll(c);
    }

    private static int count(int n, String what) throws IOException {
        if (n < 0 || n > 64 << 20) {
            throw new IOException("corrupt snapshot: " + what + " count " + n);
        }
        return n;
    }

    private static void writeString(DataOutputStream out, String s) throws IOException {
        byte[] b = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        out.writeInt(b.length);
        out.write(b);
    }

    private static String readString(DataInputStream in) throws IOException {
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
