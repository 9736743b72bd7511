package io.dwcp.consensus;

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

    private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();
    private final Registers registers;
    private final long maxCommandBytes;
    private final AtomicLong leaderChanges = new AtomicLong();
    private final AtomicLong malformedApplied = new AtomicLong();

    RegisterStateMachine(int dedupWindow, int dedupMaxClients, long maxCommandBytes) {
        this.registers = new Registers(dedupWindow, dedupMaxClients);
        this.maxCommandBytes = maxCommandBytes;
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
            }
        }
        LOG.info("state machine loaded snapshot {} ({} keys)", last, registers.size());
    }

    @Override
    public void notifyLeaderChanged(RaftGroupMemberId groupMemberId, RaftPeerId newLeaderId) {
        leaderChanges.incrementAndGet();
    }
}
