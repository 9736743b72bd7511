package io.dwcp.consensus;

import io.dwcp.core.spi.Consensus.Versioned;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.util.MD5FileUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/*
 * The Ratis state machine of ACP: applies register commands (Command) to Registers in log order and answers with a
 * Reply. The fencing token of a write is its log index, which every replica knows identically.
 *
 * Bad input: the leader decodes each command in startTransaction and refuses a malformed or oversized one before it
 * enters the log (the client gets PROTOCOL_ERROR or LIMIT_EXCEEDED). Should one reach the log anyway (an older or
 * hostile leader), apply answers MALFORMED and changes nothing; it never throws, because a failed apply would stop
 * the replica.
 *
 * Snapshots (Ratis triggers them every dwcp.consensus.snapshot.entries entries): the whole Registers state, values
 * and de-duplication table, written to a temporary file, fsynced, renamed into place with an MD5 beside it. On start
 * the latest snapshot is loaded and Ratis replays the log after it.
 *
 * Threading: Ratis calls applyTransaction sequentially on its state-machine updater thread; Registers is
 * synchronized, so snapshots taken on another thread see a consistent state with its applied index.
 */
final class RegisterStateMachine extends BaseStateMachine {
    private static final Logger LOG = LoggerFactory.getLogger(RegisterStateMachine.class);
    /** Prefixes of refusal messages; the client maps them back to error codes. */
    static final String REFUSED_MALFORMED = "PROTOCOL_ERROR: ";
    static final String REFUSED_TOO_LARGE = "LIMIT_EXCEEDED: ";

    /**
     * Register of the agreed election timeout (milliseconds, decimal), committed by a leader from its RTT measurement
     * (see {@link RaftTimers}); reserved: other values written there are ignored (logged).
     */
    static final String AGREED_TIMERS_KEY = "acp/election.min";
    /** File beside the Raft log holding the last agreed election timeout this replica applied. */
    static final String AGREED_TIMERS_FILE = "agreed-election-min";

    private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();
    /** Where the agreed election timeout is kept for the next start; null: not kept (tests). */
    private final Path agreedFile;
    private final Registers registers;
    private final long maxCommandBytes;
    private final AtomicLong leaderChanges = new AtomicLong();
    private final AtomicLong malformedApplied = new AtomicLong();

    RegisterStateMachine(int dedupWindow, int dedupMaxClients, long maxCommandBytes) {
        this(dedupWindow, dedupMaxClients, maxCommandBytes, null);
    }

    RegisterStateMachine(int dedupWindow, int dedupMaxClients, long maxCommandBytes, Path agreedFile) {
        this.registers = new Registers(dedupWindow, dedupMaxClients);
        this.maxCommandBytes = maxCommandBytes;
        this.agreedFile = agreedFile;
    }

    /** The agreed election timeout kept in {@code file} by an earlier run, if any and readable. */
    static Optional<Duration> readAgreed(Path file) {
        try {
            return Files.exists(file) ? parseAgreed(Files.readString(file).trim()) : Optional.empty();
        } catch (IOException e) {
            LOG.warn("cannot read the agreed election timeout from {}: {}", file, e.toString());
            return Optional.empty();
        }
    }

    static Optional<Duration> parseAgreed(String text) {
        try {
            long ms = Long.parseLong(text);
            return ms > 0 ? Optional.of(Duration.ofMillis(ms)) : Optional.empty();
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** Told of every agreed election timeout this replica applies (the replica re-times its division); may be null. */
    private volatile java.util.function.Consumer<Duration> agreedListener;

    void onAgreed(java.util.function.Consumer<Duration> listener) {
        this.agreedListener = listener;
    }

    /** Keeps the committed agreed timeout beside the log (write to a temporary file, fsync, rename). */
    private void keepAgreed(Versioned v) {
        if (agreedFile == null || v.value() == null) {
            return;
        }
        Optional<Duration> d = parseAgreed(v.value());
        if (d.isEmpty()) {
            LOG.warn("register {} holds '{}', not a timeout in milliseconds; ignored", AGREED_TIMERS_KEY, v.value());
            return;
        }
        java.util.function.Consumer<Duration> listener = agreedListener;
        if (listener != null) {
            listener.accept(d.get());
        }
        Path tmp = agreedFile.resolveSibling(agreedFile.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ch.write(java.nio.ByteBuffer.wrap(Long.toString(d.get().toMillis()).getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
            ch.force(true);
            Files.move(tmp, agreedFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            // Not fatal: the value stays committed in the log; this replica starts with its previous timers.
            LOG.warn("cannot keep the agreed election timeout in {}: {}", agreedFile, e.toString());
        }
    }

    Registers registers() {
        return registers;
    }

    long leaderChanges() {
        return leaderChanges.get();
    }

    @Override
    public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage) throws IOException {
        super.initialize(server, groupId, raftStorage);
        storage.init(raftStorage);
        load(storage.loadLatestSnapshot());
    }

    @Override
    public void reinitialize() throws IOException {
        load(storage.loadLatestSnapshot());
    }

    @Override
    public SimpleStateMachineStorage getStateMachineStorage() {
        return storage;
    }

    @Override
    public TransactionContext startTransaction(RaftClientRequest request) throws IOException {
        TransactionContext trx = super.startTransaction(request);
        int size = request.getMessage().getContent().size();
        if (size > maxCommandBytes) {
            trx.setException(new StateMachineException(REFUSED_TOO_LARGE + "command of " + size
                    + " bytes exceeds dwcp.consensus.max-command (" + maxCommandBytes + " bytes)"));
            return trx;
        }
        try {
            Command.decode(request.getMessage().getContent().asReadOnlyByteBuffer());
        } catch (Command.MalformedCommandException e) {
            trx.setException(new StateMachineException(REFUSED_MALFORMED + "malformed command: " + e.getMessage()));
        }
        return trx;
    }

    @Override
    public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
        LogEntryProto entry = trx.getLogEntry();
        long index = entry.getIndex();
        byte[] reply;
        // The state and the applied index change together, so a snapshot never pairs a state with the wrong index
        // (which would replay an entry twice on recovery).
        synchronized (registers) {
            try {
                Command c = Command.decode(entry.getStateMachineLogEntry().getLogData().asReadOnlyByteBuffer());
                reply = registers.apply(c, index);
                if (c.type() != Command.Type.READ && c.key().equals(AGREED_TIMERS_KEY)) {
                    keepAgreed(registers.get(AGREED_TIMERS_KEY));
                }
            } catch (Command.MalformedCommandException e) {
                malformedApplied.incrementAndGet();
                LOG.warn("log entry {} holds a malformed command; applied as a no-op: {}", index, e.getMessage());
                reply = Reply.error(Reply.Status.MALFORMED, e.getMessage()).encode();
            }
            updateLastAppliedTermIndex(entry.getTerm(), index);
        }
        return CompletableFuture.completedFuture(Message.valueOf(
                org.apache.ratis.thirdparty.com.google.protobuf.ByteString.copyFrom(reply)));
    }

    /**
     * A read-only request (dwcp.consensus.read = read-index or lease): Ratis calls this only once the read is known to
     * be linearizable (the leader confirmed its leadership, or holds its lease, and this replica applied at least up
     * to the leader's commit index at that moment). Only READ commands are accepted; anything else fails with a
     * PROTOCOL_ERROR and changes nothing (a read-only request never reaches the log).
     */
    @Override
    public CompletableFuture<Message> query(Message request) {
        Command c;
        try {
            c = Command.decode(request.getContent().asReadOnlyByteBuffer());
        } catch (Command.MalformedCommandException e) {
            return CompletableFuture.failedFuture(new StateMachineException(REFUSED_MALFORMED + "malformed command: " + e.getMessage()));
        }
        if (c.type() != Command.Type.READ) {
            return CompletableFuture.failedFuture(new StateMachineException(REFUSED_MALFORMED + "a read-only request must be a"
                    + " READ, got " + c.type() + " (nothing applied)"));
        }
        return CompletableFuture.completedFuture(Message.valueOf(
                org.apache.ratis.thirdparty.com.google.protobuf.ByteString.copyFrom(registers.query(c).encode())));
    }

    @Override
    public long takeSnapshot() throws IOException {
        // Registers and the applied index are read under the same lock as apply, so they match.
        TermIndex applied;
        File file;
        synchronized (registers) {
            applied = getLastAppliedTermIndex();
            if (applied == null || applied.getIndex() < 0) {
                return RaftLog.INVALID_LOG_INDEX;
            }
            file = storage.getSnapshotFile(applied.getTerm(), applied.getIndex());
            Path tmp = file.toPath().resolveSibling(file.getName() + ".tmp");
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING);
                 OutputStream os = java.nio.channels.Channels.newOutputStream(ch);
                 DataOutputStream out = new DataOutputStream(new BufferedOutputStream(os))) {
                registers.writeTo(out);
                out.flush();
                ch.force(true);
            }
            Files.move(tmp, file.toPath(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
        FileInfo info = new FileInfo(file.toPath(), MD5FileUtil.computeAndSaveMd5ForFile(file));
        storage.updateLatestSnapshot(new SingleFileSnapshotInfo(info, applied));
        LOG.debug("snapshot at {} written to {}", applied, file);
        return applied.getIndex();
    }

    private void load(SingleFileSnapshotInfo snapshot) throws IOException {
        if (snapshot == null) {
            return;
        }
        Path path = snapshot.getFile().getPath();
        if (snapshot.getFile().getFileDigest() != null) {
            MD5FileUtil.verifySavedMD5(path.toFile(), snapshot.getFile().getFileDigest());
        }
        TermIndex last = SimpleStateMachineStorage.getTermIndexFromSnapshotFile(path.toFile());
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(path)))) {
            synchronized (registers) {
                registers.readFrom(in);
                setLastAppliedTermIndex(last);
                keepAgreed(registers.get(AGREED_TIMERS_KEY));
            }
        }
        LOG.info("state machine loaded snapshot {} ({} keys)", last, registers.size());
    }

    @Override
    public void notifyLeaderChanged(RaftGroupMemberId groupMemberId, RaftPeerId newLeaderId) {
        leaderChanges.incrementAndGet();
    }
}
