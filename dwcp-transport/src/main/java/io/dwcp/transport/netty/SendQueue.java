package io.dwcp.transport.netty;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The send side of one session, under one lock: the data stream slots, the queues of chunks waiting for a stream
 * (fresh ones, and re-sends that go first), and the send window (bytes produced and not yet acknowledged). Producers
 * wait here for room in the window; streams pull chunks from here on their event loops; acknowledgements free chunks
 * here. {@link #lock} also guards the mutable fields of every {@link Chunk}, {@link DataStream#parked} and the
 * lock-guarded fields of {@link OutboundTransfer}.
 *
 * <p>Locking rules: {@link #lock} is held only for queue and counter updates, never across I/O, a wait on another
 * lock, or user code (the one wait, {@link #awaitWindow}, releases it). Methods that return streams to wake return
 * them so the caller wakes them after unlocking. Lock order: this lock, then a {@code TokenBucket}'s monitor (pacing
 * is asked under it); never the other way round.
 */
final class SendQueue {
    static final int MAX_SLOTS = AmstSession.MAX_SLOTS;

    final ReentrantLock lock = new ReentrantLock();
    private final Condition windowOpen = lock.newCondition();
    @GuardedBy("lock")
    private final DataStream[] slots = new DataStream[MAX_SLOTS + 1];
    @GuardedBy("lock")
    private final int[] slotFailures = new int[MAX_SLOTS + 1];
    @GuardedBy("lock")
    private final boolean[] slotConnecting = new boolean[MAX_SLOTS + 1];
    @GuardedBy("lock")
    private final ArrayDeque<Chunk> freshQueue = new ArrayDeque<>();
    @GuardedBy("lock")
    private final ArrayDeque<Chunk> resendQueue = new ArrayDeque<>();
    @GuardedBy("lock")
    private long outstandingBytes;
    @GuardedBy("lock")
    private long sendWindowBytes;

    SendQueue(long sendWindowBytes) {
        this.sendWindowBytes = sendWindowBytes;
    }

    // ------------------------------------------------------------------ window

    /** Sets the window (bytes produced and unacknowledged), at most {@code peerLimit}. */
    void window(long bytes, long peerLimit) {
        lock.lock();
        try {
            sendWindowBytes = Math.min(bytes, peerLimit);
        } finally {
            lock.unlock();
        }
    }

    /** Lowers the window to at most {@code bytes} (the peer's receive window). */
    void capWindow(long bytes) {
        lock.lock();
        try {
            sendWindowBytes = Math.min(sendWindowBytes, bytes);
        } finally {
            lock.unlock();
        }
    }

    long windowBytes() {
        lock.lock();
        try {
            return sendWindowBytes;
        } finally {
            lock.unlock();
        }
    }

    /** Bytes produced and not yet acknowledged. */
    long outstandingBytes() {
        lock.lock();
        try {
            return outstandingBytes;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Blocks the producer of {@code t} until the window has room for {@code bytes} (or is empty). Sender thread only.
     *
     * @throws DwcpException CANCELLED when the transfer ended meanwhile
     */
    void awaitWindow(OutboundTransfer t, int bytes) throws InterruptedException {
        lock.lock();
        try {
            while (outstandingBytes > 0 && outstandingBytes + bytes > sendWindowBytes) {
                if (t.finished) {
                    throw new DwcpException(ErrorCode.CANCELLED, t + " ended while waiting for the window");
                }
                windowOpen.await(200, TimeUnit.MILLISECONDS);
            }
            if (t.finished) {
                throw new DwcpException(ErrorCode.CANCELLED, t + " ended");
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Queues a produced chunk; returns the parked streams to wake, or null (and releases the chunk) if the transfer
     * ended. {@code firstOutstanding} runs under the lock when the window was empty (the stall clock starts there).
     */
    List<DataStream> enqueue(OutboundTransfer t, Chunk c, Runnable firstOutstanding) {
        lock.lock();
        try {
            if (t.finished) {
                c.frame.release();
                return null;
            }
            if (outstandingBytes == 0) {
                firstOutstanding.run();
            }
            t.unacked.addLast(c);
            t.producedBytes += c.payloadBytes;
            t.chunksProduced++;
            c.queued = true;
            freshQueue.addLast(c);
            outstandingBytes += c.payloadBytes;
            return unparkAll();
        } finally {
            lock.unlock();
        }
    }

    /** Records the end of a streaming source (the length END announces). */
    void ended(OutboundTransfer t, long bytes) {
        lock.lock();
        try {
            t.endBytes = bytes;
        } finally {
            lock.unlock();
        }
    }

    /** The announced end of {@code t}, or -1 while its source is still read. */
    long endOf(OutboundTransfer t) {
        lock.lock();
        try {
            return t.endBytes;
        } finally {
            lock.unlock();
        }
    }

    /** What {@link #next} found for a stream. */
    enum Take { SENT, EMPTY, PACED }

    /**
     * A chunk taken for a stream, with the duplicate to write (owned by the caller) and whether it was sent before, or
     * why there is none (and how long to wait when paced).
     */
    record Next(Take outcome, Chunk chunk, io.netty.buffer.ByteBuf frame, long waitNanos, boolean resent) {
    }

    /** The pacing decision for a chunk of {@code bytes}: 0 to send, else nanoseconds to wait. Called under the lock. */
    interface Pacing {
        long acquire(int bytes);
    }

    /**
     * Takes the next chunk for stream {@code s}: re-sends first, then fresh chunks. With nothing to send the stream
     * parks (a producer wakes it); when pacing says wait, the chunk stays next in line. Event loop of {@code s}.
     */
    Next next(DataStream s, Pacing pacing) {
        lock.lock();
        try {
            Chunk c = pollNext();
            if (c == null) {
                s.parked = true;
                return new Next(Take.EMPTY, null, null, 0, false);
            }
            long wait = pacing.acquire(c.payloadBytes);
            if (wait > 0) {
                resendQueue.addFirst(c);
                return new Next(Take.PACED, null, null, wait, false);
            }
            c.queued = false;
            c.stream = s;
            c.sends++;
            return new Next(Take.SENT, c, c.frame.retainedDuplicate(), 0, c.sends > 1);
        } finally {
            lock.unlock();
        }
    }

    @GuardedBy("lock")
    private Chunk pollNext() {
        Chunk c;
        while ((c = resendQueue.pollFirst()) != null) {
            if (!c.acked && !c.transfer.finished) {
                return c;
            }
            c.queued = false;
        }
        while ((c = freshQueue.pollFirst()) != null) {
            if (!c.acked && !c.transfer.finished) {
                return c;
            }
            c.queued = false;
        }
        return null;
    }

    /**
     * A cumulative ACK of {@code deliveredBytes} for {@code t}: frees the chunks it covers and opens the window.
     * Returns the newly acknowledged byte count (0 for an old ACK).
     *
     * @throws DwcpException PROTOCOL_ERROR for an ACK beyond what was sent
     */
    long acknowledge(OutboundTransfer t, long deliveredBytes) {
        lock.lock();
        try {
            if (deliveredBytes > t.producedBytes) {
                throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "ACK of " + deliveredBytes + " bytes for " + t
                        + " beyond the " + t.producedBytes + " bytes sent");
            }
            if (deliveredBytes <= t.ackedBytes) {
                return 0;
            }
            Chunk c;
            while ((c = t.unacked.peekFirst()) != null && c.end() <= deliveredBytes) {
                t.unacked.pollFirst();
                c.acked = true;
                outstandingBytes -= c.payloadBytes;
                c.frame.release();
            }
            long newly = deliveredBytes - t.ackedBytes;
            t.ackedBytes = deliveredBytes;
            windowOpen.signalAll();
            return newly;
        } finally {
            lock.unlock();
        }
    }

    /**
     * DONE for {@code t} at {@code totalBytes}: finishes it and frees its chunks. Returns false if it had finished.
     *
     * @throws DwcpException PROTOCOL_ERROR when the length is not what was sent
     */
    boolean done(OutboundTransfer t, long totalBytes) {
        lock.lock();
        try {
            if (t.finished) {
                return false;
            }
            long expected = t.totalBytes >= 0 ? t.totalBytes : t.endBytes;
            if (expected < 0 || totalBytes != expected) {
                throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "DONE at " + totalBytes + " for " + t
                        + " that sent " + t.producedBytes + " bytes" + (t.endBytes < 0 ? " so far" : ""));
            }
            t.finished = true;
            releaseChunks(t);
            t.ackedBytes = totalBytes;
            windowOpen.signalAll();
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Ends {@code t} without success and frees its chunks; false if it had finished already. */
    boolean fail(OutboundTransfer t) {
        lock.lock();
        try {
            if (t.finished) {
                return false;
            }
            t.finished = true;
            releaseChunks(t);
            windowOpen.signalAll();
            return true;
        } finally {
            lock.unlock();
        }
    }

    @GuardedBy("lock")
    private void releaseChunks(OutboundTransfer t) {
        Chunk c;
        while ((c = t.unacked.pollFirst()) != null) {
            c.acked = true;
            outstandingBytes -= c.payloadBytes;
            c.frame.release();
        }
    }

    /** Drops every queued chunk (the session ended; the transfers released their chunks). */
    void clear() {
        lock.lock();
        try {
            freshQueue.clear();
            resendQueue.clear();
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ stream slots

    /** Streams attached and not retiring. */
    int activeStreams() {
        lock.lock();
        try {
            int n = 0;
            for (DataStream s : slots) {
                if (s != null && !s.retiring) {
                    n++;
                }
            }
            return n;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Client: marks slot {@code index} as connecting. Returns null if the caller should connect it, else whether the
     * slot already has a live stream (it is connecting or connected; a retiring stream is replaced).
     */
    Boolean beginConnect(int index) {
        lock.lock();
        try {
            if (slotConnecting[index] || (slots[index] != null && !slots[index].retiring)) {
                return slots[index] != null;
            }
            slotConnecting[index] = true;
            return null;
        } finally {
            lock.unlock();
        }
    }

    void endConnect(int index) {
        lock.lock();
        try {
            slotConnecting[index] = false;
        } finally {
            lock.unlock();
        }
    }

    /** Counts a failed connection attempt of slot {@code index}; returns the failures in a row. */
    int connectFailed(int index) {
        lock.lock();
        try {
            return ++slotFailures[index];
        } finally {
            lock.unlock();
        }
    }

    /**
     * Puts {@code s} in its slot unless {@code closed} says the session ended; returns the stream it replaced (or
     * null), and {@code s} itself when it was not attached (the caller closes its channel).
     */
    DataStream attach(DataStream s, boolean retiring, java.util.function.BooleanSupplier closed) {
        lock.lock();
        try {
            if (closed.getAsBoolean()) {
                return s;
            }
            DataStream old = slots[s.index];
            slots[s.index] = s;
            slotFailures[s.index] = 0;
            if (retiring) {
                s.retiring = true;
            }
            return old;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Stream {@code s} closed: frees its slot and puts its unacknowledged chunks at the front of the re-send queue, in
     * offset order, so the surviving streams carry them first. Returns the parked streams to wake.
     */
    List<DataStream> detach(DataStream s, Collection<OutboundTransfer> transfers) {
        lock.lock();
        try {
            if (slots[s.index] == s) {
                slots[s.index] = null;
            }
            List<Chunk> back = new ArrayList<>();
            for (OutboundTransfer t : transfers) {
                for (Chunk c : t.unacked) {
                    if (c.stream == s && !c.acked && !c.queued) {
                        c.stream = null;
                        c.queued = true;
                        back.add(c);
                    }
                }
            }
            back.sort((a, b) -> Long.compare(a.offset, b.offset));
            for (int i = back.size() - 1; i >= 0; i--) {
                resendQueue.addFirst(back.get(i));
            }
            return back.isEmpty() ? List.of() : unparkAll();
        } finally {
            lock.unlock();
        }
    }

    /** Marks every live stream above slot {@code target} retiring; returns them. */
    List<DataStream> retireAbove(int target) {
        List<DataStream> retire = new ArrayList<>();
        lock.lock();
        try {
            for (int i = target + 1; i <= MAX_SLOTS; i++) {
                DataStream s = slots[i];
                if (s != null && !s.retiring) {
                    s.retiring = true;
                    retire.add(s);
                }
            }
        } finally {
            lock.unlock();
        }
        return retire;
    }

    /** Retiring streams with no unacknowledged chunk left: they may close. */
    List<DataStream> drainedRetiring(Collection<OutboundTransfer> transfers) {
        List<DataStream> out = new ArrayList<>();
        lock.lock();
        try {
            for (DataStream s : slots) {
                if (s != null && s.retiring && unackedChunksOn(s, transfers) == 0) {
                    out.add(s);
                }
            }
        } finally {
            lock.unlock();
        }
        return out;
    }

    /** Unacknowledged chunks last written on {@code s}. */
    int unackedChunksOn(DataStream s, Collection<OutboundTransfer> transfers) {
        lock.lock();
        try {
            int n = 0;
            for (OutboundTransfer t : transfers) {
                for (Chunk c : t.unacked) {
                    if (c.stream == s && !c.acked) {
                        n++;
                    }
                }
            }
            return n;
        } finally {
            lock.unlock();
        }
    }

    /** The attached streams, retiring ones included. */
    List<DataStream> streams() {
        List<DataStream> out = new ArrayList<>();
        lock.lock();
        try {
            for (DataStream s : slots) {
                if (s != null) {
                    out.add(s);
                }
            }
        } finally {
            lock.unlock();
        }
        return out;
    }

    @GuardedBy("lock")
    private List<DataStream> unparkAll() {
        List<DataStream> wake = null;
        for (DataStream s : slots) {
            if (s != null && s.parked) {
                s.parked = false;
                if (wake == null) {
                    wake = new ArrayList<>(4);
                }
                wake.add(s);
            }
        }
        return wake == null ? List.of() : wake;
    }
}
