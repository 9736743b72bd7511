package io.dwcp.transport.netty;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongFunction;

/**
 * The receive side of one session's bookkeeping: the inbound transfers open now, the outcome of recently finished
 * ones (to answer a re-sent OPEN after a resume the same way again), and the reorder memory of all of them against
 * the receive window the peer was told. The open map is concurrent (event loops add, delivery threads remove);
 * {@link #finished} is guarded by its own monitor; the reorder counter is atomic. No lock is held across I/O.
 */
final class InboundTransfers {
    private static final int MAX_FINISHED_REMEMBERED = 4096;

    private final Map<Long, Reassembly> open = new ConcurrentHashMap<>();
    /** Finished inbound transfers: id → null (success) or failure, oldest first, at most 4096. */
    @GuardedBy("finished")
    private final LinkedHashMap<Long, DwcpException> finished = new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, DwcpException> e) {
            return size() > MAX_FINISHED_REMEMBERED;
        }
    };
    private final AtomicLong reorderBytes = new AtomicLong();
    private final long reorderLimitBytes;
    private final String sessionName;

    InboundTransfers(long reorderLimitBytes, String sessionName) {
        this.reorderLimitBytes = reorderLimitBytes;
        this.sessionName = sessionName;
    }

    /** How a finished transfer ended: {@code failure} null for success. */
    record Outcome(DwcpException failure) {
    }

    int count() {
        return open.size();
    }

    boolean isEmpty() {
        return open.isEmpty();
    }

    boolean isOpen(long id) {
        return open.containsKey(id);
    }

    Reassembly get(long id) {
        return open.get(id);
    }

    Collection<Reassembly> all() {
        return open.values();
    }

    /** The outcome of transfer {@code id} if it finished recently, else null. */
    Outcome finishedOutcome(long id) {
        synchronized (finished) {
            return finished.containsKey(id) ? new Outcome(finished.get(id)) : null;
        }
    }

    /** The open transfer {@code id}, created by {@code create} if new. */
    Reassembly openOrCreate(long id, LongFunction<Reassembly> create) {
        return open.computeIfAbsent(id, create::apply);
    }

    /**
     * The open transfer {@code id} for a data or END frame, created if new; null if it finished already.
     *
     * @throws DwcpException LIMIT_EXCEEDED when it is new and {@code maxOpen} transfers are open
     */
    Reassembly forFrame(long id, int maxOpen, LongFunction<Reassembly> create) {
        if (finishedOutcome(id) != null) {
            return null;
        }
        if (!open.containsKey(id) && open.size() >= maxOpen) {
            throw new DwcpException(ErrorCode.LIMIT_EXCEEDED, "data for more than " + maxOpen
                    + " concurrent inbound transfers (dwcp.transport.max-transfers)");
        }
        return open.computeIfAbsent(id, create::apply);
    }

    /** Transfer {@code id} ended ({@code failure} null for success): remember the outcome and forget the transfer. */
    void finish(long id, DwcpException failure) {
        synchronized (finished) {
            finished.put(id, failure);
        }
        open.remove(id);
    }

    /** Accounts reorder memory; over the limit the peer ignored the window it was told: LIMIT_EXCEEDED. */
    void reserveReorder(long bytes) {
        long now = reorderBytes.addAndGet(bytes);
        if (now > reorderLimitBytes) {
            reorderBytes.addAndGet(-bytes);
            throw new DwcpException(ErrorCode.LIMIT_EXCEEDED, "session " + sessionName + ": the peer sent " + now
                    + " bytes ahead of delivery, above the receive window of " + reorderLimitBytes
                    + " bytes it was told (dwcp.transport.reorder-buffer, less under max-buffered)");
        }
    }

    void releaseReorder(long bytes) {
        reorderBytes.addAndGet(-bytes);
    }

    long reorderBytes() {
        return reorderBytes.get();
    }

    long reorderLimitBytes() {
        return reorderLimitBytes;
    }
}
